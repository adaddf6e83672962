"""The one ``Problem`` interface every solver consumes (API.md), and its single-unit BN layer.

Original coordinates: a flat parameter vector ``x``. BN coordinates (MATH.md §1):
``x = w~ = g * w / ||w||_S`` with direction ``w`` and length ``g``; by the chain rule

    grad_w f(w, g) = (g/||w||_S) (I - S w w' / ||w||_S^2) grad f(w~),
    d_g f(w, g)    = w' grad f(w~) / ||w||_S.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from ._validate import as_finite_array, as_seed_rng
from .taylor import CertifiedDerivative, MassRatioLocator

__all__ = ["Problem", "LinearProblem", "BNEval"]


@dataclass(frozen=True)
class BNEval:
    """Value and gradients at a point given in BN coordinates.

    ``fun = f(w~)``, ``grad_w``/``grad_g`` the BN gradients and ``grad_x = grad f(w~)`` the
    gradient in original coordinates (flat).
    """

    fun: float
    grad_w: np.ndarray
    grad_g: np.ndarray | float
    grad_x: np.ndarray


class Problem(abc.ABC):
    """Abstract objective ``f`` over a flat parameter ``x`` with a BN reparametrization.

    Subclasses set ``name``, ``dim``, ``S`` (the BN metric, SPD), ``u`` (or ``None``),
    ``smoothness`` (``zeta``, or ``None`` when unknown), ``strong_convexity`` (or ``None``),
    ``length_smoothness`` (a bound on ``d^2 f / d g^2``) and implement ``value_and_grad``,
    ``_reference_solution`` and the BN methods.
    """

    name: str = "problem"
    dim: int
    S: np.ndarray
    u: np.ndarray | None = None
    smoothness: float | None = None
    strong_convexity: float | None = None
    length_smoothness: float = 1.0
    population: bool = True

    # ----------------------------------------------------------------- spectra
    def _spectrum(self) -> np.ndarray:
        if getattr(self, "_eig", None) is None:
            self._eig = np.linalg.eigvalsh(self.S)
        return self._eig

    @property
    def L(self) -> float:
        """``lambda_max(S)``."""
        return float(self._spectrum()[-1])

    @property
    def mu(self) -> float:
        """``lambda_min(S)``."""
        return float(self._spectrum()[0])

    @property
    def kappa(self) -> float:
        """``L / mu``, the condition number of ``S``."""
        return self.L / self.mu

    def _cho(self):
        if getattr(self, "_cho_S", None) is None:
            self._cho_S = cho_factor(self.S)
        return self._cho_S

    def solve_S(self, v: np.ndarray) -> np.ndarray:
        """``S^{-1} v`` by a cached Cholesky factorization."""
        return cho_solve(self._cho(), v)

    # --------------------------------------------------------------- objective
    def check_x(self, x, name: str = "x") -> np.ndarray:
        """Validate a flat parameter vector of length ``dim``."""
        x = as_finite_array(x, name)
        if x.shape != (self.dim,):
            raise ValueError(f"{name} must have shape ({self.dim},), got {x.shape}")
        return x

    @abc.abstractmethod
    def value_and_grad(self, x) -> tuple[float, np.ndarray]:
        """``(f(x), grad f(x))``."""

    def f(self, x) -> float:
        """Objective value ``f(x)``."""
        return self.value_and_grad(x)[0]

    def grad(self, x) -> np.ndarray:
        """Gradient ``grad f(x)``."""
        return self.value_and_grad(x)[1]

    def grad_norm2(self, G: np.ndarray) -> float:
        """Squared gradient norm ``||G||^2_{S^-1}`` (MATH.md §4, §7)."""
        return float(G @ self.solve_S(G))

    @abc.abstractmethod
    def _reference_solution(self) -> tuple[np.ndarray, float]:
        """Independent reference optimum (closed form, 1-D solve or L-BFGS)."""

    def solution(self) -> tuple[np.ndarray, float]:
        """``(x_star, f_star)`` from an independent reference solver (cached)."""
        if getattr(self, "_solution", None) is None:
            x, fx = self._reference_solution()
            x.setflags(write=False)
            self._solution = (x, float(fx))
        return self._solution

    def initial_point(self, seed=0) -> np.ndarray:
        """A seeded random start with ``||x0||_S = 1`` (the same for every method)."""
        rng = as_seed_rng(seed)
        x = rng.standard_normal(self.dim)
        return x / np.sqrt(x @ self.S @ x)

    def config(self) -> dict[str, Any]:
        """A JSON-serializable description of the instance (for results metadata)."""
        return {"problem": self.name, "dim": self.dim, "kappa_S": self.kappa}

    # ---------------------------------------------------------------- BN layer
    @abc.abstractmethod
    def to_bn(self, x) -> tuple[np.ndarray, Any]:
        """Split ``x`` into a direction ``w`` and a length ``g``."""

    @abc.abstractmethod
    def from_bn(self, w, g) -> np.ndarray:
        """``x = g w / ||w||_S`` (per unit)."""

    @abc.abstractmethod
    def value_and_grad_bn(self, w, g) -> BNEval:
        """Value, BN gradients and original gradient at ``(w, g)``."""

    def f_bn(self, w, g) -> float:
        """``f(w, g) = f(g w / ||w||_S)``."""
        return self.f(self.from_bn(w, g))

    def grad_bn(self, w, g):
        """``(grad_w f(w, g), d_g f(w, g))`` by the chain rule of MATH.md §1."""
        ev = self.value_and_grad_bn(w, g)
        return ev.grad_w, ev.grad_g

    @abc.abstractmethod
    def dg_bn(self, w, g):
        """``d_g f(w, g)``, cheap: reuses the cached projection of ``w``."""

    def __repr__(self) -> str:
        kind = "population" if self.population else "empirical"
        return f"{type(self).__name__}({kind}, dim={self.dim}, kappa={self.kappa:.4g})"


class LinearProblem(Problem):
    """A single-unit problem ``f(w~)`` with ``x = w~ in R^d`` (OLS and halfspaces).

    Subclasses implement ``_direction_state(w) -> dict`` (quantities that depend on the
    direction only: ``Sw``, ``||w||_S``, projections ``Xw``...), ``_eval_scaled(state, a)``
    returning ``(f, grad f)`` at ``w~ = a w``, ``_dg(state, g)`` and ``_c1(state, a)``. The
    state of the last direction is cached, so a bisection on ``g`` never recomputes it.
    """

    # ------------------------------------------------------------ state cache
    def _state(self, w: np.ndarray) -> dict:
        cache = getattr(self, "_cache", None)
        if cache is not None and cache[0].shape == w.shape and np.array_equal(cache[0], w):
            return cache[1]
        Sw = self.S @ w
        nS2 = float(w @ Sw)
        if not nS2 > 0.0:
            raise ValueError("w: ||w||_S = 0 (w = 0 or in the null space of S); "
                             "the BN direction is undefined")
        state = {"Sw": Sw, "nS": np.sqrt(nS2), "uw": float(self.u @ w)}
        state.update(self._direction_state(w))
        self._cache = (w.copy(), state)
        return state

    def _direction_state(self, w: np.ndarray) -> dict:
        return {}

    @abc.abstractmethod
    def _eval_scaled(self, w: np.ndarray, state: dict, a: float) -> tuple[float, np.ndarray]:
        """``(f(a w), grad f(a w))`` using the cached direction state."""

    @abc.abstractmethod
    def _dg(self, state: dict, g: float) -> float:
        """``d_g f(w, g)`` from the direction state."""

    @abc.abstractmethod
    def _c1(self, state: dict, a: float) -> float:
        """Stein coefficient ``c1`` of ``grad f(w~) = c1 u + c2 S w~`` at ``w~ = a w``."""

    def _check_bn(self, w, g) -> tuple[np.ndarray, float]:
        w = as_finite_array(w, "w")
        if w.shape != (self.dim,):
            raise ValueError(f"w must have shape ({self.dim},), got {w.shape}")
        if np.ndim(g) != 0 or not np.isfinite(g):
            raise ValueError(f"g must be a finite scalar, got {g!r}")
        return w, float(g)

    # --------------------------------------------------------------- BN maps
    def to_bn(self, x) -> tuple[np.ndarray, float]:
        """``w = x``, ``g = ||x||_S`` (so that ``from_bn(*to_bn(x)) == x``)."""
        x = self.check_x(x)
        nS = float(np.sqrt(x @ self.S @ x))
        if not nS > 0:
            raise ValueError("x0: the zero vector has no BN direction; pass a non-zero x0")
        return x.copy(), nS

    def from_bn(self, w, g) -> np.ndarray:
        """``w~ = g w / ||w||_S`` (MATH.md eq. 1)."""
        w, g = self._check_bn(w, g)
        return (g / self._state(w)["nS"]) * w

    def f_bn(self, w, g) -> float:
        w, g = self._check_bn(w, g)
        st = self._state(w)
        return self._eval_scaled(w, st, g / st["nS"])[0]

    def value_and_grad_bn(self, w, g) -> BNEval:
        """Chain rule of MATH.md §1 around the original gradient ``G = grad f(w~)``."""
        w, g = self._check_bn(w, g)
        return self._value_and_grad_bn(w, self._state(w), g)

    def _value_and_grad_bn(self, w: np.ndarray, st: dict, g: float) -> BNEval:
        """:meth:`value_and_grad_bn` from the direction state ``st`` of ``w`` (no checks)."""
        nS = st["nS"]
        a = g / nS
        fun, G = self._eval_scaled(w, st, a)
        wG = float(w @ G)
        grad_w = a * (G - st["Sw"] * (wG / nS**2))
        return BNEval(fun=fun, grad_w=grad_w, grad_g=wG / nS, grad_x=G)

    def dg_bn(self, w, g) -> float:
        """``d_g f(w, g)``: O(n) (empirical) or O(K) (population) once ``w`` is cached."""
        w, g = self._check_bn(w, g)
        return self._dg(self._state(w), g)

    def length_derivative(self, w) -> Callable[[float], float]:
        """``g -> d_g f(w, g)`` for a fixed direction (GDNP's bisection, MATH.md §4).

        The direction state (``Sw``, ``||w||_S``, the projections ``Xw``) is computed once
        here, so each call costs O(n) (empirical) or O(K) (population) with no re-validation.
        """
        w, _ = self._check_bn(w, 1.0)
        return partial(self._dg, self._state(w))

    def _length_function(self, state: dict) -> Callable[[float], float]:
        """``g -> d_g f(w, g)`` from the direction state (what :meth:`length_derivative`
        returns, without validating ``w``)."""
        return partial(self._dg, state)

    def length_model(self, w) -> CertifiedDerivative | None:
        """Certified signs of ``g -> d_g f(w, g)`` (:mod:`gdnp.problems.taylor`), or ``None``.

        Its evaluations return exactly what :meth:`length_derivative` returns, and each adds
        a slope and curvature bounds from which :func:`gdnp.bisect` decides later signs
        without another evaluation. Implemented for halfspaces (sample means and the
        Gauss-Hermite rule) whose loss has the bounds it needs (logistic, sigmoid); elsewhere
        ``None``.
        """
        w, _ = self._check_bn(w, 1.0)
        return self._length_model(self._state(w))

    def _length_model(self, state: dict) -> CertifiedDerivative | None:
        return None

    def length_locator(self, w) -> MassRatioLocator | None:
        """Batched values of ``g -> d_g f(w, g)`` with mass-ratio sign certificates
        (:class:`gdnp.problems.taylor.MassRatioLocator`), or ``None``.

        Its values are bit for bit those of :meth:`length_derivative`; :func:`gdnp.bisect`
        uses it to locate the root in a few passes and to decide the signs at the midpoints
        away from it without evaluating them (theory guide §4). Implemented for the
        population halfspace with the logistic loss; elsewhere ``None``.
        """
        w, _ = self._check_bn(w, 1.0)
        return self._length_locator(self._state(w))

    def _length_locator(self, state: dict) -> MassRatioLocator | None:
        return None

    def stein_c1(self, w, g) -> float:
        """``c1(w~)`` of MATH.md eq. (6) at ``w~ = g w/||w||_S`` (sample mean if empirical)."""
        w, g = self._check_bn(w, g)
        st = self._state(w)
        return self._c1(st, g / st["nS"])

    def u_dot(self, w) -> float:
        """``u' w``."""
        return float(self.u @ w)

    def norm_S(self, w) -> float:
        """``||w||_S = sqrt(w'Sw)`` from the cached direction state (MATH.md §0)."""
        w, _ = self._check_bn(w, 1.0)
        return self._state(w)["nS"]

    def rayleigh(self, w) -> float:
        """``rho(w) = -(u'w)^2 / (w'Sw)`` (MATH.md eq. 3), from the cached direction state."""
        w, _ = self._check_bn(w, 1.0)
        st = self._state(w)
        return -st["uw"] ** 2 / st["nS"] ** 2

    @property
    def rho_star(self) -> float:
        """``rho* = -u' S^-1 u`` (MATH.md §2)."""
        return -float(self.u @ self.solve_S(self.u))

    def rayleigh_grad(self, w) -> np.ndarray:
        """``grad rho(w) = -(2u'w/||w||_S^2)(u - (u'w/||w||_S^2) S w)`` (MATH.md §2)."""
        w = np.asarray(w, dtype=float)
        Sw = self.S @ w
        q = float(w @ Sw)
        uw = float(self.u @ w)
        return -(2.0 * uw / q) * (self.u - (uw / q) * Sw)
