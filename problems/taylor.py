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

__all__ = ["Expansion", "CertifiedDerivative", "MassRatioLocator"]

_U = 2.0**-53  # unit roundoff of float64


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
        """Where to evaluate next: the middle of ``[a, b]`` before any evaluation, then the
        Newton point ``x - S(x)/S'(x)`` of the expansion with the smallest step, if it lies
        strictly inside ``(a, b)``; nothing once an evaluation has been rounding noise.

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

    def __init__(self, values, value, *, sum_depth: float, max_abs: float, n_terms: int):
        self.values, self.value = values, value
        self.sum_depth = float(sum_depth)
        self.max_abs = float(max_abs)
        self.tiny = 1e-300 * max(int(n_terms), 1)  # terms that underflow

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
