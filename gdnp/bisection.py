"""Classical bisection with geometric bracket expansion (theory guide §4, GDNP's length update).

scipy's root finders return neither the final bracket nor the expanded initial one, which
K19's length bound ``(d_g f(a^{(T_s)}))^2 <= 2^{-T_s} zeta |b^{(0)} - a^{(0)}| / mu^2`` needs,
so this small loop is written out; it is tested against ``scipy.optimize.brentq``.

Bisection only needs the *sign* of ``fun`` at each midpoint. Given a ``model`` that certifies
signs from earlier evaluations (:class:`gdnp.problems.CertifiedDerivative`: Taylor bounds on
GDNP's length derivative), a midpoint is evaluated only when no certificate decides its sign.
The halvings are the same as with an evaluation at every midpoint; only the number of ``O(n)``
passes changes (``nfev`` counts evaluations, ``ncertified`` the signs decided without one).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Protocol

import numpy as np

from gdnp.problems._validate import as_bool
from gdnp.problems.taylor import SignThreshold

__all__ = ["bisect", "NoSignChangeError"]


class NoSignChangeError(ValueError):
    """No bracket with ``fun(a) < 0 < fun(b)`` was found within the expansion budget.

    In GDNP it means that a length ``g -> d_g f(w, g)`` has no sign change, i.e. no finite
    optimal length (theory guide §3, §4); the run then ends with status 2.

    Examples
    --------
    >>> from gdnp import NoSignChangeError, bisect
    >>> try:
    ...     bisect(lambda t: 1.0 + t * t, -1.0, 1.0, max_expand=5)
    ... except NoSignChangeError:
    ...     print("no root")
    no root
    """


class SignModel(Protocol):
    """What ``bisect``'s ``model`` provides (e.g. :class:`gdnp.problems.CertifiedDerivative`)."""

    def evaluate(self, t: float) -> float:
        """``fun(t)``, the same number ``fun`` returns, by a full evaluation."""

    def certain(self, t: float) -> float:
        """A number with the certain sign of ``fun(t)``, or 0.0 if the sign is not certain."""

    def suggest(self, a: float, b: float) -> float | None:
        """A point where an evaluation would help decide signs in ``[a, b]``, or ``None``."""


def _check_finite(v, t: float) -> float:
    """``fun``'s value at ``t`` as a float: a ``TypeError`` naming ``fun`` if it is not a
    real number, a :class:`~gdnp.problems.NonFiniteError` if it is NaN or infinite."""
    if type(v) is not float:
        if isinstance(v, (bool, np.bool_)):  # a sign test, not a value: False would be a root
            raise TypeError(f"fun must return a real number, got the bool {v!r} at t = {t!r} "
                            "(bisect needs the function's value, not a test of its sign)")
        try:
            v = float(v)
        except (TypeError, ValueError):
            raise TypeError(f"fun must return a real number, got {v!r} at t = {t!r}") from None
    if not math.isfinite(v):
        from gdnp.problems._validate import NonFiniteError

        raise NonFiniteError(f"fun returned a non-finite value {v!r} at {t!r}")
    return v


class _Signs:
    """``t -> fun(t)``, or a value of the same certain sign from ``model``."""

    def __init__(self, fun, model):
        self.fun, self.model = fun, model
        self.nfev = self.ncertified = 0

    def __call__(self, t: float, a: float, b: float) -> float:
        model = self.model
        if model is None:
            self.nfev += 1
            return _check_finite(self.fun(t), t)
        for attempt in range(2):
            v = model.certain(t)
            if v != 0.0:
                self.ncertified += 1
                return v
            p = model.suggest(a, b) if attempt == 0 else None
            if p is None or p == t:
                break
            self.nfev += 1  # an evaluation off the midpoints, where it decides the most
            _check_finite(float(model.evaluate(p)), p)
        self.nfev += 1
        return _check_finite(float(model.evaluate(t)), t)


def bisect(fun: Callable[[float], float], a: float, b: float, maxiter: int = 50, *,
           expand: bool = True, max_expand: int = 64, xtol: float = 0.0,
           model: SignModel | None = None, decreasing: str = "root") -> tuple[float, dict]:
    """Root of a function that changes sign on a bracket, by halving it (expanding outward to an
    increasing crossing where the bracket holds none).

    GDNP's length update (theory guide §4): with ``fun = g -> d_g f(w, g)`` and a bracket
    ``[a, b]`` with ``fun(a) < 0 < fun(b)``, each of the ``maxiter = T_s`` halvings keeps the
    half whose ends still have opposite signs, so after ``T_s`` halvings the bracket is
    ``2^-T_s`` of the expanded initial width ``b^{(0)} - a^{(0)}``, the quantity in K19's length
    bound ``(d_g f(a^{(T_s)}))^2 <= 2^{-T_s} zeta |b^{(0)} - a^{(0)}| / mu^2``
    (:func:`gdnp.rates.k19_length_bound`). The bracket is first moved outward, on the side
    where the root lies, by steps of twice its width, until it holds a sign change.

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
    max_expand : int
        The expansion budget (doublings of the bracket width).
    xtol : float
        Stop early once ``b - a <= xtol``; ``0`` runs all ``maxiter`` halvings (stopping only
        when the midpoint equals an end point in floating point).
    model : SignModel, optional
        An object with three methods: ``evaluate(t)``, ``fun(t)`` by a full evaluation (the
        same number ``fun`` returns, so ``fun`` itself is then not called); ``certain(t)``, a
        number with the certain sign of ``fun(t)`` from its earlier evaluations, or ``0.0``
        where the sign is not certain; and ``suggest(a, b)``, a point of ``[a, b]`` where an
        evaluation would decide the most, or ``None`` (e.g.
        :class:`gdnp.problems.CertifiedDerivative`). A midpoint whose
        sign is certified is not evaluated; one that is not may first trigger an evaluation at
        the suggested point. The halvings and the root are those without ``model``; only
        ``nfev`` differs (smaller, but for the shortest searches, where a probe can cost more
        than it decides).
    decreasing : {"root", "raise", "expand"}
        What to do when ``fun`` decreases through zero on the given bracket (``fun(a) > 0 >
        fun(b)``): ``"root"`` (the default) halves it to that root, as
        ``scipy.optimize.bisect`` does, by plain evaluation (``model`` certifies increasing
        crossings only), the final bracket then having ``fun(a) > 0 > fun(b)``;
        ``"raise"`` a :class:`NoSignChangeError` saying so; ``"expand"`` move outward to an
        increasing crossing as for any bracket without one (GDNP's length, where such a
        bracket holds a maximum of ``f`` along ``g``, not the minimum it seeks).

    Returns
    -------
    root : float
        The midpoint of the final bracket.
    info : dict
        ``a``, ``b`` (final bracket, ``fun(a) < 0 < fun(b)``; ``fun(a) > 0 > fun(b)`` for a
        decreasing root, ``decreasing="root"``), ``a0``, ``b0`` (bracket after
        expansion), ``nit`` (halvings), ``nfev`` (evaluations of ``fun``), ``ncertified``
        (signs read off a model instead), ``expansions``.

    Raises
    ------
    NoSignChangeError
        No sign change within the expansion budget (e.g. separable data: ``|g*| = inf``).
    TypeError
        ``fun`` not callable, ``a``, ``b`` or ``xtol`` not a real number, or ``maxiter`` or
        ``max_expand`` not an integer.
    ValueError
        Invalid bracket or ``maxiter``, or ``fun`` returned a non-finite value.

    See Also
    --------
    scipy.optimize.brentq : faster root finding, without the bracket bookkeeping.

    Examples
    --------
    >>> from gdnp import bisect
    >>> root, info = bisect(lambda t: t**3 - 2.0, 0.0, 1.0, maxiter=40)
    >>> round(root, 10), info["expansions"] > 0, info["nit"]
    (1.2599210499, True, 40)
    >>> info["a"] < 2.0 ** (1 / 3) < info["b"]
    True

    No sign change within the expansion budget:

    >>> bisect(lambda t: 1.0 + t * t, -1.0, 1.0, max_expand=5)
    Traceback (most recent call last):
    ...
    gdnp.NoSignChangeError: ...
    """
    maxiter = maxiter if type(maxiter) is int and maxiter >= 0 else _count(maxiter, "maxiter")
    if expand is not True and expand is not False:  # (the solvers pass a bool: no call)
        expand = as_bool(expand, "expand")
    max_expand = max_expand if type(max_expand) is int and max_expand >= 0 else \
        _count(max_expand, "max_expand")
    if type(xtol) is not float:
        if isinstance(xtol, bool) or not isinstance(xtol, numbers.Real):
            raise TypeError(f"xtol must be a real number, got {type(xtol).__name__} {xtol!r}")
        xtol = float(xtol)
    if not (math.isfinite(xtol) and xtol >= 0.0):
        raise ValueError(f"xtol must be a finite number >= 0, got {xtol!r}")
    if not callable(fun):
        raise TypeError(f"fun must be callable, got {type(fun).__name__} {fun!r}")
    if type(a) is not float or type(b) is not float:
        for name, end in (("a", a), ("b", b)):
            if isinstance(end, bool) or not isinstance(end, numbers.Real):
                raise TypeError(f"{name} must be a real number, got {type(end).__name__} "
                                f"{end!r}")
    a, b = float(a), float(b)
    if not (math.isfinite(a) and math.isfinite(b) and a < b):
        raise ValueError(f"the bracket must satisfy a < b with finite ends, got ({a}, {b})")
    if decreasing not in ("root", "raise", "expand"):
        raise ValueError(f"decreasing must be 'root', 'raise' or 'expand', got {decreasing!r}")
    if model is not None and not isinstance(model, SignThreshold) and \
            not getattr(model, "locates", False):
        missing = [m for m in ("evaluate", "certain", "suggest")
                   if not callable(getattr(model, m, None))]
        if missing:
            raise TypeError(f"model must be None or provide evaluate, certain and suggest "
                            f"(gdnp.bisection.SignModel); {type(model).__name__} lacks "
                            f"{', '.join(missing)}")
    if isinstance(model, SignThreshold) and a < model.root < b:  # every sign known
        return _bisect_threshold(model.root, a, b, maxiter, xtol)
    value = _Signs(fun, model)
    width0 = b - a
    if model is not None and getattr(model, "locates", False):  # locates the root first
        carry: list = []
        done = _bisect_located(model, a, b, maxiter, xtol, value, carry=carry)
        if done is not None:
            return done
        locator, model = model, None  # no sign change on [a, b]: plain expansion below
        value.model = None
    else:
        locator = None
    fa, fb = value(a, a, b), value(b, a, b)
    # a root of a decreasing function on the given bracket: said in the error if the
    # expansion below finds no bracket of the right orientation either
    reversed_hint = (f"; on the given bracket [{a:.6g}, {b:.6g}] fun decreases through zero "
                     f"(fun(a) = {fa:.3g} > 0 > fun(b) = {fb:.3g}), and bisect needs "
                     "fun(a) < 0 < fun(b): pass lambda t: -fun(t)") if fa > 0.0 > fb else ""
    if reversed_hint and decreasing == "raise":  # not moved past the root the caller gave
        raise NoSignChangeError(f"no increasing sign change of fun on [{a:.6g}, {b:.6g}]"
                                f"{reversed_hint} (or decreasing='root' for that root, "
                                "'expand' to look outward for an increasing one)")
    if reversed_hint and decreasing == "root":  # the caller's root: halve -fun, plainly
        plain = fun if model is None else model.evaluate  # (fun is not called with a model)

        def negated(m: float, lo: float, hi: float) -> float:
            return -_check_finite(float(plain(m)), m)

        lo, hi, nit, _ = _walk(a, b, maxiter, xtol, -math.inf, math.inf, negated)
        value.nfev += nit
        return _midpoint(lo, hi), _info(lo, hi, a, b, nit, value, 0)
    expansions = 0
    while fa >= 0.0 or fb <= 0.0:
        if expansions and (fa == 0.0 or fb == 0.0):
            # an exact zero met while moving outward is a root where fun takes the other sign
            # one more step out (t - 3 from [0, 1] lands on 3), and otherwise an underflowed
            # tail (a logistic derivative at a huge length), not a root
            at = a if fa == 0.0 else b
            step = 2.0 * (b - a)
            beyond = at - step if fa == 0.0 else at + step
            if math.isfinite(beyond):
                f_beyond = value(beyond, min(at, beyond), max(at, beyond))
                if (f_beyond < 0.0) if fa == 0.0 else (f_beyond > 0.0):
                    return at, _info(at, at, at, at, 0, value, expansions)
            raise NoSignChangeError(
                f"fun vanishes to rounding at {a if fa == 0.0 else b:.6g} after {expansions} "
                "expansion(s) without changing sign: the root is not finite (for GDNP's "
                "length: separable data, or a non-convex loss such as the sigmoid, along whose "
                f"direction the length has no finite minimiser){reversed_hint}")
        if fa == 0.0:
            return a, _info(a, a, a, a, 0, value, expansions)
        if fb == 0.0:
            return b, _info(b, b, b, b, 0, value, expansions)
        if not expand or expansions >= max_expand:
            # the expansions reach (2^(k+1) - 1) times the initial width from the bracket;
            # only a reach far beyond unit scale says the root is likely at infinity
            far = max(abs(a), abs(b)) >= 1e10
            why = ("the root is not finite or the function is not increasing through zero "
                   "(for GDNP's length: separable data, or a non-convex loss such as the "
                   "sigmoid, along whose direction the length has no finite "
                   "minimiser)") if far else (
                (f"the initial bracket (width {width0:.3g}) is too narrow for {expansions} "
                 "doubling(s) to reach the root; widen it or raise max_expand") if expand else
                ("the bracket holds no sign change and expand=False; give a bracket around "
                 "the root, or let bisect expand it (expand=True)"))
            raise NoSignChangeError(
                f"no sign change of fun on [{a:.6g}, {b:.6g}] (fun(a) = {fa:.3g}, fun(b) = "
                f"{fb:.3g}) after {expansions} expansion(s): {why}{reversed_hint}")
        width = 2.0 * (b - a)  # geometric growth: each new bracket is twice as wide
        if not math.isfinite(width) or not math.isfinite(abs(a) + 2.0 * width):
            raise NoSignChangeError(
                f"no sign change of fun on [{a:.6g}, {b:.6g}] (fun(a) = {fa:.3g}, fun(b) = "
                f"{fb:.3g}) after {expansions} expansion(s), the widest bracket within the "
                "float range: the root is not finite or the function is not increasing "
                f"through zero{reversed_hint}")
        if fa > 0.0:  # the root is left of a
            a, b, fb = a - width, a, fa
            fa = value(a, a, b)
        else:  # fb < 0: the root is right of b
            a, b, fa = b, b + width, fb
            fb = value(b, a, b)
        expansions += 1
    a0, b0 = a, b
    if locator is not None:
        return _bisect_located(locator, a, b, maxiter, xtol, value, ends=(fa, fb),
                               expansions=expansions, carry=carry)
    if model is None:  # plain bisection: every midpoint evaluated, counted at the end
        def evaluate(m: float, a: float, b: float) -> float:
            return _check_finite(fun(m), m)
    else:
        evaluate = value
    a, b, nit, _ = _walk(a, b, maxiter, xtol, -math.inf, math.inf, evaluate)
    if model is None:
        value.nfev += nit
    return _midpoint(a, b), _info(a, b, a0, b0, nit, value, expansions)


def _midpoint(a: float, b: float) -> float:
    """``fl((a + b) / 2)``, or ``a/2 + b/2`` where ``a + b`` overflows (ends near the float
    range's: halving is exact above the subnormal range, so the two agree wherever both are
    finite)."""
    m = 0.5 * (a + b)
    return m if m - m == 0.0 else 0.5 * a + 0.5 * b


def _count(value, name: str) -> int:
    """A non-negative integer (numpy integers accepted, bools and floats rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= 0, got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def _info(a, b, a0, b0, nit, value: _Signs, expansions) -> dict:
    return {"a": a, "b": b, "a0": a0, "b0": b0, "nit": nit, "nfev": value.nfev,
            "ncertified": value.ncertified, "expansions": expansions}


def _walk(a: float, b: float, maxiter: int, xtol: float, x_lo: float, x_hi: float,
          evaluate: Callable[[float, float, float], float]) -> tuple[float, float, int, int]:
    """Plain bisection's halvings on ``[a, b]`` when the computed sign is known to be negative
    at every point ``<= x_lo`` and positive at every point ``>= x_hi``: those midpoints are
    decided by a comparison, the others by ``evaluate(m, a, b)`` (the value plain bisection
    computes at ``m``, the current bracket ``[a, b]``; ``x_lo = -inf, x_hi = inf`` is plain
    bisection). Returns ``(a, b, halvings, halvings decided without evaluation)``."""
    nit = 0
    if xtol == 0.0:  # the decided halvings before (x_lo, x_hi), in tight loops
        safe = _inner_midpoints(a, b, maxiter)
        for nit in range(safe):  # noqa: B007 (nit is the count of halvings so far)
            m = 0.5 * (a + b)  # strictly inside (a, b): no test of it needed
            if m <= x_lo:
                a = m
            elif m >= x_hi:
                b = m
            else:
                break
        else:
            for nit in range(safe, maxiter):  # noqa: B007
                m = 0.5 * (a + b)
                if a < m <= x_lo:
                    a = m
                elif x_hi <= m < b:
                    b = m
                else:
                    break
            else:
                nit = maxiter
    decided = nit
    while nit < maxiter and b - a > xtol:
        m = 0.5 * (a + b)
        if m <= a or m >= b:
            if m - m == 0.0:  # (finite) no float strictly inside: the bracket is done
                break
            m = 0.5 * a + 0.5 * b  # a + b overflowed (a bracket near the float range's end)
            if m <= a or m >= b:
                break
        nit += 1
        if m <= x_lo:
            a = m
            decided += 1
            continue
        if m >= x_hi:
            b = m
            decided += 1
            continue
        fm = evaluate(m, a, b)
        if fm < 0.0:
            a = m
        elif fm > 0.0:
            b = m
        else:
            a = b = m
            break
    return a, b, nit, decided


def _inner_midpoints(a: float, b: float, maxiter: int) -> int:
    """How many of bisection's first halvings of ``[a, b]`` (at most ``maxiter``) certainly
    have their computed midpoint ``fl((lo + hi) / 2)`` strictly inside ``(lo, hi)``, so that
    a loop need not test for a bracket that can no longer be halved (theory guide §4).

    Every point lies in ``[a, b]``, so a computed midpoint is within ``U = ulp(max(|a|,
    |b|))`` of the exact one (``U / 2`` above the subnormal range), and the width after ``i``
    halvings is at least ``(b - a) / 2^i - 2 U``; while it exceeds ``2 U`` the midpoint lies
    strictly inside. That holds for every ``i`` with ``2^i < (b - a) / (4 U)``; the count
    returned, ``e - 2`` for ``(b - a) / (3 U) = f 2^e`` (``1/2 <= f < 1``), has
    ``(b - a) / 2^i >= 12 U``: a factor 3 to spare."""
    big = max(abs(a), abs(b))
    if not big < 2.0 ** 1000:  # a + b could overflow: no shortcut
        return 0
    ratio = (b - a) / (3.0 * math.ulp(big))
    if not ratio > 2.0:
        return 0
    return max(0, min(maxiter, math.frexp(ratio)[1] - 2))


# 2^-k, k = 0 .. 52: the cell widths of bisection on a dyadic bracket (relative to its width)
_POW2 = tuple(2.0 ** -k for k in range(53))
_frexp, _fmod, _floor = math.frexp, math.fmod, math.floor


def _dyadic_bracket(g: float, floor: float = 1.0) -> tuple[float, float]:
    """GDNP's default initial bracket around the length ``g`` (theory guide §4).

    Its width ``W`` is the smallest power of two ``>= max(|g|, floor)`` (``floor``: the
    problem's length scale, 1 unless it knows a smaller bound on its optimal lengths); its
    centre is ``g`` rounded to the nearest multiple of ``W 2^-52`` (within ``W 2^-53`` of
    ``g``). Every point
    ``a + j W 2^-k`` (``k <= 52``) of such a bracket is a float, so each midpoint bisection
    computes in its first 52 halvings is the exact midpoint, and the halvings on a sign
    threshold have a closed form (:func:`_dyadic_cell`). Lengths beyond ``2^1000`` (no such
    power of two below overflow to spare) get ``g -+ |g|/2``.
    """
    big = max(abs(g), floor)
    if not big < 2.0 ** 1000:
        return g - 0.5 * big, g + 0.5 * big
    frac, e = _frexp(big)
    width = big if frac == 0.5 else math.ldexp(1.0, e)
    unit = width * _POW2[52]
    centre = round(g / unit) * unit
    return centre - 0.5 * width, centre + 0.5 * width


def _dyadic_cell(root: float, a: float, b: float, maxiter: int
                 ) -> tuple[float, float, int] | None:
    """Plain bisection's final bracket and halving count on ``[a, b]`` for a function whose
    computed sign is that of ``t - root`` (``a < root < b``), in closed form, or ``None``
    where the closed form does not apply (the loop of :func:`_threshold_halvings` then runs).

    It applies to a *dyadic* bracket (:func:`_dyadic_bracket`): ``W = b - a`` a power of two,
    ``a`` a multiple of ``u = W 2^-52`` and ``max(|a|, |b|) < 2W``, with ``maxiter <= 52``.
    Every grid point ``a + j W 2^-k`` is then a float, so every computed midpoint is exact and
    ``k`` halvings leave the grid cell ``[a + J d, a + (J + 1) d]``, ``d = W 2^-k``, that holds
    ``root``. ``J = floor(fl(root - a) / d)`` up to one: rounding is monotone and the grid's
    offsets ``j d`` are floats, so ``fl(root - a)`` lies on the same side of every grid point
    as ``root - a`` or on it; an exact comparison of the grid point ``a + J d`` (a float) with
    ``root`` settles that case. A ``root`` on the grid is a midpoint of plain bisection, which
    evaluates 0 there and stops: after ``k - t`` halvings, ``t`` the trailing zero bits of
    ``J``.
    """
    w = b - a
    if maxiter > 52 or _frexp(w)[0] != 0.5 or not (w > 1e-280 and max(-a, b) < 2.0 * w):
        return None
    # a a multiple of u and a + w == b: then b - a is exactly w (a + w is a multiple of u
    # below 2^53 u in size, a float, so the addition is exact)
    if _fmod(a, w * _POW2[52]) != 0.0 or a + w != b:
        return None
    d = w * _POW2[maxiter]
    j = _floor((root - a) / d)
    lo = a + j * d  # a grid point: exact
    if lo < root:
        return lo, lo + d, maxiter
    if lo > root:
        return lo - d, lo, maxiter
    return root, root, maxiter - ((j & -j).bit_length() - 1)


def _bisect_threshold(root: float, a: float, b: float, maxiter: int, xtol: float):
    """:func:`bisect`'s ``(root, info)`` from :func:`_threshold_halvings`."""
    lo, hi, nit = _threshold_halvings(root, a, b, maxiter, xtol)
    return _midpoint(lo, hi), {"a": lo, "b": hi, "a0": a, "b0": b, "nit": nit, "nfev": 0,
                             "ncertified": nit + 2, "expansions": 0}


def _threshold_halvings(root: float, a: float, b: float, maxiter: int, xtol: float
                        ) -> tuple[float, float, int]:
    """Plain bisection's final bracket and halving count on ``[a, b]`` for a function whose
    computed sign is that of ``t - root`` (:class:`gdnp.problems.taylor.SignThreshold`,
    ``a < root < b``): one comparison per midpoint; only a midpoint equal to ``root`` would be
    evaluated by plain bisection, and it returns 0 there, which ends the search at it. On a
    dyadic bracket (GDNP's default) the halvings have a closed form (:func:`_dyadic_cell`)."""
    if xtol == 0.0:
        cell = _dyadic_cell(root, a, b, maxiter)
        if cell is not None:
            return cell
    safe = _inner_midpoints(a, b, maxiter) if xtol == 0.0 else 0
    lo, hi = a, b
    # midpoints strictly inside the bracket: one comparison each, two halvings per pass of
    # the loop (its own overhead was a third of the time: GDNP's iteration on OLS makes 50)
    for _ in range(safe >> 1):
        m = 0.5 * (lo + hi)
        if m < root:
            lo = m
        else:
            hi = m
        m = 0.5 * (lo + hi)
        if m < root:
            lo = m
        else:
            hi = m
    if safe & 1:
        m = 0.5 * (lo + hi)
        if m < root:
            lo = m
        else:
            hi = m
    if hi == root:  # a midpoint equal to the root (plain bisection stops at it): redo
        lo, hi, safe = a, b, 0
    if xtol == 0.0:  # the same halvings as _walk's, in one tight loop
        nit = safe
        for nit in range(safe + 1, maxiter + 1):  # noqa: B007 (nit is the count of halvings)
            m = 0.5 * (lo + hi)
            if m < root:
                if m <= lo:
                    nit -= 1
                    break
                lo = m
            elif m > root:
                if m >= hi:
                    nit -= 1
                    break
                hi = m
            else:  # plain bisection evaluates 0 here and stops at it
                lo = hi = m
                break
    else:
        lo, hi, nit, _ = _walk(a, b, maxiter, xtol, math.nextafter(root, -math.inf),
                               math.nextafter(root, math.inf), lambda m, a, b: 0.0)
    return lo, hi, nit


def _threshold_expansion(root: float, a: float, b: float) -> tuple[float, float, int]:
    """:func:`bisect`'s geometric expansion of ``[a, b]`` (each new bracket twice as wide, on
    the side of the root) for a function whose computed sign is that of ``t - root``, by
    comparisons alone and with no budget but the float range: a root far beyond the 64
    doublings of ``bisect``'s default (a length above ``2^65`` times the bracket's width) is
    still finite. Returns ``(a, b, expansions)`` with ``a < root < b``, or ``a = b = root``
    when an end lands on the root; ``OverflowError`` where the bracket leaves the floats."""
    expansions = 0
    while not a < root < b:
        if root == a or root == b:
            return root, root, expansions
        width = 2.0 * (b - a)
        if root < a:
            a, b = a - width, a
        else:
            a, b = b, b + width
        expansions += 1
        if not (math.isfinite(a) and math.isfinite(b)):
            raise OverflowError(f"the bracket around the root {root!r} left the float range")
    return a, b, expansions


def _newton_error(step: float, slope: float, curv: float | None, max_abs: float) -> float:
    """About how far Newton's point ``x + step`` (``step = -S(x) / S'(x)``) can be from the
    root: ``step^2 max|a|`` from ``|S''| <= max|a| S'``, or, with the curvature envelope
    ``C >= |S''|``, ``step^2 C G^2 / (2 S')`` (``C`` and ``S'`` change by at most ``G =
    exp(|step| max|a|)`` over the step); theory guide §4. A gate for the virtual edges, which
    are certified rigorously on their own."""
    if curv is None:
        return step * step * max_abs
    if not slope > 0.0:
        return math.inf
    grow = math.exp(min(abs(step) * max_abs, 50.0))
    return 0.5 * step * step * abs(curv) * grow * grow / slope


def _bisect_located(model, a: float, b: float, maxiter: int, xtol: float, counts: _Signs,
                    ends: tuple[float, float] | None = None, expansions: int = 0,
                    carry: list | None = None):
    """Plain bisection's halvings on ``[a, b]`` from a located root (``model``: a
    :class:`gdnp.problems.taylor.MassRatioLocator`, or a
    :class:`gdnp.problems.taylor.SignThreshold` whose edges are known), or ``None`` if
    ``[a, b]`` holds no sign change (the caller then expands as plain bisection does and
    comes back with the values ``ends`` at the expanded bracket's ends).

    1. Safeguarded Newton from ``model.start`` (or the first midpoint), one probe per step
       (the plain value of ``S`` with ``P + N`` and ``S'``, in one pass), until two points
       ``x_L < root < x_R`` certify every computed sign left of ``x_L`` and right of
       ``x_R`` within the bracket: placed by a probe near the root without evaluating them
       (``certifies_virtual``) where the model offers it, else plain evaluations just either
       side of the root. A model with ``curvature_of_last_probe`` (data: ``C >= |S''|`` from
       the probe's buffers) is asked for it where the slope bound alone leaves Newton's
       error too large, and the virtual edges then use Taylor's bound with it.
    2. The halvings themselves: a midpoint outside ``(x_L, x_R)`` takes its certified sign
       and any other (inside the rounding band around the root, where the computed sign is
       noise) is evaluated as plain bisection evaluates it. Every decision is the sign plain
       bisection computes, so the halvings are bit for bit the same.
    """
    reach = max(abs(a), abs(b))
    known: dict[float, float] = {} if ends is None else {a: ends[0], b: ends[1]}
    exact = getattr(model, "edges", None)  # a SignThreshold: the edges are known
    edges = [-math.inf, math.inf] if exact is None else list(exact())
    # (t, S, P + N, S', growth of the last two since where they were computed, curvature
    # envelope C >= |S''| or None), kept on expansion
    probes = [] if carry is None else carry
    certifies = getattr(model, "certifies_probe", None)
    virtual = getattr(model, "certifies_virtual", None)
    # the curvature envelope C >= |S''| at the last probe, where the model offers it
    curvature = getattr(model, "curvature_of_last_probe", None)
    best = [math.inf, None]  # the smallest Newton step |S|/S' so far, and its probe
    # whether the last evaluation was a full probe of this call: only then do the model's
    # buffers still hold it (a plain value, or the evaluations of an expansion between a
    # carried probe and this call, rewrite them), so that its curvature can be read
    fresh = [False]

    def take(entry) -> None:
        t, v, sc, sp, g0, _ = entry
        if v < 0.0:
            if t > edges[0] and certifies(t, v, sc, sp, reach, g0):
                edges[0] = t
        elif v > 0.0 and t < edges[1] and certifies(t, v, sc, sp, reach, g0):
            edges[1] = t
        if sp > 0.0 and abs(v) < best[0] * sp:
            best[0], best[1] = abs(v) / sp, entry

    def probe(t: float, near=None) -> None:
        """A full probe (the plain value with ``P + N`` and ``S'``), or only the plain value
        next to the probe ``near``, whose ``P + N`` and ``S'`` then hold up to a factor."""
        if near is None:
            v, sc, sp = model.probe(t)
            g0 = 1.0
        else:
            v, sc, sp = float(model.value(t)), near[2], near[3]
            g0 = near[4] * math.exp(abs(t - near[0]) * model.max_abs)
        counts.nfev += 1
        fresh[0] = near is None
        known[t] = _check_finite(v, t)
        entry = (t, v, sc, sp, g0, None)
        probes.append(entry)
        take(entry)

    def read_curvature(entry, step: float):
        """The last probe ``entry`` with its curvature envelope read off the model, and
        Newton's error from it."""
        curv = curvature()
        entry = best[1] = probes[-1] = entry[:5] + (curv,)
        return entry, curv, _newton_error(step, entry[3], curv, model.max_abs)

    m = 0.5 * (a + b)
    if exact is None and maxiter > 0 and a < m < b and b - a > xtol:
        if probes:  # back after an expansion: the earlier probes still hold (for this reach)
            for entry in probes:
                take(entry)
        else:
            start = model.start
            probe(start if start is not None and a < start < b else m)
        widen = 1.15  # straddle the root at this many band half-widths
        final = max(math.ldexp(b - a, -maxiter), xtol)  # about the last bracket's width
        for _ in range(16):
            lo, hi = edges
            entry = best[1]
            if entry is None:
                break
            x, v, sc, sp, _, curv = entry
            if not math.isfinite(sp):
                break
            delta = model.band(x, sc, sp)  # half-width of the rounding band, to first order
            step = -v / sp
            # edges this close leave at most one or two midpoints between them to evaluate
            allowed = max(2.5 * delta, final)
            newton_err = _newton_error(step, sp, curv, model.max_abs)
            # the curvature envelope, read off the buffers of this probe (the last
            # evaluation) only where the slope bound alone falls short: first for Newton's
            # error, then for the virtual edges
            readable = (curvature is not None and curv is None and entry is probes[-1]
                        and fresh[0])
            if readable and newton_err > 0.1 * allowed:
                entry, curv, newton_err = read_curvature(entry, step)
                readable = False
            if virtual is not None and entry[4] == 1.0 and newton_err <= 0.1 * allowed:
                # a probe this close to the root places both edges itself, about 2 err / S'
                # (the rounding band) either side of Newton's point, plus Newton's error
                for _attempt in range(2):
                    half = 1.05 * delta + newton_err
                    x_l, x_r = x + step - half, x + step + half
                    if lo < x_l and virtual(x, v, sc, sp, x_l, reach, -1, curv):
                        edges[0] = lo = x_l
                    if x_r < hi and virtual(x, v, sc, sp, x_r, reach, 1, curv):
                        edges[1] = hi = x_r
                    if hi - lo <= allowed or not readable:
                        break
                    entry, curv, newton_err = read_curvature(entry, step)
                    readable = False
                if hi - lo <= allowed:
                    break
            r = x + step
            if not lo < r < hi:
                if not (math.isfinite(lo) and math.isfinite(hi)):
                    break
                r = 0.5 * (lo + hi)
            # Newton's error, to second order, with S'' from the last two probes' slopes
            if len(probes) < 2:
                newton = math.inf
            else:
                t0, s0 = probes[-2][0], probes[-2][3]
                t1, s1 = probes[-1][0], probes[-1][3]
                newton = 2.0 * abs(s1 - s0) / abs(t1 - t0) * step * step / sp \
                    if t1 != t0 else math.inf
            if newton > widen * delta:  # still far: a Newton step
                if not lo < r < hi:
                    break
                probe(r)
                continue
            # Newton's point is within the band's scale: straddle the root
            half = widen * delta
            widen *= 4.0  # if a probe lands in the band, the next pair is wider
            left = r - half if r - lo > 4.0 * half and lo < r - half else None
            right = r + half if hi - r > 4.0 * half and r + half < hi else None
            if left is None and right is None:
                break
            first = right if left is None else left
            near = entry if entry[4] == 1.0 and abs(first - x) * model.max_abs <= 1e-3 \
                else None
            if left is not None:
                probe(left, near)
            if right is not None:
                probe(right, near)
    # the bracket ends: certified, or evaluated as plain bisection does
    for t, side in ((a, 0), (b, 1)):
        if (t > edges[0] if side == 0 else t < edges[1]) and t not in known:
            known[t] = _check_finite(float(model.value(t)), t)
            counts.nfev += 1
    fa = known.get(a, -1.0 if a <= edges[0] else 0.0)
    fb = known.get(b, 1.0 if b >= edges[1] else 0.0)
    if not (fa < 0.0 < fb):
        return None
    counts.ncertified += (a not in known) + (b not in known)

    def evaluate(m: float, lo: float, hi: float) -> float:  # inside the rounding band: plain
        fm = known.get(m)  # bisection's own value
        if fm is None:
            fm = known[m] = _check_finite(float(model.value(m)), m)
            counts.nfev += 1
        return fm

    a0, b0 = a, b
    a, b, nit, decided = _walk(a, b, maxiter, xtol, edges[0], edges[1], evaluate)
    counts.ncertified += decided
    info = _info(a, b, a0, b0, nit, counts, expansions)
    info["nband"] = nit - decided  # the midpoints inside the band: their plain values
    return _midpoint(a, b), info
