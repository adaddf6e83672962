"""GDNP's direction step (K19, Algorithm 1; theory guide §4).

Proved for every dimension (:mod:`gdnp.proofs.vectors`), ``grad_w f`` obtained by the chain rule
(direct Jacobian of ``w~ = g w/||w||_S``) from the Stein form (6): with ``h = c1 u'w`` and
``s_t = -||w||_S^3/(L g h)``, the direction step ``s_t grad_w f`` equals ``eta_t grad rho`` of
step (4). The commonly quoted ``h' = E[phi'] (u'w) - E[phi''] (u'w)^2`` is compared with
``c1 u'w``: equal when ``g = ||w||_S`` (proved), different in general (documented
discrepancy).
"""

from __future__ import annotations

import sympy as sp

from .bn import GeneralSetting
from .core import Check, Counterexample, Identity, counterexample
from .vectors import Vec, vec_identity

__all__ = ["CHECKS", "h_identity"]


class _GDNPSetting(GeneralSetting):
    def __init__(self) -> None:
        super().__init__("u")
        self.u = self.V.v("u")
        self.L = sp.Symbol("L", positive=True)
        # E[phi'(z'w~)] and E[phi''(z'w~)] at the current point: free symbols
        self.e1, self.e2 = sp.symbols("Ephi1 Ephi2", real=True)
        self.c1 = self.e1 - self.e2 * self.u.dot(self.wt)
        self.c2 = self.e2

    def grad_w(self) -> Vec:
        """``J' (c1 u + c2 S w~)``: the chain rule of §1 applied to (6)."""
        return self.JtG(self.u * self.c1 + self.wt.S() * self.c2)


def _step_is_eq4() -> list[Identity]:
    s = _GDNPSetting()
    uw = s.u.dot(s.w)
    h = s.c1 * uw
    step = -(s.r**3) / (s.L * s.g * h)
    rho_w = -(uw**2) / s.Q
    eta = s.r**2 / (2 * s.L * (-rho_w))  # |rho| = -rho (rho < 0 when u'w != 0)
    grad_rho = s.V.grad(rho_w, "w")
    new_w = s.w - s.w.S() / s.L + s.u * (s.r**2 / (s.L * uw))
    return [
        vec_identity(
            s.grad_w() * step,
            grad_rho * eta,
            "relation",
            s.rel,
            label="s_t grad_w f = eta_t grad rho",
        ),
        vec_identity(
            s.w - s.grad_w() * step,
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
    uw = s.u.dot(s.w)
    ours = s.c1 * uw
    quoted = s.e1 * uw - s.e2 * uw**2
    if restrict_g:
        ours = ours.subs(s.g, sp.sqrt(s.Q))
    return Identity(ours, quoted, "relation", s.rel, label="c1 u'w vs quoted h")


def _refute_h() -> Counterexample:
    s = _GDNPSetting()
    # S = I, w = e1, u = e1/2 (separation u'S^-1 u = 1/4 < 1, a valid Gaussian model):
    # w'Sw = 1, u'w = 1/2; g = 2 != ||w||_S = 1
    point = {s.Q: 1, s.u.dot(s.w): sp.Rational(1, 2), s.g: 2, s.e1: 1, s.e2: 1}
    return counterexample(h_identity(restrict_g=False), point)


CHECKS = [
    Check(
        "gdnp.step_is_eq4",
        "gdnp",
        "h = c1 u'w, s_t = -||w||_S^3/(L g h): s_t grad_w f = eta_t grad rho, so the GDNP "
        "direction step is step (4) (where g, c1, u'w != 0 and ||w||_S > 0: the step is "
        "defined)",
        "theory guide §4; K19 Alg. 1",
        _step_is_eq4,
        generality="general d",
    ),
    Check(
        "gdnp.h_quoted_at_unit_scale",
        "gdnp",
        "quoted h = E[phi'](u'w) - E[phi''](u'w)^2 equals c1 u'w when g = ||w||_S",
        "theory guide §4; K19 Alg. 1",
        lambda: [h_identity(restrict_g=True)],
        generality="general d",
    ),
    Check(
        "gdnp.h_quoted_general",
        "gdnp",
        "quoted h = E[phi'](u'w) - E[phi''](u'w)^2 equals c1 u'w for every g (FALSE: the "
        "second term is E[phi''] (g/||w||_S)(u'w)^2)",
        "K19 Alg. 1 (as commonly quoted); theory guide §4",
        lambda: [h_identity(restrict_g=False)],
        expected="fails",
        counterexample=_refute_h,
        generality="general d",
    ),
]
