"""One-hidden-layer tanh network with BN per hidden unit (theory guide §5).

    F(x) = sum_i theta_i tanh(x'w~_i),
    f(W~, theta) = E[l(-y F(x))] = E[l(sum_i theta_i tanh(z'w~_i))]

(``z = -y x``; ``tanh`` is odd). Flat parameters ``x = concatenate([W.ravel(), theta])`` with
``W`` of shape ``(hidden, d)``; BN coordinates ``w`` (``(hidden, d)``) and ``g`` (``(hidden,)``),
``w~_i = g_i w_i / ||w_i||_S``. Always empirical: sample means over centred data.

One GD iteration costs two passes over ``X`` (``X W'`` and ``X' D``). The per-unit view used by
GDNP keeps the projections ``z'w_j/||w_j||_S`` of every unit (an ``n x hidden`` array) so that
a length bisection on unit ``i`` costs ``O(n)`` per step.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy.special import expit

from ._validate import (
    NonFiniteError,
    ReferenceWarning,
    as_finite_array,
    as_positive_int,
    as_real,
    as_seed_rng,
    check_memory,
    warn_external,
)
from .base import BNEval, Problem
from .data import GRAM_BLOCK, prepare_data, weighted_gram
from .losses import LOSSES, Loss, get_loss
from .spectra import random_covariance
from .taylor import pairwise_depth

__all__ = ["MLP", "UnitView", "UnitLengthModel"]


#: The keywords of :meth:`MLP.from_data` beyond its positional arguments.
_FROM_DATA_KEYWORDS = ("theta", "ridge", "null_space", "normalization", "centered", "bn_eps")


class UnitView:
    """Unit ``i`` of the network with every other parameter fixed (theory guide §5).

    Holds ``a0 = z'w_i/||w_i||_S`` per sample and the other units' output ``r_i``, so that
    ``psi_i(t) = l(theta_i tanh t + r_i)`` and its derivatives cost ``O(n)``. Made by
    :meth:`MLP.unit_view`; GDNP's unit-by-unit sweep runs on it (theory guide §4, §5).

    Parameters
    ----------
    prob : MLP
        The network.
    w_i : ndarray, shape (d,)
        The unit's direction.
    a0 : ndarray, shape (n,)
        ``z'w_i / ||w_i||_S`` per sample.
    r : ndarray, shape (n,)
        The other units' output ``sum_{j != i} theta_j tanh(z'w~_j)`` per sample.
    theta_i : float
        The unit's output weight.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import MLP
    >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
    ...               [-0.2, 1.1]])
    >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
    >>> w, g = prob.to_bn(prob.initial_point(0))
    >>> view = prob.unit_view(w, g, 0, prob.unit_projections(w))
    >>> round(view.dg(g[0]), 6) == round(float(prob.dg_bn(w, g)[0]), 6)
    True
    """

    def __init__(self, prob: MLP, w_i: np.ndarray, a0: np.ndarray, r: np.ndarray,
                 theta_i: float):
        self.prob, self.w, self.a0, self.r, self.theta = prob, w_i, a0, r, float(theta_i)
        self.Sw = prob.S @ w_i
        self.nS = float(np.sqrt(w_i @ self.Sw))
        self.uw = float(prob.u @ w_i)
        # N(w_i) and grad N of the chosen normalization (theory guide §10); None: ||w_i||_S
        self.N, self.dN = (self.nS, None) if prob._normalizer is None else \
            prob._normalizer.value_and_grad(w_i)
        #: O(n) evaluations made so far along the length (``d_g f`` and ``value``): the
        #: solvers' ``nfev`` reads it, failed searches and scans included
        self.evaluations = 0

    def _psi_terms(self, g: float):
        th = np.tanh(g * self.a0)
        sech2 = 1.0 - th * th
        arg = self.theta * th + self.r
        return th, sech2, arg

    def _dg_value(self, g: float):
        """``d_g f`` at ``g`` with the intermediates it was computed from, ``(value, th, sech2,
        arg, l'(arg))``: the one implementation of the value (:meth:`dg` and the certified
        model's probes return the same number, bit for bit)."""
        self.evaluations += 1
        th, sech2, arg = self._psi_terms(g)
        d1 = self.prob.loss.dphi(arg)
        return float(np.mean(d1 * self.theta * sech2 * self.a0)), th, sech2, arg, d1

    def dg(self, g: float) -> float:
        """``d f / d g_i = mean(l'(F) theta_i sech^2(g a0) a0)`` (O(n); theory guide §5).

        Parameters
        ----------
        g : float
            The length ``g_i`` of the unit.

        Returns
        -------
        float
            The length derivative of unit ``i``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> w, g = prob.to_bn(prob.initial_point(0))
        >>> view = prob.unit_view(w, g, 0, prob.unit_projections(w))
        >>> round(view.dg(g[0]), 6)
        -0.042436
        """
        return self._dg_value(g)[0]

    def value(self, g: float) -> float:
        """``mean l(theta_i tanh(g a0) + r)``: the objective along the unit's length (O(n);
        theory guide §5), whose derivative is :meth:`dg`.

        Parameters
        ----------
        g : float
            The length ``g_i`` of the unit.

        Returns
        -------
        float
            ``f`` with the unit's length set to ``g`` and every other parameter fixed.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> w, g = prob.to_bn(prob.initial_point(0))
        >>> view = prob.unit_view(w, g, 0, prob.unit_projections(w))
        >>> bool(np.isclose(view.value(g[0]), prob.f_bn(w, g)))
        True
        """
        self.evaluations += 1
        return float(np.mean(self.prob.loss.phi(self._psi_terms(g)[2])))

    def c1(self, g: float) -> float:
        """``c1 = E[psi'(t)] - E[psi''(t)] u'w~_i`` at ``t = z'w~_i`` (theory guide §4-§5).

        Parameters
        ----------
        g : float
            The length ``g_i`` of the unit.

        Returns
        -------
        float
            The Stein coefficient of the unit (theory guide §3).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> w, g = prob.to_bn(prob.initial_point(0))
        >>> view = prob.unit_view(w, g, 0, prob.unit_projections(w))
        >>> round(view.c1(g[0]), 6)
        0.301947
        """
        th, sech2, arg = self._psi_terms(g)
        loss = self.prob.loss
        d1 = loss.dphi(arg)
        psi1 = d1 * self.theta * sech2
        psi2 = loss.d2phi(arg) * (self.theta * sech2) ** 2 - d1 * self.theta * 2.0 * th * sech2
        return float(np.mean(psi1) - np.mean(psi2) * (g * self.uw / self.N))

    def length_model(self) -> UnitLengthModel | None:
        """The certified sign model of :meth:`dg` for GDNP's bisection
        (:class:`UnitLengthModel`), or ``None`` for a loss without one (only the registered
        losses with bounded derivatives, logistic and sigmoid, evaluated to a few ulps, have
        it) and for a unit whose rounding bound would underflow.

        Returns
        -------
        UnitLengthModel or None
            Fresh for this view (its probes are this search's).
        """
        loss = self.prob.loss
        if LOSSES.get(loss.name) is not loss or not all(
                math.isfinite(m) for m in (loss.max_dphi, loss.max_d2phi, loss.max_d3phi)):
            return None  # a user's loss (its l' accuracy is unknown) or unbounded derivatives
        model = UnitLengthModel(self)
        # E is a relative bound: where it is not a normal float (subnormal weights or
        # projections), the absolute rounding of subnormal products is not covered
        if not (model.error > 1e-290 and math.isfinite(model.error)
                and math.isfinite(model.curvature)):
            return None
        return model

    def grad_w(self, g: float) -> np.ndarray:
        """``grad_{w_i} f`` by the chain rule of theory guide §1 (one pass over ``X``).

        Parameters
        ----------
        g : float
            The length ``g_i`` of the unit.

        Returns
        -------
        ndarray, shape (d,)
            The direction gradient of unit ``i``, orthogonal to ``w_i`` when ``bn_eps = 0``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> w, g = prob.to_bn(prob.initial_point(0))
        >>> view = prob.unit_view(w, g, 0, prob.unit_projections(w))
        >>> view.grad_w(g[0]).round(6)
        array([-0.080874, -0.076971])
        """
        _, sech2, arg = self._psi_terms(g)
        prob = self.prob
        coef = prob.loss.dphi(arg) * self.theta * sech2  # d f / d (z'w~_i), per sample
        G = -(prob.X.T @ (prob.y * coef)) / prob.n
        wG = float(self.w @ G)
        if self.dN is not None:
            return (g / self.N) * (G - self.dN * (wG / self.N))
        return (g / self.nS) * (G - self.Sw * (wG / self.nS**2))


# tanh's derivatives: |sech^2| <= 1, |(sech^2)'| = |2 tanh sech^2| <= 4 / (3 sqrt 3),
# |(sech^2)''| = |2 sech^2 (1 - 3 tanh^2)| <= 2 (theory guide §5)
_SECH2_D1 = 4.0 / (3.0 * math.sqrt(3.0))
_U = 2.0**-53  # unit roundoff of float64

# L-BFGS iterations of each of the reference solution's runs (MLP._reference_solution)
_REFERENCE_ITERATIONS = 3000


class UnitLengthModel:
    """Certified signs of a hidden unit's ``d_g f`` from Taylor bounds (theory guide §4-§5; the
    bounds are derived on the user guide's certified bisection page).

    ``S(g) = mean(psi_i'(g a_i) a_i)`` with ``psi_i(t) = l(theta tanh t + r_i)``, so ``S''(g) =
    mean(psi_i'''(g a_i) a_i^3)`` and ``|psi'''| <= K = M3 |theta|^3 + 3 M2 theta^2 c + 2 M1
    |theta|`` (``M_k = sup |l^(k)|`` of the loss, ``c = 4/(3 sqrt 3)`` bounds the derivative of
    ``sech^2``): ``|S''| <= K mean|a|^3`` for every ``g``. A probe at ``x`` (the plain value
    ``S(x)``, bit for bit what :meth:`UnitView.dg` returns, and the slope ``S'(x)`` from the
    same pass) bounds ``S(t) = S(x) + S'(x)(t - x) + R`` with ``|R| <= K mean|a|^3 (t -
    x)^2 / 2`` anywhere, non-convex loss or not. A computed ``S`` is within ``E = 2 u mean(|theta
    a_i| (M2 (7 |theta| + |r_i|) + (25 + k) M1))`` of the exact one, whatever ``g`` (``u =
    2^-53``; ``k`` the summation depth; each factor of a term carries a few roundings: tanh,
    ``1 - tanh^2``, the argument, ``l'`` and three products), so a sign is *certified* where
    the interval for ``S(t)`` clears ``E``: it is then the sign plain bisection computes.
    Only bounded losses (``M1, M2, M3`` finite: logistic, sigmoid) have a model.

    Parameters
    ----------
    view : UnitView
        The hidden unit's view (:meth:`MLP.unit_view`), whose ``d_g f`` the model certifies;
        :meth:`UnitView.length_model` builds it (``None`` for an unbounded loss).

    Examples
    --------
    >>> import gdnp
    >>> from gdnp.problems import MLP
    >>> prob = MLP.random(3, 2, 10.0, 200, seed=0)
    >>> w, g = prob.to_bn(prob.initial_point(0))
    >>> view = prob.unit_view(w, g, 0, prob.unit_projections(w), prob.theta)
    >>> model = view.length_model()                 # a UnitLengthModel
    >>> root, info = gdnp.bisect(view.dg, -8.0, 8.0, maxiter=30, model=model)
    >>> plain, _ = gdnp.bisect(view.dg, -8.0, 8.0, maxiter=30)
    >>> root == plain, info["ncertified"] > 0       # the same halvings, fewer evaluations
    (True, True)
    """

    def __init__(self, view: UnitView):
        loss, theta, a = view.prob.loss, abs(view.theta), view.a0
        n = a.size
        m1, m2, m3 = loss.max_dphi, loss.max_d2phi, loss.max_d3phi
        abs_a = np.abs(a)
        mean_abs_a = float(np.mean(abs_a))
        # numpy's pairwise summation depth (the generic bound beyond one 8192-block)
        depth = pairwise_depth(n) if n <= 8192 else \
            25 + math.ceil(math.log2(n)) + math.ceil(n / 8192) + 1
        self.view = view
        self.error = 2.0 * _U * theta * (
            (m2 * 7.0 * theta + (25 + depth) * m1) * mean_abs_a
            + m2 * float(np.mean(abs_a * np.abs(view.r))))
        self.curvature = (m3 * theta**3 + 3.0 * m2 * theta**2 * _SECH2_D1 + 2.0 * m1 * theta) \
            * float(np.mean(abs_a * abs_a * abs_a))
        # the computed slope is far more accurate than this (a few ulps of its terms): it only
        # widens the interval by |t - x| times it
        self.slope_error = 1e-8 * float(np.mean(abs_a * abs_a)) * (
            m2 * theta**2 + m1 * theta * _SECH2_D1)  # 1e-8 of sup |S'|
        # (x, S(x), a slope s, a bound on |S'(x) - s|), newest last
        self.probes: list[tuple[float, float, float, float]] = []
        self._logistic = loss is LOSSES["logistic"]

    def evaluate(self, t: float) -> float:
        """``S(t)``, the same number :meth:`UnitView.dg` returns, kept as a probe with the
        slope ``S'(t)`` from the same pass, or, within ``1e-8 (1 + |x|)`` of an earlier probe
        ``x`` (inside the rounding band), with ``S'(x)`` and its error grown by ``K |t - x|``."""
        view = self.view
        value, th, sech2, arg, d1 = view._dg_value(t)  # dg's own number
        loss = view.prob.loss
        near = min(self.probes, key=lambda p: abs(p[0] - t), default=None)
        if near is not None and abs(near[0] - t) <= 1e-8 * (1.0 + abs(t)):
            slope, slope_error = near[2], near[3] + self.curvature * abs(near[0] - t)
        else:
            d2 = d1 * (1.0 - d1) if self._logistic else loss.d2phi(arg)
            psi2 = (d2 * (view.theta * view.theta) * sech2 - 2.0 * view.theta * d1 * th) \
                * sech2
            slope, slope_error = float(np.mean(psi2 * view.a0 * view.a0)), self.slope_error
        if math.isfinite(value) and math.isfinite(slope):
            self.probes.append((t, value, slope, slope_error))
        return value

    def certain(self, t: float) -> float:
        """A number with the certain sign of the computed ``S(t)``, or 0.0: the Taylor
        interval of the nearest probes clears the rounding error ``E``."""
        E, K = self.error, self.curvature
        for x, v, s, dS in sorted(self.probes, key=lambda p: abs(p[0] - t))[:3]:
            step = t - x
            centre = v + s * step
            radius = (E + dS * abs(step) + 0.5 * K * step * step
                      + 4.0 * _U * (abs(v) + abs(s * step))) * (1.0 + 1e-12)
            if centre - radius > E:
                return 1.0
            if centre + radius < -E:
                return -1.0
        return 0.0

    def suggest(self, a: float, b: float) -> float | None:
        """Newton's point from the probe nearest a root, where it moves that probe by more
        than the rounding band and lies inside ``(a, b)``; ``None`` otherwise."""
        best, best_step = None, math.inf
        for x, v, s, _ in self.probes:
            if s != 0.0 and abs(v / s) < best_step:
                best, best_step = (x, v, s), abs(v / s)
        if best is None:
            return None
        x, v, s = best
        r = x - v / s
        if not a < r < b or best_step <= 4.0 * self.error / abs(s):
            return None
        if any(p[0] == r for p in self.probes):
            return None
        return r


def _check_mlp_memory(n: int, d: int, hidden: int) -> None:
    """Data (``X`` and its centred copy), the weights and ~6 ``n x hidden`` activations."""
    nbytes = 8.0 * (3.0 * n * d + 4.0 * hidden * d + 6.0 * n * hidden)
    check_memory(nbytes, f"an MLP with n = {n}, d = {d}, hidden = {hidden}")


class MLP(Problem):
    """Tanh MLP halfspace classifier with BN per hidden unit. Use the class constructors.

    ``f(W~, theta) = mean(l(sum_i theta_i tanh(z'w~_i)))`` with ``w~_i = g_i w_i / N(w_i)``
    (theory guide §5); see :meth:`from_data` and :meth:`random`.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Features.
    y : array_like, shape (n,)
        Labels, each ``-1`` or ``+1``.
    hidden : int, default 4
        Number of hidden units.
    loss : {"logistic", "sigmoid", "squared"} or Loss, default "logistic"
        The loss ``l`` of the margin.
    seed : int or numpy.random.Generator, default 0
        Source of the initial ``theta`` unless it is given.
    theta : array_like, shape (hidden,), optional
        Output weights. By default random signs times ``(1 + U[0, 1)) min(1, 2/sqrt(hidden))``,
        drawn from ``seed``: the same weights as unscaled up to 4 units, and shrinking as
        ``1/sqrt(hidden)`` beyond, so that the network's output keeps its spread as the layer
        widens (unscaled, ``MLP.random(3, 300, 10.0, 200)`` had started at ``f = 5.08``, where
        ``log 2 = 0.69``, and GDNP had stopped at its first sweep, a unit's length having no
        finite minimiser).
    ridge, null_space
        As in :meth:`gdnp.problems.Halfspace.from_data`.
    normalization, centered, bn_eps
        The norm ``N`` of every unit's BN coordinates (theory guide §10).

    Raises
    ------
    ValueError
        Labels other than ``-1``/``+1``, ``hidden < 1``, a ``theta`` of the wrong shape.
    SingularCovarianceError
        ``S`` is singular and no remedy was asked for.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import MLP
    >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
    ...               [-0.2, 1.1]])
    >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
    >>> prob.dim, prob.smoothness is None   # 2 units of 2 weights and 2 output weights
    (6, True)
    >>> round(prob.f(prob.initial_point(0)), 6)   # the mean logistic loss at the default start
    0.779928
    """

    name = "mlp"
    population = False

    def __init__(self, X, y, hidden: int = 4, loss: str | Loss = "logistic", seed=0, *,
                 theta=None, ridge: float = 0.0, null_space: str = "raise",
                 normalization: str = "batch", centered: bool = True, bn_eps: float = 0.0):
        self.hidden = as_positive_int(hidden, "hidden")
        shape = getattr(X, "shape", None)
        if shape is not None and len(shape) == 2:  # before the data are copied
            _check_mlp_memory(int(shape[0]), int(shape[1]), self.hidden)
        data = prepare_data(X, y, labels=True, ridge=ridge, null_space=null_space)
        self.data = data
        self.X, self.y = data.X, data.y
        self.n, self.d = self.X.shape
        _check_mlp_memory(self.n, self.d, self.hidden)
        self.loss = get_loss(loss)
        self.S = data.S
        self.u = -(self.X.T @ self.y) / self.n
        self.dim = self.hidden * self.d + self.hidden
        rng = as_seed_rng(seed)
        self._seed = seed if isinstance(seed, int) else None
        if theta is None:  # scaled so that the output's spread does not grow with the width
            theta = rng.choice(np.array([-1.0, 1.0]), size=self.hidden) * (
                1.0 + rng.random(self.hidden)) * min(1.0, 2.0 / math.sqrt(self.hidden))
        theta = as_finite_array(theta, "theta", ndim=1)
        if theta.shape != (self.hidden,):
            raise ValueError(f"theta must have shape ({self.hidden},), got {theta.shape}")
        self.theta = theta
        # smoothness is not available in closed form: solvers use backtracking
        self.smoothness = None
        self.strong_convexity = None
        # |l'| where it is evaluated: -y F(x) = sum_i theta_i tanh(.) lies in [-R, R], R =
        # sum |theta_i|, so a loss with an unbounded l' (squared) has the bound of its
        # values at +-R there (l' is monotone for a convex loss)
        max_dphi = self.loss.max_dphi
        if not np.isfinite(max_dphi) and self.loss.convex:
            reach = float(np.sum(np.abs(theta)))
            max_dphi = float(np.max(np.abs(self.loss.dphi(np.array([-reach, reach])))))
        # BNGD moves every length g_i and theta with the one rate lr_g: the bound is on the
        # top eigenvalue of f's Hessian in (g, theta) jointly (_length_bound)
        self._curvature_parts = (float(self.loss.max_d2phi), float(max_dphi),
                                 float(np.sum(theta**2)), float(np.max(np.abs(theta))))
        self.length_smoothness = self._length_bound(1.0)
        self.info = {"n": self.n, "hidden": self.hidden, "ridge": data.ridge, "seed": self._seed}
        self._set_normalization(normalization, centered, bn_eps)

    def _length_bound(self, ratio: float) -> float:
        """A bound on the top eigenvalue of ``f``'s Hessian in the lengths and the output
        weights jointly, ``(g, theta)`` (BNGD moves both with ``lr_g``), where every unit's
        ``E[a_i^2] = w_i'Sw_i/N(w_i)^2 <= ratio`` (theory guide §5, §10). With the pre-activation
        ``s = sum_i theta_i tanh(g_i a_i)``, ``q = ds/d(g, theta) = (theta_i sech^2 a_i,
        tanh)``: the Gauss-Newton part ``E[l'' q q']`` is at most ``max l'' E|q|^2 <= max l''
        (ratio sum theta_i^2 + hidden)``; the rest, ``E[l' d^2 s]``, has per unit the 2x2 block
        ``[[theta_i (tanh'') a_i^2, sech^2 a_i], [., 0]]``, at most ``max|l'| (0.8 |theta_i|
        ratio + sqrt(ratio))`` (``|tanh''| <= 0.77``). The output weights are those the problem
        was built with (a run that moves them far may leave the bound)."""
        d2, d1, theta2, theta_max = self._curvature_parts
        return float(d2 * (ratio * theta2 + self.hidden)
                     + d1 * (0.8 * theta_max * ratio + math.sqrt(ratio)))

    def _layout_hint(self) -> str:
        return (f" (hidden*d + hidden = {self.hidden}*{self.d} + {self.hidden}: "
                "np.concatenate([W.ravel(), theta]) with W of shape "
                f"({self.hidden}, {self.d}); or start from w0, g0)")

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_data(cls, X, y, hidden: int = 4, loss: str | Loss = "logistic", seed=0, **kw):
        """A one-hidden-layer tanh network with BN per unit, on data (theory guide §5, equation 8).

        ``f(W~, theta) = mean(l(-y_i F(x_i)))`` with ``F(x) = sum_i theta_i tanh(x'w~_i)`` and
        ``w~_i = g_i w_i / ||w_i||_S``. The features are centred; the optimisation variable is
        the flat vector of the ``hidden * d`` unit weights followed by the ``hidden`` output
        weights (:meth:`split` separates them).

        Parameters
        ----------
        X : array_like, shape (n, d)
            Features.
        y : array_like, shape (n,)
            Labels, each ``-1`` or ``+1``.
        hidden : int, default 4
            Number of hidden units ``m``.
        loss : {"logistic", "sigmoid", "squared"} or Loss, default "logistic"
            The loss ``l`` of the margin.
        seed : int or numpy.random.Generator, default 0
            Source of the initial output weights ``theta`` (random signs, magnitudes in
            ``[1, 2)`` times ``min(1, 2/sqrt(hidden))``) unless ``theta`` is given.
        **kw
            ``theta`` (initial output weights, shape ``(hidden,)``), ``ridge`` and
            ``null_space`` (as in :meth:`gdnp.problems.Halfspace.from_data`; ``ridge`` is a
            regularised metric, not BN's epsilon), ``normalization``, ``centered`` and
            ``bn_eps`` (the norm ``N`` of every hidden unit's BN coordinates
            ``w~_i = g_i w_i / N(w_i)``, theory guide §10; as in
            :meth:`gdnp.problems.OLS.from_data`).

        Returns
        -------
        MLP

        Raises
        ------
        ValueError
            Labels other than ``-1``/``+1``, ``hidden < 1``, a ``theta`` of the wrong shape,
            shapes that do not match.
        TypeError
            A keyword other than those of ``**kw``.
        gdnp.problems.SingularCovarianceError
            ``S`` is singular and no remedy was asked for.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((300, 3))
        >>> y = np.where(np.tanh(X[:, 0]) - np.tanh(X[:, 1]) + 0.3 * rng.standard_normal(300) > 0,
        ...              1.0, -1.0)
        >>> prob = MLP.from_data(X, y, hidden=2, seed=1)
        >>> prob.dim                            # 2 units x 3 weights + 2 output weights
        8
        >>> W, theta = prob.split(prob.initial_point(0))
        >>> W.shape, theta.shape
        ((2, 3), (2,))
        """
        unknown = sorted(set(kw) - set(_FROM_DATA_KEYWORDS))
        if unknown:
            raise TypeError(f"MLP.from_data got unknown keyword argument(s) {unknown}; it takes "
                            f"X, y, hidden, loss, seed and {list(_FROM_DATA_KEYWORDS)}")
        return cls(X, y, hidden, loss, seed, **kw)

    @classmethod
    def random(cls, d: int, hidden: int, kappa: float, n: int, seed=0,
               loss: str | Loss = "logistic", teacher_scale: float = 3.0, *,
               normalization: str = "batch", centered: bool = True, bn_eps: float = 0.0
               ) -> MLP:
        """Teacher-student data for the tanh network (theory guide §5).

        ``x ~ N(0, S)`` with ``S`` as in :meth:`gdnp.problems.OLS.random`; a random teacher
        network ``F*`` of the same width (unit weights of unit ``S``-norm, output weights
        ``+-teacher_scale / sqrt(hidden)``) labels ``y = +1`` with probability
        ``sigmoid(F*(x))``: noisy labels, so a finite minimiser exists.

        Parameters
        ----------
        d : int
            Input dimension.
        hidden : int
            Hidden units of the teacher and the student.
        kappa : float
            Condition number of the population ``S`` (the sample ``S`` differs).
        n : int
            Number of samples, ``>= 2``.
        seed : int or numpy.random.Generator, default 0
            Source of ``S``, the samples, the teacher and the student's output weights.
        loss : {"logistic", "sigmoid", "squared"} or Loss, default "logistic"
            The student's loss.
        teacher_scale : float, default 3.0
            Scale of the teacher's output weights (larger: cleaner labels).
        normalization, centered, bn_eps
            The norm ``N`` of every hidden unit's BN coordinates (theory guide §10), as in
            :meth:`from_data`.

        Returns
        -------
        MLP
            With ``teacher = (W_teacher, theta_teacher)``.

        Raises
        ------
        ValueError
            ``n < 2``, ``hidden < 1``, ``kappa < 1``, ``d < 1``.

        Examples
        --------
        >>> from gdnp.problems import MLP
        >>> prob = MLP.random(d=3, hidden=2, kappa=10, n=500, seed=0)
        >>> prob.dim, prob.X.shape
        (8, (500, 3))
        """
        rng = as_seed_rng(seed)
        n = as_positive_int(n, "n", 2)
        hidden = as_positive_int(hidden, "hidden")
        d = as_positive_int(d, "d")
        # (up to 1e100: its output weights start the reference solver, whose loss would
        # overflow beyond, as noise is capped for OLS)
        teacher_scale = as_real(teacher_scale, "teacher_scale", minimum=0.0, maximum=1e100)
        _check_mlp_memory(n, d, hidden)
        S = random_covariance(d, kappa, rng)
        d = S.shape[0]
        X = rng.standard_normal((n, d)) @ np.linalg.cholesky(S).T
        W_t = rng.standard_normal((hidden, d))
        W_t /= np.sqrt(np.einsum("ij,jk,ik->i", W_t, S, W_t))[:, None]
        theta_t = teacher_scale * rng.choice(np.array([-1.0, 1.0]), size=hidden) / np.sqrt(hidden)
        F = np.tanh(X @ W_t.T) @ theta_t
        y = np.where(rng.random(n) < expit(F), 1.0, -1.0)
        prob = cls(X, y, hidden, loss, rng, normalization=normalization, centered=centered,
                   bn_eps=bn_eps)
        prob._seed = seed if isinstance(seed, int) else None
        prob.info.update(kappa=float(kappa), seed=prob._seed, teacher_scale=teacher_scale)
        prob.teacher = (W_t, theta_t)
        return prob

    def config(self):
        return {**super().config(), **self.info, "loss": self.loss.name, "population": False}

    # ------------------------------------------------------------- unpacking
    def split(self, x) -> tuple[np.ndarray, np.ndarray]:
        """``x -> (W, theta)`` with ``W`` of shape ``(hidden, d)`` (theory guide §5).

        Parameters
        ----------
        x : array_like, shape (dim,)
            Flat parameters.

        Returns
        -------
        W : ndarray, shape (hidden, d)
            Unit weights (a view of ``x``).
        theta : ndarray, shape (hidden,)
            Output weights.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> x0 = prob.initial_point(0)
        >>> W, theta = prob.split(x0)
        >>> W.shape, theta
        ((2, 2), array([ 1., -1.]))
        """
        x = self.check_x(x)
        k = self.hidden * self.d
        return x[:k].reshape(self.hidden, self.d), x[k:]

    def join(self, W, theta) -> np.ndarray:
        """``(W, theta) -> x``, the inverse of :meth:`split` (theory guide §5).

        Parameters
        ----------
        W : array_like, shape (hidden, d)
            Unit weights.
        theta : array_like, shape (hidden,)
            Output weights.

        Returns
        -------
        ndarray, shape (dim,)
            ``concatenate([W.ravel(), theta])``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> x0 = prob.initial_point(0)
        >>> bool(np.array_equal(prob.join(*prob.split(x0)), x0))
        True
        """
        W = as_finite_array(W, "W", ndim=2)
        theta = as_finite_array(theta, "theta", ndim=1)
        if W.shape != (self.hidden, self.d) or theta.shape != (self.hidden,):
            raise ValueError(f"W and theta must have shapes ({self.hidden}, {self.d}) and "
                             f"({self.hidden},), got {W.shape} and {theta.shape}")
        return np.concatenate([W.ravel(), theta])

    # --------------------------------------------------------------- objective
    def _forward(self, W, theta):
        """``(H, F)``: ``H = tanh(A)`` with ``A = Z W'`` (``z'w_i`` for every sample and unit)
        and the output ``F = H theta``, in one ``(n, hidden)`` array: ``A`` is negated by
        ``y`` and passed through ``tanh`` in place (the same numbers as ``-(X W') y``; the
        temporaries of a few such arrays per evaluation had been returned to the system and
        faulted back at every one, more than half of a reference solution's time)."""
        H = self.X @ W.T
        np.multiply(H, -self.y[:, None], out=H)
        np.tanh(H, out=H)
        return H, H @ theta

    def value_and_grad(self, x):
        W, theta = self.split(x)
        H, F = self._forward(W, theta)
        fun = float(np.mean(self.loss.phi(F)))
        dF = self.loss.dphi(F) / self.n
        # D = (dF (1 - H^2)) theta and then D y, in one buffer (the same operations)
        D = np.multiply(H, H)
        np.subtract(1.0, D, out=D)
        np.multiply(dF[:, None], D, out=D)
        np.multiply(D, theta[None, :], out=D)
        np.multiply(D, self.y[:, None], out=D)
        GW = -(D.T @ self.X)
        return fun, self.join(GW, H.T @ dF)

    def f(self, x):
        W, theta = self.split(x)
        return float(np.mean(self.loss.phi(self._forward(W, theta)[1])))

    def hessian_vector(self, x, v) -> np.ndarray:
        """``hess f(x) v``, exactly: the derivative of :meth:`value_and_grad`'s gradient along
        ``v`` (Pearlmutter's R-operator; theory guide §12).

        With ``A = Z W'`` (``z_i = -y_i x_i``), ``H = tanh A``, ``s = 1 - H^2``, ``F = H
        theta`` and ``v = (V, nu)``: ``dA = Z V'``, ``dH = s dA``, ``dF = H nu + dH theta``,
        ``d grad_W = Z' dD / n`` with ``dD = s (l''(F) dF theta' + l'(F) nu') - 2 l'(F)
        theta' H dH`` (elementwise, rows broadcast), and ``d grad_theta = (dH' l'(F) + H'
        (l''(F) dF)) / n``: two passes over ``X``, as a gradient costs.

        Parameters
        ----------
        x : array_like
            The point, shape ``(dim,)``.
        v : array_like
            The vector, shape ``(dim,)``.

        Returns
        -------
        ndarray
            ``hess f(x) v``, shape ``(dim,)``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> x0, v = prob.initial_point(0), np.eye(prob.dim)[0]
        >>> h = 1e-6
        >>> fd = (prob.grad(x0 + h * v) - prob.grad(x0 - h * v)) / (2 * h)
        >>> bool(np.allclose(prob.hessian_vector(x0, v), fd, atol=1e-8))
        True
        """
        W, theta = self.split(x)
        V, nu = self.split(self.check_x(v, "v"))
        H, F = self._forward(W, theta)
        s = 1.0 - H * H
        dH = s * (-(self.X @ V.T) * self.y[:, None])
        dF = H @ nu + dH @ theta
        d1 = self.loss.dphi(F) / self.n
        d2dF = self.loss.d2phi(F) * dF / self.n
        dD = s * (d2dF[:, None] * theta[None, :] + d1[:, None] * nu[None, :])
        dD -= 2.0 * (d1[:, None] * theta[None, :]) * H * dH
        dGW = -((dD * self.y[:, None]).T @ self.X)
        return np.concatenate([dGW.ravel(), dH.T @ d1 + H.T @ d2dF])

    def _hessian_matrix(self, x) -> np.ndarray:
        """``hess f(x)`` as a matrix, :meth:`hessian_vector` for every vector at once
        (theory guide §12): with ``J_i = dF_i/dx = (s_i theta (x) z_i, H_i)``,
        ``hess f = (J' diag(l''(F)) J + sum_i l'(F_i) hess F_i) / n``, where ``hess F_i`` has
        the blocks ``-2 theta_j H_ij s_ij z_i z_i'`` (unit ``j`` with itself) and ``s_ij z_i``
        (unit ``j``'s weights with ``theta_j``). The first term in row blocks of ``J`` (at
        most 2^22 entries each), the second in one weighted Gram matrix per unit."""
        W, theta = self.split(x)
        H, F = self._forward(W, theta)
        s = 1.0 - H * H
        h, d, n = self.hidden, self.d, self.n
        k = h * d
        d1 = self.loss.dphi(F) / n
        d2 = self.loss.d2phi(F) / n
        P = s * theta[None, :]  # dF/dA
        M = np.zeros((self.dim, self.dim))
        block = max(1, min(GRAM_BLOCK, 2**22 // (k + h)))
        for i0 in range(0, n, block):
            rows = slice(i0, i0 + block)
            Z = self.X[rows] * -self.y[rows, None]
            J = np.empty((Z.shape[0], k + h))
            J[:, :k] = (P[rows, :, None] * Z[:, None, :]).reshape(Z.shape[0], k)
            J[:, k:] = H[rows]
            M += weighted_gram(J, d2[rows], block=J.shape[0])
        for j in range(h):
            unit = slice(j * d, (j + 1) * d)
            # z_i z_i' = x_i x_i' (y_i^2 = 1)
            M[unit, unit] += weighted_gram(self.X, -2.0 * theta[j] * d1 * H[:, j] * s[:, j])
            cross = -(self.X.T @ (self.y * d1 * s[:, j]))
            M[unit, k + j] += cross
            M[k + j, unit] += cross
        return M

    def grad_norm2(self, G):
        """``sum_i ||G_{w_i}||^2_{S^-1} + ||G_theta||^2`` (theory guide §5).

        Parameters
        ----------
        G : ndarray, shape (dim,)
            A gradient in flat coordinates.

        Returns
        -------
        float
            The squared norm the solvers compare with ``tol**2``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> x0 = prob.initial_point(0)
        >>> round(prob.grad_norm2(prob.grad(x0)), 6)
        0.078568
        """
        k = self.hidden * self.d
        GW = G[:k].reshape(self.hidden, self.d)
        return float(np.sum(GW * self.solve_S(GW.T).T) + G[k:] @ G[k:])

    def initial_point(self, seed=0):
        return self._start(seed, self.S)

    def _start(self, seed, S: np.ndarray) -> np.ndarray:
        """Gaussian unit weights, each scaled to ``||W_i||_S = 1`` in the metric ``S``, and
        the output weights ``theta``."""
        rng = as_seed_rng(seed)
        W = rng.standard_normal((self.hidden, self.d))
        W /= np.sqrt(np.einsum("ij,jk,ik->i", W, S, W))[:, None]
        return self.join(W, self.theta)

    def _reference_solution(self):
        # non-convex: the best of L-BFGS runs from three seeded starts (and the teacher). The
        # tanh units may saturate, so the infimum can sit at large weights: the budget is
        # capped and the value is a reference, not a certificate of global optimality.
        best = None
        # the starts in the data's own metric: ridge changes the BN metric only, so f* does not
        # depend on it (starts scaled in S + ridge I had moved f* by up to 1.1e-2)
        metric = self.S
        if self.data.ridge:  # S without the ridge, formed as prepare_data (and a batch) do
            metric = (self.X.T @ self.X) / self.n
            metric = 0.5 * (metric + metric.T)
        starts = [self._start(s, metric) for s in range(3)]
        if hasattr(self, "teacher"):
            starts.append(self.join(*self.teacher))
        from scipy.optimize import minimize  # here: scipy.optimize is slow to import
        from threadpoolctl import threadpool_limits

        # on one BLAS thread: L-BFGS on a non-convex loss amplifies the last-bit differences
        # of a threaded summation into a different stopping point (f* moved by 4e-7 between
        # one and two threads), and every gap of a run is measured against this f*
        with threadpool_limits(limits=1, user_api="blas"):
            for x0 in starts:
                res = minimize(self.value_and_grad, x0, jac=True, method="L-BFGS-B",
                               options={"maxiter": _REFERENCE_ITERATIONS, "gtol": 1e-9,
                                        "ftol": 0.0, "maxcor": 30})
                if best is None or res.fun < best.fun:
                    best = res
        if best.nit >= _REFERENCE_ITERATIONS:
            warn_external(
                f"the MLP's reference solution is the best of {len(starts)} L-BFGS runs, and "
                f"that run stopped on its budget of {_REFERENCE_ITERATIONS} iterations "
                f"(||grad f|| = {float(np.linalg.norm(best.jac)):.2g}, max|x| = "
                f"{float(np.max(np.abs(best.x))):.3g}), not at a stationary point: f* = "
                f"{float(best.fun):.6g} is an upper bound on the minimum, and gaps against it "
                "can be negative or offset (theory guide §5)", ReferenceWarning)
        return best.x, float(best.fun)

    # ---------------------------------------------------------------- BN layer
    def _check_wg(self, w, g):
        w = as_finite_array(w, "w", ndim=2)
        if w.shape != (self.hidden, self.d):
            raise ValueError(f"w must have shape ({self.hidden}, {self.d}), got {w.shape}")
        g = as_finite_array(g, "g", ndim=1)
        if g.shape != (self.hidden,):
            raise ValueError(f"g must have shape ({self.hidden},), got {g.shape}")
        return w, g, self._checked_unit_norms(w)

    def _checked_unit_norms(self, w) -> np.ndarray:
        """``(N(w_i))_i``: a ``NonFiniteError`` where ``w`` overflowed (a breakdown of the
        run, not bad input), a ``ValueError`` where a unit has no direction."""
        nS = self._unit_norms(w)[0]
        if not np.all(np.isfinite(nS)):
            raise NonFiniteError("w: some unit's N(w_i) is not finite (w overflowed)")
        if np.any(~(nS > 0)):
            raise ValueError("w: some unit has ||w_i||_S = 0; its BN direction is undefined")
        return nS

    def _unit_norms(self, w) -> tuple[np.ndarray, np.ndarray | None]:
        """``(N(w_i))_i`` and the rows ``grad N(w_i)`` (``None`` for the idealised
        ``||w_i||_S``, whose gradient is ``S w_i / ||w_i||_S``)."""
        if self._normalizer is None:
            if self._S_samples is not None:  # a mini-batch: S w_i from its samples, O(Bd)
                return np.sqrt(np.einsum("ij,ij->i", w, self._unit_metric(w))), None
            return np.sqrt(np.einsum("ij,jk,ik->i", w, self.S, w)), None
        try:
            pairs = [self._normalizer.value_and_grad(wi) for wi in w]
        except ValueError:
            return np.zeros(w.shape[0]), None
        return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])

    def _unit_metric(self, w: np.ndarray) -> np.ndarray:
        """The rows ``S w_i`` (``w @ S``; a mini-batch's from its samples, ``O(B d hidden)``
        without forming ``S``, theory guide §11)."""
        moment = self._S_samples
        return w @ self.S if moment is None else moment.dot(w.T).T

    def _theta(self, theta):
        if theta is None:
            return self.theta
        theta = as_finite_array(theta, "theta", ndim=1)
        if theta.shape != (self.hidden,):
            raise ValueError(f"theta must have shape ({self.hidden},), got {theta.shape}")
        return theta

    def to_bn(self, x):
        """``w = W``, ``g_i = N(W_i)`` (``theta`` is returned by :meth:`split`; theory guide §1).

        The output weights are not part of ``(w, g)``: ``from_bn(w, g, split(x)[1])`` gives
        ``x`` back, while ``from_bn(w, g)`` takes the problem's own ``theta``.

        Parameters
        ----------
        x : array_like, shape (dim,)
            Flat parameters.

        Returns
        -------
        w : ndarray, shape (hidden, d)
            The unit directions (a copy of ``W``).
        g : ndarray, shape (hidden,)
            The unit lengths.

        Raises
        ------
        ValueError
            If a hidden unit has zero weights.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> x0 = prob.initial_point(0)
        >>> w, g = prob.to_bn(x0)      # initial_point has ||W_i||_S = 1
        >>> w.shape, g.round(12)
        ((2, 2), array([1., 1.]))
        """
        return self._to_bn(x, "x")

    def _to_bn(self, x, name: str):
        W, _ = self.split(x)
        with np.errstate(over="ignore", under="ignore"):
            nS = self._unit_norms(W)[0]
        bad = ~((nS > 0) & (nS < np.inf))
        if np.any(bad):
            rows = np.flatnonzero(bad)
            if not np.all(np.any(W[rows], axis=1)):
                raise ValueError(f"{name}: some hidden unit has zero weights; its BN direction "
                                 "is undefined")
            raise ValueError(f"{name}: the BN length of unit(s) {rows.tolist()} is not a "
                             f"positive float64 at this scale (weights up to "
                             f"{float(np.max(np.abs(W[rows]))):.3g}); pass a start of moderate "
                             "scale")
        return W.copy(), nS

    def from_bn(self, w, g, theta=None) -> np.ndarray:
        """Flat ``x`` with ``W~_i = g_i w_i / N(w_i)`` and ``theta`` (theory guide §1, §5).

        Parameters
        ----------
        w : array_like, shape (hidden, d)
            The unit directions, each with ``||w_i||_S > 0``.
        g : array_like, shape (hidden,)
            The unit lengths.
        theta : array_like, shape (hidden,), optional
            Output weights; default the problem's ``theta``.

        Returns
        -------
        ndarray, shape (dim,)
            ``join(W~, theta)``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> x0 = prob.initial_point(0)
        >>> w, g = prob.to_bn(x0)
        >>> bool(np.allclose(prob.from_bn(2.0 * w, g), x0))
        True
        """
        w, g, nS = self._check_wg(w, g)
        return self.join((g / nS)[:, None] * w, self._theta(theta))

    def f_bn(self, w, g, theta=None) -> float:
        """``f_bn(w, g, theta) = f(from_bn(w, g, theta))`` (theory guide §1, §5).

        Parameters
        ----------
        w : array_like, shape (hidden, d)
            The unit directions, each with ``||w_i||_S > 0``.
        g : array_like, shape (hidden,)
            The unit lengths.
        theta : array_like, shape (hidden,), optional
            Output weights; default the problem's ``theta``.

        Returns
        -------
        float
            The objective.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> x0 = prob.initial_point(0)
        >>> round(prob.f_bn(*prob.to_bn(x0)), 6) == round(prob.f(x0), 6)
        True
        """
        return self.f(self.from_bn(w, g, theta))

    def value_and_grad_bn(self, w, g, theta=None) -> BNEval:
        """Value and per-unit BN gradients (theory guide §1, §10, applied unit by unit).

        Parameters
        ----------
        w : array_like, shape (hidden, d)
            The unit directions, each with ``||w_i||_S > 0``.
        g : array_like, shape (hidden,)
            The unit lengths.
        theta : array_like, shape (hidden,), optional
            Output weights; default the problem's ``theta``.

        Returns
        -------
        BNEval
            ``grad_w`` of shape ``(hidden, d)``, ``grad_g`` of shape ``(hidden,)`` and
            ``grad_x`` the flat gradient (including ``theta``'s part).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> x0 = prob.initial_point(0)
        >>> ev = prob.value_and_grad_bn(*prob.to_bn(x0))
        >>> ev.grad_w.shape, ev.grad_g.shape, ev.grad_x.shape
        ((2, 2), (2,), (6,))
        """
        w, g, nS = self._check_wg(w, g)
        theta = self._theta(theta)
        fun, G = self.value_and_grad(self.join((g / nS)[:, None] * w, theta))
        GW = G[: self.hidden * self.d].reshape(self.hidden, self.d)
        wG = np.einsum("ij,ij->i", w, GW)
        dN = self._unit_norms(w)[1] if self._normalizer is not None else None
        if dN is None:
            Sw = self._unit_metric(w)
            grad_w = (g / nS)[:, None] * (GW - Sw * (wG / nS**2)[:, None])
        else:  # theory guide §10: (g/N)(G - grad N (w'G)/N) per unit
            grad_w = (g / nS)[:, None] * (GW - dN * (wG / nS)[:, None])
        return BNEval(fun, grad_w, wG / nS, G)

    def grad_bn(self, w, g, theta=None):
        """``(grad_w f, (d f / d g_i)_i)`` for all units (theory guide §1, §5).

        Parameters
        ----------
        w : array_like, shape (hidden, d)
            The unit directions, each with ``||w_i||_S > 0``.
        g : array_like, shape (hidden,)
            The unit lengths.
        theta : array_like, shape (hidden,), optional
            Output weights; default the problem's ``theta``.

        Returns
        -------
        grad_w : ndarray, shape (hidden, d)
            Each row orthogonal to its ``w_i`` when ``bn_eps = 0``.
        grad_g : ndarray, shape (hidden,)
            The length derivatives.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> x0 = prob.initial_point(0)
        >>> gw, dg = prob.grad_bn(*prob.to_bn(x0))
        >>> dg.round(6)
        array([-0.042436,  0.044758])
        """
        ev = self.value_and_grad_bn(w, g, theta)
        return ev.grad_w, ev.grad_g

    def dg_bn(self, w, g, theta=None) -> np.ndarray:
        """``(d f / d g_i)_i`` for all units (theory guide §5).

        Parameters
        ----------
        w : array_like, shape (hidden, d)
            The unit directions, each with ``||w_i||_S > 0``.
        g : array_like, shape (hidden,)
            The unit lengths.
        theta : array_like, shape (hidden,), optional
            Output weights; default the problem's ``theta``.

        Returns
        -------
        ndarray, shape (hidden,)
            The length derivatives.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> x0 = prob.initial_point(0)
        >>> prob.dg_bn(*prob.to_bn(x0)).round(6)
        array([-0.042436,  0.044758])
        """
        return self.value_and_grad_bn(w, g, theta).grad_g

    def unit_projections(self, w) -> np.ndarray:
        """``A[:, i] = z'w_i / ||w_i||_S`` for all samples (one pass over ``X``; theory guide §5).

        Parameters
        ----------
        w : array_like, shape (hidden, d)
            The unit directions.

        Returns
        -------
        ndarray, shape (n, hidden)
            The normalized projections.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> x0 = prob.initial_point(0)
        >>> w, g = prob.to_bn(x0)
        >>> prob.unit_projections(w).shape
        (6, 2)
        """
        w, _, nS = self._check_wg(w, np.ones(self.hidden))
        return -(self.X @ w.T) * self.y[:, None] / nS[None, :]

    def unit_view(self, w, g, i: int, A: np.ndarray, theta=None,
                  H: np.ndarray | None = None) -> UnitView:
        """The view of unit ``i`` given the cached projections ``A`` of all units (theory guide §5).

        Parameters
        ----------
        w : ndarray, shape (hidden, d)
            The unit directions.
        g : ndarray, shape (hidden,)
            The unit lengths.
        i : int
            The unit.
        A : ndarray, shape (n, hidden)
            :meth:`unit_projections` of ``w``.
        theta : array_like, shape (hidden,), optional
            Output weights; default the problem's ``theta``.
        H : ndarray, shape (n, hidden), optional
            The activations ``tanh(A * g)``, when the caller keeps them in step with ``A`` and
            ``g`` (GDNP's sweep updates one column per unit): the view then costs ``O(n
            hidden)`` instead of ``hidden`` such ``tanh`` passes.

        Returns
        -------
        UnitView
            The unit's one-dimensional view, ``O(n)`` per evaluation.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> w, g = prob.to_bn(prob.initial_point(0))
        >>> view = prob.unit_view(w, g, 0, prob.unit_projections(w))
        >>> round(view.dg(g[0]), 6)
        -0.042436
        """
        w, g, _ = self._check_wg(w, g)
        if isinstance(i, bool) or not isinstance(i, numbers.Integral) or \
                not 0 <= i < self.hidden:
            raise ValueError(f"i must be a unit index in [0, {self.hidden}), got {i!r}")
        A = self._check_unit_array(A, "A")
        if H is not None:
            H = self._check_unit_array(H, "H")
        return self._unit_view(w, g, int(i), A, self._theta(theta), H)

    def _check_unit_array(self, arr, name: str) -> np.ndarray:
        """A per-sample, per-unit array of shape ``(n, hidden)`` (``A`` or ``H``)."""
        arr = as_finite_array(arr, name, ndim=2)
        if arr.shape != (self.n, self.hidden):
            raise ValueError(f"{name} must have shape (n, hidden) = ({self.n}, {self.hidden}) "
                             f"(unit_projections(w) gives A), got {arr.shape}")
        return arr

    def _unit_view(self, w, g, i: int, A: np.ndarray, theta: np.ndarray,
                   H: np.ndarray | None = None) -> UnitView:
        """:meth:`unit_view` on checked arguments (GDNP's sweep: no checks per unit)."""
        if H is None:
            H = np.tanh(A * g[None, :])
        r = H @ theta - theta[i] * H[:, i]
        return UnitView(self, w[i], A[:, i], r, theta[i])

    def unit_projection(self, w_i) -> np.ndarray:
        """``z'w_i / ||w_i||_S`` for all samples, for one unit (theory guide §5).

        One pass over ``X``.

        Parameters
        ----------
        w_i : ndarray, shape (d,)
            One unit's direction.

        Returns
        -------
        ndarray, shape (n,)
            The column of :meth:`unit_projections` for that unit.

        Raises
        ------
        ValueError
            If ``N(w_i) = 0``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> x0 = prob.initial_point(0)
        >>> w, g = prob.to_bn(x0)
        >>> bool(np.allclose(prob.unit_projection(w[0]), prob.unit_projections(w)[:, 0]))
        True
        """
        nS = float(self._checked_unit_norms(w_i[None, :])[0])
        return -(self.X @ w_i) * self.y / nS

    def optimize_theta(self, A, g, theta, maxiter: int = 5) -> np.ndarray:
        """A few L-BFGS steps on ``theta -> E[l(H theta)]`` with the features fixed.

        ``H = tanh(A g)`` are the hidden activations (theory guide §5); GDNP's
        ``theta_steps`` option calls this after each sweep.

        Parameters
        ----------
        A : ndarray, shape (n, hidden)
            :meth:`unit_projections` of the directions.
        g : array_like, shape (hidden,)
            The unit lengths.
        theta : array_like, shape (hidden,)
            The starting output weights.
        maxiter : int, default 5
            L-BFGS iterations.

        Returns
        -------
        ndarray, shape (hidden,)
            The new ``theta``, or the old one if L-BFGS did not decrease the objective.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import MLP
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = MLP.from_data(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0], hidden=2, theta=[1.0, -1.0])
        >>> x0 = prob.initial_point(0)
        >>> w, g = prob.to_bn(x0)
        >>> prob.optimize_theta(prob.unit_projections(w), g, prob.theta).round(6)
        array([0.142905, 1.016412])
        """
        if isinstance(maxiter, bool) or not isinstance(maxiter, numbers.Integral) or maxiter < 1:
            raise ValueError(f"maxiter must be an integer >= 1, got {maxiter!r}")
        g = as_finite_array(g, "g", ndim=1)
        if g.shape != (self.hidden,):
            raise ValueError(f"g must have shape ({self.hidden},), got {g.shape}")
        return self._optimize_theta(self._check_unit_array(A, "A"), g, self._theta(theta),
                                    int(maxiter))[0]

    def _optimize_theta(self, A, g, theta, maxiter: int) -> tuple[np.ndarray, int]:
        """:meth:`optimize_theta` and the evaluations of ``theta -> E[l(H theta)]`` (with its
        gradient) it made, for a solver's ``nfev``."""
        H = np.tanh(A * np.asarray(g)[None, :])
        calls = 0

        def fg(th):
            nonlocal calls
            calls += 1
            F = H @ th
            return float(np.mean(self.loss.phi(F))), H.T @ self.loss.dphi(F) / self.n

        from scipy.optimize import minimize  # here: scipy.optimize is slow to import
        res = minimize(fg, np.asarray(theta, float), jac=True, method="L-BFGS-B",
                       options={"maxiter": int(maxiter)})
        better = np.all(np.isfinite(res.x)) and res.fun <= fg(theta)[0]
        return (res.x if better else theta), calls

    def _assign_samples(self, X, y, center_y):
        n = X.shape[0]
        self.X, self.y, self.n = X, y, n
        self._assign_moment(X)  # S formed when read (theory guide §11)
        self.u = -(X.T @ y) / n

