"""Exact Gaussian expectations of ``polynomial x exponential`` integrands (theory guide §3, §5).

A Gaussian vector with symbolic mean ``u`` and covariance ``Sigma = A A'`` is written
``z = u + A xi`` with ``xi`` standard normal. For an integrand that is a sum of terms
``c * prod_j xi_j**k_j * exp(a_j xi_j)`` the expectation factorises (independence, Fubini) into
one-dimensional moments ``M(k, a) = E[xi**k exp(a xi)] = d^k/da^k E[exp(a xi)]``, and the
moment generating function ``E[exp(a xi)] = exp(a**2/2)`` is obtained once by sympy's exact
integration against the standard normal density. No numerical quadrature is involved.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import sympy as sp

__all__ = ["expect", "standard_mgf"]

_A = sp.Symbol("a", real=True)
_X = sp.Symbol("x", real=True)


@lru_cache(maxsize=1)
def standard_mgf() -> sp.Expr:
    """``E[exp(a xi)]`` for ``xi ~ N(0, 1)``, by exact sympy integration (in ``a``)."""
    density = sp.exp(-(_X**2) / 2) / sp.sqrt(2 * sp.pi)
    value = sp.integrate(sp.exp(_A * _X) * density, (_X, -sp.oo, sp.oo), conds="none")
    return sp.simplify(value)


@lru_cache(maxsize=64)
def _moment_in_a(k: int) -> sp.Expr:
    return sp.diff(standard_mgf(), _A, k)


def _moment(k: int, a: sp.Expr) -> sp.Expr:
    """``E[xi**k exp(a xi)]`` for ``xi ~ N(0, 1)``."""
    return sp.expand(_moment_in_a(k).subs(_A, a))


def expect(expr: sp.Expr, xis: Sequence[sp.Symbol]) -> sp.Expr:
    """Expectation of ``expr`` over independent standard normals ``xis``.

    Parameters
    ----------
    expr : sympy expression
        A polynomial in the ``xis`` times exponentials whose exponents are polynomials of
        degree at most one in the ``xis`` (any other symbols are constants).
    xis : sequence of Symbol
        The standard normal variables.

    Returns
    -------
    sympy expression
        The exact expectation (expanded).

    Raises
    ------
    ValueError
        If a term is not of the supported form.
    """
    xis = list(xis)
    total = sp.S.Zero
    for term in sp.Add.make_args(sp.expand(expr, power_exp=True)):
        const = sp.S.One
        powers = dict.fromkeys(xis, 0)
        rates: dict[sp.Symbol, sp.Expr] = dict.fromkeys(xis, sp.S.Zero)
        for factor in sp.Mul.make_args(term):
            if not factor.has(*xis):
                const *= factor
                continue
            if factor in powers:
                powers[factor] += 1
                continue
            if factor.is_Pow and factor.base in powers and factor.exp.is_Integer:
                powers[factor.base] += int(factor.exp)
                continue
            if isinstance(factor, sp.exp):
                arg = sp.expand(factor.args[0])
                for piece in sp.Add.make_args(arg):
                    hit = [x for x in xis if piece.has(x)]
                    if not hit:
                        const *= sp.exp(piece)
                        continue
                    if len(hit) != 1:
                        raise ValueError(f"exponent not linear in the Gaussian variables: {arg}")
                    coeff = sp.expand(piece / hit[0])
                    if coeff.has(*xis):
                        raise ValueError(f"exponent not linear in the Gaussian variables: {arg}")
                    rates[hit[0]] += coeff
                continue
            raise ValueError(f"unsupported factor in a Gaussian expectation: {factor}")
        value = const
        for x in xis:
            if powers[x] or rates[x] != 0:
                value *= _moment(powers[x], rates[x])
        total += value
    return sp.expand(total, power_exp=True)
