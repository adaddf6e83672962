"""Classical bisection with geometric bracket expansion (MATH.md §4, GDNP's length update).

scipy's root finders return neither the final bracket nor the expanded initial one, which
K19's length bound ``(d_g f(a^{(T_s)}))^2 <= 2^{-T_s} zeta |b^{(0)} - a^{(0)}| / mu^2`` needs,
so this small loop is written out; it is tested against ``scipy.optimize.brentq``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["bisect", "NoSignChangeError"]


class NoSignChangeError(ValueError):
    """No bracket with ``fun(a) < 0 < fun(b)`` was found within the expansion budget."""


def _value(fun, t):
    v = float(fun(t))
    if not math.isfinite(v):
        raise ValueError(f"fun returned a non-finite value {v!r} at {t!r}")
    return v


def bisect(fun: Callable[[float], float], a: float, b: float, maxiter: int = 50, *,
           expand: bool = True, max_expand: int = 64, xtol: float = 0.0
           ) -> tuple[float, dict]:
    """Root of an increasing-through-zero function by halving a bracket.

    Parameters
    ----------
    fun : callable
        Scalar function with ``fun(a) < 0 < fun(b)`` on the (possibly expanded) bracket, such
        as ``g -> d_g f(w, g)`` for a convex loss.
    a, b : float
        Initial bracket, ``a < b``.
    maxiter : int
        Number of halvings ``T_s`` (fewer if the bracket width falls below ``xtol`` first).
    expand : bool
        Grow the bracket geometrically (doubling its width, at most ``max_expand`` times) until
        ``fun(a) < 0 < fun(b)``.
    xtol : float
        Stop early once ``b - a <= xtol``; ``0`` runs all ``maxiter`` halvings (stopping only
        when the midpoint equals an end point in floating point).

    Returns
    -------
    root : float
        The midpoint of the final bracket.
    info : dict
        ``a``, ``b`` (final bracket, ``fun(a) < 0 < fun(b)``), ``a0``, ``b0`` (bracket after
        expansion), ``nit`` (halvings), ``nfev``, ``expansions``.

    Raises
    ------
    NoSignChangeError
        No sign change within the expansion budget (e.g. separable data: ``|g*| = inf``).
    ValueError
        Invalid bracket, or ``fun`` returned a non-finite value.
    """
    if isinstance(maxiter, bool) or not isinstance(maxiter, int) or maxiter < 0:
        raise ValueError(f"maxiter must be an integer >= 0, got {maxiter!r}")
    a, b = float(a), float(b)
    if not (math.isfinite(a) and math.isfinite(b) and a < b):
        raise ValueError(f"the bracket must satisfy a < b with finite ends, got ({a}, {b})")
    fa, fb = _value(fun, a), _value(fun, b)
    nfev, expansions = 2, 0
    while fa >= 0.0 or fb <= 0.0:
        if expansions and (fa == 0.0 or fb == 0.0):
            # an exact zero met while moving outward is an underflowed tail (e.g. a logistic
            # derivative at a huge length), not a root
            raise NoSignChangeError(
                f"fun vanishes to rounding at {a if fa == 0.0 else b:.6g} after {expansions} "
                "expansion(s) without changing sign: the root is not finite (for GDNP's "
                "length: separable data, where the length has no finite minimiser)")
        if fa == 0.0:
            return a, {"a": a, "b": a, "a0": a, "b0": a, "nit": 0, "nfev": nfev,
                       "expansions": expansions}
        if fb == 0.0:
            return b, {"a": b, "b": b, "a0": b, "b0": b, "nit": 0, "nfev": nfev,
                       "expansions": expansions}
        if not expand or expansions >= max_expand:
            raise NoSignChangeError(
                f"no sign change of fun on [{a:.6g}, {b:.6g}] (fun(a) = {fa:.3g}, fun(b) = "
                f"{fb:.3g}) after {expansions} expansion(s): the root is not finite or the "
                "function is not increasing through zero (for GDNP's length: separable data, "
                "where the length has no finite minimiser)")
        width = 2.0 * (b - a)  # geometric growth: each new bracket is twice as wide
        if fa > 0.0:  # the root is left of a
            a, b, fb = a - width, a, fa
            fa = _value(fun, a)
        else:  # fb < 0: the root is right of b
            a, b, fa = b, b + width, fb
            fb = _value(fun, b)
        nfev += 1
        expansions += 1
    a0, b0 = a, b
    nit = 0
    while nit < maxiter and b - a > xtol:
        m = 0.5 * (a + b)
        if m <= a or m >= b:
            break
        fm = _value(fun, m)
        nfev += 1
        nit += 1
        if fm < 0.0:
            a = m
        elif fm > 0.0:
            b = m
        else:
            a = b = m
            break
    return 0.5 * (a + b), {"a": a, "b": b, "a0": a0, "b0": b0, "nit": nit, "nfev": nfev,
                           "expansions": expansions}
