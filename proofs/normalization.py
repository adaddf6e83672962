"""Normalizations as a choice of norm and GDNP's step for a general norm (theory guide §10).

Proved in ``d = 3`` with a generic differentiable ``N(w)`` (its gradient named ``n``) and a
general symmetric ``S``:

* the chain rule of ``w~ = g w / N(w)``: ``grad_w f = (g/N)(G - grad N (w'G)/N)``,
  ``d_g f = w'G/N``; with Euler's relation ``w' grad N = N`` (degree-1 homogeneity),
  ``w' grad_w f = 0``, and differentiated, ``hess_w f w = -grad_w f`` (``w`` in the Hessian's
  null space at a stationary point); for BN's epsilon (``N^2 = w'Sw + eps``) the defect is
  ``w' grad_w f = g eps (w'G) / N^3``;
* GDNP's direction step for a general norm: under Stein's form ``G = c1 u + c2 S w~`` and at a
  length with ``d_g f = 0``, ``grad_w f = (g c1/N)(u - (u'w/||w||_S^2) S w)`` whatever ``grad N``
  is, so ``s_t = -||w||_S^2 N / (L g h)`` gives ``s_t grad_w f = eta_t grad rho`` (step (4));
  the naive substitution ``||w||_S -> N`` in K19's ``s_t = -||w||_S^3/(L g h)`` does not
  (documented discrepancy, refuted at an exact rational point);
* the l3 norm's gradient: ``N = c3 (E|t|^3)^(1/3)`` (``t = x'w`` on a sample) has
  ``grad N = c3^3 N^-2 E[|t| t x]`` (proved for three samples in ``d = 2``, on every sign
  pattern of ``t``, where ``|t|^3 = s t^3``);
* the Gaussian-consistency constants: ``sqrt(pi/2) E|t| = sigma`` and
  ``(pi/8)^(1/2) E|t|^3 = sigma^3`` for ``t ~ N(0, sigma^2)``, so the l1 and l3 norms equal
  ``||w||_S`` when ``x'w`` is Gaussian.
"""

from __future__ import annotations

import sympy as sp

from .core import Check, Identity, counterexample
from .symbols import dot, gradient, replace_derivatives, sym_matrix, vec

__all__ = ["CHECKS"]

D = 3


class _Norm:
    """``w~ = g w / N(w)`` with a generic ``N`` (an undefined function of ``w``)."""

    def __init__(self, d: int = D) -> None:
        self.w = vec("w", d)
        self.g = sp.Symbol("g", real=True)
        self.Nf = sp.Function("N")
        self.F = sp.Function("F")
        self.G = vec("G", d)
        self.n = vec("n", d)  # grad N(w)
        self.N = sp.Symbol("Nw", positive=True)  # N(w)
        self.wt = self.g * self.w / self.Nf(*self.w)

    def _named(self, expr):
        expr = replace_derivatives(expr, self.F, list(self.G))
        expr = replace_derivatives(expr, self.Nf, list(self.n))
        return expr.subs(self.Nf(*self.w), self.N)

    def grad_w(self) -> sp.Matrix:
        return self._named(gradient(self.F(*self.wt), self.w))

    def d_g(self) -> sp.Expr:
        return self._named(sp.diff(self.F(*self.wt), self.g))


def _chain_rule() -> list[Identity]:
    s = _Norm()
    wG = dot(s.w, s.G)
    formula = (s.g / s.N) * (s.G - s.n * (wG / s.N))
    return [Identity(s.grad_w(), formula, "cancel", label="grad_w f"),
            Identity(s.d_g(), wG / s.N, "cancel", label="d_g f")]


def _euler() -> list[Identity]:
    s = _Norm()
    # degree-1 homogeneity: w' grad N = N, solved for the last partial
    last = sp.solve(sp.Eq(dot(s.w, s.n), s.N), s.n[-1])[0]
    lhs = dot(s.w, s.grad_w()).subs(s.n[-1], last)
    return [Identity(lhs, sp.Integer(0), "cancel")]


def _hessian_null_space() -> list[Identity]:
    """``hess_w f w + grad_w f = 0`` for ``f(g w/N(w))``, ``N`` generic and degree-1
    homogeneous (``w' grad N = N``, and its derivative ``sum_j w_j d_i d_j N = 0``): Euler's
    relation ``w' grad_w f = 0`` differentiated in ``w``, so at a stationary point (``grad_w f =
    0``) the Hessian in ``w`` has ``w`` in its null space. ``F``'s and ``N``'s first and second
    partials are free symbols."""
    s = _Norm()
    grad = gradient(s.F(*s.wt), s.w)
    hess = sp.Matrix(D, D, lambda i, j: sp.diff(grad[i], s.w[j]))
    second = {}
    for i in range(D):
        for j in range(i, D):
            second[(i, j)] = sp.Symbol(f"N{i + 1}{j + 1}", real=True)
    f_parts = {(i,): s.G[i] for i in range(D)}
    f_parts.update({(i, j): sp.Symbol(f"G{i + 1}{j + 1}", real=True)
                    for i in range(D) for j in range(i, D)})
    n_parts = {(i,): s.n[i] for i in range(D)} | second
    expr = replace_derivatives(hess * s.w + grad, s.F, f_parts)
    expr = replace_derivatives(expr, s.Nf, n_parts).subs(s.Nf(*s.w), s.N)

    def nij(i: int, j: int) -> sp.Symbol:
        return second[(min(i, j), max(i, j))]

    # homogeneity: w' grad N = N, solved for the last partial; each partial of N is
    # homogeneous of degree 0, sum_j w_j d_i d_j N = 0, solved for the last column in turn
    relations = {s.n[-1]: sp.solve(sp.Eq(dot(s.w, s.n), s.N), s.n[-1])[0]}
    for i in range(D):
        target = nij(i, D - 1)
        equation = sum(s.w[j] * nij(i, j) for j in range(D)).subs(relations)
        relations[target] = sp.solve(sp.Eq(equation, 0), target)[0]
        relations = {k: v.subs(relations) for k, v in relations.items()}
    expr = expr.subs(relations)
    return [Identity(expr[i], sp.Integer(0), "cancel", label=f"component {i + 1}")
            for i in range(D)]


def _eps_defect() -> list[Identity]:
    s = _Norm()
    S = sym_matrix("S", D)
    eps = sp.Symbol("eps", positive=True)
    Sw = S * s.w
    q = sp.expand(dot(s.w, Sw))
    # N = sqrt(w'Sw + eps): grad N = Sw / N, and N^2 = w'Sw + eps
    lhs = dot(s.w, s.grad_w()).subs({ni: Swi / s.N for ni, Swi in zip(s.n, Sw, strict=True)})
    rhs = s.g * eps * dot(s.w, s.G) / s.N**3
    return [Identity(lhs, rhs, "relation", ((s.N, q + eps),))]


class _Step:
    """Stein's form at the optimal length, with ``N`` and ``grad N`` free (theory guide §10)."""

    def __init__(self) -> None:
        self.S = sym_matrix("S", D)
        self.w, self.u, self.n = vec("w", D), vec("u", D), vec("n", D)
        self.g, self.c1 = sp.symbols("g c1", real=True)
        self.N, self.L = sp.symbols("Nw L", positive=True)
        self.q = sp.expand(dot(self.w, self.S * self.w))  # ||w||_S^2
        self.uw = dot(self.u, self.w)
        # d_g f = w'G / N = 0 with G = c1 u + c2 S w~ fixes c2
        c2 = -self.c1 * self.uw * self.N / (self.g * self.q)
        self.G = self.c1 * self.u + c2 * (self.g / self.N) * self.S * self.w
        self.grad_w = (self.g / self.N) * (self.G - self.n * (dot(self.w, self.G) / self.N))
        self.h = self.c1 * self.uw
        rho_w = -(self.uw**2) / self.q  # rho(w) = -(u'w)^2 / ||w||_S^2 (theory guide §2)
        self.eta = self.q / (2 * self.L * (-rho_w))
        self.grad_rho = gradient(rho_w, self.w)

    def step(self, naive: bool) -> Identity:
        s = (-self.N**3 if naive else -self.q * self.N) / (self.L * self.g * self.h)
        return Identity(s * self.grad_w, self.eta * self.grad_rho, "cancel")


def _general_step() -> list[Identity]:
    s = _Step()
    direction = (s.g * s.c1 / s.N) * (s.u - (s.uw / s.q) * s.S * s.w)
    return [Identity(s.grad_w, direction, "cancel", label="grad_w f at d_g f = 0"),
            Identity(s.step(naive=False).lhs, s.step(naive=False).rhs, "cancel",
                     label="s_t grad_w f = eta_t grad rho")]


def _refute_naive():
    s = _Step()
    point = {sym: 0 for sym in s.S}
    point.update({s.S[0, 0]: 4, s.S[1, 1]: 1, s.S[2, 2]: 1})  # ||w||_S = sqrt 5
    point.update({s.w[0]: 1, s.w[1]: 1, s.w[2]: 0, s.u[0]: 1, s.u[1]: 2, s.u[2]: 0})
    point.update({s.g: 1, s.c1: 1, s.L: 4, s.N: 1})  # N(w) = 1, not ||w||_S
    # grad N = e1: Euler's relation w' grad N = N of a degree-1 homogeneous N holds
    point.update({s.n[0]: 1, s.n[1]: 0, s.n[2]: 0})
    return counterexample(s.step(naive=True), point)


def _l3_gradient() -> list[Identity]:
    """``grad N = c3^3 N^-2 E[|t| t x]`` for ``N = c3 (E|t|^3)^(1/3)``, ``t_i = x_i'w``: on
    each sign pattern ``s`` of the three samples' ``t`` (where ``|t_i| = s_i t_i``)."""
    w, c3 = vec("w", 2), sp.Symbol("c3", positive=True)
    xs = [vec(f"x{i}_", 2) for i in range(3)]
    t = [dot(x, w) for x in xs]
    out = []
    for signs in ((1, 1, 1), (1, 1, -1), (1, -1, -1), (-1, -1, -1)):  # up to relabelling
        mean3 = sum(si * ti**3 for si, ti in zip(signs, t, strict=True)) / 3  # E|t|^3
        N = c3 * mean3 ** sp.Rational(1, 3)
        moment = sum((si * ti**2 * x for si, ti, x in zip(signs, t, xs, strict=True)),
                     sp.zeros(2, 1)) / 3  # E[|t| t x]
        out.append(Identity(gradient(N, w), c3**3 * N**-2 * moment, "simplify",
                            label=f"signs {signs}"))
    return out


def _gaussian_constants() -> list[Identity]:
    t = sp.Symbol("t", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    density = sp.exp(-t**2 / (2 * sigma**2)) / (sigma * sp.sqrt(2 * sp.pi))
    abs1 = 2 * sp.integrate(t * density, (t, 0, sp.oo))  # E|t|
    abs3 = 2 * sp.integrate(t**3 * density, (t, 0, sp.oo))  # E|t|^3
    return [Identity(sp.sqrt(sp.pi / 2) * abs1, sigma, "simplify", label="l1"),
            Identity(sp.sqrt(sp.pi / 8) * abs3, sigma**3, "simplify", label="l3")]


CHECKS = [
    Check("norm.general_norm_chain_rule", "norm",
          "w~ = g w/N(w), N generic: grad_w f = (g/N)(G - grad N (w'G)/N), d_g f = w'G/N; d=3",
          "theory guide §10", _chain_rule, generality="d = 3"),
    Check("norm.general_norm_euler", "norm",
          "w' grad N = N (degree-1 homogeneous N) implies w' grad_w f = 0; d=3",
          "theory guide §10", _euler, generality="d = 3"),
    Check("norm.hessian_null_space", "norm",
          "N degree-1 homogeneous: hess_w f w = -grad_w f, so at a stationary point the "
          "Hessian in w has w in its null space; d=3",
          "theory guide §10", _hessian_null_space, generality="d = 3"),
    Check("norm.bn_eps_scale_defect", "norm",
          "N = sqrt(w'Sw + eps): w' grad_w f = g eps (w'G)/N^3, not 0; d=3",
          "theory guide §10", _eps_defect, generality="d = 3"),
    Check("norm.l3_gradient", "norm",
          "N = c3 (E|x'w|^3)^(1/3): grad N = c3^3 N^-2 E[|x'w| (x'w) x]; three samples, d=2",
          "theory guide §10", _l3_gradient, generality="d = 2, three samples"),
    Check("norm.norm_gaussian_constants", "norm",
          "t ~ N(0, sigma^2): sqrt(pi/2) E|t| = sigma and (pi/8)^(1/2) E|t|^3 = sigma^3",
          "theory guide §10", _gaussian_constants, generality="1-D Gaussian"),
    Check("norm.general_norm_step", "norm",
          "Stein form at d_g f = 0, any N and grad N: grad_w f = (g c1/N)(u - (u'w/||w||_S^2)"
          " S w), and s_t = -||w||_S^2 N/(L g h) gives s_t grad_w f = eta_t grad rho; d=3",
          "theory guide §4, §10", _general_step, generality="d = 3"),
    Check("norm.general_norm_naive_step", "norm",
          "s_t = -N^3/(L g h) (||w||_S replaced by N) gives s_t grad_w f = eta_t grad rho "
          "(FALSE unless N = ||w||_S); d=3",
          "theory guide §10", lambda: [_Step().step(naive=True)],
          expected="fails", counterexample=_refute_naive, generality="d = 3"),
]
