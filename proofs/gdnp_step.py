"""GDNP's direction step (K19, Algorithm 1; MATH.md §4).

Proved in ``d = 3`` with a general symmetric ``S``, ``grad_w f`` obtained by the chain rule
(direct Jacobian of ``w~ = g w/||w||_S``) from the Stein form (6): with ``h = c1 u'w`` and
``s_t = -||w||_S^3/(L g h)``, the direction step ``s_t grad_w f`` equals ``eta_t grad rho`` of
step (4). The commonly quoted ``h' = E[phi'] (u'w) - E[phi''] (u'w)^2`` is compared with
``c1 u'w``: equal when ``g = ||w||_S`` (proved), different in general (documented
discrepancy).
"""

from __future__ import annotations

import sympy as sp

from .bn import Setting
from .core import Check, Identity, refute
from .ols import rho
from .symbols import dot, gradient, vec

__all__ = ["CHECKS", "h_identity"]

D = 3


class _GDNPSetting(Setting):
    def __init__(self, d: int = D) -> None:
        super().__init__(d)
        self.u = vec("u", d)
        self.L = sp.Symbol("L", positive=True)
        # E[phi'(z'w~)] and E[phi''(z'w~)] at the current point: free symbols
        self.e1, self.e2 = sp.symbols("Ephi1 Ephi2", real=True)
        self.c1 = self.e1 - self.e2 * dot(self.u, self.wt)
        self.c2 = self.e2

    def grad_w(self) -> sp.Matrix:  # type: ignore[override]
        """``J' (c1 u + c2 S w~)``: the chain rule of §1 applied to (6)."""
        grad6 = self.c1 * self.u + self.c2 * self.S * self.wt
        return self.wt.jacobian(self.w).T * grad6


def _step_is_eq4() -> list[Identity]:
    s = _GDNPSetting()
    uw = dot(s.u, s.w)
    h = s.c1 * uw
    step = -(s.r**3) / (s.L * s.g * h)
    rho_w = rho(s.u, s.S, s.w)
    eta = s.r**2 / (2 * s.L * (-rho_w))  # |rho| = -rho (rho < 0 when u'w != 0)
    grad_rho = gradient(rho_w, s.w)
    new_w = (sp.eye(D) - s.S / s.L) * s.w + (s.r**2 / (s.L * uw)) * s.u
    return [
        Identity(
            step * s.grad_w(),
            eta * grad_rho,
            "relation",
            s.rel,
            label="s_t grad_w f = eta_t grad rho",
        ),
        Identity(
            s.w - step * s.grad_w(),
            new_w,
            "relation",
            s.rel,
            label="w_{t+1} = (I - S/L) w_t + (||w_t||_S^2/(L u'w_t)) u",
        ),
    ]


def h_identity(restrict_g: bool) -> Identity:
    """``c1 u'w`` against the quoted ``E[phi'](u'w) - E[phi''](u'w)^2``.

    Parameters
    ----------
    restrict_g : bool
        If true, evaluate at ``g = ||w||_S`` (where the quoted form is right).
    """
    s = _GDNPSetting()
    uw = dot(s.u, s.w)
    ours = s.c1 * uw
    quoted = s.e1 * uw - s.e2 * uw**2
    if restrict_g:
        ours = ours.subs(s.g, sp.sqrt(s.Q))
    return Identity(ours, quoted, "relation", s.rel)


def _refute_h() -> bool:
    s = _GDNPSetting()
    point = {sym: 0 for sym in s.S}
    point.update({s.S[0, 0]: 1, s.S[1, 1]: 1, s.S[2, 2]: 1})  # S = I
    point.update({s.w[0]: 1, s.w[1]: 0, s.w[2]: 0, s.u[0]: 1, s.u[1]: 0, s.u[2]: 0})
    point.update({s.g: 2, s.e1: 1, s.e2: 1})  # g = 2 != ||w||_S = 1
    return refute(h_identity(restrict_g=False), point)


CHECKS = [
    Check(
        "gdnp.step_is_eq4",
        "gdnp",
        "h = c1 u'w, s_t = -||w||_S^3/(L g h): s_t grad_w f = eta_t grad rho, so the GDNP "
        "direction step is step (4); d=3",
        "MATH.md §4; K19 Alg. 1",
        _step_is_eq4,
    ),
    Check(
        "gdnp.h_quoted_at_unit_scale",
        "gdnp",
        "quoted h = E[phi'](u'w) - E[phi''](u'w)^2 equals c1 u'w when g = ||w||_S; d=3",
        "MATH.md §4; K19 Alg. 1",
        lambda: [h_identity(restrict_g=True)],
    ),
    Check(
        "gdnp.h_quoted_general",
        "gdnp",
        "quoted h = E[phi'](u'w) - E[phi''](u'w)^2 equals c1 u'w for every g (FALSE: the "
        "second term is E[phi''] (g/||w||_S)(u'w)^2); d=3",
        "K19 Alg. 1 (as commonly quoted); MATH.md §4",
        lambda: [h_identity(restrict_g=False)],
        expected="fails",
        counterexample=_refute_h,
    ),
]
