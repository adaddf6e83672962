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

    def __init__(self, S, u, yy, *, X=None, y=None, population=True, info=None):
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

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_moments(cls, S, u, yy) -> OLS:
        """Population OLS from ``S = E[xx']``, ``u = -E[yx]`` and ``yy = E[y^2]``."""
        return cls(S, u, yy)

    @classmethod
    def from_data(cls, X, y, *, ridge: float = 0.0, null_space: str = "raise",
                  center_y: bool = True) -> OLS:
        """Empirical OLS: centres ``X`` (and ``y``), keeps ``S``, ``u``, ``E[y^2]``.

        ``ridge > 0`` solves ridge regression (``S + ridge*I``); ``null_space="drop"`` works in
        the range of a singular ``S`` (MATH.md §9).
        """
        data = prepare_data(X, y, labels=False, ridge=ridge, null_space=null_space,
                            center_y=center_y)
        n = data.X.shape[0]
        u = -(data.X.T @ data.y) / n
        yy = float(data.y @ data.y) / n
        prob = cls(data.S, u, yy, X=data.X, y=data.y, population=False,
                   info={"n": n, "ridge": data.ridge})
        prob.data = data
        return prob

    @classmethod
    def random(cls, d: int, kappa: float, seed=0, noise: float = 0.1) -> OLS:
        """Population OLS with ``cond(S) = kappa`` exactly, ``y = x'w_true + noise * eps``.

        ``w_true`` is a random unit vector, so ``f* = noise^2``.
        """
        rng = as_seed_rng(seed)
        if not np.isscalar(noise) or not np.isfinite(noise) or noise < 0:
            raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
        S = random_covariance(d, kappa, rng)
        w_true = random_direction(S.shape[0], rng)
        Sw = S @ w_true
        prob = cls(S, -Sw, float(w_true @ Sw) + float(noise) ** 2,
                   info={"kappa": float(kappa), "seed": seed if isinstance(seed, int) else None,
                         "noise": float(noise)})
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
        # f(w, g) = E[y^2] + 2 g u'w/||w||_S + g^2  (MATH.md §2)
        return 2.0 * state["uw"] / state["nS"] + 2.0 * g

    def _length_function(self, state):
        # the same two roundings as _dg (c = 2 u'w / ||w||_S, then c + 2g), c read once
        c = 2.0 * state["uw"] / state["nS"]
        return lambda g: c + 2.0 * g

    def _c1(self, state, a):
        return 2.0

    def optimal_length(self, w) -> float:
        """``g*(w) = -u'w / ||w||_S`` (MATH.md §2), the closed-form length."""
        w = as_finite_array(w, "w")
        st = self._state(w)
        return -st["uw"] / st["nS"]
