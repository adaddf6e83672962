"""Batch normalization as a reparametrization, and scale invariance (theory guide §1).

With centred inputs and population statistics, BN of ``x'w`` is ``g x'w / ||w||_S``: the map
``w~ = g w / ||w||_S`` of equation (1). The checks prove, for every dimension ``d``
(:mod:`gdnp.proofs.vectors`): the Jacobian of (1); the chain rule for ``grad_w f`` and
``d_g f`` for any ``f`` (``G = grad f(w~)`` a free vector); scale invariance
``f(cw, g) = f(w, g)`` and ``grad_w f(cw, g) = grad_w f(w, g)/c``; ``w' grad_w f = 0``; the
norm growth of a gradient step on ``w``; and, with a general symmetric ``S`` in ``d = 3``,
``Var[x'w] = w'Sw``.

The square root ``||w||_S = sqrt(w'Sw)`` is represented by a positive symbol ``r`` with the
defining relation ``r**2 = w'Sw`` (method ``"relation"`` of :mod:`gdnp.proofs.core`).
"""

from __future__ import annotations

import sympy as sp

from .core import Check, Identity
from .symbols import dot, gradient, replace_derivatives, sym_matrix, vec
from .vectors import Space, Vec, vec_identity

__all__ = ["CHECKS", "GeneralSetting", "Setting", "setting"]

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


class GeneralSetting:
    """The §1 objects in every dimension ``d`` (:mod:`gdnp.proofs.vectors`).

    Primitive vectors ``w`` (direction), ``h`` (a free direction, for Jacobians and
    Hessians) and ``G`` (the gradient ``grad f(w~)`` at the current point, held fixed);
    ``Q = w'Sw``, ``r = sqrt(Q) > 0`` (relation ``rel``), ``w~ = g w / sqrt(Q)``.
    """

    def __init__(self, *extra: str) -> None:
        self.V = Space(("w", "h", "G", *extra))
        self.w, self.h, self.G = self.V.v("w"), self.V.v("h"), self.V.v("G")
        self.g = sp.Symbol("g", real=True)
        self.Q = self.V.ip("w", 1, "w")
        self.r = sp.Symbol("r", positive=True)
        self.rel = ((self.r, self.Q),)
        self.wt = self.w * (self.g / sp.sqrt(self.Q))

    def JtG(self, G: Vec | None = None) -> Vec:
        """``J' G``: the gradient in ``w`` of ``G' w~(w, g)`` with ``G`` held fixed.

        Computed for the free primitive ``G`` and then ``G`` substituted, so a ``G`` that
        depends on ``w`` (e.g. ``c1 u + c2 S w~``) is still held fixed.
        """
        out = self.V.grad(self.G.dot(self.wt), "w")
        return out if G is None else self.V.substitute(out, {"G": G})

    def dg(self, G: Vec | None = None) -> sp.Expr:
        """``d w~/dg . G``: the chain rule for ``d_g f`` with ``G = grad f(w~)`` held fixed."""
        out = sp.diff(self.G.dot(self.wt), self.g)
        return out if G is None else self.V.substitute(out, {"G": G})

    def projector_T(self, x: Vec) -> Vec:
        """``(I - S w w'/||w||_S^2) x`` written with ``r``."""
        return x - self.w.S() * (self.w.dot(x) / self.r**2)


def _jacobian() -> list[Identity]:
    s = GeneralSetting()
    lhs = s.V.directional(s.wt, "w", s.h)
    rhs = (s.h - s.w * (s.w.dot(s.h.S()) / s.r**2)) * (s.g / s.r)
    return [vec_identity(lhs, rhs, "relation", s.rel, label="J h for a free direction h")]


def _chain_rule() -> list[Identity]:
    s = GeneralSetting()
    return [
        vec_identity(
            s.JtG(), s.projector_T(s.G) * (s.g / s.r), "relation", s.rel, label="grad_w f = J'G"
        ),
        Identity(s.dg(), s.w.dot(s.G) / s.r, "relation", s.rel, label="d_g f"),
        Identity(
            s.JtG().dot(s.h),
            s.G.dot(s.V.directional(s.wt, "w", s.h)),
            "relation",
            s.rel,
            label="(J'G)'h = G'(J h): the two forms are transposes",
        ),
    ]


def _scale_invariance() -> list[Identity]:
    s = GeneralSetting()
    c = sp.Symbol("c", positive=True)
    scaled = s.V.substitute(s.wt, {"w": s.w * c})  # sqrt(c^2 Q) = c sqrt(Q) for c > 0
    grad_scaled = s.V.substitute(s.JtG(), {"w": s.w * c})
    return [
        vec_identity(scaled, s.wt, "cancel", label="w~(c w, g) = w~(w, g)"),
        vec_identity(grad_scaled, s.JtG() / c, "cancel", label="grad_w f(c w, g) = grad_w f / c"),
    ]


def _orthogonality() -> list[Identity]:
    s = GeneralSetting()
    return [Identity(s.w.dot(s.JtG()), sp.S.Zero, "relation", s.rel)]


def _norm_growth() -> list[Identity]:
    s = GeneralSetting()
    eta = sp.Symbol("eta", real=True)
    grad = s.JtG()
    step = s.w - grad * eta
    lhs = step.dot(step)
    rhs = s.w.dot(s.w) + eta**2 * grad.dot(grad)
    return [Identity(lhs, rhs, "relation", s.rel)]


CHECKS = [
    Check(
        "bn.variance",
        "bn",
        "Var[x'w] = w'Sw for centred x (S = E[xx']; generally w'Cov(x)w)",
        "theory guide §1",
        _variance,
        generality="d = 3",
    ),
    Check(
        "bn.jacobian",
        "bn",
        "d w~/dw = (g/||w||_S)(I - w w'S/||w||_S^2) for w~ = g w/||w||_S (as J h, h free)",
        "theory guide §1 (1)",
        _jacobian,
        generality="general d",
    ),
    Check(
        "bn.chain_rule",
        "bn",
        "grad_w f = (g/||w||_S)(I - S w w'/||w||_S^2) grad f(w~), d_g f = w'grad f(w~)/||w||_S"
        " for any f",
        "theory guide §1",
        _chain_rule,
        generality="general d",
    ),
    Check(
        "bn.scale_invariance",
        "bn",
        "f(c w, g) = f(w, g) and grad_w f(c w, g) = grad_w f(w, g)/c for c > 0",
        "theory guide §1; C19 scaling law",
        _scale_invariance,
        generality="general d",
    ),
    Check(
        "bn.orthogonality",
        "bn",
        "w' grad_w f(w, g) = 0 for any f",
        "theory guide §1",
        _orthogonality,
        generality="general d",
    ),
    Check(
        "bn.norm_growth",
        "bn",
        "||w - eta grad_w f||^2 = ||w||^2 + eta^2 ||grad_w f||^2 (Euclidean) for any f",
        "theory guide §1; C19",
        _norm_growth,
        generality="general d",
    ),
]
