"""Certified signs of GDNP's length derivative from a few exact evaluations (MATH.md §4).

For a fixed direction, ``S(g) = d_g f(w, g) = mean_i a_i phi'(g a_i)`` with ``a_i = z_i'w /
||w||_S``, and

    S'(g) = mean a^2 phi''(g a),        S''(g) = mean a^3 phi'''(g a).

Bisection needs only the sign of ``S`` at each midpoint. An exact evaluation at ``x`` (one
``O(n)`` pass) gives ``S(x)``, ``S'(x)`` and a curvature bound, and Taylor's theorem with the
integral remainder

    S(t) = S(x) + S'(x) (t - x) + R,    R = int_x^t (t - s) S''(s) ds,

bounds ``S(t)`` at every other ``t``: ``R`` has the sign of ``S''`` on the segment and
``|R| <= K (t - x)^2 / 2`` for any bound ``K >= |S''|`` there. Three facts about the loss make
the bounds sharp:

* **curvature**: ``|S''| <= sup|phi'''| mean|a|^3`` everywhere; and if ``|phi'''(s)| <= e(t)``
  whenever ``|s| >= |t|`` (``e`` the loss's envelope), then ``|S''| <= mean |a|^3 e(x a)`` on
  the ray from ``x`` away from 0, which is far smaller at large lengths. As ``log e`` is
  1-Lipschitz, the bound times ``exp(D max|a|)`` holds down to ``D`` closer to 0 than ``x``;
* **monotonicity** (convex ``phi``): ``S`` is non-decreasing, so ``S(x) > 0`` decides every
  ``t >= x`` and ``S(x) < 0`` every ``t <= x``;
* **concavity** (``t phi'''(t) <= 0``, the logistic loss): ``g S''(g) <= 0``, so ``S`` is
  concave for ``g > 0`` and convex for ``g < 0``, and ``R`` has a known sign.

A sign is *certified* when the whole interval for ``S(t)``, widened by the rounding allowances,
lies on one side of 0; then it is also the sign a plain evaluation would have returned, and the
bisection takes exactly the halvings of one that evaluates ``S`` at every midpoint.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Expansion", "CertifiedDerivative"]


@dataclass(frozen=True)
class Expansion:
    """One exact evaluation: ``S(x)``, ``S'(x)`` and ``|S''| <= curvature_outward`` on the ray
    from ``x`` away from 0."""

    x: float
    value: float
    slope: float
    curvature_outward: float


class CertifiedDerivative:
    """Signs of ``S(g) = mean a phi'(g a)``, certified from stored exact evaluations.

    Parameters
    ----------
    evaluate : callable
        ``g -> Expansion``; its ``value`` is exactly what a plain evaluation returns.
    curvature : float
        Bound on ``|S''|`` valid everywhere.
    max_abs : float
        ``max_i |a_i|``: extends an expansion's outward curvature bound towards 0 (by the
        factor ``exp(D max|a|)`` at distance ``D``); ``inf`` disables the extension.
    value_error, slope_error : float
        Bounds on the rounding error of a computed ``S`` (of ``value`` and of a plain
        evaluation elsewhere alike) and of a computed ``S'``.
    monotone : bool
        ``S`` is non-decreasing (convex loss).
    concave_positive : bool
        ``g S''(g) <= 0`` for every ``g`` (``t phi'''(t) <= 0``).

    Notes
    -----
    Used by :func:`gdnp.bisect` through ``evaluate`` (an exact evaluation, stored), ``certain``
    (a value of the certified sign, or 0.0) and ``suggest`` (where an evaluation would help
    most: the middle of the bracket first, later the Newton point of the expansion nearest the
    root).
    """

    def __init__(self, evaluate: Callable[[float], Expansion], *, curvature: float,
                 max_abs: float, value_error: float, slope_error: float, monotone: bool,
                 concave_positive: bool):
        self._evaluate = evaluate
        self.curvature = float(curvature)
        self.max_abs = float(max_abs)
        self.value_error = float(value_error)
        self.slope_error = float(slope_error)
        self.monotone = bool(monotone)
        self.concave_positive = bool(concave_positive)
        self.expansions: list[Expansion] = []

    def evaluate(self, t: float) -> float:
        """``S(t)`` by an exact (``O(n)``) evaluation, stored for later certificates."""
        e = self._evaluate(float(t))
        self.expansions.append(e)
        return e.value

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
                if reach <= 0.0:
                    K = min(K, e.curvature_outward)
                elif reach * self.max_abs < 700.0:
                    K = min(K, e.curvature_outward * math.exp(reach * self.max_abs))
        return K

    def interval(self, t: float, e: Expansion) -> tuple[float, float]:
        """``[lo, hi]`` containing ``S(t)`` and any computed value of it, from ``e``."""
        d = t - e.x
        est = e.value + e.slope * d
        err = self.value_error + self.slope_error * abs(d)
        p, q = min(t, e.x), max(t, e.x)
        rem = 0.5 * self._segment_curvature(p, q) * d * d
        # R has the sign of S'' on [p, q]: <= 0 where g >= 0, >= 0 where g <= 0 (concavity)
        below = 0.0 if self.concave_positive and q <= 0.0 else rem
        above = 0.0 if self.concave_positive and p >= 0.0 else rem
        return est - below - err, est + above + err

    def certain(self, t: float) -> float:
        """A number with the certain sign of ``S(t)`` (the linear estimate), or 0.0.

        The same test as ``interval`` (``lo > 0`` or ``hi < 0``), written out so that the
        curvature bound is only looked up when the sign hinges on it: this runs once per
        bisection step and must cost far less than an ``O(n)`` evaluation.
        """
        ve, se = self.value_error, self.slope_error
        for e in reversed(self.expansions):  # the latest are nearest the bracket
            x, v = e.x, e.value
            if self.monotone:
                if (v > ve and t >= x) or (v < -ve and t <= x):
                    return v
            d = t - x
            est = v + e.slope * d
            margin = abs(est) - ve - se * abs(d)  # room left for the Taylor remainder
            if margin <= 0.0:
                continue
            p, q = (t, x) if d < 0.0 else (x, t)
            if self.concave_positive and ((p >= 0.0 and est < 0.0) or (q <= 0.0 and est > 0.0)):
                return est  # the remainder has the sign of S'' and only moves S away from 0
            if 0.5 * self._segment_curvature(p, q) * d * d < margin:
                return est
        return 0.0

    def suggest(self, a: float, b: float) -> float | None:
        """Where to evaluate next: the middle of ``[a, b]`` before any evaluation, then the
        Newton point ``x - S(x)/S'(x)`` of the expansion with the smallest step, if it lies
        strictly inside ``(a, b)``."""
        if not self.expansions:
            return 0.5 * (a + b)
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
