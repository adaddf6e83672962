"""The one ``Problem`` interface every solver consumes, and its single-unit BN layer.

Original coordinates: a flat parameter vector ``x``. BN coordinates (theory guide §1):
``x = w~ = g * w / ||w||_S`` with direction ``w`` and length ``g``; by the chain rule

    grad_w f(w, g) = (g/||w||_S) (I - S w w' / ||w||_S^2) grad f(w~),
    d_g f(w, g)    = w' grad f(w~) / ||w||_S.
"""

from __future__ import annotations

import abc
import copy
import math
import numbers
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import numpy as np
from scipy.linalg import cho_factor, solve_triangular
from scipy.linalg.lapack import dpotrs

from ._validate import NonFiniteError, all_finite, as_finite_array, as_seed_rng, spd_rtol
from .data import BatchData, SampleMoment, SingularCovarianceError
from .normalization import Normalizer, check_normalization, make_normalizer
from .taylor import CertifiedDerivative, MassRatioLocator, SignThreshold

__all__ = ["Problem", "LinearProblem", "BNEval", "Solution", "check_indices"]

_AND = np.logical_and.reduce  # ndarray.all without its Python wrapper (hot cache test)
# a named tuple made by tuple.__new__ skips the keyword handling of its generated __new__
# (~0.4 us per BN evaluation, a few percent of a small problem's iteration)
_new_tuple = tuple.__new__


class BNEval(NamedTuple):
    """Value and gradients at a point given in BN coordinates (an immutable named tuple).

    ``fun = f(w~)``, ``grad_w``/``grad_g`` the BN gradients and ``grad_x = grad f(w~)`` the
    gradient in original coordinates (flat), at ``w~ = g w / N(w)`` (theory guide §1).

    Parameters
    ----------
    fun : float
        ``f(w~)``.
    grad_w : ndarray
        ``grad_w f(w, g)``, orthogonal to ``w`` when ``bn_eps = 0`` (theory guide §1).
    grad_g : float or ndarray
        ``d_g f(w, g)`` (one per unit for the MLP).
    grad_x : ndarray
        ``grad f(w~)``, the gradient in original coordinates.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import OLS
    >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
    >>> ev = prob.value_and_grad_bn([1.0, 0.5], 1.0)
    >>> round(float(ev.fun), 6), round(float(ev.grad_g), 6)
    (2.757359, -2.242641)
    """

    fun: float
    grad_w: np.ndarray
    grad_g: np.ndarray | float
    grad_x: np.ndarray


class _SpectralConstant:
    """A problem constant ``factor * L`` or ``factor * mu`` computed on its first read.

    Data problems set the factor (:meth:`Problem._spectral_constants`) instead of the value:
    a mini-batch problem is built at every stochastic step, and an eigendecomposition of its
    ``S`` per step (to set a smoothness no step reads) cost a tenth of the step. The value,
    once read, is stored on the instance; an assignment replaces it (``None``: unknown).
    """

    def __init__(self, source: str):
        self.source = source

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"None, or a factor times {self.source} (computed when first read)"

    def __get__(self, problem, owner=None):
        if problem is None:
            return self
        factor = problem.__dict__.get(f"_{self.name}_factor")
        if factor is None:
            return None
        base = getattr(problem, self.source)
        if self.source == "mu" and not base > spd_rtol(problem.S.shape[0]) * problem.L:
            base = 0.0  # within rounding of 0 (a singular S, a mini-batch's): no curvature
        value = factor * base
        problem.__dict__[self.name] = value
        return value


class _LengthSmoothness:
    """``Problem.length_smoothness``: ``None`` unless a constructor sets it, or computed on its
    first read where :meth:`Problem._set_normalization` deferred it (a mini-batch under the
    weight norm, whose bound needs ``lambda_max`` of its ``S``: an eigendecomposition per
    stochastic step that no step reads, theory guide §10, §11). The value, once read, is stored
    on the instance; an assignment replaces it."""

    def __repr__(self) -> str:
        return "None, or set by the problem (computed when first read for a mini-batch)"

    def __get__(self, problem, owner=None):
        if problem is None:
            return self
        if not problem.__dict__.get("_length_smoothness_deferred"):
            return None
        ratio = problem._length_ratio_bound()
        value = None if ratio is None else problem._length_bound(ratio)
        problem.__dict__["length_smoothness"] = value
        return value


# the smallest positive normal float64
_TINY = float(np.finfo(float).tiny)


class Solution(NamedTuple):
    """A reference optimum, as :meth:`Problem.solution` returns it: a tuple ``(x, fun)``
    that unpacks as ``x_star, f_star = problem.solution()``.

    Attributes
    ----------
    x : ndarray
        The minimiser (read-only).
    fun : float
        ``f(x)``.

    Examples
    --------
    >>> from gdnp.problems import OLS
    >>> sol = OLS.random(3, 10.0, seed=0).solution()
    >>> sol.x.shape, sol.fun == sol[1]
    ((3,), True)
    """

    x: np.ndarray
    fun: float


class Problem(abc.ABC):
    """Abstract objective ``f`` over a flat parameter ``x`` with a BN reparametrization.

    Subclasses set ``name``, ``dim``, ``S`` (the BN metric, SPD), ``u`` (or ``None``),
    ``smoothness`` (``zeta``, or ``None`` when unknown), ``strong_convexity`` (or ``None``),
    ``length_smoothness`` (a bound on ``d^2 f / d g^2``) and implement ``value_and_grad``,
    ``_reference_solution`` and the BN methods ``to_bn``, ``from_bn``, ``value_and_grad_bn``
    and ``dg_bn`` of ``f_bn(w, g) = f(g w / N(w))`` (theory guide §1, §10).

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import OLS, Problem
    >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
    >>> isinstance(prob, Problem), prob.dim, prob.smoothness, prob.kappa
    (True, 2, 8.0, 4.0)
    """

    #: The problem's kind: ``"ols"``, ``"halfspace"`` or ``"mlp"``.
    name: str = "problem"
    #: The length of the flat parameter ``x`` (``d``; ``hidden * (d + 1)`` for the MLP).
    dim: int
    #: The BN metric ``S`` (``E[xx']`` or the centred sample covariance; theory guide §0). A
    #: mini-batch's is formed when first read (theory guide §11; see :meth:`batch`).
    S: np.ndarray
    #: A mini-batch's ``S`` by its samples (``None``: ``S`` is an array of the problem's own):
    #: the products ``S v`` of its steps, ``O(Bd)``, without forming ``S`` (``O(Bd^2)``).
    _S_samples: SampleMoment | None = None
    #: The vector ``u`` of theory guide §0 (``-E[yx]`` for OLS, ``E[z]`` for halfspaces;
    #: ``None`` where none is defined).
    u: np.ndarray | None = None
    #: The smoothness ``zeta`` of ``f`` (a factor times ``L``), ``None`` when unknown.
    smoothness: float | None = _SpectralConstant("L")
    #: The strong convexity of ``f`` (a factor times ``mu``), ``None`` when ``f`` has none.
    strong_convexity: float | None = _SpectralConstant("mu")
    #: A bound on ``d^2 f / d g^2`` along the length, over every direction (BNGD's default
    #: length rate is its inverse), ``None`` when unknown: ``zeta_g sup_w w'Sw / N(w)^2``
    #: with ``zeta_g`` the bound for ``N = ||w||_S`` (theory guide §10), unknown for the l1,
    #: l3 and linf norms.
    length_smoothness: float | None = _LengthSmoothness()
    #: ``True`` for an exact population problem, ``False`` for one built from data.
    population: bool = True
    #: The norm ``N`` of the BN coordinates (theory guide §10).
    normalization: str = "batch"
    #: Whether that norm is centred (theory guide §10).
    centered: bool = True
    #: BN's epsilon in ``N(w) = sqrt(w'Sw + bn_eps)``.
    bn_eps: float = 0.0
    _normalizer: Normalizer | None = None  # None: the idealised N(w) = ||w||_S (fast path)

    def __getattr__(self, name: str):
        """A mini-batch's ``S``, formed on its first read from the samples (theory guide §11)
        and then an ordinary attribute; every other missing attribute is an
        ``AttributeError`` as usual. (Called only where the ordinary lookup fails: no cost
        to a problem whose ``S`` is set.)"""
        # (through __dict__ only: copy and pickle look up hooks on an instance without state)
        moment = self.__dict__.get("_S_samples") if name == "S" else None
        if moment is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}",
                                 name=name, obj=self)
        S = self.__dict__["S"] = moment.matrix()
        return S

    def _S_dot(self, v: np.ndarray) -> np.ndarray:
        """``S v``: by the samples on a mini-batch (``O(Bd)``, theory guide §11), else with
        ``S``."""
        moment = self._S_samples
        return self.S.dot(v) if moment is None else moment.dot(v)

    def _quadratic(self, x: np.ndarray) -> float:
        """``x'Sx`` (``x @ S @ x``; a mini-batch's from its samples)."""
        moment = self._S_samples
        return x @ self.S @ x if moment is None else x @ moment.dot(x)

    def _metric(self) -> np.ndarray | SampleMoment:
        """``S``, or a mini-batch's :class:`~gdnp.problems.data.SampleMoment` (products
        without forming it), for the normalizers."""
        moment = self._S_samples
        return self.S if moment is None else moment

    # ----------------------------------------------------------------- spectra
    def _spectral_constants(self, smoothness: float, strong_convexity: float | None) -> None:
        """Set ``smoothness = smoothness * L`` and ``strong_convexity = strong_convexity * mu``
        (``None``: unknown), each computed when first read."""
        for name, factor in (("smoothness", smoothness), ("strong_convexity", strong_convexity)):
            self.__dict__.pop(name, None)
            self.__dict__[f"_{name}_factor"] = factor

    def _spectrum(self) -> np.ndarray:
        if getattr(self, "_eig", None) is None:
            self._eig = np.linalg.eigvalsh(self.S)
        return self._eig

    @property
    def L(self) -> float:
        """``L = lambda_max(S)``, the largest eigenvalue of the BN metric (theory guide §0).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.L, prob.mu, prob.kappa
        (4.0, 1.0, 4.0)
        """
        return float(self._spectrum()[-1])

    @property
    def mu(self) -> float:
        """``mu = lambda_min(S)``, the smallest eigenvalue of the BN metric (theory guide §0).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.mu
        1.0
        """
        return float(self._spectrum()[0])

    @property
    def kappa(self) -> float:
        """``kappa = L / mu``, the condition number of ``S`` (theory guide §0).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.kappa
        4.0
        """
        # a mu within rounding of 0 (a mini-batch's singular S) is no eigenvalue: inf
        L, mu = self.L, self.mu
        return L / mu if mu > spd_rtol(self.dim) * L else math.inf

    def _cho(self):
        if getattr(self, "_cho_S", None) is None:
            if self._singular_by_count():
                raise SingularCovarianceError(self._singular_message())
            try:
                self._cho_S = cho_factor(self.S)
            except np.linalg.LinAlgError:
                raise SingularCovarianceError(self._singular_message()) from None
        return self._cho_S

    def _batch_rank_bound(self) -> int | None:
        """A mini-batch's bound on the rank of its ``S`` without ridge: its distinct samples,
        less one where it is centred with its own mean (``None``: not a batch, or a ridge)."""
        info = getattr(self, "info", None) or {}
        distinct = info.get("distinct")
        data = getattr(self, "data", None)
        if info.get("batch_of") is None or distinct is None or \
                getattr(data, "ridge", 0.0):
            return None
        return distinct - (info.get("statistics") == "batch")

    def _singular_by_count(self) -> bool:
        """Whether a mini-batch's ``S`` is singular by counting its samples alone (a
        Cholesky factorization of it may succeed on rounding-level pivots: duplicated rows
        had given ``||grad f||_{S^-1}`` of rounding)."""
        bound = self._batch_rank_bound()
        return bound is not None and bound < self.S.shape[0]

    def _singular_message(self) -> str:
        """Why ``S`` has no inverse here, and what to do (a mini-batch's own ``S``)."""
        info = getattr(self, "info", None) or {}  # (a problem of one's own may have none)
        n, of = info.get("n"), info.get("batch_of")
        dim = self.S.shape[0]  # (the inputs' dimension: the MLP's dim counts its weights)
        bound = self._batch_rank_bound()
        if of is not None and bound is not None:
            distinct = info["distinct"]
            samples = (f"{n} {'centred ' if info.get('statistics') == 'batch' else ''}samples"
                       + (f" ({distinct} distinct)" if distinct != n else ""))
            return (f"S of this mini-batch is singular: {samples} in dimension {dim} span at "
                    f"most {bound} directions, so what needs S^-1 (the solvers' "
                    "||grad f||_{S^-1}, solution(), solve_S) is undefined; f, grad and the BN "
                    "functions are not. To train on mini-batches, pass batch_size= to "
                    "gdnp.solve on the full problem, or take a batch of at least "
                    f"{dim + (bound < distinct)} distinct samples")
        return (f"S is not positive definite (dimension {dim}): what needs S^-1 is "
                "undefined (theory guide §9)")

    def solve_S(self, v: np.ndarray) -> np.ndarray:
        """``S^{-1} v`` by a cached Cholesky factorization (theory guide §0).

        Parameters
        ----------
        v : ndarray
            A vector (or matrix of columns) of length ``dim``.

        Returns
        -------
        ndarray
            ``S^{-1} v``.

        Raises
        ------
        SingularCovarianceError
            If ``S`` is not positive definite (a mini-batch's singular ``S``).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.solve_S(np.array([1.0, 4.0]))
        array([1., 1.])
        """
        # LAPACK's potrs directly: what scipy's cho_solve calls (same numbers), without its
        # ~35 us of wrappers, which dominated a small problem's iteration (the recorder's
        # ||grad f||_{S^-1} at every iterate)
        c, lower = self._cho()
        b = np.asarray(v, dtype=float)
        if b.ndim not in (1, 2) or b.shape[0] != c.shape[0]:
            raise ValueError(f"incompatible dimensions ({c.shape} and {b.shape})")
        if not all_finite(b):
            raise ValueError("array must not contain infs or NaNs")
        x, info = dpotrs(c, b, lower=lower)
        if info != 0:  # pragma: no cover - only for an illegal argument
            raise ValueError(f"illegal value in {-info}th argument of internal potrs")
        return x

    # --------------------------------------------------------------- objective
    def check_x(self, x, name: str = "x") -> np.ndarray:
        """Validate a flat parameter vector of length ``dim`` (theory guide §0).

        Parameters
        ----------
        x : array_like
            The candidate point.
        name : str
            Its name in error messages.

        Returns
        -------
        ndarray
            ``x`` as a float array of shape ``(dim,)``.

        Raises
        ------
        ValueError
            If ``x`` has the wrong shape.
        NonFiniteError
            If ``x`` has a NaN or infinite entry.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.check_x([1, 2])
        array([1., 2.])
        >>> prob.check_x([1.0])
        Traceback (most recent call last):
        ...
        ValueError: x must have shape (2,), got (1,)
        """
        x = as_finite_array(x, name)
        if x.shape != (self.dim,):
            hint = (" (a number where the start goes: pass maxiter, tol or seed by keyword)"
                    if name == "x0" and x.ndim == 0 else self._layout_hint())
            raise ValueError(f"{name} must have shape ({self.dim},), got {x.shape}{hint}")
        return x

    def _layout_hint(self) -> str:
        """What a flat parameter vector holds, for a shape error (the MLP's layout)."""
        return ""

    @abc.abstractmethod
    def value_and_grad(self, x) -> tuple[float, np.ndarray]:
        """The objective and its gradient in original coordinates, ``(f(x), grad f(x))``.

        The solvers' one evaluation per step (theory guide §0, §6).

        Parameters
        ----------
        x : array_like
            A point of shape ``(dim,)``.

        Returns
        -------
        fun : float
            ``f(x)``.
        grad : ndarray
            ``grad f(x)``, shape ``(dim,)``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.value_and_grad([0.0, 0.0])
        (6.0, array([-2., -8.]))
        """

    def f(self, x) -> float:
        """Objective value ``f(x)``.

        Parameters
        ----------
        x : array_like
            A point of shape ``(dim,)``.

        Returns
        -------
        float
            ``f(x)``; on OLS ``x'Sx + 2u'x + E[y^2]`` (theory guide §2).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.f([0.0, 0.0]), prob.f([1.0, 1.0])
        (6.0, 1.0)
        """
        return self.value_and_grad(x)[0]

    def grad(self, x) -> np.ndarray:
        """Gradient ``grad f(x)``.

        Parameters
        ----------
        x : array_like
            A point of shape ``(dim,)``.

        Returns
        -------
        ndarray
            ``grad f(x)``, shape ``(dim,)``; on OLS ``2(Sx + u)`` (theory guide §2).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.grad([0.0, 0.0])
        array([-2., -8.])
        """
        return self.value_and_grad(x)[1]

    def grad_norm2(self, G: np.ndarray) -> float:
        """Squared gradient norm ``||G||^2_{S^-1} = G' S^{-1} G`` (theory guide §0).

        Parameters
        ----------
        G : ndarray
            A gradient in original coordinates.

        Returns
        -------
        float
            ``G' S^{-1} G``, the quantity the solvers compare with ``tol**2``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.grad_norm2(prob.grad([0.0, 0.0]))
        20.0
        """
        # LAPACK's potrs directly, and solve_S's checks only where the result is not finite,
        # to raise the same errors for a G with NaN or inf entries or of the wrong shape
        value = self._potrs_norm2(G)
        if value is not None and (math.isfinite(value) or all_finite(G)):
            return value  # (a finite G whose norm overflows: what solve_S gives too)
        return float(G @ self.solve_S(G))

    def _potrs_norm2(self, G) -> float | None:
        """``G' S^-1 G`` by LAPACK's potrs on the cached factor, without checks; ``None`` where
        that path does not apply (not a float vector of length ``dim``)."""
        if type(G) is np.ndarray and G.dtype == np.float64 and G.shape == (self.dim,):
            c, lower = self._cho()
            x, info = dpotrs(c, G, lower=lower)
            if info == 0:
                return float(G.dot(x))
        return None

    def _grad_norm2_or_inf(self, G: np.ndarray) -> float:
        """:meth:`grad_norm2`, or a non-finite number (never an error) when ``G`` has a NaN
        or infinite entry: the recorder's test at every solver iterate.

        A finite result proves every entry of ``G`` finite: an infinite or NaN ``G_i`` makes
        ``(S^-1 G)_i`` infinite or NaN too, hence the term ``G_i (S^-1 G)_i`` and the sum.
        (The solvers run with numpy's floating-point warnings silenced; outside them a
        non-finite ``G`` also warns.)
        """
        if type(self).grad_norm2 is Problem.grad_norm2:  # (a problem may have its own norm)
            value = self._potrs_norm2(G)
            if value is not None:
                return value
        return self.grad_norm2(G) if all_finite(G) else math.inf

    @abc.abstractmethod
    def _reference_solution(self) -> tuple[np.ndarray, float]:
        """Independent reference optimum (closed form, 1-D solve or L-BFGS)."""

    def solution(self) -> Solution:
        """``(x_star, f_star)`` from an independent reference solver (cached), a
        :class:`Solution` (a named tuple: ``.x``, ``.fun``).

        The reference is a closed form (OLS: ``x* = -S^{-1} u``, theory guide §2), a 1-D
        solve on the line ``S^{-1} u`` (population halfspaces, theory guide §3) or a
        quasi-Newton solve (data halfspaces, MLP); it never uses the solvers it checks.

        Returns
        -------
        x_star : ndarray
            The minimiser (read-only).
        f_star : float
            ``f(x_star)``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.solution()
        Solution(x=array([1., 1.]), fun=1.0)
        >>> x_star, f_star = prob.solution()
        """
        cached = getattr(self, "_solution", None)
        if isinstance(cached, Exception):  # no minimiser: a property of the problem, kept
            raise copy.copy(cached)
        if cached is None:
            try:
                x, fx = self._reference_solution()
            except Exception as exc:
                if getattr(exc, "permanent", False):  # (NoFiniteMinimizerError): not again
                    # a copy, raised as copies: an exception raised gets a traceback, whose
                    # frames hold this problem (a cycle that had kept it, and its data,
                    # alive until the garbage collector ran)
                    self._solution = copy.copy(exc)
                raise
            self._check_reference(x, fx)
            x.setflags(write=False)
            self._solution = Solution(x, float(fx))
        return self._solution

    def _check_reference(self, x, fx) -> None:
        """A reference optimum of one's own must be a finite point of shape ``(dim,)`` and a
        finite ``f*`` (a NaN ``f*`` had made every recorded gap NaN, silently)."""
        shape = np.shape(x) if isinstance(x, np.ndarray) else None
        ok_x = shape == (self.dim,) and all_finite(x)
        ok_f = np.ndim(fx) == 0 and isinstance(np.asarray(fx).item(), numbers.Real) and \
            math.isfinite(float(fx))
        if not (ok_x and ok_f):
            what = f"an array of shape {shape}" if shape is not None else type(x).__name__
            raise ValueError(f"{type(self).__name__}._reference_solution returned x = {what} "
                             f"and f* = {fx!r}; a finite numpy array of shape ({self.dim},) "
                             "and a finite f* are needed")

    def initial_point(self, seed=0) -> np.ndarray:
        """A seeded random start with ``||x0||_S = 1`` (the same for every method).

        Parameters
        ----------
        seed : int or numpy.random.Generator
            Seed of the standard normal draw.

        Returns
        -------
        ndarray
            ``x0 = z / ||z||_S`` for a standard normal ``z`` (theory guide §0).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> x0 = prob.initial_point(seed=0)
        >>> round(float(x0 @ prob.S @ x0), 12)
        1.0
        """
        rng = as_seed_rng(seed)
        x = rng.standard_normal(self.dim)
        return x / np.sqrt(self._quadratic(x))

    def config(self) -> dict[str, Any]:
        """A JSON-serializable description of the instance (for results metadata).

        Returns
        -------
        dict
            ``problem``, ``dim``, ``kappa_S`` and the problem's own settings (and the
            normalization options when ``N`` is not the idealised ``||w||_S``,
            theory guide §10).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.config()
        {'problem': 'ols', 'dim': 2, 'kappa_S': 4.0, 'population': True}
        """
        out = {"problem": self.name, "dim": self.dim, "kappa_S": self.kappa}
        if self._normalizer is not None:
            out.update(normalization=self.normalization, centered=self.centered,
                       bn_eps=self.bn_eps)
        return out

    # --------------------------------------------------------- normalization
    def _set_normalization(self, normalization="batch", centered=True, bn_eps=0.0) -> None:
        """Choose ``N`` in ``w~ = g w / N(w)`` (theory guide §10); needs ``S`` (and the data
        ``X`` with its column means for the sample-based norms)."""
        kind, centered, eps = check_normalization(normalization, centered, bn_eps)
        if self.population and not centered and kind != "weight":  # (||w||_2 has no centring)
            raise ValueError("centered=False: a population problem is given by the moments of "
                             "centred features, without their means; BN without centring "
                             "needs data (build the problem from samples)")
        self.normalization, self.centered, self.bn_eps = kind, centered, eps
        X = None if self.population else getattr(self, "X", None)
        mean = self._raw_mean()
        if X is not None and mean is None:
            mean = np.zeros(self.dim)
        self._normalizer = make_normalizer(kind, centered, eps, S=self._metric(), X=X,
                                           mean=mean)
        # d^2 f/dg^2 = (w/N)' hess f (w/N) <= zeta_g w'Sw/N(w)^2, zeta_g the constant for
        # N = ||w||_S (set by the constructor, kept here for the batches' copies)
        base = self.__dict__.get("_length_curvature", self.length_smoothness)
        self._length_curvature = base
        self.__dict__.pop("_length_smoothness_deferred", None)
        if base is not None:
            if self._S_samples is not None and self.normalization == "weight":
                # a mini-batch: lambda_max(S_B) when first read (theory guide §11)
                self.__dict__.pop("length_smoothness", None)
                self._length_smoothness_deferred = True
                return
            ratio = self._length_ratio_bound()
            self.length_smoothness = None if ratio is None else self._length_bound(ratio)

    def _length_bound(self, ratio: float) -> float:
        """``length_smoothness`` where ``w'Sw/N(w)^2 <= ratio``: the bound for the batch norm
        (``ratio = 1``) times ``ratio`` (``d^2 f/dg^2 = (w/N)' hess f (w/N)``)."""
        return float(self._length_curvature * ratio)

    def _length_ratio_bound(self) -> float | None:
        """``sup_w w'Sw / N(w)^2`` (theory guide §10): 1 for the batch norm (its ``N^2`` is
        ``w'Sw``, or more with ``bn_eps`` or without centring), ``lambda_max(S)`` for the
        weight norm, ``None`` (no closed form) for the sample-based l1, l3 and linf norms."""
        if self.normalization == "batch":
            return 1.0
        if self.normalization == "weight":
            return float(np.linalg.eigvalsh(self.S)[-1])
        return None

    def _length_ratio(self, state) -> float:
        """``||w||_S^2 / N(w)^2`` at the direction of ``state``: the factor by which the
        curvature along the length exceeds the batch norm's (theory guide §10)."""
        return (state["nS"] / state["N"]) ** 2

    def _length_ratio_of(self, w: np.ndarray) -> float:
        """:meth:`_length_ratio` at ``w`` without a direction state (no pass over the data's
        margins, which a state of an empirical problem makes): the same numbers as
        :meth:`_state`'s ``nS`` and ``N``."""
        nS2 = float(w.dot(self._S_dot(w)))
        norm = self._normalizer
        if norm is None:
            return 1.0 if nS2 > 0.0 else math.nan
        N, _ = norm.value_and_grad(w)
        return (math.sqrt(max(nS2, 0.0)) / N) ** 2

    def _raw_mean(self) -> np.ndarray | None:
        """Column means of the raw data in the problem's coordinates (``None``: population)."""
        data = getattr(self, "data", None)
        if data is None:
            return None
        return data.mean if data.basis is None else data.mean @ data.basis

    @property
    def normalizer(self) -> Normalizer:
        """The :class:`~gdnp.problems.normalization.Normalizer` of the BN coordinates (the
        idealised ``||w||_S`` is ``Normalizer("batch", M=S)``; theory guide §10).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.normalizer
        Normalizer('batch', centered=True, eps=0)
        >>> round(prob.normalizer.value(np.array([1.0, 1.0])), 6)
        2.236068
        """
        if self._normalizer is None:
            return Normalizer("batch", M=self._metric())
        return self._normalizer

    # ---------------------------------------------------------------- BN layer
    @abc.abstractmethod
    def to_bn(self, x) -> tuple[np.ndarray, Any]:
        """Split ``x`` into a direction ``w`` and a length ``g`` (theory guide §1).

        Parameters
        ----------
        x : array_like
            A point in original coordinates.

        Returns
        -------
        w : ndarray
            The direction (single-unit problems: ``w = x``).
        g : float or ndarray
            The length, ``N(x)`` (one per unit for the MLP), so that ``from_bn(w, g) == x``.

        Raises
        ------
        ValueError
            If a unit of ``x`` is zero (no direction).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> w, g = prob.to_bn([1.0, 1.0])
        >>> w, round(g, 6)
        (array([1., 1.]), 2.236068)
        """

    def _to_bn(self, x, name: str):
        """:meth:`to_bn` with its errors naming the argument ``name`` (a solver's ``x0``), and
        its return checked: a pair ``(w, g)``."""
        out = self.to_bn(x)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError(f"{type(self).__name__}.to_bn returned {type(out).__name__}; a "
                            "pair (w, g) is needed")
        return out

    @abc.abstractmethod
    def from_bn(self, w, g) -> np.ndarray:
        """``x = g w / N(w)`` (per unit; theory guide §1, §10, ``N = ||.||_S`` by default).

        Parameters
        ----------
        w : array_like
            The direction (any non-zero scale).
        g : float or array_like
            The length (one per unit for the MLP).

        Returns
        -------
        ndarray
            ``w~ = g w / N(w)`` in original coordinates.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.from_bn([2.0, 2.0], np.sqrt(5.0))
        array([1., 1.])
        """

    @abc.abstractmethod
    def value_and_grad_bn(self, w, g) -> BNEval:
        """Value, BN gradients and original gradient at ``(w, g)`` (theory guide §1, §10).

        Parameters
        ----------
        w : array_like
            The direction.
        g : float or array_like
            The length.

        Returns
        -------
        BNEval
            ``fun = f(w~)``, ``grad_w``, ``grad_g = d_g f`` and ``grad_x = grad f(w~)`` at
            ``w~ = g w / N(w)``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> ev = prob.value_and_grad_bn([1.0, 0.5], 1.0)
        >>> ev.grad_w
        array([ 0.70710678, -1.41421356])
        """

    def f_bn(self, w, g) -> float:
        """``f_bn(w, g) = f(g w / N(w))`` (theory guide §1; ``N = ||.||_S`` by default).

        Parameters
        ----------
        w : array_like
            The direction.
        g : float or array_like
            The length.

        Returns
        -------
        float
            The objective at ``w~ = g w / N(w)``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> round(float(prob.f_bn([2.0, 2.0], np.sqrt(5.0))), 12)
        1.0
        """
        return self.f(self.from_bn(w, g))

    def grad_bn(self, w, g):
        """``(grad_w f(w, g), d_g f(w, g))`` by the chain rule of theory guide §1.

        ``grad_w f = (g/||w||_S)(I - S w w'/||w||_S^2) grad f(w~)`` and
        ``d_g f = w' grad f(w~) / ||w||_S`` (the general ``N`` of theory guide §10 replaces
        ``S w / ||w||_S`` by ``grad N(w)``).

        Parameters
        ----------
        w : array_like
            The direction.
        g : float or array_like
            The length.

        Returns
        -------
        grad_w : ndarray
            The direction gradient, orthogonal to ``w`` when ``bn_eps = 0`` (with ``bn_eps > 0``
            ``f`` is not invariant to the scale of ``w``: the user guide's normalizations
            page).
        grad_g : float or ndarray
            ``d_g f(w, g)`` (one per unit for the MLP).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> gw, dg = prob.grad_bn([1.0, 0.5], 1.0)
        >>> gw, round(float(dg), 6)
        (array([ 0.70710678, -1.41421356]), -2.242641)
        >>> abs(float(gw @ [1.0, 0.5])) < 1e-12
        True
        """
        ev = self.value_and_grad_bn(w, g)
        return ev.grad_w, ev.grad_g

    @abc.abstractmethod
    def dg_bn(self, w, g):
        """``d_g f(w, g) = w' grad f(w~) / N(w)``, cheap: reuses the cached projection of ``w``.

        The length derivative that GDNP's bisection drives to zero (theory guide §1, §4).

        Parameters
        ----------
        w : array_like
            The direction.
        g : float or array_like
            The length.

        Returns
        -------
        float or ndarray
            ``d_g f(w, g)`` (one per unit for the MLP).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> round(float(prob.dg_bn([1.0, 0.5], 1.0)), 6)
        -2.242641
        """

    # ------------------------------------------------------------ mini-batches
    def batch(self, indices, *, statistics: str = "batch") -> Problem:
        """The problem of one mini-batch ``X[indices]`` (theory guide §11).

        ``statistics="batch"`` (default): the batch's own centring and second moment, i.e. what
        ``BatchNorm1d`` computes in training mode on that batch: ``f_B`` averages the loss over
        ``x_i - mean_B``, and ``N`` uses ``S_B`` (or the batch's samples). ``"population"``:
        the same rows centred with the full-data mean, and the full data's ``N``; its gradient
        is an unbiased estimate of the full gradient. The batch's ``S`` may be singular
        (``len(indices) <= dim``): quantities that need ``S^-1`` are then undefined, but
        ``f``, ``grad`` and the BN functions are not.

        A step costs its batch alone, ``O(Bd)`` for ``B`` samples: the batch's ``S = X_B'X_B/B
        + ridge I`` is formed only when read (``batch.S``, or what needs ``S^-1`` or its
        spectrum), and its products ``S v`` (the BN direction state, the OLS gradient, the
        batch norm ``N``) come from the samples, ``X_B'(X_B v)/B + ridge v``; OLS's value is
        ``mean((y - X_B x)^2) + ridge ||x||^2``. They equal the products with ``S`` to
        rounding.

        Parameters
        ----------
        indices : array_like of int or bool
            Row indices into ``X`` (repeats allowed), or a boolean mask of length ``n``; at
            least 2 samples for batch statistics.
        statistics : {"batch", "population"}

        Returns
        -------
        Problem
            Of the same kind, with the same loss, normalization options (and, for the MLP,
            output weights).

        Raises
        ------
        ValueError
            For a population problem, an unknown ``statistics``, or indices out of range or
            too few.
        TypeError
            If ``indices`` is not a 1-D integer array.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((40, 3))
        >>> prob = OLS.from_data(X, X @ [1.0, -1.0, 0.5] + 0.1 * rng.standard_normal(40))
        >>> batch = prob.batch(np.arange(10))
        >>> batch.info["n"], batch.info["batch_of"], batch.info["statistics"]
        (10, 40, 'batch')
        """
        if self.population or getattr(self, "X", None) is None:
            raise ValueError(f"batch: {self!r} is a population problem and has no samples")
        self._check_batches("batch")
        statistics = statistics.lower() if isinstance(statistics, str) else statistics
        if statistics not in ("batch", "population"):
            raise ValueError(f"statistics must be 'batch' or 'population', got {statistics!r}")
        idx = check_indices(indices, self.X.shape[0], minimum=2 if statistics == "batch" else 1)
        X, y = self.X[idx], self.y[idx]
        mean = self._raw_mean()
        if statistics == "batch":
            shift = X.mean(axis=0)
            X = X - shift
            mean = mean + shift
        new = copy.copy(self)
        for attr in ("_cache", "_eig", "_cho_S", "_solution"):
            new.__dict__.pop(attr, None)
        new._assign_samples(X, y, center_y=statistics == "batch")
        new.data = BatchData(X=new.X, y=new.y, moment=new._S_samples, mean=mean, basis=None,
                             ridge=self.data.ridge)
        new.info = {**self.info, "n": int(idx.size), "batch_of": self.info.get("n"),
                    "statistics": statistics, "distinct": int(np.unique(idx).size)}
        if statistics == "batch":
            new._set_normalization(self.normalization, self.centered, self.bn_eps)
        else:
            new._normalizer = self.normalizer  # the full data's N, shared
        return new

    def __getstate__(self) -> dict:
        """Pickle without the per-direction scratch of the last run (``_cache``: buffers and
        closures of the length search, rebuilt on the next evaluation), so that a problem
        that has been solved still pickles for ``multiprocessing``."""
        state = self.__dict__.copy()
        state.pop("_cache", None)
        return state

    def _check_batches(self, name: str) -> None:
        """``TypeError`` naming ``name`` where this problem cannot make mini-batches: they need
        its prepared data (``data``) and ``_assign_samples``, which the built-in data problems
        have and a problem of one's own may not (theory guide §11)."""
        if type(self)._assign_samples is Problem._assign_samples or \
                getattr(self, "data", None) is None:
            raise TypeError(f"{name}: {type(self).__name__} does not implement mini-batches "
                            "(Problem.batch needs the problem's prepared data, data, and "
                            "_assign_samples, which the built-in data problems have); run it "
                            "full-batch (batch_size=None)")

    def _assign_samples(self, X: np.ndarray, y: np.ndarray, center_y: bool) -> None:
        """Replace the samples (already centred as wanted) and every statistic derived from
        them, without the constructor's checks (a batch's ``S`` may be singular); ``S`` by
        :meth:`_assign_moment`."""
        raise NotImplementedError(f"{type(self).__name__} does not implement _assign_samples "
                                  "(mini-batches)")

    def _assign_moment(self, X: np.ndarray) -> None:
        """``S = X'X/n + ridge I`` of the samples ``X``, formed when first read (theory guide
        §11): the :class:`~gdnp.problems.data.SampleMoment` that gives the products ``S v`` of
        a step in ``O(nd)``."""
        self.__dict__.pop("S", None)
        self._S_samples = SampleMoment(X, self.data.ridge)

    def __repr__(self) -> str:
        """Kind, ``dim`` (the parameter count: ``hidden * (d + 1)`` for the MLP) and the
        measured ``kappa`` of ``S``, then what tells similar problems apart: the MLP's ``d``
        and ``hidden``, ``n``, the halfspace's separation, a ridge, the loss, and a
        normalization other than the default."""
        kind = "population" if self.population else "empirical"
        parts = [kind, f"dim={getattr(self, 'dim', None)}", f"kappa={self.kappa:.4g}"]
        info = getattr(self, "info", None) or {}
        if getattr(self, "hidden", None) is not None:
            parts[1:1] = [f"d={self.d}", f"hidden={self.hidden}"]
        n = getattr(self, "n", None) or getattr(self, "_n", None) or info.get("n")
        if not self.population and n is not None:
            parts.append(f"n={n}")
        if info.get("separation") is not None:
            c = float(info["separation"])  # (c < 1 always: 0.99999 is not "1")
            parts.append(f"separation={c:.4g}" if f"{c:.4g}" != "1" else f"separation={c!r}")
        if info.get("ridge"):
            parts.append(f"ridge={info['ridge']:g}")
        loss = getattr(self, "loss", None)
        if loss is not None and getattr(loss, "name", "logistic") != "logistic":
            parts.append(f"loss={loss.name!r}")
        if getattr(self, "normalization", "batch") != "batch":
            parts.append(f"normalization={self.normalization!r}")
        if getattr(self, "centered", True) is False:
            parts.append("centered=False")
        if getattr(self, "bn_eps", 0.0):
            parts.append(f"bn_eps={self.bn_eps:g}")
        return f"{type(self).__name__}({', '.join(parts)})"


class LinearProblem(Problem):
    """A single-unit problem ``f(w~)`` with ``x = w~ in R^d`` (OLS and halfspaces).

    Besides :class:`Problem`'s attributes (``u`` is required here), subclasses implement
    three hooks on a *direction state*, a dict computed once per direction ``w`` and cached for
    the last one, so that a bisection on ``g`` never recomputes it:

    * ``_eval_scaled(w, state, a) -> (f, grad f)`` at ``w~ = a w``;
    * ``_dg(state, g) -> float``, the length derivative ``d_g f(w, g)`` (called once per
      midpoint of GDNP's bisection);
    * ``_c1(state, a) -> float``, the coefficient of ``u`` in ``grad f(a w)`` when that
      gradient has Stein's form ``c1 u + c2 S w~`` (theory guide §3). GDNP's direction step
      is ``s = -||w||_S^2 N(w) / (L g c1 u'w)`` (theory guide §4), so for an objective
      without that form ``c1`` only sets the step's scale (OLS: ``c1 = 2``);

    and optionally ``_direction_state(w) -> dict``, extra entries for the state (projections
    ``Xw``...). The state always holds ``"Sw"`` (``S w``), ``"nS"`` (``||w||_S``), ``"N"``
    (the normalization ``N(w)``, theory guide §10) and ``"uw"`` (``u'w``); a mini-batch's also
    ``"Xw"``, the samples' projections its ``S w`` was computed from (theory guide §11), which
    it passes on as ``_direction_state(w, Xw=Xw)``.

    With ``x = w~ = g w / N(w)`` the BN functions follow from ``grad f(w~)`` by the chain rule
    (theory guide §1, §10), and by Stein's lemma ``grad f(w~) = c1 u + c2 S w~``
    (theory guide §3).

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import OLS, LinearProblem
    >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
    >>> isinstance(prob, LinearProblem), round(prob.rho_star, 6)
    (True, -5.0)
    """

    @property
    def n(self) -> int | None:
        """The number of samples (a mini-batch's for a batch problem), as the MLP's ``n``;
        ``None`` for a population problem (theory guide §0, §11).

        Examples
        --------
        >>> from gdnp.problems import Halfspace, OLS
        >>> Halfspace.sample(3, 10.0, 200, seed=0).n, OLS.random(3, 10.0).n
        (200, None)
        """
        X = getattr(self, "X", None)
        return None if X is None else int(X.shape[0])

    # ------------------------------------------------------------ state cache
    def _state(self, w: np.ndarray, fresh: bool = False, recycle: dict | None = None,
               private: bool = False) -> dict:
        """The direction state of ``w``, cached for the last ``w`` seen. ``fresh``: ``w`` is
        a new array its caller never modifies in place (a solver's next iterate), so the
        cache test and the cache's copy are skipped. ``private``: the state is not cached
        (no other caller, another thread's run included, can be handed it). ``recycle``: a
        private state of the caller's that it reads no more; a problem whose
        ``_direction_state`` takes ``spare`` builds the new state's per-sample arrays in its
        arrays (GDNP on data: the same memory every iteration, no new arrays of ``n``
        floats)."""
        cache = getattr(self, "_cache", None)
        if not fresh and cache is not None and cache[0].shape == w.shape and \
                _AND(cache[0] == w, axis=None):
            return cache[1]
        # ndarray.dot: the BLAS calls of @ (the same numbers) without matmul's ufunc dispatch,
        # ~0.6 us per product, several per iterate of a small problem
        moment = self._S_samples
        if moment is None:
            Sw, Xw = self.S.dot(w), None
        else:  # a mini-batch: S w = X'(Xw)/B + ridge w from its samples (theory guide §11)
            Xw = moment.X.dot(w)
            Sw = moment.project(w, Xw)
        nS2 = float(w.dot(Sw))
        if not math.isfinite(nS2):
            raise NonFiniteError(f"w: ||w||_S^2 = {nS2} is not finite (w overflowed)")
        if not nS2 > 0.0 and not self._eps_defined(w, nS2):
            raise ValueError(_ZERO_NS)
        nS = math.sqrt(nS2)  # a Python float: cheaper arithmetic downstream
        norm = self._normalizer
        if norm is None:
            state = {"Sw": Sw, "nS": nS, "N": nS, "uw": float(self.u.dot(w))}
        else:  # N(w) of theory guide §10; nS stays the data's ||w||_S
            N, dN = norm.value_and_grad(w)
            state = {"Sw": Sw, "nS": nS, "N": N, "dN": dN, "uw": float(self.u.dot(w))}
        if Xw is not None:
            state["Xw"] = Xw  # the samples' projections (a mini-batch's direction state)
        if type(self)._direction_state is not LinearProblem._direction_state:
            extra = {} if Xw is None else {"Xw": Xw}
            if recycle is not None and self._RECYCLES_STATE:
                extra["spare"] = recycle
            state.update(self._direction_state(w, **extra))
        if not private:
            self._cache = (w if fresh else w.copy(), state)
        return state

    def _eps_defined(self, w: np.ndarray, nS2: float) -> bool:
        """Whether a non-zero ``w`` with ``w'Sw = 0`` still has a BN point: with ``bn_eps > 0``
        ``N(w) = sqrt(w'Sw + eps) > 0`` and ``w~ = g w / N(w)`` is defined (a mini-batch whose
        samples do not vary along ``w``, e.g. identical rows, where PyTorch's BatchNorm takes
        its step; theory guide §10, §11). ``rho`` and GDNP's step divide by ``||w||_S`` and
        still raise there (:meth:`_nS_of`)."""
        return nS2 == 0.0 and self.bn_eps > 0.0 and bool(np.any(w))

    @staticmethod
    def _nS_of(st: dict) -> float:
        """``||w||_S`` from the direction state, or the ``ValueError`` of a zero norm where a
        caller divides by it (only a state under ``bn_eps > 0`` can hold a zero)."""
        nS = st["nS"]
        if nS == 0.0:
            raise ValueError(_ZERO_NS)
        return nS

    #: Whether :meth:`_direction_state` takes ``spare`` (see :meth:`_state`'s ``recycle``).
    _RECYCLES_STATE = False

    def _direction_state(self, w: np.ndarray, Xw: np.ndarray | None = None) -> dict:
        """Extra entries of the direction state of ``w`` (``Xw``: the samples' projections
        ``X w`` where the state has made them, a mini-batch's)."""
        return {}

    def _point(self, w: np.ndarray, st: dict, g: float) -> np.ndarray:
        """``x = (g / N(w)) w`` from the direction state ``st`` of ``w``: the array the last
        ``_eval_scaled`` made at that scale when it made one (the same number), else
        computed."""
        a = g / st["N"]
        made = st.get("point")
        if made is not None and made[0] == a and a != 0.0:  # (0.0 == -0.0: signed zeros)
            return made[1]
        return a * w

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
        if isinstance(g, float):  # Python or numpy float: a scalar (the solvers' case)
            if not math.isfinite(g):
                raise ValueError(f"g must be a finite scalar, got {g!r}")
            return w, float(g)
        if isinstance(g, (bool, np.bool_)) or not isinstance(g, (numbers.Real, np.ndarray)) or (
                isinstance(g, np.ndarray) and g.dtype.kind not in "iuf"):
            raise TypeError(f"g must be a real number, got {type(g).__name__} {g!r}")
        if np.ndim(g) != 0:
            raise ValueError(f"g must be a finite scalar, got {g!r}")
        try:  # (float(): a Fraction or an int beyond 2**64 too, which np.isfinite refuses)
            value = float(g)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise ValueError(f"g must be a finite scalar, got {g!r}")
        return w, value

    # --------------------------------------------------------------- BN maps
    def to_bn(self, x) -> tuple[np.ndarray, float]:
        """``w = x``, ``g = N(x)`` (so that ``from_bn(*to_bn(x)) == x``; theory guide §1).

        Parameters
        ----------
        x : array_like
            A non-zero point of shape ``(dim,)``.

        Returns
        -------
        w : ndarray
            A copy of ``x``.
        g : float
            ``N(x)`` (``||x||_S`` by default).

        Raises
        ------
        ValueError
            If ``x`` is zero.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> w, g = prob.to_bn([1.0, 1.0])
        >>> w, round(g, 6)
        (array([1., 1.]), 2.236068)
        """
        return self._to_bn(x, "x")

    def _norm_of(self, x: np.ndarray) -> float:
        """``N(x)`` (0.0 where the normalizer finds none)."""
        if self._normalizer is None:
            return float(np.sqrt(self._quadratic(x)))
        try:
            return self._normalizer.value(x)
        except ValueError:
            return 0.0

    def _to_bn(self, x, name: str) -> tuple[np.ndarray, float]:
        x = self.check_x(x, name)
        if not np.any(x):
            raise ValueError(f"{name}: the zero vector has no BN direction; pass a non-zero "
                             f"{name}")
        big = float(np.max(np.abs(x)))
        if self.bn_eps == 0.0 and not 1e-150 <= big <= 1e150:
            # where x'Sx would under- or overflow: the direction does not depend on the scale
            # (N is homogeneous unless bn_eps > 0), so take w = x / max|x|, g = max|x| N(w)
            w = x / big
            with np.errstate(over="ignore", under="ignore"):
                g = big * self._norm_of(w)
        else:
            w = x.copy()
            with np.errstate(over="ignore", under="ignore"):
                g = self._norm_of(x)
        if not _TINY <= g < math.inf:  # a subnormal length: GDNP's step divides by it
            raise ValueError(f"{name}: its BN length N({name}) = {g:.3g} is not a normal "
                             f"positive float64 at this scale (max|{name}| = {big:.3g}); pass "
                             "a start of moderate scale")
        return w, g

    def from_bn(self, w, g) -> np.ndarray:
        """``w~ = g w / N(w)`` (theory guide §1, §10; ``N = ||.||_S`` by default).

        Parameters
        ----------
        w : array_like
            A non-zero direction of shape ``(dim,)``.
        g : float
            The length.

        Returns
        -------
        ndarray
            ``w~``, the point in original coordinates.

        Raises
        ------
        ValueError
            If ``w`` has the wrong shape, ``||w||_S = 0`` or ``g`` is not a finite scalar.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.from_bn([2.0, 2.0], np.sqrt(5.0))
        array([1., 1.])
        """
        w, g = self._check_bn(w, g)
        return (g / self._state(w)["N"]) * w

    def f_bn(self, w, g) -> float:
        """``f_bn(w, g) = f(g w / N(w))`` from the cached direction state (theory guide §1).

        Parameters
        ----------
        w : array_like
            A non-zero direction of shape ``(dim,)``.
        g : float
            The length.

        Returns
        -------
        float
            The objective at ``w~ = g w / N(w)``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> round(float(prob.f_bn([2.0, 2.0], np.sqrt(5.0))), 12)
        1.0
        """
        w, g = self._check_bn(w, g)
        st = self._state(w)
        return self._eval_scaled(w, st, g / st["N"])[0]

    def value_and_grad_bn(self, w, g) -> BNEval:
        """Chain rule of theory guide §10 around the original gradient ``G = grad f(w~)``:
        ``grad_w = (g/N)(G - grad N (w'G)/N)``, ``d_g f = w'G/N``.

        Parameters
        ----------
        w : array_like
            A non-zero direction of shape ``(dim,)``.
        g : float
            The length.

        Returns
        -------
        BNEval
            ``fun``, ``grad_w``, ``grad_g`` and ``grad_x = G``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> ev = prob.value_and_grad_bn([1.0, 0.5], 1.0)
        >>> ev.grad_w, round(float(ev.grad_g), 6)
        (array([ 0.70710678, -1.41421356]), -2.242641)
        """
        w, g = self._check_bn(w, g)
        return self._value_and_grad_bn(w, self._state(w), g)

    def _value_and_grad_bn(self, w: np.ndarray, st: dict, g: float) -> BNEval:
        """:meth:`value_and_grad_bn` from the direction state ``st`` of ``w`` (no checks)."""
        N = st["N"]
        a = g / N
        fun, G = self._eval_scaled(w, st, a)
        wG = float(w.dot(G))
        dN = st.get("dN")
        # grad_w = a (G - grad N (w'G / N)), grad N = Sw / ||w||_S for the idealised BN: the
        # same roundings, computed in one buffer
        grad_w = st["Sw"] * (wG / N**2) if dN is None else dN * (wG / N)
        np.subtract(G, grad_w, out=grad_w)
        grad_w *= a
        return _new_tuple(BNEval, (fun, grad_w, wG / N, G))  # BNEval(...) without its keywords

    def dg_bn(self, w, g) -> float:
        """``d_g f(w, g) = w' grad f(w~) / N(w)`` (theory guide §1, §4).

        O(n) (empirical) or O(K) (population, ``K`` Gauss-Hermite nodes) once ``w`` is cached.

        Parameters
        ----------
        w : array_like
            A non-zero direction of shape ``(dim,)``.
        g : float
            The length.

        Returns
        -------
        float
            ``d_g f(w, g)``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> round(float(prob.dg_bn([1.0, 0.5], 1.0)), 6)
        -2.242641
        """
        w, g = self._check_bn(w, g)
        return self._dg(self._state(w), g)

    def length_derivative(self, w) -> Callable[[float], float]:
        """``g -> d_g f(w, g)`` for a fixed direction (GDNP's bisection, theory guide §4).

        The direction state (``Sw``, ``||w||_S``, the projections ``Xw``) is computed once
        here, so each call costs O(n) (empirical) or O(K) (population) with no re-validation.

        Parameters
        ----------
        w : array_like
            A non-zero direction of shape ``(dim,)``.

        Returns
        -------
        callable
            ``g -> d_g f(w, g)`` (a float for a float).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> dg = prob.length_derivative([1.0, 0.5])
        >>> round(float(dg(1.0)), 6), round(float(dg(3.0 / np.sqrt(2.0))), 12)
        (-2.242641, 0.0)
        """
        w, _ = self._check_bn(w, 1.0)
        return partial(self._dg, self._state(w))

    def _length_function(self, state: dict) -> Callable[[float], float]:
        """``g -> d_g f(w, g)`` from the direction state (what :meth:`length_derivative`
        returns, without validating ``w``)."""
        return partial(self._dg, state)

    def length_model(self, w) -> CertifiedDerivative | None:
        """Certified signs of ``g -> d_g f(w, g)`` (``gdnp.problems.taylor``), or ``None``.

        Its evaluations return exactly what :meth:`length_derivative` returns, and each adds
        a slope and curvature bounds from which :func:`gdnp.bisect` decides later signs
        without another evaluation. Implemented for halfspaces (sample means and the
        Gauss-Hermite rule) whose loss has the bounds it needs (logistic, sigmoid); elsewhere
        ``None`` (theory guide §4).

        Parameters
        ----------
        w : array_like
            A non-zero direction of shape ``(dim,)``.

        Returns
        -------
        CertifiedDerivative or None
            The certified model of ``g -> d_g f(w, g)``, or ``None`` where there is none.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.length_model([1.0, 0.5]) is None
        True
        """
        w, _ = self._check_bn(w, 1.0)
        return self._length_model(self._state(w))

    def _length_model(self, state: dict) -> CertifiedDerivative | None:
        return None

    def length_locator(self, w) -> MassRatioLocator | SignThreshold | None:
        """What locates the root of ``g -> d_g f(w, g)`` for :func:`gdnp.bisect`, or ``None``.

        OLS: a ``gdnp.problems.taylor.SignThreshold`` (the computed ``d_g f`` has the
        sign of ``g`` minus its root exactly). Halfspaces with the logistic loss (population
        and empirical): a ``gdnp.problems.taylor.MassRatioLocator``, whose probes give
        the plain value with ``P + N`` and ``S'`` for Newton steps and rigorous sign
        certificates. With
        either, :func:`gdnp.bisect` decides the midpoints away from the root without
        evaluating them and takes plain bisection's halvings (theory guide §4). ``None``
        elsewhere.

        Parameters
        ----------
        w : array_like
            A non-zero direction of shape ``(dim,)``.

        Returns
        -------
        MassRatioLocator, SignThreshold or None
            The locator of the root of ``g -> d_g f(w, g)``, or ``None`` where there is none.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp import bisect
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> loc = prob.length_locator([1.0, 0.5])
        >>> S = prob.length_derivative([1.0, 0.5])
        >>> bisect(S, 0.0, 4.0, model=loc)[0] == bisect(S, 0.0, 4.0)[0]
        True
        """
        w, _ = self._check_bn(w, 1.0)
        return self._length_locator(self._state(w))

    def _length_locator(self, state: dict) -> MassRatioLocator | SignThreshold | None:
        return None

    def _compiled_length_search(self, state: dict):
        """The located length search as one compiled call (``(a, b, maxiter, xtol, start)
        -> (root, info) or None``), where the problem has one; ``None`` here."""
        return None

    def _length_threshold(self, state: dict) -> float | None:
        """``r`` when the computed ``d_g f(w, g)`` has the sign of ``g - r`` exactly for every
        ``g`` (what ``SignThreshold`` holds), else ``None``."""
        return None

    def stein_c1(self, w, g) -> float:
        """``c1(w~)`` of theory guide equation (6) at ``w~ = g w/||w||_S`` (the sample mean
        if empirical).

        Stein's lemma (theory guide §3): ``grad f(w~) = c1 u + c2 S w~``; on OLS ``c1 = 2``.

        Parameters
        ----------
        w : array_like
            A non-zero direction of shape ``(dim,)``.
        g : float
            The length.

        Returns
        -------
        float
            ``c1(w~)``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.stein_c1([1.0, 0.5], 1.0)
        2.0
        """
        w, g = self._check_bn(w, g)
        st = self._state(w)
        return self._c1(st, g / st["N"])

    def u_dot(self, w) -> float:
        """``u' w``, the projection on ``u`` that GDNP needs non-zero (theory guide §4).

        Parameters
        ----------
        w : array_like
            A non-zero direction of shape ``(dim,)``.

        Returns
        -------
        float
            ``u' w``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.u_dot([1.0, 0.5])
        -3.0
        """
        w, _ = self._check_bn(w, 1.0)
        return float(self.u @ w)

    def norm_S(self, w) -> float:
        """``||w||_S = sqrt(w'Sw)`` from the cached direction state (theory guide §0).

        Parameters
        ----------
        w : array_like
            A non-zero direction of shape ``(dim,)``.

        Returns
        -------
        float
            ``||w||_S``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> round(float(prob.norm_S([1.0, 0.5])), 6)
        1.414214
        """
        w, _ = self._check_bn(w, 1.0)
        return self._state(w)["nS"]

    def norm_N(self, w) -> float:
        """``N(w)``, the chosen normalization's norm (theory guide §10), cached.

        Parameters
        ----------
        w : array_like
            A non-zero direction of shape ``(dim,)``.

        Returns
        -------
        float
            ``N(w)``; ``||w||_S`` under the default idealised BN.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> round(float(prob.norm_N([1.0, 0.5])), 6)
        1.414214
        """
        w, _ = self._check_bn(w, 1.0)
        return self._state(w)["N"]

    def rayleigh(self, w) -> float:
        """``rho(w) = -(u'w)^2 / (w'Sw)`` (theory guide §2, equation (3)), from the cached state.

        Parameters
        ----------
        w : array_like
            A non-zero direction of shape ``(dim,)``.

        Returns
        -------
        float
            ``rho(w) >= rho*``, with equality along ``S^{-1} u``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> round(float(prob.rayleigh([1.0, 0.5])), 6), round(float(prob.rayleigh([1.0, 1.0])), 6)
        (-4.5, -5.0)
        """
        w, _ = self._check_bn(w, 1.0)
        st = self._state(w)
        return -st["uw"] ** 2 / self._nS_of(st) ** 2

    def _rho_gap(self, st: dict) -> float:
        """``rho(w) - rho* = r' S^-1 r`` with ``r = u - (u'w / ||w||_S^2) S w`` from the direction
        state ``st`` of ``w`` (theory guide §2): the solvers' ``rho_gap`` column. The difference
        ``rho(w) - rho*`` of two rounded numbers had been noise below about ``eps |rho*|``,
        often negative (-3.3e-16 where the gap was 4e-32); this quadratic form is never
        negative and keeps its digits down to ``eps sqrt(gap |rho*|)``."""
        r = self._rayleigh_residual(st["uw"], self._nS_of(st) ** 2, st["Sw"])
        q = self._inverse_cholesky().dot(r)  # r'S^-1 r = ||U^-T r||^2 for S = U'U
        return float(q.dot(q))

    def _inverse_cholesky(self) -> np.ndarray:
        """``U^-T`` for the Cholesky factor ``S = U'U`` (of :meth:`solve_S`), cached for this
        ``S``: ``r'S^-1 r = ||U^-T r||^2`` in one product, where a solve (two triangular solves
        through LAPACK's wrapper, 3.6 us on a small problem) had been a third of GDNP's
        iteration on OLS, for the history's ``rho_gap`` column."""
        cached = self.__dict__.get("_inverse_cholesky_cache")
        if cached is not None and cached[0] is self.S:
            return cached[1]
        c, lower = self._cho()
        factor = np.tril(c) if lower else np.triu(c)
        inv = solve_triangular(factor, np.eye(factor.shape[0]), lower=lower)
        # S = L L' (lower): L^-1; S = U'U (upper): U^-T, row-major for the product
        M = np.ascontiguousarray(inv if lower else inv.T)
        self._inverse_cholesky_cache = (self.S, M)
        return M

    def _rayleigh_residual(self, uw: float, nS2: float, Sw: np.ndarray) -> np.ndarray:
        """``r = u - (u'w / ||w||_S^2) S w`` from ``u'w``, ``||w||_S^2`` and ``S w``: ``grad rho(w)
        = -(2u'w/||w||_S^2) r`` and ``rho(w) - rho* = r' S^-1 r`` (theory guide §2)."""
        return self.u - (uw / nS2) * Sw

    @property
    def rho_star(self) -> float:
        """``rho* = -u' S^-1 u``, the minimum of the Rayleigh quotient (theory guide §2).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> round(prob.rho_star, 6)
        -5.0
        """
        return -float(self.u @ self.solve_S(self.u))

    def rayleigh_grad(self, w) -> np.ndarray:
        """``grad rho(w) = -(2u'w/||w||_S^2)(u - (u'w/||w||_S^2) S w)`` (theory guide §2).

        Parameters
        ----------
        w : array_like
            A direction with ``||w||_S > 0``.

        Returns
        -------
        ndarray
            ``grad rho(w)``, orthogonal to ``w`` and zero along ``S^{-1} u``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.rayleigh_grad([1.0, 0.5])
        array([ 1.5, -3. ])
        >>> prob.rayleigh_grad([1.0, 1.0])
        array([0., 0.])
        """
        w, _ = self._check_bn(w, 1.0)
        Sw = self._S_dot(w)
        q = float(w @ Sw)
        if not q > 0.0:  # S is positive definite: w = 0, or so small that w'Sw underflows
            raise ValueError(f"w: ||w||_S^2 = {q!r}, so rho has no gradient there (w = 0 or "
                             "of a scale whose square underflows); rho is scale-invariant: "
                             "pass w / max|w|")
        uw = float(self.u @ w)
        return -(2.0 * uw / q) * self._rayleigh_residual(uw, q, Sw)

_ZERO_NS = ("w: ||w||_S = 0 (w = 0, in the null space of S, or of a scale whose square "
            "underflows); the BN direction is undefined")


def check_indices(indices, n: int, minimum: int = 1) -> np.ndarray:
    """A 1-D integer index array into ``range(n)`` with at least ``minimum`` entries; a
    boolean mask of length ``n`` selects the samples where it is true, as in NumPy."""
    if isinstance(indices, (str, bytes)) or indices is None:
        raise TypeError(f"indices must be an array of integers, got {type(indices).__name__}")
    idx = np.asarray(indices)
    if idx.dtype == np.bool_ and idx.ndim == 1:
        if idx.size != n:
            raise ValueError(f"indices: a boolean mask must have one entry per sample ({n}), "
                             f"got {idx.size}")
        idx = np.flatnonzero(idx)
    if idx.ndim != 1 or not (np.issubdtype(idx.dtype, np.integer) or idx.size == 0):
        raise TypeError(f"indices must be a 1-D array of integers, got dtype {idx.dtype} "
                        f"and shape {idx.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise ValueError(f"indices must lie in [0, {n}), got range [{idx.min()}, {idx.max()}]")
    if idx.size < minimum:
        raise ValueError(f"indices must hold at least {minimum} sample(s), got {idx.size}")
    return idx.astype(np.intp)
