"""Ordinary least squares, population or from data, on sufficient statistics (MATH.md §2).

    f(w~) = E[y^2] + 2 u'w~ + w~' S w~,    u = -E[y x],    w~* = -S^{-1} u.

Every evaluation costs ``O(d^2)`` whatever the number of samples: the data enter only through
``S``, ``u`` and ``E[y^2]``, computed once.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_finite_array, as_seed_rng, as_spd_matrix, as_vector
from .base import LinearProblem
from .data import prepare_data
from .spectra import random_covariance, random_direction

__all__ = ["OLS"]


class OLS(LinearProblem):
    """Least squares ``f(w~) = E[(y - x'w~)^2]`` (MATH.md eq. 2).

    Use the constructors :meth:`from_moments`, :meth:`from_data` and :meth:`random`.
    Smoothness ``zeta = 2L``, strong convexity ``2 mu``.
    """

    name = "ols"

    def __init__(self, S, u, yy, *, X=None, y=None, population=True, info=None,
                 normalization: str = "batch", centered: bool = True, bn_eps: float = 0.0,
                 data=None):
        self.S = as_spd_matrix(S, "S")
        self.dim = self.S.shape[0]
        self.u = as_vector(u, "u", self.dim)
        if not np.isscalar(yy) or not np.isfinite(yy):
            raise ValueError(f"yy (E[y^2]) must be a finite scalar, got {yy!r}")
        self.yy = float(yy)
        if self.yy < float(self.u @ self.solve_S(self.u)) - 1e-12 * max(1.0, abs(self.yy)):
            raise ValueError("yy (E[y^2]) is smaller than u'S^-1 u: the moments are inconsistent "
                             "(the loss would be negative)")
        self.X, self.y = X, y
        self.population = population
        self.smoothness = 2.0 * self.L
        self.strong_convexity = 2.0 * self.mu
        self.length_smoothness = 2.0
        self.info = dict(info or {})
        if data is not None:
            self.data = data
        self._set_normalization(normalization, centered, bn_eps)

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_moments(cls, S, u, yy, *, normalization: str = "batch", bn_eps: float = 0.0
                     ) -> OLS:
        """Population OLS from ``S = E[xx']``, ``u = -E[yx]`` and ``yy = E[y^2]``.

        ``normalization`` ``"batch"`` or ``"weight"`` and ``bn_eps`` as in :meth:`from_data`
        (the sample-based norms need data).
        """
        return cls(S, u, yy, normalization=normalization, bn_eps=bn_eps)

    @classmethod
    def from_data(cls, X, y, *, ridge: float = 0.0, null_space: str = "raise",
                  center_y: bool = True, normalization: str = "batch", centered: bool = True,
                  bn_eps: float = 0.0) -> OLS:
        """Empirical OLS: centres ``X`` (and ``y``), keeps ``S``, ``u``, ``E[y^2]``.

        Parameters
        ----------
        ridge : float
            ``ridge > 0`` solves ridge regression: ``S + ridge*I`` replaces ``S`` in the
            objective itself (theory guide §9). It is not BN's epsilon (``bn_eps``).
        null_space : {"raise", "drop"}
            ``"drop"`` works in the range of a singular ``S`` (theory guide §9).
        normalization : {"batch", "weight", "l1", "l3", "linf"}
            The norm ``N`` of the BN coordinates ``w~ = g w / N(w)`` (theory guide §10);
            ``f``, ``grad`` and ``solution()`` do not depend on it.
        centered : bool
            Normalize the centred projections (default) or the raw ones.
        bn_eps : float
            BN's epsilon: ``N(w) = sqrt(w'Sw + bn_eps)``, PyTorch's ``BatchNorm1d`` in
            training mode (``normalization="batch"`` only).
        """
        data = prepare_data(X, y, labels=False, ridge=ridge, null_space=null_space,
                            center_y=center_y)
        n = data.X.shape[0]
        u = -(data.X.T @ data.y) / n
        yy = float(data.y @ data.y) / n
        return cls(data.S, u, yy, X=data.X, y=data.y, population=False,
                   info={"n": n, "ridge": data.ridge}, data=data, normalization=normalization,
                   centered=centered, bn_eps=bn_eps)

    @classmethod
    def random(cls, d: int, kappa: float, seed=0, noise: float = 0.1, *,
               normalization: str = "batch", bn_eps: float = 0.0) -> OLS:
        """Population OLS with ``cond(S) = kappa`` exactly, ``y = x'w_true + noise * eps``.

        ``w_true`` is a random unit vector, so ``f* = noise^2``. ``normalization`` and
        ``bn_eps`` as in :meth:`from_moments`.
        """
        rng = as_seed_rng(seed)
        if not np.isscalar(noise) or not np.isfinite(noise) or noise < 0:
            raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
        S = random_covariance(d, kappa, rng)
        w_true = random_direction(S.shape[0], rng)
        Sw = S @ w_true
        prob = cls(S, -Sw, float(w_true @ Sw) + float(noise) ** 2,
                   info={"kappa": float(kappa), "seed": seed if isinstance(seed, int) else None,
                         "noise": float(noise)}, normalization=normalization,
                   bn_eps=bn_eps)
        prob.w_true = w_true
        return prob

    # --------------------------------------------------------------- objective
    def value_and_grad(self, x):
        x = self.check_x(x)
        Sx = self.S @ x
        fun = self.yy + 2.0 * float(self.u @ x) + float(x @ Sx)
        return fun, 2.0 * (self.u + Sx)

    def f(self, x) -> float:
        x = self.check_x(x)
        return self.yy + 2.0 * float(self.u @ x) + float(x @ self.S @ x)

    def hessian_vector(self, x, v) -> np.ndarray:
        """``hess f(x) v = 2 S v`` (theory guide §12)."""
        return 2.0 * (self.S @ np.asarray(v, dtype=float))

    def _reference_solution(self):
        x = -self.solve_S(self.u)
        return x, self.yy + float(self.u @ x)

    def config(self):
        return {**super().config(), **self.info, "population": self.population}

    # ---------------------------------------------------------------- BN layer
    def _eval_scaled(self, w, state, a):
        Sx = a * state["Sw"]
        x = a * w
        fun = self.yy + 2.0 * a * state["uw"] + float(x @ Sx)
        return fun, 2.0 * (self.u + Sx)

    def _dg(self, state, g):
        # f(w, g) = E[y^2] + 2 g u'w/N + g^2 ||w||_S^2/N^2  (theory guide §2, §10)
        if "dN" not in state:  # N = ||w||_S
            return 2.0 * state["uw"] / state["nS"] + 2.0 * g
        N = state["N"]
        return 2.0 * state["uw"] / N + 2.0 * g * (state["nS"] / N) ** 2

    def _c1(self, state, a):
        return 2.0

    def optimal_length(self, w) -> float:
        """``g*(w) = -u'w N(w) / ||w||_S^2`` (theory guide §2, §10; ``-u'w/||w||_S`` for
        the idealised BN), the closed-form length."""
        w = as_finite_array(w, "w")
        st = self._state(w)
        if "dN" not in st:
            return -st["uw"] / st["nS"]
        return -st["uw"] * st["N"] / st["nS"] ** 2

    def _assign_samples(self, X, y, center_y):
        if center_y:
            y = y - y.mean()
        n = X.shape[0]
        S = X.T @ X / n
        S = 0.5 * (S + S.T) + self.data.ridge * np.eye(self.dim)
        self.X, self.y, self.S = X, y, S
        self.u = -(X.T @ y) / n
        self.yy = float(y @ y) / n
        self.smoothness = 2.0 * self.L
        self.strong_convexity = 2.0 * self.mu
