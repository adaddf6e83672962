"""Ordinary least squares in BN coordinates and the Rayleigh quotient (theory guide §2).

Proved for every dimension ``d`` (:mod:`gdnp.proofs.vectors`; ``S`` symmetric positive
definite, ``S^-1 u`` a word of the algebra): the BN form of (2), the optimal length
``g*(w)``, the profile (3) ``f(w, g*(w)) = E[y^2] + rho(w)``, the minimum
``rho* = -u'S^-1 u`` (value on the line, and ``rho - rho*`` as an S-norm squared, so
``rho >= rho*``), ``f(w, g*) - f* = rho - rho*``, ``grad rho``, ``grad_w f(w, g*) = grad rho``
and the closed form of K19's step (4).
"""

from __future__ import annotations

import sympy as sp

from .bn import GeneralSetting
from .core import Check, Identity
from .vectors import Vec, vec_identity

__all__ = ["CHECKS", "OLSSetting", "grad_rho_formula", "rho", "step4_identity"]


class OLSSetting(GeneralSetting):
    """§1 objects plus ``u`` and ``E[y^2]`` (``yy``), in every dimension."""

    def __init__(self, *extra: str) -> None:
        super().__init__("u", *extra)
        self.u = self.V.v("u")
        self.yy = sp.Symbol("yy", real=True)
        self.L = sp.Symbol("L", positive=True)

    @property
    def rho_star(self) -> sp.Expr:
        """``rho* = -u'S^-1 u``."""
        return -self.u.norm2(-1)

    def f(self, wt: Vec) -> sp.Expr:
        """Objective (2): ``E[y^2] + 2 u'w~ + w~'S w~``."""
        return self.yy + 2 * self.u.dot(wt) + wt.norm2(1)

    def f_bn(self) -> sp.Expr:
        """``f(w, g) = f(g w / ||w||_S)`` with the true square root."""
        return self.f(self.wt)

    def g_star(self) -> sp.Expr:
        """``g*(w) = -u'w/||w||_S`` (true square root)."""
        return -self.u.dot(self.w) / sp.sqrt(self.Q)

    def rho(self, w: Vec | None = None) -> sp.Expr:
        return rho(self.u, self.w if w is None else w)

    def grad_rho(self) -> Vec:
        """``grad rho`` by differentiation of the quotient."""
        return self.V.grad(self.rho(), "w")


def rho(u: Vec, w: Vec) -> sp.Expr:
    """Generalized Rayleigh quotient ``rho(w) = -(u'w)^2 / (w'Sw)``."""
    return -(u.dot(w) ** 2) / w.norm2(1)


def grad_rho_formula(u: Vec, w: Vec) -> Vec:
    """The guide's ``grad rho = -(2u'w/||w||_S^2)(u - (u'w/||w||_S^2) S w)``."""
    q, a = w.norm2(1), u.dot(w)
    return (u - w.S() * (a / q)) * (-2 * a / q)


def _bn_form() -> list[Identity]:
    s = OLSSetting()
    rhs = s.yy + 2 * s.g * s.u.dot(s.w) / s.r + s.g**2
    return [Identity(s.f_bn(), rhs, "relation", s.rel)]


def _g_star() -> list[Identity]:
    s = OLSSetting()
    dg = sp.diff(s.f_bn(), s.g)
    return [
        Identity(dg.subs(s.g, s.g_star()), sp.S.Zero, "relation", s.rel, label="d_g f(w, g*) = 0"),
        Identity(
            sp.diff(s.f_bn(), s.g, 2), sp.Integer(2), "relation", s.rel, label="d_g^2 f = 2 > 0"
        ),
    ]


def _profile() -> list[Identity]:
    s = OLSSetting()
    lhs = s.f_bn().subs(s.g, s.g_star())
    return [Identity(lhs, s.yy + s.rho(), "relation", s.rel)]


def _rho_star_value() -> list[Identity]:
    s = OLSSetting()
    c = sp.Symbol("c", nonzero=True, real=True)
    on_line = {"w": s.u.S(-1) * c}
    return [
        Identity(s.V.substitute(s.rho(), on_line), s.rho_star, "cancel", label="rho(c S^-1 u)"),
        vec_identity(
            s.V.substitute(s.grad_rho(), on_line),
            Vec({}, s.V),
            "cancel",
            label="grad rho(c S^-1 u) = 0",
        ),
    ]


def _rho_star_minimum() -> list[Identity]:
    # (rho - rho*) = || S^-1 u - t w ||_S^2 with t = u'w / w'Sw: a squared norm, so >= 0
    s = OLSSetting()
    t = s.u.dot(s.w) / s.Q
    residual = s.u.S(-1) - s.w * t
    return [
        Identity(
            s.rho() - s.rho_star,
            residual.norm2(1),
            "cancel",
            label="rho - rho* = ||S^-1 u - (u'w/w'Sw) w||_S^2 >= 0",
        )
    ]


def _gap() -> list[Identity]:
    s = OLSSetting("x")
    x = s.V.v("x")
    w_star = -s.u.S(-1)
    grad_f = s.V.substitute(s.V.grad(s.f(x), "x"), {"x": w_star})
    profile = s.f_bn().subs(s.g, s.g_star())
    f_star = s.V.substitute(s.f(x), {"x": w_star})
    return [
        vec_identity(grad_f, Vec({}, s.V), "expand", label="w~* = -S^-1 u is stationary"),
        Identity(f_star, s.yy + s.rho_star, "expand", label="f* = E[y^2] + rho*"),
        Identity(
            profile - f_star,
            s.rho() - s.rho_star,
            "relation",
            s.rel,
            label="f(w, g*(w)) - f* = rho(w) - rho*",
        ),
    ]


def _grad_rho() -> list[Identity]:
    s = OLSSetting()
    return [vec_identity(s.grad_rho(), grad_rho_formula(s.u, s.w), "cancel")]


def _grad_profile() -> list[Identity]:
    s = OLSSetting()
    partial = s.V.grad(s.f_bn(), "w").map(lambda c: c.subs(s.g, -s.u.dot(s.w) / s.r))
    total = s.V.grad(s.f_bn().subs(s.g, s.g_star()), "w")
    target = grad_rho_formula(s.u, s.w)
    return [
        vec_identity(partial, target, "relation", s.rel, label="partial grad_w f at g = g*(w)"),
        vec_identity(total, target, "relation", s.rel, label="total gradient of f(w, g*(w))"),
    ]


def step4_identity(abs_rho_sign: int = -1) -> Identity:
    """Identity for step (4); ``|rho| = abs_rho_sign * rho`` (``-1`` is correct: rho < 0)."""
    s = OLSSetting()
    eta = s.Q / (2 * s.L * abs_rho_sign * s.rho())
    lhs = s.w - grad_rho_formula(s.u, s.w) * eta
    rhs = s.w - s.w.S() / s.L + s.u * (s.Q / (s.L * s.u.dot(s.w)))
    return vec_identity(lhs, rhs, "cancel")


def step4_map(s: OLSSetting) -> Vec:
    """``(I - S/L) w + (||w||_S^2/(L u'w)) u``: step (4) in closed form."""
    return s.w - s.w.S() / s.L + s.u * (s.Q / (s.L * s.u.dot(s.w)))


_G = "general d"

CHECKS = [
    Check(
        "ols.bn_form",
        "ols",
        "f(w, g) = E[y^2] + 2 g u'w/||w||_S + g^2 for f of (2) at w~ = g w/||w||_S",
        "theory guide §2",
        _bn_form,
        generality=_G,
    ),
    Check(
        "ols.g_star",
        "ols",
        "g*(w) = -u'w/||w||_S: d_g f(w, g*) = 0 and d_g^2 f = 2",
        "theory guide §2",
        _g_star,
        generality=_G,
    ),
    Check(
        "ols.profile",
        "ols",
        "f(w, g*(w)) = E[y^2] + rho(w), rho = -(u'w)^2/(w'Sw)",
        "theory guide §2 (3)",
        _profile,
        generality=_G,
    ),
    Check(
        "ols.rho_star_value",
        "ols",
        "rho(c S^-1 u) = -u'S^-1 u and grad rho = 0 on the line w = c S^-1 u",
        "theory guide §2; K19",
        _rho_star_value,
        generality=_G,
    ),
    Check(
        "ols.rho_star_minimum",
        "ols",
        "rho - rho* = ||S^-1 u - (u'w/w'Sw) w||_S^2, so rho >= rho* (S positive definite)",
        "theory guide §2; K19",
        _rho_star_minimum,
        generality=_G,
    ),
    Check(
        "ols.gap",
        "ols",
        "w~* = -S^-1 u stationary, f* = E[y^2] + rho*, f(w, g*) - f* = rho(w) - rho*",
        "theory guide §2 (2),(3)",
        _gap,
        generality=_G,
    ),
    Check(
        "ols.grad_rho",
        "ols",
        "grad rho = -(2u'w/||w||_S^2)(u - (u'w/||w||_S^2) S w)",
        "theory guide §2; K19",
        _grad_rho,
        generality=_G,
    ),
    Check(
        "ols.grad_profile",
        "ols",
        "grad_w f(w, g)|_{g=g*(w)} = grad rho(w) (partial and total)",
        "theory guide §2; K19",
        _grad_profile,
        generality=_G,
    ),
    Check(
        "ols.step4",
        "ols",
        "w - eta grad rho, eta = ||w||_S^2/(2L|rho|), |rho| = -rho, equals "
        "(I - S/L) w + (||w||_S^2/(L u'w)) u (where u'w != 0 and ||w||_S > 0)",
        "theory guide §2 (4); K19",
        lambda: [step4_identity()],
        generality=_G,
    ),
]
