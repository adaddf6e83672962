"""Batch-normalization backpropagation on a mini-batch (IS15; theory guide §8).

IS15's transform: ``mu = mean(x)``, ``sigma^2 = mean((x - mu)^2)``,
``x^_i = (x_i - mu)/sqrt(sigma^2 + eps)``, ``y_i = gamma x^_i + beta``, and a loss
``l(y_1, ..., y_n)`` that is an undefined sympy function (``dl/dy_i`` are its partials, named
``D_i``). Each published gradient is compared with direct differentiation of the computation
graph for batches of size 3 and 4: ``dl/dx^_i`` treats ``x^`` as free, ``dl/dsigma^2`` treats
``(x, mu, sigma^2)`` as free, ``dl/dmu`` keeps ``sigma^2 = sigma^2(x, mu)``, ``dl/dx_i`` is the
full derivative. Also the Jacobian of ``Z = (Y - mean)/sigma`` (biased std, no epsilon) for
``n = 3, 4, 5``, and the published variant without ``1/n`` on ``Z Z'`` (false).
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from .core import Check, Counterexample, Identity, counterexample

__all__ = ["CHECKS", "Batch", "jacobian_identity"]

SIZES = (3, 4)


class Batch:
    """Symbols and graph of IS15's BN transform for a batch of size ``n``."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.x = list(sp.symbols(f"x1:{n + 1}", real=True))
        self.gamma, self.beta = sp.symbols("gamma beta", real=True)
        self.eps = sp.Symbol("epsilon", nonnegative=True)
        self.mu_s, self.var_s = sp.Symbol("mu", real=True), sp.Symbol("sigma2", positive=True)
        self.xh_s = list(sp.symbols(f"h1:{n + 1}", real=True))  # x^ as free symbols
        self.r = sp.Symbol("r", positive=True)  # sqrt(sigma^2 + eps)
        self.l = sp.Function("l")
        self.D = list(sp.symbols(f"D1:{n + 1}", real=True))  # dl/dy_i

    # the graph ----------------------------------------------------------------------------
    def mean(self) -> sp.Expr:
        return sum(self.x) / self.n

    def var_of(self, mu: sp.Expr) -> sp.Expr:
        return sum((xi - mu) ** 2 for xi in self.x) / self.n

    def loss(self, xhat: list[sp.Expr]) -> sp.Expr:
        return self.l(*[self.gamma * h + self.beta for h in xhat])

    def xhat(self, mu: sp.Expr, var: sp.Expr) -> list[sp.Expr]:
        return [(xi - mu) / sp.sqrt(var + self.eps) for xi in self.x]

    def d(self, expr: sp.Expr, var: sp.Symbol) -> sp.Expr:
        """Direct derivative, the partials of ``l`` named ``D_i``."""
        return replace_l(sp.diff(expr, var), self)

    # IS15's formulas (written with r = sqrt(sigma^2 + eps)) -------------------------------
    def dxhat(self) -> list[sp.Expr]:
        return [Di * self.gamma for Di in self.D]

    def dvar(self, mu: sp.Expr) -> sp.Expr:
        return sum(dh * (xi - mu) for dh, xi in zip(self.dxhat(), self.x, strict=True)) * (
            -sp.Rational(1, 2) * self.r**-3
        )

    def dmu(self, mu: sp.Expr) -> sp.Expr:
        return (
            sum(dh * (-1 / self.r) for dh in self.dxhat())
            + self.dvar(mu) * sum(-2 * (xi - mu) for xi in self.x) / self.n
        )

    def dx(self) -> list[sp.Expr]:
        mu = self.mean()
        return [
            dh / self.r + self.dvar(mu) * 2 * (xi - mu) / self.n + self.dmu(mu) / self.n
            for dh, xi in zip(self.dxhat(), self.x, strict=True)
        ]


def replace_l(expr: sp.Expr, batch: Batch) -> sp.Expr:
    from .symbols import replace_derivatives

    return replace_derivatives(expr, batch.l, batch.D)


def _dxhat(n: int) -> list[Identity]:
    b = Batch(n)
    lhs = sp.Matrix([b.d(b.loss(b.xh_s), h) for h in b.xh_s])
    return [Identity(lhs, sp.Matrix(b.dxhat()), "expand", label=f"n={n}")]


def _dvar(n: int) -> list[Identity]:
    b = Batch(n)
    lhs = b.d(b.loss(b.xhat(b.mu_s, b.var_s)), b.var_s)
    rel = ((b.r, b.var_s + b.eps),)
    return [Identity(lhs, b.dvar(b.mu_s), "relation", rel, label=f"n={n}")]


def _dmu(n: int) -> list[Identity]:
    b = Batch(n)
    var = b.var_of(b.mu_s)  # sigma^2 depends on mu in the graph
    lhs = b.d(b.loss(b.xhat(b.mu_s, var)), b.mu_s)
    rel = ((b.r, var + b.eps),)
    return [Identity(lhs, b.dmu(b.mu_s), "relation", rel, label=f"n={n}")]


def _dx(n: int) -> list[Identity]:
    b = Batch(n)
    mu = b.mean()
    var = b.var_of(mu)
    L = b.loss(b.xhat(mu, var))
    lhs = sp.Matrix([b.d(L, xi) for xi in b.x])
    rel = ((b.r, var + b.eps),)
    return [Identity(lhs, sp.Matrix(b.dx()), "relation", rel, label=f"n={n}")]


def _dgamma(n: int) -> list[Identity]:
    b = Batch(n)
    mu = b.mean()
    xhat = b.xhat(mu, b.var_of(mu))
    lhs = b.d(b.loss(xhat), b.gamma)
    rhs = sum(Di * h for Di, h in zip(b.D, xhat, strict=True))
    return [Identity(lhs, rhs, "expand", label=f"n={n}")]


def _dbeta(n: int) -> list[Identity]:
    b = Batch(n)
    mu = b.mean()
    lhs = b.d(b.loss(b.xhat(mu, b.var_of(mu))), b.beta)
    return [Identity(lhs, sum(b.D), "expand", label=f"n={n}")]


def jacobian_identity(n: int, drop_1_over_n: bool = False) -> Identity:
    """``dZ/dY = (1/sigma)(I - 11'/n - Z Z'/n)`` for ``Z = (Y - mean)/sigma``, batch ``n``.

    Parameters
    ----------
    n : int
        Batch size.
    drop_1_over_n : bool
        Use the published variant ``(1/sigma)(I - 11'/n - Z Z')`` instead.
    """
    Y = sp.Matrix(sp.symbols(f"Y1:{n + 1}", real=True))
    m = sum(Y) / n
    var = sum((yi - m) ** 2 for yi in Y) / n
    sigma = sp.Symbol("sigma", positive=True)
    Z = (Y - m * sp.ones(n, 1)) / sp.sqrt(var)
    lhs = Z.jacobian(Y)
    Zr = (Y - m * sp.ones(n, 1)) / sigma
    zz = Zr * Zr.T if drop_1_over_n else Zr * Zr.T / n
    rhs = (sp.eye(n) - sp.ones(n, n) / n - zz) / sigma
    return Identity(lhs, rhs, "relation", ((sigma, var),), label=f"n={n}")


def _sizes(builder: Callable[[int], list[Identity]]) -> Callable[[], list[Identity]]:
    def build() -> list[Identity]:
        return [identity for n in SIZES for identity in builder(n)]

    return build


def _refute_no_1n() -> Counterexample:
    identity = jacobian_identity(4, drop_1_over_n=True)
    values = {"Y1": 0, "Y2": 2, "Y3": 0, "Y4": 2}  # mean 1, sigma = 1
    return counterexample(identity, {s: values[s.name] for s in identity.lhs.free_symbols})


CHECKS = [
    Check(
        "backprop.dxhat",
        "backprop",
        "dl/dx^_i = dl/dy_i * gamma",
        "IS15 Alg. backprop",
        _sizes(_dxhat),
        generality="n = 3, 4",
    ),
    Check(
        "backprop.dvar",
        "backprop",
        "dl/dsigma^2 = sum_i dl/dx^_i (x_i - mu) (-1/2)(sigma^2 + eps)^(-3/2)",
        "IS15 Alg. backprop",
        _sizes(_dvar),
        generality="n = 3, 4",
    ),
    Check(
        "backprop.dmu",
        "backprop",
        "dl/dmu = sum_i dl/dx^_i (-1/sqrt(sigma^2 + eps)) + dl/dsigma^2 sum_i -2(x_i - mu)/n",
        "IS15 Alg. backprop",
        _sizes(_dmu),
        generality="n = 3, 4",
    ),
    Check(
        "backprop.dx",
        "backprop",
        "dl/dx_i = dl/dx^_i/sqrt(sigma^2 + eps) + dl/dsigma^2 2(x_i - mu)/n + dl/dmu /n",
        "IS15 Alg. backprop",
        _sizes(_dx),
        generality="n = 3, 4",
    ),
    Check(
        "backprop.dgamma",
        "backprop",
        "dl/dgamma = sum_i dl/dy_i x^_i",
        "IS15 Alg. backprop",
        _sizes(_dgamma),
        generality="n = 3, 4",
    ),
    Check(
        "backprop.dbeta",
        "backprop",
        "dl/dbeta = sum_i dl/dy_i",
        "IS15 Alg. backprop",
        _sizes(_dbeta),
        generality="n = 3, 4",
    ),
    Check(
        "backprop.normalization_jacobian",
        "backprop",
        "Z = (Y - mean)/sigma (biased std, no eps): dZ/dY = (1/sigma)(I - 11'/n - Z Z'/n)",
        "theory guide §8; IS15",
        lambda: [jacobian_identity(n) for n in (3, 4, 5)],
        generality="n = 3, 4, 5",
    ),
    Check(
        "backprop.normalization_jacobian_no_1n",
        "backprop",
        "published variant dZ/dY = (1/sigma)(I - 11'/n - Z Z') without 1/n on Z Z' (FALSE)",
        "Morwani 2020 §3.1 (published form); theory guide §8",
        lambda: [jacobian_identity(n, True) for n in (3, 4)],
        expected="fails",
        counterexample=_refute_no_1n,
        generality="n = 3, 4",
    ),
]
