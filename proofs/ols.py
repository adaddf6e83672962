"""Ordinary least squares in BN coordinates and the Rayleigh quotient (MATH.md §2).

Proved in dimension ``d = 3`` with a general symmetric ``S`` (inverse written as
``adj(S)/det(S)``): the BN form of (2), the optimal length ``g*(w)``, the profile (3)
``f(w, g*(w)) = E[y^2] + rho(w)``, the minimum ``rho* = -u'S^-1 u`` (value on the line and a
sum-of-squares certificate of minimality), ``f(w, g*) - f* = rho - rho*``, ``grad rho``,
``grad_w f(w, g*) = grad rho``, and the closed form of K19's step (4).
"""

from __future__ import annotations

import sympy as sp

from .bn import Setting
from .core import Check, Identity
from .symbols import dot, gradient, vec

__all__ = ["CHECKS", "OLSSetting", "grad_rho_formula", "rho"]

D = 3


class OLSSetting(Setting):
    """§1 symbols plus ``u`` and ``E[y^2]`` (``yy``).

    With ``solved=True`` the vector ``v = S^-1 u`` is the free symbol and ``u = S v``: an exact
    reparametrization for invertible ``S`` that keeps every expression polynomial
    (``u'S^-1 u = v'Sv``) instead of introducing ``adj(S)/det(S)``.
    """

    def __init__(self, d: int = D, solved: bool = False) -> None:
        super().__init__(d)
        self.yy = sp.Symbol("yy", real=True)
        if solved:
            self.v = vec("v", d)
            self.u = self.S * self.v
        else:
            self.u = vec("u", d)
            self.v = self.S.adjugate() * self.u / self.S.det()

    @property
    def rho_star(self) -> sp.Expr:
        """``rho* = -u'S^-1 u``."""
        return -dot(self.u, self.v)

    def f(self, wt: sp.Matrix) -> sp.Expr:
        """Objective (2): ``E[y^2] + 2 u'w~ + w~'S w~``."""
        return self.yy + 2 * dot(self.u, wt) + dot(wt, self.S * wt)

    def f_bn(self) -> sp.Expr:  # type: ignore[override]
        """``f(w, g) = f(g w / ||w||_S)`` with the true square root."""
        return self.f(self.wt)


def rho(u: sp.Matrix, S: sp.Matrix, w: sp.Matrix) -> sp.Expr:
    """Generalized Rayleigh quotient ``rho(w) = -(u'w)^2 / (w'Sw)``."""
    return -(dot(u, w) ** 2) / dot(w, S * w)


def grad_rho_formula(u: sp.Matrix, S: sp.Matrix, w: sp.Matrix) -> sp.Matrix:
    """MATH.md's ``grad rho = -(2u'w/||w||_S^2)(u - (u'w/||w||_S^2) S w)``."""
    q = dot(w, S * w)
    return -(2 * dot(u, w) / q) * (u - (dot(u, w) / q) * S * w)


def _bn_form() -> list[Identity]:
    s = OLSSetting()
    rhs = s.yy + 2 * s.g * dot(s.u, s.w) / s.r + s.g**2
    return [Identity(s.f_bn(), rhs, "relation", s.rel)]


def _g_star() -> list[Identity]:
    s = OLSSetting()
    g_star = -dot(s.u, s.w) / sp.sqrt(s.Q)
    dg = sp.diff(s.f_bn(), s.g)
    return [
        Identity(dg.subs(s.g, g_star), sp.S.Zero, "relation", s.rel, label="d_g f(w, g*) = 0"),
        Identity(
            sp.diff(s.f_bn(), s.g, 2),
            sp.Integer(2),
            "relation",
            s.rel,
            label="d_g^2 f = 2 > 0 (convex in g)",
        ),
    ]


def _profile() -> list[Identity]:
    s = OLSSetting()
    g_star = -dot(s.u, s.w) / sp.sqrt(s.Q)
    lhs = s.f_bn().subs(s.g, g_star)
    return [Identity(lhs, s.yy + rho(s.u, s.S, s.w), "relation", s.rel)]


def _rho_star_value() -> list[Identity]:
    s = OLSSetting(solved=True)
    c = sp.Symbol("c", nonzero=True, real=True)
    w_line = c * s.v
    on_line = dict(zip(s.w, w_line, strict=True))
    return [
        Identity(rho(s.u, s.S, w_line), s.rho_star, "cancel", label="rho(c S^-1 u) = -u'S^-1 u"),
        Identity(
            gradient(rho(s.u, s.S, s.w), s.w).subs(on_line, simultaneous=True),
            sp.zeros(D, 1),
            "cancel",
            label="grad rho(c S^-1 u) = 0",
        ),
    ]


def _rho_star_minimum() -> list[Identity]:
    # S = C C' (Cholesky, C lower triangular, positive diagonal) and u = C a, b = C'w:
    # (u'S^-1 u)(w'Sw) - (u'w)^2 = |a|^2 |b|^2 - (a.b)^2 = sum_{i<j} (a_i b_j - a_j b_i)^2.
    C = sp.Matrix(
        D, D, lambda i, j: sp.Symbol(f"C{i + 1}{j + 1}", positive=(i == j)) if j <= i else sp.S.Zero
    )
    a, w = vec("a", D), vec("w", D)
    S, u = C * C.T, C * a
    Sinv = S.adjugate() / S.det()
    lhs = dot(u, Sinv * u) * dot(w, S * w) - dot(u, w) ** 2  # generic S^-1 on purpose
    b = C.T * w
    rhs = sum((a[i] * b[j] - a[j] * b[i]) ** 2 for i in range(D) for j in range(i + 1, D))
    return [
        Identity(lhs, rhs, "cancel", label="(rho - rho*) w'Sw is a sum of squares (so rho >= rho*)")
    ]


def _gap() -> list[Identity]:
    s = OLSSetting(solved=True)
    w_star = -s.v
    p = vec("p", D)
    grad_f = gradient(s.f(p), p).subs(dict(zip(p, w_star, strict=True)), simultaneous=True)
    f_star = s.f(w_star)
    g_star = -dot(s.u, s.w) / sp.sqrt(s.Q)
    profile = s.f_bn().subs(s.g, g_star)
    return [
        Identity(grad_f, sp.zeros(D, 1), "expand", label="w~* = -S^-1 u is stationary for (2)"),
        Identity(f_star, s.yy + s.rho_star, "expand", label="f* = E[y^2] + rho*"),
        Identity(
            profile - f_star,
            rho(s.u, s.S, s.w) - s.rho_star,
            "relation",
            s.rel,
            label="f(w, g*(w)) - f* = rho(w) - rho*",
        ),
    ]


def _grad_rho() -> list[Identity]:
    s = OLSSetting()
    lhs = gradient(rho(s.u, s.S, s.w), s.w)
    return [Identity(lhs, grad_rho_formula(s.u, s.S, s.w), "cancel")]


def _grad_profile() -> list[Identity]:
    s = OLSSetting()
    g_star = -dot(s.u, s.w) / sp.sqrt(s.Q)
    partial = gradient(s.f_bn(), s.w).subs(s.g, -dot(s.u, s.w) / s.r)
    total = gradient(s.f_bn().subs(s.g, g_star), s.w)
    target = grad_rho_formula(s.u, s.S, s.w)
    return [
        Identity(partial, target, "relation", s.rel, label="partial grad_w f at g = g*(w)"),
        Identity(total, target, "relation", s.rel, label="total gradient of f(w, g*(w))"),
    ]


def step4_identity(abs_rho_sign: int = -1) -> Identity:
    """Identity for step (4); ``|rho| = abs_rho_sign * rho`` (``-1`` is correct: rho < 0)."""
    s = OLSSetting()
    L = sp.Symbol("L", positive=True)
    q = dot(s.w, s.S * s.w)
    eta = q / (2 * L * abs_rho_sign * rho(s.u, s.S, s.w))
    lhs = s.w - eta * grad_rho_formula(s.u, s.S, s.w)
    rhs = (sp.eye(D) - s.S / L) * s.w + (q / (L * dot(s.u, s.w))) * s.u
    return Identity(lhs, rhs, "cancel")


CHECKS = [
    Check(
        "ols.bn_form",
        "ols",
        "f(w, g) = E[y^2] + 2 g u'w/||w||_S + g^2 for f of (2) at w~ = g w/||w||_S; d=3",
        "MATH.md §2",
        _bn_form,
    ),
    Check(
        "ols.g_star",
        "ols",
        "g*(w) = -u'w/||w||_S: d_g f(w, g*) = 0 and d_g^2 f = 2; d=3",
        "MATH.md §2",
        _g_star,
    ),
    Check(
        "ols.profile",
        "ols",
        "f(w, g*(w)) = E[y^2] + rho(w), rho = -(u'w)^2/(w'Sw); d=3",
        "MATH.md §2 (3)",
        _profile,
    ),
    Check(
        "ols.rho_star_value",
        "ols",
        "rho(c S^-1 u) = -u'S^-1 u and grad rho = 0 on the line w = c S^-1 u; d=3",
        "MATH.md §2; K19",
        _rho_star_value,
    ),
    Check(
        "ols.rho_star_minimum",
        "ols",
        "rho >= rho*: (u'S^-1 u)(w'Sw) - (u'w)^2 is a sum of squares (S = CC'); d=3",
        "MATH.md §2; K19",
        _rho_star_minimum,
    ),
    Check(
        "ols.gap",
        "ols",
        "w~* = -S^-1 u stationary, f* = E[y^2] + rho*, f(w, g*) - f* = rho(w) - rho*; d=3",
        "MATH.md §2 (2),(3)",
        _gap,
    ),
    Check(
        "ols.grad_rho",
        "ols",
        "grad rho = -(2u'w/||w||_S^2)(u - (u'w/||w||_S^2) S w); d=3",
        "MATH.md §2; K19",
        _grad_rho,
    ),
    Check(
        "ols.grad_profile",
        "ols",
        "grad_w f(w, g)|_{g=g*(w)} = grad rho(w) (partial and total); d=3",
        "MATH.md §2; K19",
        _grad_profile,
    ),
    Check(
        "ols.step4",
        "ols",
        "w - eta grad rho, eta = ||w||_S^2/(2L|rho|), |rho| = -rho, equals "
        "(I - S/L) w + (||w||_S^2/(L u'w)) u; d=3",
        "MATH.md §2 (4); K19",
        lambda: [step4_identity()],
    ),
]
