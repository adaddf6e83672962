"""Learning halfspaces: Stein's lemma and the gradient structure (MATH.md §3).

The Gaussian model ``z ~ N(u, S - u u')`` is written ``z = u + A xi`` with ``xi`` standard
normal and ``Sigma = A A'`` a general covariance; then ``S = E[z z'] = A A' + u u'``.
Expectations are exact (:mod:`gdnp.proofs.gaussian`), so Stein's lemma and the gradient
structure (6) are proved by integration in ``d = 2`` for a generic polynomial loss (symbolic
coefficients) and for the exponential family ``exp(a t)``. The algebraic consequences — the
line of critical points, equation (7) and the two norm identities of §3 — are proved in
``d = 3`` with a general symmetric ``S`` (``S^-1 = adj(S)/det(S)``).
"""

from __future__ import annotations

import sympy as sp

from .bn import Setting
from .core import Check, Identity
from .gaussian import expect
from .ols import rho
from .symbols import dot, gradient, vec

__all__ = ["CHECKS", "GaussianModel", "probe_losses"]

D_GAUSS = 2
D = 3


class GaussianModel:
    """``z = u + A xi`` in dimension ``d`` with general ``A``, ``u`` and ``S = AA' + uu'``."""

    def __init__(self, d: int = D_GAUSS) -> None:
        self.d = d
        self.xi = vec("xi", d)
        self.A = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"A{i + 1}{j + 1}", real=True))
        self.u = vec("u", d)
        self.z = self.u + self.A * self.xi
        self.Sigma = self.A * self.A.T
        self.S = self.Sigma + self.u * self.u.T

    def E(self, expr: sp.Expr | sp.Matrix) -> sp.Expr | sp.Matrix:
        """Exact expectation over ``xi``."""
        if isinstance(expr, sp.MatrixBase):
            return expr.applyfunc(lambda e: expect(e, self.xi))
        return expect(expr, self.xi)


def probe_losses(degree: int = 4) -> list[tuple[str, sp.Lambda]]:
    """Test functions ``phi``: a generic polynomial of ``degree`` and ``exp(a t)``."""
    t = sp.Symbol("t", real=True)
    p = sp.symbols(f"p0:{degree + 1}", real=True)
    a = sp.Symbol("a", real=True)
    poly = sum(p[k] * t**k for k in range(degree + 1))
    return [
        (f"generic degree-{degree} polynomial", sp.Lambda(t, poly)),
        ("exp(a t)", sp.Lambda(t, sp.exp(a * t))),
    ]


def _derivative(phi: sp.Lambda, k: int = 1) -> sp.Lambda:
    t = phi.variables[0]
    return sp.Lambda(t, sp.diff(phi.expr, t, k))


def _stein_density() -> list[Identity]:
    t, m = sp.symbols("t m", real=True)
    s = sp.Symbol("s", positive=True)
    p = sp.exp(-((t - m) ** 2) / (2 * s**2)) / (s * sp.sqrt(2 * sp.pi))
    return [Identity((t - m) * p, -(s**2) * sp.diff(p, t), "cancel")]


def _stein_lemma() -> list[Identity]:
    g = GaussianModel()
    w = vec("w", g.d)
    tw = dot(g.z, w)
    out = []
    for label, psi in probe_losses(3):
        dpsi = _derivative(psi)
        lhs = g.E(g.z * psi(tw))
        rhs = g.E(dpsi(tw)) * g.Sigma * w + g.E(psi(tw)) * g.u
        out.append(Identity(lhs, rhs, "expand", label=label))
    return out


def _gradient_structure() -> list[Identity]:
    g = GaussianModel()
    wt = vec("w", g.d)
    tw = dot(g.z, wt)
    out = [
        Identity(g.E(g.z), g.u, "expand", label="E[z] = u"),
        Identity(g.E(g.z * g.z.T), g.S, "expand", label="E[zz'] = S"),
    ]
    for label, phi in probe_losses(4):
        f = g.E(phi(tw))
        e1, e2 = g.E(_derivative(phi)(tw)), g.E(_derivative(phi, 2)(tw))
        c1 = e1 - e2 * dot(g.u, wt)
        rhs = c1 * g.u + e2 * g.S * wt
        out.append(Identity(gradient(f, wt), rhs, "expand", label=label))
    return out


def _critical_line() -> list[Identity]:
    s = Setting(D)
    u = vec("u", D)
    c1 = sp.Symbol("c1", real=True)
    c2 = sp.Symbol("c2", real=True, nonzero=True)
    wt = vec("x", D)
    sol = sp.linsolve(list(c1 * u + c2 * s.S * wt), list(wt))
    (point,) = sol.args  # unique solution for generic (invertible) S
    lhs = sp.Matrix(point)
    rhs = -(c1 / c2) * s.S.adjugate() * u / s.S.det()
    return [Identity(lhs, rhs, "cancel", label="c1 u + c2 S w~ = 0 => w~ = -(c1/c2) S^-1 u")]


class _BNHalfspace(Setting):
    """§1 symbols plus ``u``, ``c1``, ``c2`` and ``grad f(w~) = c1 u + c2 S w~`` (6)."""

    def __init__(self, d: int = D) -> None:
        super().__init__(d)
        self.u = vec("u", d)
        self.c1, self.c2 = sp.symbols("c1 c2", real=True)
        self.J = self.wt.jacobian(self.w)
        self.Sinv = self.S.adjugate() / self.S.det()

    def chain(self, grad_wt: sp.Matrix) -> tuple[sp.Matrix, sp.Expr]:
        """``(grad_w f, d_g f)`` from ``grad f(w~)`` by the chain rule (direct Jacobians)."""
        return self.J.T * grad_wt, dot(sp.diff(self.wt, self.g), grad_wt)

    def grad6(self) -> sp.Matrix:
        return self.c1 * self.u + self.c2 * self.S * self.wt

    def sinv_norm2(self, v: sp.Matrix) -> sp.Expr:
        return dot(v, self.Sinv * v)


def _bn_gradient() -> list[Identity]:
    s = _BNHalfspace()
    grad_w, _ = s.chain(s.grad6())
    uw = dot(s.u, s.w)
    middle = (s.g * s.c1 / s.r) * (s.u - (uw / s.r**2) * s.S * s.w)
    right = -(s.g * s.c1 * s.r / (2 * uw)) * gradient(rho(s.u, s.S, s.w), s.w)
    return [
        Identity(grad_w, middle, "relation", s.rel, label="J' (c1 u + c2 S w~)"),
        Identity(middle, right, "relation", s.rel, label="= -(g c1 ||w||_S/(2u'w)) grad rho"),
    ]


def _norm_split() -> list[Identity]:
    s = _BNHalfspace()
    G = vec("G", D)  # any gradient grad f(w~)
    grad_w, d_g = s.chain(G)
    lhs = s.sinv_norm2(G)
    rhs = d_g**2 + (s.r**2 / s.g**2) * s.sinv_norm2(grad_w)
    return [Identity(lhs, rhs, "relation", s.rel)]


def _norm_rayleigh() -> list[Identity]:
    s = _BNHalfspace()
    grad_w, _ = s.chain(s.grad6())
    rho_star = -s.sinv_norm2(s.u)
    lhs = s.r**2 * s.sinv_norm2(grad_w)
    rhs = s.g**2 * s.c1**2 * (rho(s.u, s.S, s.w) - rho_star)
    return [Identity(lhs, rhs, "relation", s.rel)]


CHECKS = [
    Check(
        "halfspace.stein_density",
        "halfspace",
        "Gaussian density: (t - m) p(t) = -s^2 p'(t), the integration-by-parts step of Stein's "
        "lemma E[(t - m) psi(t)] = s^2 E[psi'(t)] (1-D, any psi with psi p -> 0)",
        "MATH.md §3 (6)",
        _stein_density,
    ),
    Check(
        "halfspace.stein_lemma",
        "halfspace",
        "E[z psi(z'w)] = E[psi'(z'w)] Sigma w + E[psi(z'w)] u, z ~ N(u, Sigma), by exact "
        "integration; psi generic cubic and exp(a t); d=2",
        "MATH.md §3 (6); K19",
        _stein_lemma,
    ),
    Check(
        "halfspace.gradient_structure",
        "halfspace",
        "grad E[phi(z'w~)] = c1 u + c2 S w~, c1 = E[phi'] - E[phi''] u'w~, c2 = E[phi''], "
        "z ~ N(u, S - uu'); phi generic quartic and exp(a t); d=2",
        "MATH.md §3 (6); K19",
        _gradient_structure,
    ),
    Check(
        "halfspace.critical_line",
        "halfspace",
        "c1 u + c2 S w~ = 0 with c2 != 0 forces w~ = -(c1/c2) S^-1 u (critical points lie on "
        "the line S^-1 u); d=3",
        "MATH.md §3; K19",
        _critical_line,
    ),
    Check(
        "halfspace.bn_gradient",
        "halfspace",
        "(7): grad_w f = (g c1/||w||_S)(u - (u'w/||w||_S^2) S w) = -(g c1 ||w||_S/(2u'w)) "
        "grad rho under (6); d=3",
        "MATH.md §3 (7); K19",
        _bn_gradient,
    ),
    Check(
        "halfspace.norm_split",
        "halfspace",
        "||grad f(w~)||^2_{S^-1} = (d_g f)^2 + (||w||_S^2/g^2) ||grad_w f||^2_{S^-1} for any "
        "f; d=3",
        "MATH.md §3; K19",
        _norm_split,
    ),
    Check(
        "halfspace.norm_rayleigh",
        "halfspace",
        "||w||_S^2 ||grad_w f||^2_{S^-1} = g^2 c1^2 (rho(w) - rho*) under (6); d=3",
        "MATH.md §3; K19",
        _norm_rayleigh,
    ),
]
