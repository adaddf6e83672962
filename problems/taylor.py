"""Certified signs of GDNP's length derivative from a few exact evaluations (theory guide §4).

For a fixed direction, ``S(g) = d_g f(w, g) = E a phi'(g a)`` with ``a = z'w / ||w||_S`` (``E``
a sample mean or a Gauss-Hermite rule), and

    S'(g) = E a^2 phi''(g a),        S''(g) = E a^3 phi'''(g a).

Bisection needs only the sign of ``S`` at each midpoint. An exact evaluation at ``x`` (one
``O(n)`` pass) gives ``S(x)``, ``S'(x)`` and a curvature bound, and Taylor's theorem with the
integral remainder

    S(t) = S(x) + S'(x) (t - x) + R,    R = int_x^t (t - s) S''(s) ds,

bounds ``S(t)`` at every other ``t``: ``R`` has the sign of ``S''`` on the segment and
``|R| <= K (t - x)^2 / 2`` for any bound ``K >= |S''|`` there. Three facts about the loss make
the bounds sharp:

* **curvature**: ``|S''| <= sup|phi'''| E|a|^3`` everywhere; and if ``|phi'''(s)| <= e(t)``
  whenever ``|s| >= |t|`` (``e`` the loss's envelope), then ``|S''| <= E |a|^3 e(x a)`` on
  the ray from ``x`` away from 0, which is far smaller at large lengths. As ``log e`` is
  1-Lipschitz, the bound times ``exp(D max|a|)`` holds down to ``D`` closer to 0 than ``x``;
* **monotonicity** (convex ``phi``): ``S`` is non-decreasing, so ``S(x) > 0`` decides every
  ``t >= x`` and ``S(x) < 0`` every ``t <= x``;
* **concavity** (``t phi'''(t) <= 0``, the logistic loss): ``g S''(g) <= 0``, so ``S`` is
  concave for ``g > 0`` and convex for ``g < 0``, and ``R`` has a known sign.

Rounding: a computed ``S(x)`` is within ``(k + 9 + |x| max|a|) u E|a phi'(x a)|`` of the exact
one (``u`` the unit roundoff, ``k`` the summation's depth; see
:meth:`gdnp.problems.Halfspace._length_model`), and since ``log|phi'|`` is 1-Lipschitz,
``E|a phi'(t a)| <= exp(|t - x| max|a|) E|a phi'(x a)|``, which bounds the error of a plain
evaluation at ``t`` too. A sign is *certified* when the interval for ``S(t)``, widened by
these allowances, lies on one side of 0; then it is also the sign a plain evaluation would
have returned, and the bisection takes exactly the halvings of one that evaluates ``S`` at
every midpoint.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Expansion", "CertifiedDerivative", "MassRatioLocator", "SignThreshold",
           "pairwise_depth"]

_U = 2.0**-53  # unit roundoff of float64


@lru_cache(maxsize=4096)
def _pairwise_block_depth(m: int) -> int:
    if m < 8:  # res = 0.; res += x_i in sequence (the first addition is exact)
        return max(m - 1, 0)
    # r_j = x_j, then m // 8 - 1 additions each, the 3-level tree, the m % 8 left over
    if m <= 128:  # 8 interleaved partial sums, a 3-level tree, then the m % 8 left over
        return m // 8 - 1 + 3 + m % 8
    half = m // 2
    half -= half % 8
    return 1 + max(_pairwise_block_depth(half), _pairwise_block_depth(m - half))


def pairwise_depth(n: int) -> int:
    """The most roundings any term goes through in ``np.add.reduce`` of ``n`` contiguous
    float64 values (theory guide §4), so that the computed sum is within
    ``pairwise_depth(n) u sum|x_i|`` of the exact one (to first order; ``u = 2^-53``).

    numpy's pairwise summation sums up to 7 values in sequence (from 0), up to 128 in 8
    interleaved partial sums joined by a 3-level tree followed by the ``m % 8`` left over,
    and more by splitting at half (rounded down to a multiple of 8) and adding the two
    halves' sums. This function follows that recursion; the tests check that it is the
    association order of ``np.add.reduce`` (bit for bit on random data, including the rows
    of a 2-D reduction along its last axis). Only for ``n <= 8192``: longer reductions may be
    buffered in pieces.

    Parameters
    ----------
    n : int
        Number of terms, ``1 <= n <= 8192``.

    Returns
    -------
    int
        The depth ``D``: ``|fl(sum) - sum| <= D u sum|x_i| / (1 - D u)``.

    Examples
    --------
    >>> from gdnp.problems.taylor import pairwise_depth
    >>> pairwise_depth(601), pairwise_depth(8), pairwise_depth(127)
    (16, 3, 24)
    """
    if not 1 <= n <= 8192:
        raise ValueError(f"n must be in [1, 8192], got {n!r}")
    return _pairwise_block_depth(int(n))


@dataclass(frozen=True)
class Expansion:
    """One exact evaluation at ``x``: ``S(x)`` and ``S'(x)`` with their rounding bounds, the
    bound ``curvature_outward`` on ``|S''|`` along the ray from ``x`` away from 0, and
    ``scale = E|a phi'(x a)|`` (what rounding errors of ``S`` near ``x`` are relative to).

    ``S(g) = E a phi'(g a)`` is the length derivative ``d_g f`` of GDNP's bisection
    (theory guide §4).

    Parameters
    ----------
    x : float
        Where ``S`` was evaluated.
    value, slope : float
        ``S(x)`` and ``S'(x)`` as computed.
    curvature_outward : float
        Bound on ``|S''|`` along the ray from ``x`` away from 0.
    value_error, slope_error : float
        Bounds on the rounding errors of ``value`` and ``slope``.
    scale : float
        ``E|a phi'(x a)|``.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import Halfspace
    >>> prob = Halfspace.gaussian(np.eye(2), [0.6, 0.0])
    >>> model = prob.length_model([-1.0, 0.5])     # S(g) = d_g f(w, g)
    >>> _ = model.evaluate(1.0)
    >>> e = model.expansions[0]
    >>> e.x, round(e.value, 6), round(e.slope, 6)
    (1.0, -0.060271, 0.146667)
    """

    x: float
    value: float
    slope: float
    curvature_outward: float
    value_error: float
    slope_error: float
    scale: float


class CertifiedDerivative:
    """Signs of ``S(g) = E a phi'(g a)``, certified from stored exact evaluations.

    Parameters
    ----------
    value : callable
        ``g -> S(g)``, the plain evaluation (one ``O(n)`` pass).
    expand : callable
        ``g -> (S'(g), its rounding bound, outward curvature bound, E|a phi'(g a)|)``, called
        right after ``value(g)`` (it may reuse that evaluation's buffers).
    curvature : float
        Bound on ``|S''|`` valid everywhere.
    max_abs : float
        ``max |a|``: how fast ``E|a phi'(g a)|`` and the outward curvature bound can grow
        towards 0 (factor ``exp(D max|a|)`` over a distance ``D``).
    sum_depth : float
        ``k``: a computed ``S(g)`` is within ``(k + 9 + |g| max|a|) u E|a phi'(g a)|``.
    monotone : bool
        ``S`` is non-decreasing (convex loss).
    concave_positive : bool
        ``g S''(g) <= 0`` for every ``g`` (``t phi'''(t) <= 0``).

    Notes
    -----
    Used by :func:`gdnp.bisect` through ``evaluate`` (an exact evaluation, stored), ``certain``
    (a value of the certified sign, or 0.0) and ``suggest`` (where an evaluation would help
    most: the middle of the bracket first, later the Newton point of the expansion nearest the
    root). A value within its rounding bound of 0 is noise: the bracket has reached the root's
    rounding zone. The first such evaluation is still expanded (its slope certifies points
    farther out); later ones are not, and nothing more is suggested, so inside the zone every
    evaluation costs what a plain one does. Made by
    :meth:`~gdnp.problems.LinearProblem.length_model` (theory guide §4).

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import Halfspace
    >>> prob = Halfspace.gaussian(np.eye(2), [0.6, 0.0])
    >>> model = prob.length_model([-1.0, 0.5])     # S(g) = d_g f(w, g)
    >>> model.evaluate(1.0) == prob.dg_bn([-1.0, 0.5], 1.0)
    True
    >>> model.certain(1.05) < 0.0, model.certain(5.0)     # certain sign nearby; not far away
    (True, 0.0)
    """

    def __init__(self, value: Callable[[float], float],
                 expand: Callable[[float], tuple[float, float, float, float]], *,
                 curvature: float, max_abs: float, sum_depth: float, monotone: bool,
                 concave_positive: bool):
        self._value, self._expand = value, expand
        self.curvature = float(curvature)
        self.max_abs = float(max_abs)
        self.sum_depth = float(sum_depth)
        self.monotone = bool(monotone)
        self.concave_positive = bool(concave_positive)
        self.expansions: list[Expansion] = []
        self.at_noise = False
        self.start: float | None = None  # the first point to suggest, if inside the bracket

    def rounding(self, t: float, scale: float) -> float:
        """Bound on the rounding error of a computed ``S(t)`` with ``E|a phi'(t a)| <= scale``.

        ``(k + 9 + |t| max|a|) u scale`` with the unit roundoff ``u = 2^-53`` (theory guide §4).

        Parameters
        ----------
        t : float
            The point.
        scale : float
            A bound on ``E|a phi'(t a)|``.

        Returns
        -------
        float
            The rounding bound.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import Halfspace
        >>> prob = Halfspace.gaussian(np.eye(2), [0.6, 0.0])
        >>> model = prob.length_model([-1.0, 0.5])     # S(g) = d_g f(w, g)
        >>> model.rounding(1.0, 1.0) < 1e-12
        True
        """
        return (self.sum_depth + 9.0 + abs(t) * self.max_abs) * _U * scale

    def _growth(self, d: float) -> float:
        """``exp(|d| max|a|)``, capped to stay finite."""
        return math.exp(min(abs(d) * self.max_abs, 700.0))

    def evaluate(self, t: float) -> float:
        """``S(t)`` by an exact (``O(n)``) evaluation, expanded and stored for later
        certificates (except repeated rounding noise; theory guide §4).

        Parameters
        ----------
        t : float
            The point.

        Returns
        -------
        float
            ``S(t)``, the same number as a plain evaluation.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import Halfspace
        >>> prob = Halfspace.gaussian(np.eye(2), [0.6, 0.0])
        >>> model = prob.length_model([-1.0, 0.5])     # S(g) = d_g f(w, g)
        >>> round(model.evaluate(1.0), 6), len(model.expansions)
        (-0.060271, 1)
        """
        t = float(t)
        v = float(self._value(t))
        if self.at_noise and self.expansions and \
                abs(v) <= 2.0 * self.rounding(t, self._nearest_scale(t)):
            return v  # deep in the rounding zone: no expansion (it would certify nothing new)
        slope, slope_error, curvature, scale = self._expand(t)
        e = Expansion(t, v, slope, curvature, self.rounding(t, scale), slope_error, scale)
        self.expansions.append(e)
        self.at_noise |= abs(v) <= e.value_error
        return v

    def _nearest_scale(self, t: float) -> float:
        e = min(self.expansions, key=lambda e: abs(e.x - t))
        return e.scale * self._growth(t - e.x)

    def _segment_curvature(self, p: float, q: float) -> float:
        """Bound on ``|S''|`` on ``[p, q]``: the global bound, or an expansion's outward bound
        on the same side of 0, times ``exp(D max|a|)`` if the segment reaches ``D`` closer
        to 0 than the expansion."""
        K = self.curvature
        if p >= 0.0:
            inner, side = p, 1.0
        elif q <= 0.0:
            inner, side = -q, -1.0
        else:
            return K
        for e in self.expansions:
            if side * e.x >= 0.0:
                reach = side * e.x - inner  # > 0 if the segment is closer to 0 than e.x
                K = min(K, e.curvature_outward * (self._growth(reach) if reach > 0 else 1.0))
        return K

    def _errors(self, t: float, e: Expansion) -> tuple[float, float]:
        """``(error of the estimate from e, error of a plain evaluation at t)``."""
        d = t - e.x
        plain = self.rounding(t, e.scale * self._growth(d))
        return e.value_error + e.slope_error * abs(d), plain

    def interval(self, t: float, e: Expansion) -> tuple[float, float]:
        """``[lo, hi]`` containing ``S(t)`` and any computed value of it, from ``e``.

        The first-order Taylor model of ``e`` plus the curvature remainder and the rounding
        bounds (theory guide §4).

        Parameters
        ----------
        t : float
            The point.
        e : Expansion
            A stored expansion.

        Returns
        -------
        lo, hi : float
            The certified interval.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import Halfspace
        >>> prob = Halfspace.gaussian(np.eye(2), [0.6, 0.0])
        >>> model = prob.length_model([-1.0, 0.5])     # S(g) = d_g f(w, g)
        >>> _ = model.evaluate(1.0)
        >>> lo, hi = model.interval(1.05, model.expansions[0])
        >>> bool(lo <= prob.dg_bn([-1.0, 0.5], 1.05) <= hi)
        True
        """
        d = t - e.x
        est = e.value + e.slope * d
        model_err, plain = self._errors(t, e)
        err = model_err + plain
        p, q = min(t, e.x), max(t, e.x)
        rem = 0.5 * self._segment_curvature(p, q) * d * d
        # R has the sign of S'' on [p, q]: <= 0 where g >= 0, >= 0 where g <= 0 (concavity)
        below = 0.0 if self.concave_positive and q <= 0.0 else rem
        above = 0.0 if self.concave_positive and p >= 0.0 else rem
        if self.monotone:  # S(t) >= S(x) for t >= x, S(t) <= S(x) for t <= x
            if d >= 0.0:
                lo_mono = e.value - e.value_error - plain
                return max(est - below - err, lo_mono), est + above + err
            hi_mono = e.value + e.value_error + plain
            return est - below - err, min(est + above + err, hi_mono)
        return est - below - err, est + above + err

    def certain(self, t: float) -> float:
        """A number with the certain sign of ``S(t)``, or 0.0.

        The same test as ``interval`` (``lo > 0`` or ``hi < 0``), written out so that the
        curvature bound is only looked up when the sign hinges on it: this runs once per
        bisection step and must cost far less than an ``O(n)`` evaluation (theory guide §4).

        Parameters
        ----------
        t : float
            The point.

        Returns
        -------
        float
            A value of the certain sign of ``S(t)``, or ``0.0`` when no stored expansion
            decides it.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import Halfspace
        >>> prob = Halfspace.gaussian(np.eye(2), [0.6, 0.0])
        >>> model = prob.length_model([-1.0, 0.5])     # S(g) = d_g f(w, g)
        >>> _ = model.evaluate(1.0)
        >>> model.certain(1.05) < 0.0, model.certain(5.0)
        (True, 0.0)
        """
        for e in reversed(self.expansions):  # the latest are nearest the bracket
            x, v = e.x, e.value
            model_err, plain = self._errors(t, e)
            if self.monotone and ((t >= x and v - e.value_error > plain)
                                  or (t <= x and v + e.value_error < -plain)):
                return v
            d = t - x
            est = v + e.slope * d
            margin = abs(est) - model_err - plain  # room left for the Taylor remainder
            if margin <= 0.0:
                continue
            p, q = (t, x) if d < 0.0 else (x, t)
            if self.concave_positive and ((p >= 0.0 and est < 0.0) or (q <= 0.0 and est > 0.0)):
                return est  # the remainder has the sign of S'' and only moves S away from 0
            if 0.5 * self._segment_curvature(p, q) * d * d < margin:
                return est
        return 0.0

    def suggest(self, a: float, b: float) -> float | None:
        """Where to evaluate next: ``start`` (a predicted root, if set and inside ``(a, b)``)
        or else the middle of ``[a, b]`` before any evaluation, then the Newton point
        ``x - S(x)/S'(x)`` of the expansion with the smallest step, if it lies strictly inside
        ``(a, b)``; nothing once an evaluation has been rounding noise.

        Parameters
        ----------
        a, b : float
            The current bracket of the root of ``S`` (theory guide §4).

        Returns
        -------
        float or None
            The suggested point, or ``None`` (bisect as usual).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import Halfspace
        >>> prob = Halfspace.gaussian(np.eye(2), [0.6, 0.0])
        >>> model = prob.length_model([-1.0, 0.5])     # S(g) = d_g f(w, g)
        >>> model.suggest(0.5, 3.0)
        1.75
        >>> _ = model.evaluate(1.75)
        >>> 0.5 < model.suggest(0.5, 3.0) < 3.0
        True
        """
        if self.at_noise:
            return None
        if not self.expansions:
            start = self.start
            return start if start is not None and a < start < b else 0.5 * (a + b)
        best = None
        for e in self.expansions:
            if e.slope > 0.0:
                step = abs(e.value) / e.slope
                if best is None or step < best[0]:
                    best = (step, e.x - e.value / e.slope)
        if best is None or not a < best[1] < b:
            return None
        if any(e.x == best[1] for e in self.expansions):
            return None
        return best[1]


# The mass-ratio certificates (theory guide §4) as plain functions of floats: the locator's
# methods call them with its constants, and gdnp._jit compiles these same functions for the
# compiled population search, so the two cannot drift apart.


def probe_bounds(t, scale, slope, growth0, sum_depth, max_abs, max_abs_all, n_terms, tiny,
                 mass_small, slope_small, fused_slope):
    """:meth:`MassRatioLocator.probe_bounds` with the locator's constants as arguments."""
    # where scale and slope were computed: within D0 of t
    ax = abs(t) if growth0 == 1.0 else abs(t) + math.log(growth0) / max_abs
    spread = ax * max_abs_all
    eta = (n_terms + 9.0 + spread) * _U
    scale_hi = scale * (1.0 + eta) + tiny
    scale_lo = scale * (1.0 - eta) - tiny
    if fused_slope:
        eps = (9.0 + spread) * _U
        gamma = (n_terms + 1.0) * _U / (1.0 - (n_terms + 1.0) * _U)
        slope_err = (max_abs_all * scale_hi * (1.0 + eps) * (eps * (1.0 + eps) + 2.0 * gamma)
                     + 2.01 * _U * abs(slope) + tiny)
    else:
        slope_err = (5.0 * _U * max_abs_all * scale_hi
                     + (n_terms + 12.0 + 2.0 * spread) * _U * abs(slope) + tiny)
    slope_hi, slope_lo = slope + slope_err, slope - slope_err
    if growth0 != 1.0:
        scale_hi = growth0 * scale_hi + mass_small
        scale_lo = scale_lo / growth0 - mass_small
        slope_hi = growth0 * slope_hi + slope_small
        slope_lo = slope_lo / growth0 - slope_small
    err = (sum_depth + 9.0) * _U * scale_hi + 1.001 * _U * abs(t) * slope_hi + tiny
    return err, scale_lo, scale_hi, slope_lo, slope_hi


def curvature_bound(t, curvature, scale_hi, max_abs_all, n_terms, tiny):
    """:meth:`MassRatioLocator.curvature_bound` with the locator's constants as arguments."""
    spread = abs(t) * max_abs_all
    return (abs(curvature) * (1.0 + 2.0 * (n_terms + 12.0 + 2.0 * spread) * _U)
            + 10.0 * _U * max_abs_all ** 2 * scale_hi + tiny)


def certifies_beyond(t, s_lo, scale_lo, scale_hi, slope_lo, slope_hi, reach, sum_depth,
                     max_abs, tiny, mass_small, slope_small):
    """:meth:`MassRatioLocator._certifies_beyond` with the locator's constants as
    arguments."""
    at = abs(t)
    plain = (sum_depth + 9.0) * _U  # a plain value's error: plain (P + N) + ...
    if not s_lo > 0.0:  # |S(t)| >= s_lo, of the sign of the value
        return False
    growth = 1.01  # G over the distance D below, checked
    pn_hi = growth * scale_hi + mass_small
    pn_lo = (scale_lo - mass_small) / growth
    if not pn_lo > 0.0:
        return False
    # relative_error(reach) = (k + 9 + |reach| max|a|) u
    need = ((sum_depth + 9.0 + abs(reach) * max_abs) * _U + 2.0 * tiny / pn_lo) * pn_hi * 1.001
    if s_lo > need:
        distance = 0.0
    else:
        min_slope = (slope_lo - slope_small) / growth
        if not min_slope > 0.0:
            return False
        distance = (need - s_lo) / min_slope
        if distance * max_abs > 0.00995:  # log(1.01)
            return False
    # near t: a plain evaluation's error at most (k + 9) u (P + N) + u |s| S' there
    return s_lo > (plain * pn_hi + 1.001 * _U * (at + distance)
                   * (growth * slope_hi + slope_small) + tiny)


def certifies_probe(t, value, scale, slope, reach, growth0, sum_depth, max_abs, max_abs_all,
                    n_terms, tiny, mass_small, slope_small, fused_slope):
    """:meth:`MassRatioLocator.certifies_probe` with the locator's constants as arguments."""
    err, scale_lo, scale_hi, slope_lo, slope_hi = probe_bounds(
        t, scale, slope, growth0, sum_depth, max_abs, max_abs_all, n_terms, tiny, mass_small,
        slope_small, fused_slope)
    return certifies_beyond(t, abs(value) - err, scale_lo, scale_hi, slope_lo, slope_hi, reach,
                            sum_depth, max_abs, tiny, mass_small, slope_small)


def certifies_virtual(t, value, scale, slope, x, reach, side, curvature, sum_depth, max_abs,
                      max_abs_all, n_terms, tiny, mass_small, slope_small, fused_slope):
    """:meth:`MassRatioLocator.certifies_virtual` with the locator's constants as arguments
    (``curvature`` NaN where there is none)."""
    distance = abs(x - t)
    if not (distance > 0.0 and distance * max_abs <= 0.00995 and slope > 0.0):
        return False
    err, _, scale_at_hi, slope_at_lo, slope_at_hi = probe_bounds(
        t, scale, slope, 1.0, sum_depth, max_abs, max_abs_all, n_terms, tiny, mass_small,
        slope_small, fused_slope)
    growth = math.exp(distance * max_abs)
    _, scale_lo, scale_hi, slope_lo, slope_hi = probe_bounds(
        x, scale, slope, growth, sum_depth, max_abs, max_abs_all, n_terms, tiny, mass_small,
        slope_small, fused_slope)
    if not slope_lo > 0.0:
        return False
    if side < 0:  # S(x) <= S(t) + err + (x - t) S'_lo or S'_hi
        s_lo = -(value + err + (x - t) * (slope_hi if x > t else slope_lo))
    else:  # S(x) >= S(t) - err + (x - t) S'_lo or S'_hi
        s_lo = value - err + (x - t) * (slope_lo if x > t else slope_hi)
    if curvature == curvature and mass_small == 0.0 and slope_small == 0.0:
        c_hi = curvature_bound(t, curvature, scale_at_hi, max_abs_all, n_terms, tiny)
        remainder = 0.5 * distance * distance * c_hi * growth
        if side < 0:  # S(x) <= S(t) + err + (x - t) S'(t) + remainder
            taylor = -(value + err + (x - t) * (slope_at_hi if x > t else slope_at_lo)
                       + remainder)
        else:
            taylor = value - err + (x - t) * (slope_at_lo if x > t else slope_at_hi) \
                - remainder
        s_lo = max(s_lo, taylor)
    return certifies_beyond(x, s_lo, scale_lo, scale_hi, slope_lo, slope_hi, reach, sum_depth,
                            max_abs, tiny, mass_small, slope_small)


class MassRatioLocator:
    """Values of ``S(g) = sum_i c_i phi'(g a_i)`` at many ``g`` in one pass, and the signs
    they certify for a root search (``c_i = w_i a_i``, weights ``w_i >= 0``; theory guide §4).

    Write ``S = P - N`` with ``P(g) = sum_{a_i > 0} |c_i| phi'(g a_i)`` and ``N`` the same sum
    over ``a_i < 0``. For a loss with ``phi' > 0`` non-decreasing (logistic), ``P`` is
    non-decreasing and ``N`` non-increasing in ``g``, so ``q = N / P`` decreases and the mass
    ratio ``rho(g) = |S(g)| / (P + N)(g) = |1 - q| / (1 + q)`` grows on both sides away from
    the root. A computed ``S(t)`` is within ``r(t) (P + N)(t) + tiny`` of the exact one, with
    ``r(t) = (k + 9 + |t| max|a|) u`` (``u`` the unit roundoff, ``k`` the summation depth;
    see :meth:`gdnp.problems.Halfspace._length_model`). Hence one evaluation at ``x`` with
    ``S(x) < 0`` and ``rho(x) > r(T) + 2 tiny / (P + N)(x)`` proves that the computed sign is
    negative at every ``t <= x`` with ``|t| <= T`` (there ``(P + N)(t) >= N(x) >=
    (P + N)(x) / 2``); the same holds to the right of a positive ``x``. A bisection that
    knows two such points ``x_L < root < x_R`` decides every midpoint outside ``(x_L, x_R)``
    without evaluating it, and its halvings are those of plain bisection.

    Parameters
    ----------
    values : callable
        ``(ts, slopes) -> (S(ts), (P + N)(ts), S'(ts) or None)`` as arrays, one pass for all
        points; ``S(ts)[j]`` is bit for bit ``value(ts[j])``.
    value : callable
        ``t -> S(t)``, the scalar evaluation (what plain bisection calls).
    sum_depth : float
        ``k`` of the rounding bound.
    max_abs : float
        ``max |a_i|``.
    n_terms : int
        Number of terms (for the underflow allowance ``tiny``).
    """

    locates = True  # gdnp.bisect locates the root with its probes, then walks the halvings

    def __init__(self, values, value, *, sum_depth: float, max_abs: float, n_terms: int,
                 probe=None, max_abs_all: float | None = None, slope_small: float = 0.0,
                 fused_slope: bool = False):
        self.values, self.value, self.probe = values, value, probe
        # the probe's S' is (sum a_k t_k - sum t_k^2) / n from the computed terms t_k, not
        # sum a_k t_k (1 - s_k) (probe_bounds)
        self.fused_slope = bool(fused_slope)
        self.sum_depth = float(sum_depth)
        self.max_abs = float(max_abs)
        self.max_abs_all = self.max_abs if max_abs_all is None else float(max_abs_all)
        self.n_terms = max(int(n_terms), 1)
        self.tiny = 1e-300 * self.n_terms  # terms that underflow
        self.mass_small = 0.0  # sum |c_k| of the terms left out of max_abs
        self.slope_small = float(slope_small)  # their share of S' is at most this
        self.start: float | None = None  # where the search starts, if inside the bracket
        # () -> C >= |S''| (the curvature envelope) at the last probe's point, where the
        # problem offers it: Newton's error from C instead of max|a| S' (certifies_virtual)
        self.curvature_of_last_probe = None

    def relative_error(self, t: float) -> float:
        """``r(t) = (k + 9 + |t| max|a|) u``."""
        return (self.sum_depth + 9.0 + abs(t) * self.max_abs) * _U

    def certifies(self, t: float, value: float, scale: float, reach: float) -> bool:
        """Whether an evaluation ``(S(t), (P + N)(t))`` certifies the computed sign of ``S``
        at every point beyond ``t`` (away from the root) with ``|point| <= reach``."""
        r = self.relative_error(t)
        scale_hi = scale * (1.0 + 2.0 * r) + self.tiny  # the computed sum of |terms|
        scale_lo = scale * (1.0 - 2.0 * r) - self.tiny
        if not scale_lo > 0.0:
            return False
        err = r * scale_hi + self.tiny
        return (abs(value) - err) > (self.relative_error(reach) + 2.0 * self.tiny / scale_lo
                                     ) * scale_hi

    def probe_bounds(self, t: float, value: float, scale: float, slope: float,
                     growth0: float = 1.0) -> tuple[float, float, float, float, float]:
        """Rigorous bounds from a probe ``(S(t), (P + N)(t), S'(t))`` (``probe``'s values:
        ``S(t)`` as plain evaluation computes it, the others as dot products):
        ``(error of value, lower and upper bound of P + N, lower and upper bound of S')``.

        Each term ``c_k s_k`` is within ``(9 + |t a_k| (1 - s_k)) u`` relatively
        (``s_k = sigma(t a_k)``; the rounding of ``t a_k`` moves ``log s_k`` by at most
        ``(1 - s_k) |t a_k| u``), so the plain value is within ``(k + 9) u (P + N) +
        u |t| S'(t)`` (these argument errors add up to ``u sum_k |c_k| s_k (1 - s_k)
        |t a_k| = u |t| S'``), and ``P + N`` within ``eta = (n + 9 + |t| max|a|) u``
        relatively. The computed ``1 - s_k`` is off by at most ``(5 + |t a_k| (1 - s_k)) u
        s_k + u (1 - s_k)``, which puts ``S'`` within ``5 u max|a| (P + N) + (n + 12 +
        2 |t| max|a|) u S'`` (theory guide §4).

        With ``fused_slope`` (data: every weight ``1/n``, ``c_k = a_k / n``), ``S'`` was
        computed as ``(sum a_k t_k - sum t_k^2) / n`` from the computed terms ``t_k`` of the
        value (``a_k t_k (1 - s_k) = a_k t_k - t_k^2`` exactly), two dot products instead of
        four passes. A term off by ``eps_k |t_k|`` moves ``a_k t_k - t_k^2`` by at most
        ``eps_k |t_k| (|a_k| + eps_k |t_k|)``, and each dot product of ``n`` terms is within
        ``gamma_n`` of its sum of magnitudes, both at most ``max|a| sum |t_k|``: so ``S'`` is
        within ``max|a| (P + N)_hi ((9 + |t| max|a|) u (1 + eps) + 2 gamma_n) + 2 u |S'|``.
        The bound is loose where ``S'`` is far below ``max|a| (P + N)`` (nearly separable
        data at large lengths); a certificate that needs more then fails, and the search
        evaluates instead.

        With ``growth0 != 1``, ``scale`` and ``slope`` were computed at a point within
        ``D0 = log(growth0) / max|a|`` of ``t``, and the bounds are carried over to ``t``
        (``P + N`` and ``S'`` change by at most the factor ``growth0`` over ``D0``)."""
        return probe_bounds(t, scale, slope, growth0, self.sum_depth, self.max_abs,
                            self.max_abs_all, self.n_terms, self.tiny, self.mass_small,
                            self.slope_small, self.fused_slope)

    def band(self, t: float, scale: float, slope: float) -> float:
        """Half-width, to first order, of the band around the root inside which a probe at
        ``t`` (``P + N = scale``, ``S' = slope``) certifies nothing: twice a plain
        evaluation's rounding bound over ``S'``."""
        if not slope > 0.0:
            return math.inf
        return ((2.0 * self.sum_depth + 18.0) * _U * scale / slope + 2.0 * _U * abs(t)) * 1.02

    def certifies_probe(self, t: float, value: float, scale: float, slope: float,
                        reach: float, growth0: float = 1.0) -> bool:
        """Whether a probe at ``t`` certifies the computed sign of ``S`` at every point beyond
        ``t`` (away from the root) with ``|point| <= reach`` (theory guide §4).

        ``scale`` and ``slope`` are a probe's ``P + N`` and ``S'`` at ``t``, or at a point
        within ``D0`` of ``t`` with ``growth0 = exp(D0 max|a|)``, which bounds their change
        over that distance (``log s_k`` and ``log s_k (1 - s_k)`` are ``|a_k|``-Lipschitz).

        Two regions. Near ``t``, within a distance ``D``: ``S`` is monotone, so ``|S| >=
        |S(t)|`` there, and a plain evaluation at ``s`` is within ``(k + 9) u (P + N)(s) +
        u |s| S'(s)`` (the rounding of ``s a_k`` moves each term by at most ``u |c_k|
        sigma (1 - sigma) |s a_k|``, and these add up to ``u |s| S'(s)``), where ``P + N``
        and ``S'`` grow by at most ``G = exp(D max|a|)`` from ``t``. Beyond ``D``: the
        mass ratio at ``t -+ D`` is at least ``(|S(t)| + D S'(t) / G) / (G (P + N)(t))`` and
        only grows farther out, which certifies every point there as in
        :meth:`certifies`. ``D`` is the smallest distance at which the second bound holds.
        A probe in the rounding band certifies nothing."""
        return certifies_probe(t, value, scale, slope, reach, growth0, self.sum_depth,
                               self.max_abs, self.max_abs_all, self.n_terms, self.tiny,
                               self.mass_small, self.slope_small, self.fused_slope)

    def certifies_virtual(self, t: float, value: float, scale: float, slope: float,
                          x: float, reach: float, side: int,
                          curvature: float | None = None) -> bool:
        """Whether a full probe at ``t`` certifies, without any evaluation at ``x``, the
        computed sign of ``S`` at ``x`` and at every point beyond it with ``|point| <= reach``:
        negative at every point ``<= x`` (``side = -1``) or positive at every point ``>= x``
        (``side = 1``); theory guide §4.

        Over the distance ``D = |x - t|``, ``S' >= 0`` lies between the probe's bounds
        ``S'_lo`` and ``S'_hi`` carried over ``D`` (as in :meth:`probe_bounds`), so the exact
        ``S(x)`` lies within ``S(t) -+ err + (x - t) S'_lo`` or ``S'_hi`` (``err`` the probe's
        rounding bound). Where that bound puts ``|S(x)|`` above a plain evaluation's
        rounding error, with the sign of ``side``, the argument of :meth:`certifies_probe`
        applies at ``x``. A probe near the root thus places both edges of the rounding
        band, about ``2 err / S'`` either side of the root, with no evaluation at either.

        With ``curvature``, the probe's computed ``C(t) = sum_k |c_k| a_k^2 s_k (1 - s_k)
        >= |S''(t)|`` (every weight positive; ``|phi'''| <= phi''`` for the logistic loss),
        Taylor's theorem gives a second bound, ``S(t) + (x - t) S'(t) -+ D^2 C_hi G / 2``
        (``C`` grows by at most ``G = exp(D max|a|)`` over ``D``, as ``P + N`` does), which
        is far tighter when the terms near the root have ``|a_k|`` well below ``max|a|``;
        the better of the two bounds is used."""
        return certifies_virtual(t, value, scale, slope, x, reach, side,
                                 math.nan if curvature is None else curvature,
                                 self.sum_depth, self.max_abs, self.max_abs_all, self.n_terms,
                                 self.tiny, self.mass_small, self.slope_small,
                                 self.fused_slope)

    def curvature_bound(self, t: float, curvature: float, scale_hi: float) -> float:
        """An upper bound on the exact ``C(t) = sum_k |c_k| a_k^2 s_k (1 - s_k)`` from its
        computed value (a dot product of ``n`` terms, each a few roundings from exact, like
        ``S'`` in :meth:`probe_bounds`: the computed ``1 - s_k`` is off by at most ``(5 +
        |t a_k|) u s_k + u (1 - s_k)``), for Newton's error: relatively ``(n + 12 + 2 |t|
        max|a|) u`` and absolutely ``5 u max|a|^2 (P + N)_hi``, twice over."""
        return curvature_bound(t, curvature, scale_hi, self.max_abs_all, self.n_terms,
                               self.tiny)

    def _certifies_beyond(self, t: float, s_lo: float, scale_lo: float, scale_hi: float,
                          slope_lo: float, slope_hi: float, reach: float) -> bool:
        """The two regions of :meth:`certifies_probe` beyond ``t``, from a lower bound
        ``s_lo`` on ``|S(t)|`` and the bounds on ``P + N`` and ``S'`` at ``t``."""
        return certifies_beyond(t, s_lo, scale_lo, scale_hi, slope_lo, slope_hi, reach,
                                self.sum_depth, self.max_abs, self.tiny, self.mass_small,
                                self.slope_small)


class SignThreshold:
    """A computed function whose sign is known exactly: negative below ``root``, zero at it,
    positive above it (theory guide §4).

    OLS's length derivative is computed as ``c + 2 g``: ``2 g`` is exact and a rounded sum of
    two floats is zero only when the exact sum is, and otherwise has its sign, so the
    computed sign at ``g`` is the sign of ``g - root`` with ``root = -c / 2`` (exact too).
    A bisection then decides every midpoint by one comparison, evaluating only a midpoint
    equal to ``root``, and takes plain bisection's halvings.

    Parameters
    ----------
    root : float
        The threshold.
    value : callable
        ``t -> fun(t)``, the plain evaluation.

    Examples
    --------
    >>> from gdnp.problems.taylor import SignThreshold
    >>> from gdnp import bisect
    >>> fun = lambda g: 0.3 + 2.0 * g
    >>> plain = bisect(fun, -1.0, 2.0, maxiter=40)
    >>> fast = bisect(fun, -1.0, 2.0, maxiter=40, model=SignThreshold(-0.15, fun))
    >>> fast[0] == plain[0], fast[1]["nfev"], plain[1]["nfev"]
    (True, 0, 42)
    """

    start: float | None = None
    locates = True  # gdnp.bisect reads the edges instead of evaluating midpoints

    def __init__(self, root: float, value: Callable[[float], float]):
        self.root, self.value = float(root), value

    def edges(self) -> tuple[float, float]:
        """``(x_L, x_R)``: the sign is negative at every ``t <= x_L`` and positive at every
        ``t >= x_R`` (the floats next to ``root``)."""
        return math.nextafter(self.root, -math.inf), math.nextafter(self.root, math.inf)

