"""Batch normalization as a reparametrization, and scale invariance (MATH.md §1).

With centred inputs and population statistics, BN of ``x'w`` is ``g x'w / ||w||_S``: the map
``w~ = g w / ||w||_S`` of equation (1). The checks prove, in dimension ``d = 3`` with a general
symmetric ``S``: ``Var[x'w] = w'Sw``; the Jacobian of (1); the chain rule for ``grad_w f`` and
``d_g f`` for a generic ``f``; scale invariance ``f(cw, g) = f(w, g)``, ``w' grad_w f = 0``;
and the norm growth of a gradient step on ``w``.

The square root ``||w||_S = sqrt(w'Sw)`` is represented by a positive symbol ``r`` with the
defining relation ``r**2 = w'Sw`` (method ``"relation"`` of :mod:`gdnp.proofs.core`).
"""

from __future__ import annotations

import sympy as sp

from .core import Check, Identity
from .symbols import dot, gradient, replace_derivatives, sym_matrix, vec

__all__ = ["CHECKS", "Setting", "setting"]

D = 3


class Setting:
    """Symbols shared by the checks: ``S``, ``w``, ``g``, ``r = ||w||_S`` and ``w~``.

    Attributes
    ----------
    S, w : Matrix
        General symmetric ``d x d`` matrix and ``d``-vector.
    g : Symbol
        The length (any real).
    r : Symbol
        Positive symbol for ``||w||_S``; ``rel = ((r, Q),)`` with ``Q = w'Sw``.
    wt : Matrix
        ``w~ = g w / sqrt(Q)`` built with the true square root.
    F, G : Function, Matrix
        A generic differentiable ``f`` of ``d`` variables and the symbols naming
        ``grad f(w~)``.
    """

    def __init__(self, d: int = D) -> None:
        self.d = d
        self.S = sym_matrix("S", d)
        self.w = vec("w", d)
        self.g = sp.Symbol("g", real=True)
        self.r = sp.Symbol("r", positive=True)
        self.Q = sp.expand(dot(self.w, self.S * self.w))
        self.rel = ((self.r, self.Q),)
        self.wt = self.g * self.w / sp.sqrt(self.Q)
        self.F = sp.Function("F")
        self.G = vec("G", d)

    def f_bn(self) -> sp.Expr:
        """``f(w, g) = F(w~(w, g))`` for the generic ``F``."""
        return self.F(*self.wt)

    def grad_w(self) -> sp.Matrix:
        """``grad_w f(w, g)`` by direct differentiation, ``grad F(w~)`` named ``G``."""
        return replace_derivatives(gradient(self.f_bn(), self.w), self.F, list(self.G))

    def d_g(self) -> sp.Expr:
        """``d_g f(w, g)`` by direct differentiation, ``grad F(w~)`` named ``G``."""
        return replace_derivatives(sp.diff(self.f_bn(), self.g), self.F, list(self.G))

    def projector_T(self) -> sp.Matrix:
        """``I - S w w' / ||w||_S**2`` written with ``r``."""
        return sp.eye(self.d) - self.S * self.w * self.w.T / self.r**2


def setting(d: int = D) -> Setting:
    """Return the shared symbols of §1 in dimension ``d``."""
    return Setting(d)


def _moment_functional(expr: sp.Expr, x: sp.Matrix, m: sp.Matrix, M: sp.Matrix) -> sp.Expr:
    """Apply the linear functional ``E`` with ``E[1]=1, E[x_i]=m_i, E[x_i x_j]=M_ij``."""
    poly = sp.Poly(sp.expand(expr), *x)
    total = sp.S.Zero
    for exps, coeff in poly.terms():
        idx = [i for i, k in enumerate(exps) for _ in range(k)]
        if len(idx) == 0:
            total += coeff
        elif len(idx) == 1:
            total += coeff * m[idx[0]]
        elif len(idx) == 2:
            total += coeff * M[idx[0], idx[1]]
        else:
            raise ValueError("only moments up to order two are defined")
    return total


def _variance() -> list[Identity]:
    x, m, w = vec("x", D), vec("m", D), vec("w", D)
    S = sym_matrix("S", D)  # covariance of x
    second = S + m * m.T  # E[x x'] = Cov + m m'
    mean_xw = _moment_functional(dot(x, w), x, m, second)
    var = _moment_functional((dot(x, w) - mean_xw) ** 2, x, m, second)
    centred = _moment_functional(dot(x, w) ** 2, x, sp.zeros(D, 1), S)
    quad = dot(w, S * w)
    return [
        Identity(var, quad, "expand", label="Var[x'w] = w' Cov(x) w (any mean)"),
        Identity(centred, quad, "expand", label="centred: E[(x'w)^2] = w'Sw, S = E[xx']"),
    ]


def _jacobian() -> list[Identity]:
    s = setting()
    lhs = s.wt.jacobian(s.w)
    rhs = (s.g / s.r) * (sp.eye(D) - s.w * s.w.T * s.S / s.r**2)
    return [Identity(lhs, rhs, "relation", s.rel)]


def _chain_rule() -> list[Identity]:
    s = setting()
    rhs_w = (s.g / s.r) * s.projector_T() * s.G
    rhs_g = dot(s.w, s.G) / s.r
    return [
        Identity(s.grad_w(), rhs_w, "relation", s.rel, label="grad_w f"),
        Identity(s.d_g(), rhs_g, "relation", s.rel, label="d_g f"),
    ]


def _scale_invariance() -> list[Identity]:
    s = setting()
    c = sp.Symbol("c", positive=True)
    q_scaled = sp.factor(sp.expand(s.Q.subs({wi: c * wi for wi in s.w}, simultaneous=True)))
    wt_scaled = s.g * (c * s.w) / sp.sqrt(q_scaled)  # sqrt(c**2 Q) = c sqrt(Q) for c > 0
    return [Identity(wt_scaled, s.wt, "cancel", label="w~(c w, g) = w~(w, g)")]


def _orthogonality() -> list[Identity]:
    s = setting()
    return [Identity(dot(s.w, s.grad_w()), sp.S.Zero, "relation", s.rel)]


def _norm_growth() -> list[Identity]:
    s = setting()
    eta = sp.Symbol("eta", real=True)
    grad = s.grad_w()
    step = s.w - eta * grad
    lhs = dot(step, step)
    rhs = dot(s.w, s.w) + eta**2 * dot(grad, grad)
    return [Identity(lhs, rhs, "relation", s.rel)]


CHECKS = [
    Check(
        "bn.variance",
        "bn",
        "Var[x'w] = w'Sw for centred x (S = E[xx']; generally w'Cov(x)w); d=3",
        "MATH.md §1",
        _variance,
    ),
    Check(
        "bn.jacobian",
        "bn",
        "d w~/dw = (g/||w||_S)(I - w w'S/||w||_S^2) for w~ = g w/||w||_S; d=3, general S",
        "MATH.md §1 (1)",
        _jacobian,
    ),
    Check(
        "bn.chain_rule",
        "bn",
        "grad_w f = (g/||w||_S)(I - S w w'/||w||_S^2) grad f(w~), d_g f = w'grad f(w~)/||w||_S"
        "; generic f, d=3",
        "MATH.md §1",
        _chain_rule,
    ),
    Check(
        "bn.scale_invariance",
        "bn",
        "f(c w, g) = f(w, g) for c > 0 (w~ is invariant); d=3",
        "MATH.md §1",
        _scale_invariance,
    ),
    Check(
        "bn.orthogonality",
        "bn",
        "w' grad_w f(w, g) = 0 for generic f; d=3",
        "MATH.md §1",
        _orthogonality,
    ),
    Check(
        "bn.norm_growth",
        "bn",
        "||w - eta grad_w f||^2 = ||w||^2 + eta^2 ||grad_w f||^2 (Euclidean); generic f, d=3",
        "MATH.md §1; C19",
        _norm_growth,
    ),
]
