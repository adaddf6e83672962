"""Ordinary least squares, population or from data, on sufficient statistics (theory guide §2).

    f(w~) = E[y^2] + 2 u'w~ + w~' S w~,    u = -E[y x],    w~* = -S^{-1} u.

Every evaluation costs ``O(d^2)`` whatever the number of samples: the data enter only through
``S``, ``u`` and ``E[y^2]``, computed once. The value is evaluated as the quadratic's expansion
around the least-squares solution ``c``, ``f(x) = f(c) + (x - c)'(Sx + u) + (x - c)'(Sc +
u)`` (exact for a quadratic), with ``f(c)`` and ``Sc + u`` computed once from the residuals on
data: the moments' sum ``E[y^2] + 2u'x + x'Sx`` loses every digit of ``f`` below ``E[y^2]``'s
rounding when ``f*`` is far smaller than ``E[y^2]``.

A mini-batch of ``B`` samples (:meth:`~gdnp.problems.Problem.batch`, theory guide §11) works from
its samples instead, ``O(Bd)`` per evaluation: ``S x = X'(Xx)/B + ridge x`` and the exact value
``mean((y - Xx)^2) + ridge ||x||^2``, without forming ``S`` or factoring it for the expansion.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import as_real, as_seed_rng, as_spd_matrix, as_vector
from .base import BNEval, LinearProblem, _new_tuple
from .data import prepare_data, refine_least_squares
from .spectra import random_covariance, random_direction
from .taylor import SignThreshold

__all__ = ["OLS"]


class OLS(LinearProblem):
    """Least squares ``f(w~) = E[(y - x'w~)^2]`` (theory guide equation (2)).

    Use the constructors :meth:`from_moments`, :meth:`from_data` and :meth:`random`.
    Smoothness ``zeta = 2L``, strong convexity ``2 mu``. In moments,
    ``f(x) = E[y^2] + 2u'x + x'Sx`` with ``S = E[xx']`` and ``u = -E[yx]``
    (theory guide §2), minimised at ``x* = -S^{-1} u``.

    Parameters
    ----------
    S : array_like, shape (d, d)
        ``E[xx']``, symmetric positive definite.
    u : array_like, shape (d,)
        ``-E[yx]``.
    yy : float
        ``E[y^2]``, at least ``u'S^{-1}u``.
    X, y : ndarray, optional
        The samples behind the moments (empirical problems).
    population : bool, default True
        Whether the moments are exact (no samples).
    info : dict, optional
        Extra entries of :meth:`config`.
    normalization : {"batch", "weight", "l1", "l3", "linf"}, default "batch"
        The norm ``N`` of the BN coordinates ``w~ = g w / N(w)`` (theory guide §10); the
        sample-based norms need data.
    centered : bool, default True
        Normalize by the norm of the centred projections (default) or of the raw ones;
        only ``N`` changes, the pre-activation stays centred (theory guide §10).
    bn_eps : float, default 0.0
        BN's epsilon: ``N(w) = sqrt(w'Sw + bn_eps)`` (``normalization="batch"`` only).
    data : PreparedData, optional
        The prepared data (set by :meth:`from_data`).

    Raises
    ------
    ValueError
        ``S`` not symmetric positive definite, shapes that do not match, or
        ``yy < u'S^{-1}u`` (inconsistent moments).

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import OLS
    >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
    >>> prob.smoothness, prob.strong_convexity, prob.solution()
    (8.0, 2.0, Solution(x=array([1., 1.]), fun=1.0))
    """

    name = "ols"

    def __init__(self, S, u, yy, *, X=None, y=None, population=True, info=None,
                 normalization: str = "batch", centered: bool = True, bn_eps: float = 0.0,
                 data=None):
        self.S = as_spd_matrix(S, "S")
        self.dim = self.S.shape[0]
        self.u = as_vector(u, "u", self.dim)
        self.yy = as_real(yy, "yy (E[y^2])")
        if self.yy < float(self.u @ self.solve_S(self.u)) - 1e-12 * max(1.0, abs(self.yy)):
            raise ValueError("yy (E[y^2]) is smaller than u'S^-1 u: the moments are inconsistent "
                             "(the loss would be negative)")
        self.X, self.y = X, y
        self.population = population
        self._spectral_constants(2.0, 2.0)  # 2 L and 2 mu (theory guide §2), when read
        self.length_smoothness = 2.0
        self.info = dict(info or {})
        # GDNP's default bracket's least width: 1 as for every problem, unless the optimal
        # lengths are far smaller: |g*| = |u'w|/||w||_S <= sqrt(u'S^-1 u) <= sqrt(E[y^2])
        # (theory guide §2, §4), and 2^20 times that keeps 2^-30 of relative resolution after
        # T_s = 50 halvings (targets scaled by 1e-20 had lengths below a width-1 bracket's)
        self.length_scale = min(1.0, 2.0**20 * math.sqrt(self.yy)) if self.yy > 0.0 else 1.0
        if data is not None:
            self.data = data
        self._set_normalization(normalization, centered, bn_eps)

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_moments(cls, S, u, yy, *, normalization: str = "batch", centered: bool = True,
                     bn_eps: float = 0.0) -> OLS:
        """Population least squares from its moments (theory guide §2, equation 2).

        ``f(w~) = E[y^2] + 2 u'w~ + w~' S w~``, minimised at ``w~* = -S^-1 u`` with
        ``f* = E[y^2] - u'S^-1 u``.

        Parameters
        ----------
        S : array_like, shape (d, d)
            ``E[xx']``, symmetric positive definite.
        u : array_like, shape (d,)
            ``-E[yx]`` (note the sign, theory guide §0).
        yy : float
            ``E[y^2]``; at least ``u'S^-1 u`` (otherwise the loss would be negative).

        normalization : {"batch", "weight"}, default "batch"
            The norm ``N`` of the BN coordinates ``w~ = g w / N(w)`` (theory guide §10); the
            sample-based norms (``"l1"``, ``"l3"``, ``"linf"``) need data. ``f``, ``grad``
            and ``solution()`` do not depend on it.
        bn_eps : float, default 0.0
            BN's epsilon: ``N(w) = sqrt(w'Sw + bn_eps)`` (PyTorch's ``BatchNorm1d`` in
            training mode; ``normalization="batch"`` only).
        centered : bool, default True
            ``True`` for the batch norm: a population problem is given by the moments of
            centred features and not their means, so BN without centring (``False``) raises
            ``ValueError`` (the weight norm, which does not centre, takes either)
            (theory guide §10; build the problem from data for it).

        Returns
        -------
        OLS
            A population problem.

        Raises
        ------
        ValueError
            ``S`` not symmetric positive definite, shapes that do not match, non-finite
            entries, or ``yy < u'S^-1 u`` (inconsistent moments).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob
        OLS(population, dim=2, kappa=4)
        >>> x_star, f_star = prob.solution()
        >>> x_star, f_star
        (array([1., 1.]), 1.0)
        """
        return cls(S, u, yy, normalization=normalization, centered=centered, bn_eps=bn_eps)

    @classmethod
    def from_data(cls, X, y, *, ridge: float = 0.0, null_space: str = "raise",
                  center_y: bool = True, normalization: str = "batch", centered: bool = True,
                  bn_eps: float = 0.0) -> OLS:
        """Least squares on data, by its sufficient statistics (theory guide §2).

        The features are centred (theory guide §0) and, with ``center_y``, the targets too;
        the problem keeps ``S = X'X/n``, ``u = -X'y/n`` and ``E[y^2] = y'y/n``, so an
        iteration costs ``O(d^2)`` whatever ``n`` is.

        Parameters
        ----------
        X : array_like, shape (n, d)
            Features, ``n >= 2``.
        y : array_like, shape (n,)
            Targets.
        ridge : float, default 0.0
            ``ridge > 0`` solves ridge regression: ``S + ridge * I`` replaces ``S`` in the
            objective itself, which makes a singular ``S`` invertible (theory guide §9). It is
            not BN's epsilon (``bn_eps``).
        null_space : {"raise", "drop"}, default "raise"
            What to do when ``S`` is singular (constant or collinear columns): raise an error
            naming the columns, or work in the range of ``S`` (the problem's dimension is
            then the rank).
        center_y : bool, default True
            Centre ``y`` as well (the usual intercept).
        normalization : {"batch", "weight", "l1", "l3", "linf"}, default "batch"
            The norm ``N`` of the BN coordinates ``w~ = g w / N(w)`` (theory guide §10);
            ``f``, ``grad`` and ``solution()`` do not depend on it.
        centered : bool, default True
            Normalize by the norm of the centred projections (default) or of the raw ones;
            only ``N`` changes, the pre-activation stays centred (theory guide §10).
        bn_eps : float, default 0.0
            BN's epsilon: ``N(w) = sqrt(w'Sw + bn_eps)`` (PyTorch's ``BatchNorm1d`` in
            training mode; ``normalization="batch"`` only).

        Returns
        -------
        OLS
            An empirical problem (``population`` is ``False``); its ``data`` attribute holds
            the prepared data.

        Raises
        ------
        gdnp.problems.SingularCovarianceError
            ``S`` is singular and ``ridge == 0`` and ``null_space == "raise"``; the message
            names the constant or collinear columns and both remedies.
        ValueError
            Shapes that do not match, non-finite entries, ``n < 2``, a negative ``ridge`` or
            an unknown ``null_space``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((200, 3))
        >>> y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.standard_normal(200)
        >>> prob = OLS.from_data(X, y)
        >>> x_star, _ = prob.solution()
        >>> x_star.round(2)
        array([ 0.99, -2.01,  0.51])

        A collinear column is detected and named:

        >>> X3 = np.column_stack([X, X[:, 0] + X[:, 1]])
        >>> OLS.from_data(X3, y)
        Traceback (most recent call last):
        ...
        gdnp.problems.SingularCovarianceError: ... collinear feature columns [0, 1, 3]. ...
        >>> OLS.from_data(X3, y, null_space="drop").dim
        3
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
               normalization: str = "batch", centered: bool = True, bn_eps: float = 0.0
               ) -> OLS:
        """A random population least-squares problem with a given condition number.

        ``S`` has eigenvalues log-spaced in ``[1/kappa, 1]`` (so ``L = 1``, ``mu = 1/kappa``)
        and Haar-random eigenvectors; ``y = x'w_true + noise * eps`` with ``w_true`` a random
        unit vector and ``eps`` standard normal, so ``w~* = w_true`` and ``f* = noise^2``
        (theory guide §2).

        Parameters
        ----------
        d : int
            Dimension, ``>= 1`` (``kappa`` must be 1 when ``d == 1``).
        kappa : float
            Condition number of ``S``, ``>= 1``.
        seed : int or numpy.random.Generator, default 0
            Source of ``S``'s eigenvectors and of ``w_true``.
        noise : float, default 0.1
            Standard deviation of the label noise, ``>= 0``.

        normalization : {"batch", "weight"}, default "batch"
            The norm ``N`` of the BN coordinates ``w~ = g w / N(w)`` (theory guide §10); the
            sample-based norms (``"l1"``, ``"l3"``, ``"linf"``) need data. ``f``, ``grad``
            and ``solution()`` do not depend on it.
        bn_eps : float, default 0.0
            BN's epsilon: ``N(w) = sqrt(w'Sw + bn_eps)`` (PyTorch's ``BatchNorm1d`` in
            training mode; ``normalization="batch"`` only).
        centered : bool, default True
            ``True`` for the batch norm: a population problem is given by the moments of
            centred features and not their means, so BN without centring (``False``) raises
            ``ValueError`` (the weight norm, which does not centre, takes either)
            (theory guide §10; build the problem from data for it).

        Returns
        -------
        OLS
            A population problem; ``w_true`` holds the true weights.

        Raises
        ------
        ValueError
            ``d < 1``, ``kappa < 1`` (or not finite), a negative, non-finite or
            above 1e150 ``noise`` (its square enters ``E[y^2]``).
        TypeError
            A ``seed`` that is neither an integer nor a Generator (``None`` is refused: it
            would not be reproducible).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.random(d=3, kappa=100, seed=0)
        >>> prob
        OLS(population, dim=3, kappa=100)
        >>> round(prob.solution()[1], 12)       # f* = noise^2
        0.01
        >>> bool(np.allclose(prob.solution()[0], prob.w_true))
        True
        """
        rng = as_seed_rng(seed)
        # noise^2 enters E[y^2]: up to 1e150, so that it stays finite
        noise = as_real(noise, "noise", minimum=0.0, maximum=1e150)
        S = random_covariance(d, kappa, rng)
        w_true = random_direction(S.shape[0], rng)
        Sw = S @ w_true
        prob = cls(S, -Sw, float(w_true @ Sw) + float(noise) ** 2,
                   info={"kappa": float(kappa), "seed": seed if isinstance(seed, int) else None,
                         "noise": float(noise)}, normalization=normalization,
                   centered=centered, bn_eps=bn_eps)
        prob.w_true = w_true
        # f(x) = noise^2 + (x - w_true)'S(x - w_true) exactly: the value's expansion is
        # around w_true (S w_true + u = 0 in floating point too), with f* = noise^2
        prob._exact_minimum = (w_true, float(noise) ** 2)
        return prob

    # --------------------------------------------------------------- objective
    def value_and_grad(self, x):
        x = self.check_x(x)
        moment = self._S_samples
        if moment is not None:  # a mini-batch: from its samples, O(Bd) (theory guide §11)
            Xx = moment.X.dot(x)
            half = self.u + moment.project(x, Xx)
            return self._sample_value(x, Xx), 2.0 * half
        Sx = self.S.dot(x)  # (ndarray.dot: the BLAS call of @ without matmul's dispatch)
        half = self.u + Sx
        return self._value(x, half, Sx), 2.0 * half

    def f(self, x) -> float:
        x = self.check_x(x)
        moment = self._S_samples
        if moment is not None:
            return self._sample_value(x, moment.X.dot(x))
        Sx = self.S.dot(x)
        return self._value(x, self.u + Sx, Sx)

    def _sample_value(self, x: np.ndarray, Xx: np.ndarray) -> float:
        """``f(x) = mean((y - Xx)^2) + ridge ||x||^2`` from the projections ``Xx`` of a
        mini-batch's samples: exact, ``O(B)`` once ``Xx`` is known, where the expansion around
        the least-squares solution (:meth:`_expanded`) needs ``S`` factored, ``O(d^3)`` per
        batch (theory guide §2, §11)."""
        r = self.y - Xx
        value = float(r.dot(r)) / r.size
        ridge = self._S_samples.ridge
        if ridge:
            value += ridge * float(x.dot(x))
        return value if value == value else self._overflowed(x)

    def _value(self, x: np.ndarray, half: np.ndarray, Sx: np.ndarray) -> float:
        """``f(x)`` from ``half = Sx + u`` (half the gradient): :meth:`_expanded`, or the
        moments' sum ``E[y^2] + 2u'x + x'Sx`` where ``S`` is singular (a small mini-batch)."""
        value = self._expanded(x, half)
        if value is None:
            value = self.yy + 2.0 * float(self.u.dot(x)) + float(x.dot(Sx))
        return value if value == value else self._overflowed(x)

    def _overflowed(self, x: np.ndarray) -> float:
        """``f(x)`` where its sums overflowed into ``inf - inf`` (NaN) at a finite ``x`` far
        out: ``+inf`` where the quadratic part ``x'Sx`` is positive there (it grows like
        ``||x||^2``, faster than the linear part), else the linear part's value, from ``x``
        scaled by ``c = max|x|`` (theory guide §2). A NaN ``x`` stays NaN."""
        c = float(np.max(np.abs(x)))
        if not (math.isfinite(c) and c > 0.0):
            return math.nan
        z = x / c
        if float(z.dot(self._S_dot(z))) > 0.0:
            return math.inf
        return self.yy + 2.0 * c * float(self.u.dot(z))

    def _expanded(self, x: np.ndarray, grad: np.ndarray, scale: float = 1.0) -> float | None:
        """``f(c) + v'(scale grad) + v'r`` with ``v = x - c``, ``r = Sc + u`` and ``scale
        grad = Sx + u``: the quadratic's exact expansion around the least-squares solution
        ``c`` (:meth:`_anchor`), so that ``f(x) - f*`` keeps its digits near the optimum and
        ``f`` those below ``E[y^2]``'s rounding (theory guide §2); ``None`` where ``S`` is
        singular."""
        anchor = self._anchor()
        if anchor is None:
            return None
        c, f_c, r = anchor
        v = x - c
        return f_c + scale * float(v.dot(grad)) + float(v.dot(r))

    def _anchor(self) -> tuple[np.ndarray, float, np.ndarray] | None:
        """``(c, f(c), Sc + u)`` for the current moments, cached: ``c`` the least-squares
        solution ``-S^-1 u`` (:meth:`random`'s ``w_true``, its exact minimiser); ``f(c)`` and
        ``Sc + u`` from the samples without the moments' cancellation (theory guide §2):
        ``mean((y - Xc)^2) + ridge ||c||^2`` and ``ridge c - X'(y - Xc)/n``; ``noise^2`` and
        ``0`` for :meth:`random`; ``E[y^2] + u'c`` and ``Sc + u`` from moments alone (with
        the moments' rounding); ``None`` where ``S`` is singular or ``c`` not finite."""
        cached = self.__dict__.get("_anchor_cache")
        if cached is not None and cached[0] is self.S and cached[1] is self.u:
            return cached[2]
        anchor = None
        exact = self.__dict__.get("_exact_minimum")  # (w_true, noise^2) of random()
        if exact is not None:
            c, f_c = exact
        else:
            try:
                c = -self.solve_S(self.u)
            except ValueError:  # (SingularCovarianceError: a mini-batch's S)
                c = None
            f_c = None
        if c is not None and np.all(np.isfinite(c)):
            r = None
            data = getattr(self, "data", None)  # (S = X'X/n + ridge I from these samples)
            if f_c is None and getattr(self, "X", None) is not None and data is not None:
                # the residuals give f(c) and Sc + u = -X'(y - Xc)/n + ridge c without the
                # moments' cancellation (Sc + u from S and u is off by ~u ||S|| ||c||, which
                # the expansion would carry to f far from c on ill-conditioned data)
                # refinement on the residuals: the normal equations leave c off by
                # cond(X)^2 eps (6.6e-5 at cond(X) = 1e6 on a near-exact fit, f* by 2e-4)
                n = self.y.size
                ridge = float(data.ridge)
                c, resid, r = refine_least_squares(self.X, self.y, c, self.solve_S, ridge)
                f_c = float(resid.dot(resid)) / n + ridge * float(c.dot(c))
            elif f_c is None:  # moments alone: f* keeps their rounding
                f_c = self.yy + float(self.u.dot(c))
            if r is None:
                r = self.S.dot(c) + self.u
            if math.isfinite(f_c) and np.all(np.isfinite(r)):
                anchor = (c, f_c, r)
        self._anchor_cache = (self.S, self.u, anchor)
        return anchor

    def hessian_vector(self, x, v) -> np.ndarray:
        """``hess f(x) v = 2 S v`` (theory guide §12).

        Parameters
        ----------
        x : array_like
            The point (the Hessian of OLS does not depend on it).
        v : array_like
            The vector, shape ``(dim,)``.

        Returns
        -------
        ndarray
            ``2 S v``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> prob.hessian_vector([0.0, 0.0], [1.0, 1.0])
        array([2., 8.])
        """
        self.check_x(x)  # (the Hessian does not depend on x; a bad x is still an error)
        v = self.check_x(v, "v")
        return 2.0 * (self.S @ v if self._S_samples is None else self._S_samples.dot(v))

    def _hessian_matrix(self, x) -> np.ndarray:
        """``hess f(x) = 2 S`` as a matrix (theory guide §12): :meth:`hessian_vector` for
        every vector at once."""
        self.check_x(x)
        return 2.0 * self.S

    def _reference_solution(self):
        anchor = self._anchor()
        if anchor is None:
            x = -self.solve_S(self.u)
            return x, self.yy + float(self.u @ x)
        return anchor[0].copy(), anchor[1]

    def config(self):
        return {**super().config(), **self.info, "population": self.population}

    # ---------------------------------------------------------------- BN layer
    def _eval_scaled(self, w, state, a):
        """``f(a w)`` and ``G = 2u + 2a Sw`` from the direction state (theory guide §2): no
        product with ``S``. The value is :meth:`_expanded`, the expansion around the least-squares
        solution, with ``G / 2`` (exact) for ``Sx + u``; where ``S`` is singular, ``E[y^2] +
        2a u'w + a^2 ||w||_S^2``; on a mini-batch :meth:`_sample_value` from the state's
        projections ``X w`` (theory guide §11)."""
        G = (2.0 * a) * state["Sw"]
        np.add(G, self._twice_u(), out=G)
        x = a * w
        state["point"] = (a, x)  # the solvers record x = a w next (LinearProblem._point)
        if self._S_samples is not None:
            return self._sample_value(x, a * state["Xw"]), G
        value = self._expanded(x, G, 0.5)
        if value is None:
            nS = state["nS"]
            value = self.yy + a * (2.0 * state["uw"] + a * (nS * nS))
        return (value if value == value else self._overflowed(x)), G

    def _value_and_grad_bn(self, w, st, g):
        """BN value and gradients in closed form from the direction state (theory guide §2,
        equation (7) with ``c1 = 2``).

        ``f`` and ``G`` as :meth:`_eval_scaled` at ``a = g / ||w||_S``, ``d_g f = 2 u'w /
        ||w||_S + 2g`` (the same roundings as :meth:`_dg`) and ``grad_w f = 2a (u - (u'w /
        ||w||_S^2) Sw)``. The terms ``2a Sw`` of ``a (G - (w'G / ||w||_S^2) Sw)`` cancel
        exactly, so they are not computed: fewer operations (a small problem's iteration is
        mostly their call overhead) and no cancellation. Under another norm ``N`` (theory guide
        §10): the general chain rule.
        """
        if "dN" in st:
            return super()._value_and_grad_bn(w, st, g)
        nS, uw = st["nS"], st["uw"]
        a = g / nS
        fun, G = self._eval_scaled(w, st, a)
        grad_w = st["Sw"] * (uw / (nS * nS))
        np.subtract(self.u, grad_w, out=grad_w)
        grad_w *= 2.0 * a
        return _new_tuple(BNEval, (fun, grad_w, 2.0 * uw / nS + 2.0 * g, G))

    def _twice_u(self) -> np.ndarray:
        """``2 u``, cached for the current ``u`` (a mini-batch assigns its own)."""
        cached = self.__dict__.get("_u_twice")
        if cached is None or cached[0] is not self.u:
            cached = self._u_twice = (self.u, 2.0 * self.u)
        return cached[1]

    def _dg(self, state, g):
        # f(w, g) = E[y^2] + 2 g u'w/N + g^2 ||w||_S^2/N^2  (theory guide §2, §10)
        if "dN" not in state:  # N = ||w||_S
            return 2.0 * state["uw"] / state["nS"] + 2.0 * g
        N = state["N"]
        return 2.0 * state["uw"] / N + 2.0 * g * (state["nS"] / N) ** 2

    def _length_function(self, state):
        if "dN" in state:  # another norm N (theory guide §10): the general _dg
            return super()._length_function(state)
        # the same two roundings as _dg (c = 2 u'w / ||w||_S, then c + 2g), c read once
        c = 2.0 * state["uw"] / state["nS"]
        return lambda g: c + 2.0 * g

    def _length_locator(self, state):
        """:class:`~gdnp.problems.taylor.SignThreshold` at :meth:`_length_threshold`."""
        root = self._length_threshold(state)
        return None if root is None else SignThreshold(root, self._length_function(state))

    def _length_threshold(self, state):
        """``-c / 2``, ``c = 2 u'w / ||w||_S``: the computed ``c + 2 g`` has the sign of
        ``g + c / 2`` exactly (for ``||w||_S`` only, and ``c`` not subnormal)."""
        if "dN" in state:
            return None
        c = 2.0 * state["uw"] / state["nS"]
        if not (math.isfinite(c) and (c == 0.0 or abs(c) >= 1e-300)):
            return None
        return -0.5 * c

    def _c1(self, state, a):
        return 2.0

    def optimal_length(self, w) -> float:
        """``g*(w) = -u'w N(w) / ||w||_S^2`` (theory guide §2, §10; ``-u'w/||w||_S`` for
        the idealised BN), the closed-form length.

        Parameters
        ----------
        w : array_like
            A non-zero direction of shape ``(dim,)``.

        Returns
        -------
        float
            The minimiser ``g*`` of ``g -> f_bn(w, g)``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import OLS
        >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
        >>> round(float(prob.optimal_length([1.0, 1.0])), 6)
        2.236068
        >>> prob.from_bn([1.0, 1.0], prob.optimal_length([1.0, 1.0]))
        array([1., 1.])
        """
        w, _ = self._check_bn(w, 1.0)
        st = self._state(w)
        if "dN" not in st:
            return -st["uw"] / st["nS"]
        return -st["uw"] * st["N"] / self._nS_of(st) ** 2

    def _assign_samples(self, X, y, center_y):
        if center_y:
            y = y - y.mean()
        n = X.shape[0]
        self.X, self.y = X, y
        self._assign_moment(X)  # S formed when read (theory guide §11)
        self.u = -(X.T @ y) / n
        self.yy = float(y @ y) / n
        self._spectral_constants(2.0, 2.0)  # as in __init__
