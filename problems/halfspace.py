"""Learning halfspaces ``f(w~) = E[phi(z'w~)]``, ``z = -y x`` (theory guide §3).

Two forms share one interface:

* **population** (:meth:`Halfspace.gaussian`, :meth:`Halfspace.random`): ``z ~ N(u, S - uu')``;
  ``z'w~`` is a 1-D normal with mean ``m = u'w~`` and variance ``s^2 = w~'Sw~ - m^2``, so every
  expectation is a Gauss-Hermite sum (no sampling noise, ``O(d^2 + K)`` per evaluation);
* **empirical** (:meth:`Halfspace.from_data`, :meth:`Halfspace.sample`): sample means over
  centred data; the projection ``Xw`` of the current direction is cached, so ``d_g f`` costs
  ``O(n)`` during a bisection.

The population gradient is the exact gradient of the quadrature formula and has Stein's form
(theory guide equation (6)) ``grad f = c1 u + c2 S w~`` with ``c2 = E_K[phi'(t) xi] / s``
(the rule's version of ``E[phi'']``) and ``c1 = E_K[phi'(t)] - c2 m``.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from functools import partial

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.special import expit, ndtr

from gdnp import _jit  # the compiled length search (numba, optional): imports nothing of gdnp

from ._validate import (
    ConditioningWarning,
    ReferenceWarning,
    as_positive_int,
    as_real,
    as_seed_rng,
    as_spd_matrix,
    as_vector,
    check_memory,
    warn_external,
)
from .base import LinearProblem
from .data import GRAM_BLOCK, prepare_data, refine_least_squares, weighted_gram
from .losses import LOSSES, Loss, get_loss
from .quadrature import DEFAULT_NODES, normal_rule
from .spectra import random_covariance, random_direction, vector_with_separation
from .taylor import CertifiedDerivative, MassRatioLocator, pairwise_depth

__all__ = ["Halfspace", "NoFiniteMinimizerError", "QuadratureWarning"]


def _dot(x: np.ndarray, y: np.ndarray) -> float:
    """``x'y`` for 1-D arrays by numpy's own loop: BLAS ``ddot`` is multithreaded for long
    vectors and, on a loaded machine, waits on its threads (measured 50 ms instead of 0.1 ms
    at n = 1e5 on 2 busy cores). Any summation order is within ``(n - 1) u sum|x y|``."""
    return float(np.einsum("i,i->", x, y))


# Below this length BLAS ddot runs on one thread (OpenBLAS threads it above 10000 elements)
_SERIAL_DOT = 8192


def _bound_dot(x: np.ndarray, y: np.ndarray) -> float:
    """``x'y`` where only its rounding bound matters (a certificate's slope or curvature, never
    an iterate): BLAS ``ddot`` on one thread, over chunks of at most ``_SERIAL_DOT`` elements
    (``ddot`` is threaded above about 10000, see :func:`_dot`), the chunks' sums added in
    order. At n = 3e4 that is about 4.7 us against the ``einsum`` layer's 8.5 us. Any
    summation order is within ``(n - 1) u sum|x y|``."""
    n = x.size
    if n <= _SERIAL_DOT:
        return float(x.dot(y))
    total = 0.0
    for i in range(0, n, _SERIAL_DOT):
        total += float(x[i:i + _SERIAL_DOT].dot(y[i:i + _SERIAL_DOT]))
    return total


# np.sum, np.max and np.min of a 1-D float array are these reductions (the same numbers)
# without their Python layers (a few us per call, several calls per length search)
_SUM, _MAX, _MIN = np.add.reduce, np.maximum.reduce, np.minimum.reduce

# L-BFGS iterations before the certified Newton steps of the reference solution: 25 took
# 9.2 s at n = 1e6, d = 100 (10: 11.7 s, six Newton steps; 100: 49.7 s)
_LBFGS_START = 25
_EPS = float(np.finfo(float).eps)


# scipy's expit is 1 / (1 + exp(-x)): exactly 1.0 once exp(-x) < 2^-53, from x = 37 on (it is
# monotone, so one value checks the whole range); inf if a future expit ever differs
_EXPIT_ONE = 37.0 if expit(37.0) == 1.0 else math.inf


def _logistic_kernels(a0: np.ndarray, c: np.ndarray, sign_a: np.ndarray):
    """The population length derivative ``S(t) = sum_k c_k expit(t a_k)`` (``c_k = omega_k
    a_k``, nodes ``a`` non-decreasing) as two closures over one buffer (theory guide §4):

    * ``value(t)``: ``S(t)`` as plain bisection computes it, the sum pairwise as ``np.sum``;
    * ``probe(t)``: ``(S(t), (P + N)(t), S'(t))``, the first bit for bit ``value(t)``, then
      ``P + N = sum_k |c_k| s_k`` and ``S' = sum_k c_k a_k s_k (1 - s_k)`` as dot products.

    ``expit`` is evaluated only where it is not exactly 1.0: for ``t > 0`` the nodes with
    ``t a_k >= 37`` form a tail of the sorted nodes, whose values are set to 1.0 instead (the
    numbers are those of ``expit`` on every node; a third of the nodes near the optimum).
    """
    buf = np.empty_like(a0)
    spare = np.empty_like(a0)
    mul, sub, red = np.multiply, np.subtract, np.add.reduce
    split = [math.inf, buf, buf[:0]]  # valid for t >= split[0]: (head, saturated tail)

    def sigmoid(t: float) -> None:  # buf = expit(t a)
        mul(a0, t, out=buf)
        if not t >= split[0]:
            if t > 0.0 and _EXPIT_ONE < math.inf:
                # fl(a_k) >= fl(37.5 / t') and t >= t' 37 / 37.5 give fl(t a_k) >= 37
                k = int(np.searchsorted(a0, 37.5 / t))
                split[:] = (t * (_EXPIT_ONE / 37.5) * (1.0 + 1e-12), buf[:k], buf[k:])
            else:
                split[:] = (math.inf, buf, buf[:0])
                expit(buf, out=buf)
                return
        expit(split[1], out=split[1])
        split[2].fill(1.0)

    def value(t: float) -> float:
        sigmoid(t)
        mul(buf, c, out=buf)
        return float(red(buf))

    def probe(t: float) -> tuple[float, float, float]:
        sigmoid(t)
        sub(1.0, buf, out=spare)
        mul(buf, c, out=buf)
        total = float(red(buf))
        mul(spare, buf, out=spare)  # c_k s_k (1 - s_k)
        return total, float(buf.dot(sign_a)), float(spare.dot(a0))

    return value, probe


def _end_with_parent(parent: int) -> None:
    """Make this (forked) process end when its parent ``parent`` does, however the parent
    ends: a SIGTERM or SIGKILL to the parent runs none of its clean-up, and the separability
    LP's child had run on for 16 minutes with 5 GB after ``timeout`` ended its parent. On Linux
    the kernel sends SIGKILL (``prctl(PR_SET_PDEATHSIG)``); elsewhere a daemon thread polls
    the parent's pid (it runs while the native solver releases the GIL)."""
    import threading

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(1, 9, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG = 1, SIGKILL = 9
                if os.getppid() != parent:  # the parent ended before the call
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        import time

        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="gdnp-parent-watch", daemon=True).start()


def _in_forked_child(fn, what: str):
    """``fn()`` (a picklable result) computed in a forked child process: any exception or
    signal in this process (Ctrl-C) kills the child before it propagates, so no native
    solver is left running in this process, and the child ends with this process however it
    ends (:func:`_end_with_parent`). An exception in the child is raised here as a
    ``RuntimeError`` with its text."""
    import multiprocessing
    import signal
    import threading
    import traceback

    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)

    parent = os.getpid()

    def child() -> None:
        _end_with_parent(parent)
        try:
            send.send(("ok", fn()))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            send.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
        finally:
            send.close()

    proc = ctx.Process(target=child, name=f"gdnp: {what}", daemon=True)
    # Ctrl-C (or an alarm) while forking is held until the child exists, then raised here,
    # where the child is killed: not lost in an at-fork handler, not left running
    held = {signal.SIGINT, signal.SIGALRM, signal.SIGTERM}
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, held) if \
        threading.current_thread() is threading.main_thread() else None
    try:
        proc.start()
    finally:
        if blocked is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
    send.close()
    try:
        while not recv.poll(0.1):
            if not proc.is_alive() and not recv.poll(0.0):
                raise RuntimeError(f"{what}: its process ended with code {proc.exitcode} "
                                   "without a result")
        kind, value = recv.recv()
    except BaseException:
        proc.kill()
        raise
    finally:
        proc.join(5.0)
        recv.close()
    if kind == "error":
        raise RuntimeError(f"{what} failed: {value}")
    return value


@contextlib.contextmanager
def _stdout_to_stderr():
    """File descriptor 1 pointed at 2 for the block: a C library's log (HiGHS's) goes to
    stderr with the other progress, and stdout stays the command's output."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


#: Data sizes ``n * d`` up to which the separability LP runs directly in the calling thread
#: (at most a few hundredths of a second); larger ones in a child process.
_LP_DIRECT = 50_000

#: Relative difference of x* or f* between the rule and one of four times its nodes above which
#: the population reference solution warns (theory guide §3).
_RULE_WARN = 1e-4


class QuadratureWarning(UserWarning):
    """The Gauss-Hermite rule's objective is measurably not the Gaussian model's at the
    optimum (theory guide §3): see :meth:`GaussianHalfspace.quadrature_error`."""


class NoFiniteMinimizerError(ValueError):
    """The objective has no finite minimiser (e.g. separable data with the logistic loss).

    Raised by the reference solver (theory guide §3, §9). ``infimum`` is the lowest value of
    ``f`` the reference solver found where it knows one (a bounded loss: the limit of ``f``
    along the ray it followed to infinity, an upper bound on ``inf f``), else ``None``.

    Parameters
    ----------
    message : str
        What was found, naming the argument (the data ``X, y``).
    infimum : float, optional
        Kept as the attribute ``infimum``.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import Halfspace
    >>> X = np.array([[1.0, 0.0], [2.0, 0.5], [-1.0, 0.2], [-2.0, -0.4]])
    >>> prob = Halfspace.from_data(X, [1.0, 1.0, -1.0, -1.0])
    >>> prob.solution()
    Traceback (most recent call last):
    ...
    gdnp.problems.NoFiniteMinimizerError: X, y: the data are linearly separable, ...
    """

    #: A property of the problem: ``solution()`` keeps this error and raises it again instead
    #: of running the reference solver again (minutes on large data).
    permanent = True

    def __init__(self, message: str, infimum: float | None = None):
        super().__init__(message)
        self.infimum = infimum


#: The least separation a Gaussian halfspace takes: below it ``c^2 = u'S^-1 u = -rho*``
#: leaves float64's safe range (at 1e-170 ``rho*`` read -0.0, and from 1e-180 on GDNP's first
#: direction step, which divides by ``u'w``, overflowed ``w``).
SEPARATION_MIN = 1e-150


def _check_separation(separation) -> float:
    """``c = sqrt(u'S^-1 u)`` in ``[SEPARATION_MIN, 1)``, the Gaussian model's separation."""
    c = as_real(separation, "separation")
    if not (0.0 < c < 1.0):
        raise ValueError(f"separation must lie in [{SEPARATION_MIN:g}, 1) (c = sqrt(u'S^-1 u)), "
                         f"got {separation}")
    if c < SEPARATION_MIN:
        raise ValueError(f"separation must lie in [{SEPARATION_MIN:g}, 1), got {separation}: "
                         "below, c^2 = u'S^-1 u = -rho* leaves float64's range (labels "
                         "independent of the inputs to rounding)")
    return c


#: The largest Gauss-Hermite rule a population halfspace takes: building one of 10^6 nodes
#: took 3.7 s and the reference solution on it 21 s, 10^7 nodes 44 s before any evaluation.
MAX_NODES = 100_000


def _one_blas_thread():
    """BLAS on one thread for an L-BFGS-B run: numpy and scipy each ship an OpenBLAS, and
    L-BFGS-B alternates between them (numpy's products in the objective, scipy's in its own
    updates), whose two thread pools fought over the cores: 8.6 ms per evaluation against
    0.56 with one thread, at n = 1e4, d = 100 on 2 cores (theory guide §3)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _check_nodes(n_nodes) -> int:
    """A Gauss-Hermite rule size in ``[2, MAX_NODES]`` whose arrays fit in memory."""
    n_nodes = as_positive_int(n_nodes, "n_nodes", 2)
    if n_nodes > MAX_NODES:
        raise ValueError(f"n_nodes must be at most {MAX_NODES} (a rule of more nodes takes "
                         f"seconds to build and every evaluation a pass over them; the "
                         f"figures use 601, and 4808 at separation 0.999), got {n_nodes}")
    # nodes, weights and the per-evaluation arrays phi(t), phi'(t), t...: ~8 vectors
    check_memory(8.0 * 8.0 * n_nodes, f"a Gauss-Hermite rule of n_nodes = {n_nodes}")
    return n_nodes


class Halfspace(LinearProblem):
    """Halfspace learning with a loss ``phi`` (theory guide equation (5)); use the constructors.

    ``f(w~) = E[phi(z'w~)]`` with ``z = -y x``: :meth:`gaussian` and :meth:`random` give the
    exact population problem (:class:`GaussianHalfspace`, Gauss-Hermite sums, theory guide §3),
    :meth:`from_data` and :meth:`sample` the empirical one (:class:`EmpiricalHalfspace`).

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import Halfspace
    >>> prob = Halfspace.gaussian(np.eye(2), [0.6, 0.0])
    >>> type(prob).__name__, prob.separation, prob.loss.name
    ('GaussianHalfspace', 0.6, 'logistic')
    """

    name = "halfspace"

    def _spectral_factors(self) -> tuple[float, float | None]:
        """``smoothness = max phi'' L``; ``strong_convexity = mu`` for the squared loss only."""
        return self.loss.max_d2phi, (1.0 if self.loss.name == "squared" else None)

    def _setup(self, S, u, loss, info, normalization="batch", centered=True, bn_eps=0.0):
        self.loss: Loss = get_loss(loss)
        self.dim = S.shape[0]
        self.S, self.u = S, u
        self._spectral_constants(*self._spectral_factors())
        self.length_smoothness = self.loss.max_d2phi
        self.info = dict(info or {})
        self._set_normalization(normalization, centered, bn_eps)

    # ------------------------------------------------------------ constructors
    @classmethod
    def gaussian(cls, S, u, loss: str | Loss = "logistic", *, n_nodes: int = DEFAULT_NODES,
                 normalization: str = "batch", centered: bool = True,
                 bn_eps: float = 0.0):
        """The exact population halfspace problem under K19's Gaussian model (theory guide §3).

        ``f(w~) = E[phi(z'w~)]`` with ``z ~ N(u, S - uu')``. Since ``z'w~`` is 1-D normal with
        mean ``u'w~`` and variance ``w~'Sw~ - (u'w~)^2``, every expectation is a 1-D
        Gauss-Hermite sum: no sampling noise, ``O(d^2)`` per evaluation.

        Parameters
        ----------
        S : array_like, shape (d, d)
            ``E[xx']``, symmetric positive definite.
        u : array_like, shape (d,)
            ``E[z] = -E[yx]``, with separation ``c = sqrt(u'S^-1 u) < 1``.
        loss : {"logistic", "sigmoid", "squared"} or Loss, default "logistic"
            The loss ``phi`` of the margin (theory guide §3's table).
        n_nodes : int, default 601
            Gauss-Hermite nodes, 2 to ``MAX_NODES = 100000``; gradients are the exact
            gradients of the rule.
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
        GaussianHalfspace

        Raises
        ------
        ValueError
            ``u'S^-1 u >= 1`` (no Gaussian law has these moments), ``S`` not symmetric
            positive definite, shapes that do not match, an unknown loss.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import Halfspace
        >>> prob = Halfspace.gaussian(np.eye(2), np.array([0.6, 0.0]))
        >>> x_star, f_star = prob.solution()    # on the line S^-1 u (theory guide §3)
        >>> x_star.round(3), round(f_star, 6)
        (array([-1.875, -0.   ]), 0.471976)
        """
        return GaussianHalfspace(S, u, loss, n_nodes=n_nodes, normalization=normalization,
                                 centered=centered, bn_eps=bn_eps)

    @classmethod
    def random(cls, d: int, kappa: float, separation: float = 0.9,
               loss: str | Loss = "logistic", seed=0, *, n_nodes: int = DEFAULT_NODES,
               normalization: str = "batch", centered: bool = True,
               bn_eps: float = 0.0):
        """A random population halfspace problem with a given condition number and separation.

        ``S`` as in :meth:`gdnp.problems.OLS.random` (eigenvalues log-spaced in
        ``[1/kappa, 1]``, Haar-random eigenvectors) and ``u`` a random direction scaled to
        ``sqrt(u'S^-1 u) = separation`` (theory guide §3); solved exactly as in
        :meth:`gaussian`.

        Parameters
        ----------
        d : int
            Dimension.
        kappa : float
            Condition number of ``S``, ``>= 1``.
        separation : float, default 0.9
            ``c = sqrt(u'S^-1 u)`` in ``[1e-150, 1)``; the data approach separability (and the
            optimal length infinity) as ``c -> 1``.
        loss : {"logistic", "sigmoid", "squared"} or Loss, default "logistic"
            The loss ``phi``. The sigmoid loss has no finite minimiser under this model
            (``solution()`` raises :class:`~gdnp.problems.NoFiniteMinimizerError`).
        seed : int or numpy.random.Generator, default 0
            Source of ``S``'s eigenvectors and of ``u``'s direction.
        n_nodes : int, default 601
            Gauss-Hermite nodes, 2 to ``MAX_NODES = 100000``.
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
        GaussianHalfspace

        Raises
        ------
        ValueError
            ``separation`` outside ``[1e-150, 1)``, ``kappa < 1``, ``d < 1``, an unknown loss.
        TypeError
            A non-numeric ``separation`` or an invalid ``seed``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import Halfspace
        >>> prob = Halfspace.random(d=5, kappa=10, separation=0.9, seed=0)
        >>> prob
        GaussianHalfspace(population, dim=5, kappa=10, separation=0.9)
        >>> round(float(np.sqrt(prob.u @ np.linalg.solve(prob.S, prob.u))), 12)
        0.9
        """
        rng = as_seed_rng(seed)
        c = _check_separation(separation)
        _check_nodes(n_nodes)
        S = random_covariance(d, kappa, rng)
        u = vector_with_separation(S, random_direction(S.shape[0], rng), c)
        prob = GaussianHalfspace(S, u, loss, n_nodes=n_nodes, normalization=normalization,
                                 centered=centered, bn_eps=bn_eps)
        prob.info.update(kappa=float(kappa), separation=c,
                         seed=seed if isinstance(seed, int) else None)
        return prob

    @classmethod
    def from_data(cls, X, y, loss: str | Loss = "logistic", *, ridge: float = 0.0,
                  null_space: str = "raise", normalization: str = "batch",
                  centered: bool = True, bn_eps: float = 0.0):
        """A halfspace problem on data: ``f(w~) = mean(phi(z_i'w~))``, ``z_i = -y_i x_i``.

        The features are centred (theory guide §0) and the model has no intercept: on
        unbalanced labels its optimum is not that of a logistic regression with one
        (scikit-learn's ``LogisticRegression(fit_intercept=False)`` on the centred features
        is this model; a column of ones, zero once centred, is refused as a constant
        feature). ``S = X'X/n`` and ``u = -X'y/n`` are the sample moments. Stein's
        structure (theory guide §3, equation 6) then holds only approximately, so the
        solvers use the chain rule for ``grad_w f``.

        Parameters
        ----------
        X : array_like, shape (n, d)
            Features.
        y : array_like, shape (n,)
            Labels, each ``-1`` or ``+1``.
        loss : {"logistic", "sigmoid", "squared"} or Loss, default "logistic"
            The loss ``phi`` of the margin.
        ridge : float, default 0.0
            ``ridge > 0`` uses ``S + ridge * I`` as the metric (a regularised metric, theory
            guide §9; not BN's epsilon, which is ``bn_eps``).
        null_space : {"raise", "drop"}, default "raise"
            For a singular ``S``: raise an error naming the columns, or work in its range.
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
        EmpiricalHalfspace

        Raises
        ------
        ValueError
            Labels other than ``-1``/``+1``, shapes that do not match, non-finite entries.
        gdnp.problems.SingularCovarianceError
            ``S`` is singular (constant or collinear columns) and no remedy was asked for.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import Halfspace
        >>> rng = np.random.default_rng(0)
        >>> X = rng.standard_normal((500, 3))
        >>> y = np.where(X @ [1.0, -1.0, 0.5] + rng.standard_normal(500) > 0, 1.0, -1.0)
        >>> prob = Halfspace.from_data(X, y, loss="logistic")
        >>> prob.dim, prob.population
        (3, False)
        >>> Halfspace.from_data(X, np.where(y > 0, 1.0, 0.0))
        Traceback (most recent call last):
        ...
        ValueError: y must contain only -1 and +1; found [0.0]; ... 2*y - 1
        """
        return EmpiricalHalfspace(X, y, loss, ridge=ridge, null_space=null_space,
                                  normalization=normalization, centered=centered,
                                  bn_eps=bn_eps)

    @classmethod
    def sample(cls, d: int, kappa: float, n: int, separation: float = 0.9,
               loss: str | Loss = "logistic", seed=0, *, normalization: str = "batch",
               centered: bool = True, bn_eps: float = 0.0):
        """Samples from the Gaussian model of :meth:`random`, as an empirical problem.

        Draws the same ``S`` and ``u`` as :meth:`random` with the same arguments, then ``n``
        samples: ``z ~ N(u, S - uu')``, ``y = +-1`` fairly, ``x = -y z`` (theory guide §3).
        The sample moments approach ``S`` and ``u`` as ``n`` grows.

        Parameters
        ----------
        d : int
            Dimension.
        kappa : float
            Condition number of the population ``S``.
        n : int
            Number of samples, ``>= 2``.
        separation : float, default 0.9
            Population ``c = sqrt(u'S^-1 u)`` in ``[1e-150, 1)``.
        loss : {"logistic", "sigmoid", "squared"} or Loss, default "logistic"
            The loss ``phi``.
        seed : int or numpy.random.Generator, default 0
            Source of ``S``, ``u`` and the samples.
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
        EmpiricalHalfspace

        Raises
        ------
        ValueError
            ``n < 2``, ``separation`` outside ``[1e-150, 1)``, ``kappa < 1``.
        TypeError
            ``n`` not an integer (a float, a string, a bool).

        Examples
        --------
        >>> from gdnp.problems import Halfspace
        >>> prob = Halfspace.sample(d=4, kappa=10, n=1000, seed=0)
        >>> prob.X.shape, prob.population
        ((1000, 4), False)
        """
        rng = as_seed_rng(seed)
        c = _check_separation(separation)
        n = as_positive_int(n, "n", 2)
        d = as_positive_int(d, "d")
        # z, X = -y z, the centred copy and the cached projections: ~4 n x d arrays
        check_memory(4.0 * 8.0 * n * d, f"a sample of n = {n} points in d = {d} dimensions")
        S = random_covariance(d, kappa, rng)
        u = vector_with_separation(S, random_direction(S.shape[0], rng), c)
        chol = np.linalg.cholesky(S - np.outer(u, u))
        z = u + rng.standard_normal((int(n), S.shape[0])) @ chol.T
        y = rng.choice(np.array([-1.0, 1.0]), size=int(n))
        prob = EmpiricalHalfspace(-y[:, None] * z, y, loss, normalization=normalization,
                                  centered=centered, bn_eps=bn_eps)
        prob.info.update(kappa=float(kappa), separation=c, n=int(n),
                         seed=seed if isinstance(seed, int) else None)
        return prob

    @property
    def length_scale(self) -> float:
        """The least width of GDNP's default length bracket (theory guide §4, §10): 1, or for
        the weight norm, whose ``N(w) = ||w||`` does not follow the features' scale,
        ``min(1, 2^20 / sqrt(lambda_max(S)))``. There the margins ``z'w / N(w)`` reach
        ``sqrt(lambda_max(S))`` times the batch norm's, and the optimal length is that much
        smaller: features of size 1e20 put it near 1e-20, below the ``2^-T_s`` resolution of
        a bracket of width 1. (The factor ``2^20`` leaves every problem with
        ``lambda_max(S) <= 2^40`` its bracket of width at least 1.)"""
        if self.normalization != "weight":
            return 1.0
        top = float(np.linalg.eigvalsh(self.S)[-1])
        return min(1.0, 2.0**20 / math.sqrt(top)) if top > 0.0 else 1.0

    def config(self):
        return {**super().config(), **self.info, "loss": self.loss.name,
                "population": self.population}

    def _line_solution(self, warn: bool = True):
        """Minimise along the line ``S^-1 u`` by a 1-D root solve of ``v' grad f(a v)``.

        Where the slope underflows to exactly 0 before it changes sign (separation so close
        to 1 that ``f`` itself underflows near the optimum), the minimiser is not determined
        in floating point: the first such point is returned, with ``f* = 0`` its correctly
        rounded value, and a warning (``self._underflow`` is set)."""
        v = self.solve_S(self.u)
        # the problem reached through a list emptied after the solve: scipy's brentq keeps
        # the function in a reference cycle of its own, which had kept the problem alive
        # until the garbage collector ran
        owner = [self]

        def slope(a):
            return float(v @ owner[0].grad(a * v))

        s0 = slope(0.0)
        if s0 == 0.0:
            return np.zeros(self.dim), self.f(np.zeros(self.dim))
        direction = -np.sign(s0)
        lo, hi = 0.0, direction * 1.0
        for _ in range(80):
            s_hi = slope(hi)
            bounded = all(np.isfinite(self.loss.limits))  # (its limit can round to 0 too)
            if s_hi == 0.0 and abs(hi) > 1.0 and not bounded and self.f(hi * v) == 0.0:
                # underflow, not a root: f itself is 0 from here on (a bounded loss whose
                # slope vanishes at its limit goes on to the checks below)
                self._underflow = True
                x = hi * v
                if warn:
                    warn_external(
                        f"{self!r}: f and its slope underflow to 0 along S^-1 u from |a| = "
                        f"{abs(hi):.3g} on, before the optimum: f* = 0 is its float64 value, "
                        "but x* is not determined (the Gaussian model's lies farther out); "
                        "gaps are measured against f* = 0", QuadratureWarning)
                return x, self.f(x)
            if np.sign(s_hi) != np.sign(s0):
                break
            lo, hi = hi, 2.0 * hi
        else:
            raise NoFiniteMinimizerError(
                f"{self!r}: no sign change of the slope along S^-1 u up to |a| = {abs(hi):.3g}; "
                "the loss has no finite minimiser")
        from scipy.optimize import brentq  # here: scipy.optimize is slow to import
        try:
            a = brentq(slope, min(lo, hi), max(lo, hi), xtol=1e-300,
                       rtol=4 * np.finfo(float).eps, maxiter=500)
        finally:
            owner.clear()
        x = a * v
        m = float(self.u @ x)
        s = np.sqrt(max(float(x @ self.S @ x) - m * m, 0.0))
        if s > 10.0 * np.sqrt(self._xi.size):
            raise NoFiniteMinimizerError(
                f"{self!r}: the slope along S^-1 u vanishes only at a scale (s = {s:.3g}) beyond "
                f"the reach of the {self._xi.size}-node quadrature: the {self.loss.name} loss "
                "has no finite minimiser here (its infimum is approached at infinity)")
        fx = self.f(x)
        lo, hi = self.loss.limits
        if np.isfinite(lo) and np.isfinite(hi):
            # bounded loss: compare with its limit along the ray, E[phi(sign(a) * inf * z'v)]
            c = self.separation
            p_pos = float(ndtr(np.sign(a) * c / np.sqrt(1.0 - c * c)))
            limit = lo * (1.0 - p_pos) + hi * p_pos
            if fx >= limit * (1.0 - 1e-9):
                raise NoFiniteMinimizerError(
                    f"{self!r}: f along S^-1 u does not go below its limit at infinity "
                    f"({limit:.6g}); the {self.loss.name} loss has no finite minimiser here")
        return x, fx

    # ------------------------------------------ certified length bisection (theory guide §4)
    def _length_nodes(self, state) -> tuple[np.ndarray, np.ndarray | None]:
        """``(a, weights)`` with ``S(g) = d_g f(w, g) = sum_i weights_i a_i phi'(g a_i)``;
        ``weights=None`` is the plain mean over samples."""
        raise NotImplementedError

    def _length_model(self, state) -> CertifiedDerivative | None:
        """Certified signs of ``S(g) = d_g f = E a phi'(g a)`` (:mod:`.taylor`, theory guide §4).

        ``E`` is the sample mean (empirical, ``a_i = z_i'w / ||w||_S``) or the Gauss-Hermite
        rule (population, ``a_k`` the nodes of ``N(u'w/||w||_S, 1 - (u'w)^2/||w||_S^2)``).
        Available for losses with a bounded ``phi'``, a third-derivative envelope and a
        1-Lipschitz ``log|phi'|`` (logistic, sigmoid). Per direction: ``|a|``, ``a|a|``,
        ``sign(a)``, ``E|a|^3`` and ``max|a|``.

        Rounding, ``u`` the unit roundoff: each term ``a_i phi'(g a_i)`` is computed within
        ``(8 + |g a_i|) u`` relatively (the rounding of ``g a_i`` moves ``phi'`` by
        ``|g a_i phi''/phi'| u <= |g a_i| u``; ``exp``, the sum and the quotient add a few
        ``u``). A sample mean is ``np.sum``, pairwise: blocks of at most 128 terms in 8
        interleaved partial sums (at most 15 + 3 + 7 additions per term), blocks combined by
        halving (``log2 n`` more), and at worst buffers of 8192 accumulated in sequence
        (``n / 8192`` more): within ``k u sum|terms|`` with ``k = 25 + log2 n + n / 8192``;
        a weighted rule is a dot product of ``K`` terms, ``k = K``. So a computed ``S(g)`` is
        within ``(k + 9 + |g| max|a|) u E|a phi'(g a)|``.
        """
        loss = self.loss
        if loss.d3phi_envelope is None or not (np.isfinite(loss.max_d3phi)
                                               and np.isfinite(loss.max_dphi)):
            return None
        a, wts = self._length_nodes(state)
        n = a.size
        mom = state.get("moments")
        if mom is None:  # once per direction (a|a| and max|a| shared with the located search)
            a_abs = np.abs(a)
            a_absa = state.get("a_absa")
            if a_absa is None:
                a_absa = state["a_absa"] = a * a_abs
            m3 = _dot(a, a_absa) / n if wts is None else _dot(wts, a * a_absa)
            max_abs = state.get("max_abs")
            if max_abs is None:
                max_abs = state["max_abs"] = float(_MAX(a_abs))
            mom = state["moments"] = (a_abs, a_absa, np.sign(a), m3, max_abs)
        a_abs, a_absa, a_sign, m3, max_abs = mom
        k_sum = n if wts is not None else 25 + math.ceil(math.log2(n)) + math.ceil(n / 8192)
        return CertifiedDerivative(
            partial(self._dg, state), partial(self._expand, state, a_abs, a_absa, a_sign,
                                              max_abs),
            curvature=loss.max_d3phi * m3 * (1.0 + (n + 8) * np.finfo(float).eps),
            max_abs=max_abs, sum_depth=k_sum, monotone=loss.convex,
            concave_positive=loss.d3phi_sign == -1)

    def _expand(self, state, a_abs, a_absa, a_sign, max_abs, g):
        """``(S'(g), its rounding bound, E |a|^3 e(g a) + its rounding bound,
        E|a phi'(g a)|)`` (:mod:`.taylor`), called right after ``_dg(state, g)``. The slope
        and curvature are dot products of terms computed within ``(9 + |g| max|a|) u``
        relatively, so within ``c = 2 ((n + 8) + 2 (9 + |g| max|a|)) u`` times the sum of
        the magnitudes that enter them."""
        a, wts = self._length_nodes(state)
        c = 2.0 * ((a.size + 8) + 2.0 * (9.0 + abs(g) * max_abs)) * (np.finfo(float).eps / 2)
        fused = self._fused_expansion(state, a_abs, a_absa, a_sign)
        drop_slope = drop_outward = 0.0
        if fused is not None:
            slope, slope_mag, outward, outward_mag, scale, drop_slope, drop_outward = fused
        else:
            t = g * a
            terms = np.abs(a * self.loss.dphi(t))
            d2 = a * a * self.loss.d2phi(t)
            env = np.abs(a * a_absa) * self.loss.d3phi_envelope(t)

            def mean(v):
                return float(np.mean(v)) if wts is None else float(wts @ v)

            slope, slope_mag, outward, scale = mean(d2), mean(np.abs(d2)), mean(env), mean(terms)
            outward_mag = outward
        return (slope, c * slope_mag + drop_slope,
                max(outward, 0.0) + c * outward_mag + drop_outward, scale)

    def _fused_expansion(self, state, a_abs, a_absa, a_sign):
        """Fast path of :meth:`_expand` from what the last :meth:`_dg` left behind, or
        ``None``: ``(slope, slope magnitude, outward curvature, its magnitude, scale, slope
        allowance, curvature allowance)``."""
        return None


class GaussianHalfspace(Halfspace):
    """Population halfspace problem under the Gaussian model (see :meth:`Halfspace.gaussian`).

    ``f(w~) = E[phi(z'w~)]`` with ``z ~ N(u, S - uu')``, every expectation a 1-D Gauss-Hermite
    sum over ``z'w~ ~ N(u'w~, w~'Sw~ - (u'w~)^2)`` (theory guide §3).

    Parameters
    ----------
    S : array_like, shape (d, d)
        ``E[xx']``, symmetric positive definite.
    u : array_like, shape (d,)
        ``E[z]``, with separation ``c = sqrt(u'S^-1 u) < 1``.
    loss : {"logistic", "sigmoid", "squared"} or Loss, default "logistic"
        The loss ``phi`` of the margin.
    n_nodes : int, default 601
        Gauss-Hermite nodes.
    normalization : {"batch", "weight"}, default "batch"
        The norm ``N`` of the BN coordinates (theory guide §10).
    centered : bool, default True
        ``True`` for the batch norm (a population problem has no feature means: theory
        guide §10); the weight norm, which does not centre, takes either.
    bn_eps : float, default 0.0
        BN's epsilon (``normalization="batch"`` only).

    Raises
    ------
    ValueError
        ``u'S^-1 u >= 1``, ``S`` not symmetric positive definite, shapes that do not match,
        an unknown loss or an invalid ``n_nodes``.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import GaussianHalfspace
    >>> prob = GaussianHalfspace(np.eye(2), [0.6, 0.0])
    >>> prob
    GaussianHalfspace(population, dim=2, kappa=1, separation=0.6)
    >>> round(prob.f([0.0, 0.0]), 6)    # phi(0) = log 2
    0.693147
    """

    population = True

    def __init__(self, S, u, loss="logistic", *, n_nodes: int = DEFAULT_NODES,
                 normalization: str = "batch", centered: bool = True,
                 bn_eps: float = 0.0):
        S = as_spd_matrix(S, "S")
        u = as_vector(u, "u", S.shape[0])
        c2 = float(u @ np.linalg.solve(S, u))
        if not c2 < 1.0:
            raise ValueError(f"u: the Gaussian model needs u'S^-1 u < 1, got {c2:.6g} "
                             "(S - uu' would not be a covariance)")
        if np.any(u) and not c2 >= 0.5 * SEPARATION_MIN**2:  # (half: c2's own rounding)
            raise ValueError(f"u: u'S^-1 u = {c2:.3g} is below {SEPARATION_MIN**2:g}, the "
                             "square of the least separation: -rho* leaves float64's range "
                             "(pass u = 0 for labels independent of the inputs)")
        n_nodes = _check_nodes(n_nodes)
        self._xi, self._omega = normal_rule(int(n_nodes))
        self._setup(S, u, loss, {"separation": float(np.sqrt(c2)), "n_nodes": int(n_nodes)},
                    normalization, centered, bn_eps)

    def _moments(self, m: float, s: float):
        """``E_K[phi(t)], E_K[phi'(t)], c2`` for ``t ~ N(m, s^2)``."""
        t = m + s * self._xi
        phi = self.loss
        omega = self._omega  # (ndarray.dot: the BLAS call of @ without matmul's dispatch)
        with np.errstate(over="ignore", invalid="ignore"):  # a point far out: see below
            fun = float(omega.dot(phi.phi(t)))
            d1 = phi.dphi(t)
            e1 = float(omega.dot(d1))
            if s > 1e-12 * max(1.0, abs(m)):
                c2 = float(omega.dot(d1 * self._xi)) / s
                # the sum's rounding, about eps E[phi'] E|xi| / s, above 4 eps c2: the
                # logistic's closed-form differences instead
                if phi is LOSSES["logistic"] and 0.8 * e1 > 4.0 * s * c2:
                    c2 = self._logistic_c2(m, s, d1)
            else:  # s -> 0 limit of E_K[phi'(m + s xi) xi] / s
                c2 = float(phi.d2phi(np.array([m]))[0])
        if not (math.isfinite(fun) and math.isfinite(e1) and math.isfinite(c2)):
            # phi or phi' overflowed at the outer nodes, whose weights underflowed to 0: 0 *
            # inf had made these sums NaN where f is +inf; the nodes of positive weight only
            keep = omega > 0.0
            with np.errstate(over="ignore", invalid="ignore"):
                tk, ok = t[keep], omega[keep]
                fun = float(ok.dot(phi.phi(tk)))
                d1k = phi.dphi(tk)
                e1 = float(ok.dot(d1k))
                if s > 1e-12 * max(1.0, abs(m)):
                    c2 = float(ok.dot(d1k * self._xi[keep])) / s
        return fun, e1, c2

    def _logistic_c2(self, m: float, s: float, d1: np.ndarray) -> float:
        """The rule's ``c2 = sum_k omega_k phi'(m + s xi_k) xi_k / s`` for the logistic loss
        without its cancellation: its terms are ``phi'(m) |xi_k|``, their sum ``s E[phi'']``,
        so at small ``s`` it had lost ``eps / s`` of itself (``x*`` off by 3.8e-6 at separation
        3e-12). The rule is exactly symmetric (``xi_{-k} = -xi_k``, equal weights), so ``c2 =
        sum_{xi_k > 0} omega_k xi_k (sigma(m + a_k) - sigma(m - a_k)) / s`` with ``a_k = s xi_k``,
        and ``sigma(m + a) - sigma(m - a) = sigma(m + a) sigma(a - m) (1 - e^{-2a})``: the same
        sum, each difference in closed form (theory guide §3). ``d1``: ``phi'`` at every node
        (``sigma(m + a_k)`` at the positive ones)."""
        start = (self._xi.size + 1) // 2  # the positive nodes (the middle one, 0, adds 0)
        xi, omega = self._xi[start:], self._omega[start:]
        a = s * xi
        diff = d1[start:] * expit(a - m) * -np.expm1(-2.0 * a)
        return float(omega.dot(xi * diff)) / s

    def value_and_grad(self, x):
        x = self.check_x(x)
        with np.errstate(over="ignore", invalid="ignore"):  # |x| beyond ~1e154: see below
            Sx = self.S.dot(x)
            m = float(self.u.dot(x))
            q = float(x.dot(Sx))
        if math.isfinite(q):
            s = np.sqrt(max(q - m * m, 0.0))
        else:  # |x| beyond ~1e154: x'Sx overflowed (as in f), x / max|x| does not
            c = float(np.max(np.abs(x)))
            xs = x / c
            ms = float(self.u.dot(xs))
            s = c * math.sqrt(max(float(xs.dot(self.S.dot(xs))) - ms * ms, 0.0))
        fun, e1, c2 = self._moments(m, s)
        return fun, (e1 - c2 * m) * self.u + c2 * Sx

    def hessian_vector(self, x, v) -> np.ndarray:
        """``hess f(x) v = E[phi''(z'x) z z'v]`` under ``z ~ N(u, Sigma)``, ``Sigma = S - uu'``
        (theory guide §12). Splitting ``z = u + Sigma x xi/s + r`` (``xi`` the standardised
        ``z'x``, ``r`` independent of it) gives, with ``e_j = E[phi''(m + s xi) xi^j]`` on the
        Gauss-Hermite rule and ``q = Sigma x``,
        ``e_0 (Sigma v - q q'v/s^2 + u u'v) + (e_1/s)(u q'v + q u'v) + (e_2/s^2) q q'v``.

        Parameters
        ----------
        x : array_like
            The point, shape ``(dim,)``.
        v : array_like
            The vector, shape ``(dim,)``.

        Returns
        -------
        ndarray
            ``hess f(x) v`` on the Gauss-Hermite rule.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import GaussianHalfspace
        >>> prob = GaussianHalfspace(np.eye(2), [0.6, 0.0])
        >>> prob.hessian_vector([0.0, 0.0], [1.0, 0.0])    # phi''(0) S v = v/4
        array([0.25, 0.  ])
        """
        x = self.check_x(x)
        v = self.check_x(v, "v")
        e0, rank2 = self._hessian_terms(x)
        out = e0 * (self.S @ v)  # Sigma v + u u'v = S v
        if rank2 is not None:
            a, e1, q = rank2
            uv, qv = float(self.u @ v), float(q @ v)
            out += a * qv * q + e1 * (uv * q + qv * self.u)
        return out

    def _hessian_terms(self, x: np.ndarray):
        """``(e_0, (e_2/s^2 - e_0/s^2, e_1/s, q))`` of :meth:`hessian_vector` at a checked
        ``x``, so that ``hess f(x) = e_0 S + a q q' + (e_1/s)(u q' + q u')``; the second item
        is ``None`` where ``s`` vanishes against ``m`` (the Hessian is ``e_0 S`` there)."""
        with np.errstate(over="ignore", invalid="ignore"):  # |x| beyond ~1e154: see below
            m = float(self.u @ x)
            q = self.S @ x - m * self.u
            xq = float(x @ q)
        c = 1.0
        if not math.isfinite(xq):
            # x'Sx overflowed: m, q and s of x / max|x| (the terms below are homogeneous of
            # degree 0 in them), and the margins m + s xi at x's own scale
            c = float(np.max(np.abs(x)))
            xs = x / c
            m = float(self.u @ xs)
            q = self.S @ xs - m * self.u
            xq = float(xs @ q)
        s = np.sqrt(max(xq, 0.0))
        with np.errstate(over="ignore", invalid="ignore"):
            d2 = self.loss.d2phi(c * m + (c * s) * self._xi)
        e0 = float(self._omega @ d2)
        if not s > 1e-12 * max(1.0, abs(m)):
            return e0, None
        # (q / s and q q' / s^2 are the same at x's scale and at the scaled one)
        e1 = float(self._omega @ (d2 * self._xi)) / s
        e2 = float(self._omega @ (d2 * self._xi**2)) / s**2
        return e0, (e2 - e0 / s**2, e1, q)

    def _hessian_matrix(self, x) -> np.ndarray:
        """``hess f(x) = e_0 S + a q q' + (e_1/s)(u q' + q u')`` as a matrix: the terms of
        :meth:`hessian_vector` for every vector at once (theory guide §12)."""
        e0, rank2 = self._hessian_terms(self.check_x(x))
        H = e0 * self.S
        if rank2 is not None:
            a, e1, q = rank2
            H += a * np.outer(q, q)
            eq = e1 * q
            H += np.outer(eq, self.u)
            H += np.outer(self.u, eq)
        return H

    def f(self, x):
        x = self.check_x(x)
        with np.errstate(over="ignore", invalid="ignore"):  # a huge x: handled below
            # the operations of value_and_grad and _moments: the same value, bit for bit
            m = float(self.u.dot(x))
            s = np.sqrt(max(float(x.dot(self.S.dot(x))) - m * m, 0.0))
            value = float(self._omega.dot(self.loss.phi(m + s * self._xi)))
            if math.isnan(value):  # x'Sx overflowed: the same sum with x scaled by max|x|
                c = float(np.max(np.abs(x)))
                xs = x / c
                m = float(self.u @ xs)
                s = np.sqrt(max(float(xs @ self.S @ xs) - m * m, 0.0))
                keep = self._omega > 0.0  # (0 * inf: nodes whose weight underflowed)
                t = c * (m + s * self._xi[keep])
                value = float(self._omega[keep] @ self.loss.phi(t))
        return value

    def _ab(self, state):
        ma = state["uw"] / state["nS"]
        return ma, math.sqrt(max(1.0 - ma * ma, 0.0))

    def _eval_scaled(self, w, state, a):
        ma, sa = self._ab(state)
        m = a * state["nS"] * ma
        s = abs(a) * state["nS"] * sa
        fun, e1, c2 = self._moments(m, s)
        c1 = e1 - c2 * m
        state["c1"] = (a, c1)  # GDNP reads c1 at the same point next (one quadrature pass)
        return fun, c1 * self.u + (c2 * a) * state["Sw"]

    # Gauss-Hermite nodes of weight below this are left out of the length derivative. It is 0:
    # near separability (c -> 1) the whole of d_g f can be as small as the tail nodes' terms
    # (f* ~ 1e-110 at c = 0.999), and their sign decides where the root is (theory guide §4)
    LENGTH_WEIGHT_CUT = 0.0

    def _length_rule(self):
        rule = getattr(self, "_length_rule_cache", None)
        if rule is None:
            keep = self._omega >= self.LENGTH_WEIGHT_CUT
            rule = self._length_rule_cache = (self._xi[keep], self._omega[keep])
        return rule

    def _length_nodes(self, state):
        a0 = state.get("a0")
        if a0 is None:  # nodes of z'w/||w||_S ~ N(ma, 1 - ma^2), once per direction
            ma, sa = self._ab(state)
            a0 = ma + sa * self._length_rule()[0]
            if "dN" in state:  # nodes of z'w/N(w) (theory guide §10)
                a0 = a0 * (state["nS"] / state["N"])
            state["a0"] = a0
        return a0, self._length_rule()[1]

    def _dg(self, state, g):
        if self.loss is LOSSES["logistic"]:
            return self._logistic_kernels(state)[0](g)
        a0, omega = self._length_nodes(state)
        return float(omega @ (self.loss.dphi(g * a0) * a0))

    def _length_function(self, state):
        if self.loss is LOSSES["logistic"]:
            return self._logistic_kernels(state)[0]
        return super()._length_function(state)

    def _logistic_kernels(self, state):
        """``(value, probe)`` of :func:`_logistic_kernels` for this direction, once per
        direction."""
        kernels = state.get("logistic_kernels")
        if kernels is None:
            a0, _ = self._length_nodes(state)
            kernels = state["logistic_kernels"] = _logistic_kernels(
                a0, *self._logistic_terms(state))
        return kernels

    def _logistic_c(self, state):
        """``c_k = omega_k a_k``, once per direction."""
        c = state.get("logistic_c")
        if c is None:
            a0, omega = self._length_nodes(state)
            c = state["logistic_c"] = omega * a0
        return c

    def _logistic_terms(self, state):
        """``(c, sign(a))`` with ``c_k = omega_k a_k``, once per direction."""
        terms = state.get("logistic_terms")
        if terms is None:
            a0, _ = self._length_nodes(state)
            terms = state["logistic_terms"] = (self._logistic_c(state), np.sign(a0))
        return terms

    def _logistic_values(self, state, ts, slopes: bool = False):
        """``S(t) = sum_k c_k sigma(t a_k)`` (``c_k = omega_k a_k``) at every ``t`` of ``ts``
        in one pass over a points x nodes array, with ``(P + N)(t) = sum_k |terms|`` and, if
        ``slopes``, rows ``S'(t) = sum_k c_k a_k s_k (1 - s_k)`` and the bound
        ``sum_k |c_k a_k^2| s_k (1 - s_k) >= |S''(t)|`` on the curvature. Each row is reduced
        on its own (pairwise, as ``np.sum``) after the same elementwise operations as
        :meth:`_dg`, so ``S(ts)[j]`` is bit for bit ``_dg(state, ts[j])`` (tested)."""
        a0, _ = self._length_nodes(state)
        c, sign_a = self._logistic_terms(state)
        S = np.multiply.outer(np.asarray(ts, dtype=float), a0)
        expit(S, out=S)
        T = np.multiply(S, c)
        values = np.add.reduce(T, axis=1)
        scale = T @ sign_a
        slope = None
        if slopes:  # and |S''| <= sum |c_k| a_k^2 s_k (1 - s_k) (|1 - 2 s| <= 1), for Newton
            np.subtract(1.0, S, out=S)
            S *= T  # c_k s_k (1 - s_k), of the sign of a_k
            slope = (S @ a0, S @ (a0 * np.abs(a0)))
        return values, scale, slope

    def _length_locator(self, state):
        """:class:`~gdnp.problems.taylor.MassRatioLocator` over the Gauss-Hermite nodes
        (logistic loss: ``phi' = sigma`` is positive and increasing), with the constants of
        :meth:`_locator_constants`."""
        if self.loss is not LOSSES["logistic"]:
            return None
        k_sum, max_abs, max_abs_all, n, tiny, mass_small, slope_small = \
            self._locator_constants(state)
        value, probe = self._logistic_kernels(state)
        model = MassRatioLocator(partial(self._logistic_values, state),
                                 value, sum_depth=k_sum, max_abs=max_abs, n_terms=n,
                                 probe=probe, max_abs_all=max_abs_all, slope_small=slope_small)
        model.tiny = tiny
        model.mass_small = mass_small
        return model

    def _locator_constants(self, state) -> tuple:
        """The length locator's constants for this direction: ``(sum_depth, max|a|, max|a|
        over every node, n_terms, tiny, mass_small, slope_small)`` (theory guide §4).

        Nodes whose weight is below ``1e-30`` enter the far certificates' rounding bound
        through their total mass ``sum |c_k|`` instead of through ``max|a|`` (their terms and
        computed values lie in ``[0, |c_k|]``)."""
        xi, omega = self._length_rule()
        cut = getattr(self, "_locator_cut", None)
        if cut is None:  # per problem: the extreme big nodes, the small nodes' moments
            small = omega < 1e-30
            n = xi.size
            cut = self._locator_cut = (
                float(np.min(xi[~small])), float(np.max(xi[~small])), float(np.min(xi)),
                float(np.max(xi)), float(np.sum(omega[small])),
                float(omega[small] @ np.abs(xi[small])), float(omega[small] @ xi[small] ** 2),
                pairwise_depth(n) if n <= 8192 else 25 + math.ceil(math.log2(n))
                + math.ceil(n / 8192), n)
        xi_lo, xi_hi, xi_lo_all, xi_hi_all, w_small, w_xi_small, w_xi2_small, k_sum, n = cut
        ma, sa = self._ab(state)
        f = state["nS"] / state["N"] if "dN" in state else 1.0
        # the nodes are a_k = fl(f (ma + sa xi_k)), f = ||w||_S / N(w) > 0, so |a_k| is
        # largest at the extreme nodes (a is affine in xi), within a few roundings of
        # f |ma + sa xi| there (1e-12 to spare); |c_k| = omega_k |a_k| <= f omega_k (|ma| +
        # sa |xi_k|), with 1% to spare
        widen = f * (1.0 + 1e-12)
        mass_small = float(1.01 * f * (abs(ma) * w_small + sa * w_xi_small))
        tiny = 1e-300 * max(int(n), 1) + 2.0 * mass_small
        return (float(k_sum), max(abs(ma + sa * xi_lo), abs(ma + sa * xi_hi)) * widen,
                max(abs(ma + sa * xi_lo_all), abs(ma + sa * xi_hi_all)) * widen, int(n), tiny,
                mass_small, 0.26 * f * f * (ma * ma * w_small + 2.0 * abs(ma) * sa * w_xi_small
                                            + sa * sa * w_xi2_small))

    def _compiled_length_search(self, state):
        """GDNP's located length search for this direction in one compiled call
        (:mod:`gdnp._jit`, numba), or ``None`` where it does not apply (numba absent or
        switched off, a loss other than the logistic, a normalization other than
        ``||w||_S``). The callable takes ``(a, b, maxiter, xtol, start)`` and returns
        :func:`gdnp.bisect`'s ``(root, info)``, or ``None`` where the Python search must run;
        the halvings are plain bisection's either way (theory guide §4)."""
        if self.loss is not LOSSES["logistic"] or "dN" in state or not _jit.available():
            return None

        def search(a, b, maxiter, xtol, start):
            xi, omega = self._length_rule()
            ma, sa = self._ab(state)
            return _jit.population_logistic_search(xi, omega, ma, sa, a, b, maxiter, xtol,
                                                   start, self._locator_constants(state))

        return search

    def _c1(self, state, a):
        last = state.get("c1")
        if last is not None and last[0] == a:
            return last[1]
        ma, sa = self._ab(state)
        m = a * state["nS"] * ma
        _, e1, c2 = self._moments(m, abs(a) * state["nS"] * sa)
        return e1 - c2 * m

    def _reference_solution(self):
        x, fx = self._line_solution()
        err = self._quadrature_error_at(x, fx)  # (the line search once, not twice)
        if err["x_rel"] > _RULE_WARN or err["f_rel"] > _RULE_WARN:
            warn_external(
                f"{self!r}: at the optimum (s = {err['s']:.3g}) the {err['n_nodes']}-node "
                f"Gauss-Hermite rule's x* and f* differ from a {err['check_nodes']}-node rule's "
                f"by {err['x_rel']:.2g} and {err['f_rel']:.2g} (relative): the solvers and "
                "solution() minimise the rule's objective, which is that far from the Gaussian "
                f"model's; pass n_nodes={err['check_nodes']} or more for the model's (gdnp "
                "solve: --n-nodes; gdnp sweep has no rule option; theory guide §3)",
                QuadratureWarning)
        return x, fx

    def quadrature_error(self) -> dict:
        """How far the Gauss-Hermite rule's optimum is from the Gaussian model's, estimated
        by the optimum of a rule with four times the nodes (theory guide §3).

        The rule integrates ``phi(m + s xi)`` on nodes ``xi`` whose spacing, in ``t = m + s
        xi``, grows with ``s``: where the optimum lies at a large ``s`` (separation close to
        1), the rule no longer resolves the loss's features near ``t = 0``, and the problem
        it defines, which every solver and :meth:`solution` minimise consistently, moves away
        from the Gaussian model (at separation 0.999, ``d = 3``: ``x*`` by about 26% with 601
        nodes).

        Returns
        -------
        dict
            ``n_nodes``, ``check_nodes`` (``4 n_nodes``), ``s`` (the standard deviation of
            ``z'x*``), ``x_rel`` (``||x*_K - x*_4K|| / ||x*_4K||``) and ``f_rel``
            (``|f*_K - f*_4K| / |f*_4K|``); ``inf`` where the finer rule finds no finite
            minimiser.

        Raises
        ------
        NoFiniteMinimizerError
            If this rule's objective has none (as :meth:`solution`).

        Examples
        --------
        >>> from gdnp.problems import Halfspace
        >>> err = Halfspace.random(3, 10.0, separation=0.9, seed=0).quadrature_error()
        >>> err["check_nodes"], err["x_rel"] < 1e-12
        (2404, True)
        """
        cached = getattr(self, "_quadrature_error", None)
        if cached is not None:
            return dict(cached)
        return self._quadrature_error_at(*self._line_solution(warn=False))

    def _quadrature_error_at(self, x, fx) -> dict:
        """:meth:`quadrature_error` from this rule's line optimum ``(x, fx)``, kept."""
        cached = getattr(self, "_quadrature_error", None)
        if cached is not None:
            return dict(cached)
        K = int(self._xi.size)
        m = float(self.u @ x)
        out = {"n_nodes": K, "check_nodes": 4 * K,
               "s": float(np.sqrt(max(float(x @ self.S @ x) - m * m, 0.0)))}
        fine = GaussianHalfspace(self.S, self.u, self.loss, n_nodes=4 * K)
        try:
            x4, f4 = fine._line_solution(warn=False)
        except NoFiniteMinimizerError:
            out.update(x_rel=math.inf, f_rel=math.inf)
        else:
            self._rule_difference(out, x, fx, x4, f4, fine)
        self._quadrature_error = out
        return dict(out)

    def _rule_difference(self, out: dict, x, fx, x4, f4, fine) -> None:
        """``x_rel`` and ``f_rel`` of :meth:`quadrature_error` (NaN where ``f*`` underflows:
        ``x*`` is not determined, and neither is how far it moved)."""
        if getattr(self, "_underflow", False) or getattr(fine, "_underflow", False):
            out.update(x_rel=math.nan, f_rel=math.nan)
        else:
            scale = float(np.linalg.norm(x4))
            out.update(x_rel=float(np.linalg.norm(x - x4)) / scale if scale > 0 else
                       float(np.linalg.norm(x)),
                       f_rel=abs(fx - f4) / abs(f4) if f4 != 0 else abs(fx))

    @property
    def separation(self) -> float:
        """``c = sqrt(u' S^-1 u)`` (theory guide §3), in ``[0, 1)``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import GaussianHalfspace
        >>> prob = GaussianHalfspace(np.eye(2), [0.6, 0.0])
        >>> prob.separation
        0.6
        """
        return self.info["separation"]


class EmpiricalHalfspace(Halfspace):
    """Halfspace problem on centred data (see :meth:`Halfspace.from_data`).

    ``f(w~) = mean_i phi(z_i'w~)`` with ``z_i = -y_i x_i`` on the centred features, and the
    sample moments ``S = X'X/n``, ``u = -X'y/n`` (theory guide §3).

    Parameters
    ----------
    X : array_like, shape (n, d)
        Features.
    y : array_like, shape (n,)
        Labels, each ``-1`` or ``+1``.
    loss : {"logistic", "sigmoid", "squared"} or Loss, default "logistic"
        The loss ``phi`` of the margin.
    ridge : float, default 0.0
        ``ridge > 0`` uses ``S + ridge * I`` as the metric (theory guide §9).
    null_space : {"raise", "drop"}, default "raise"
        For a singular ``S``: raise an error naming the columns, or work in its range.
    normalization : {"batch", "weight", "l1", "l3", "linf"}, default "batch"
        The norm ``N`` of the BN coordinates ``w~ = g w / N(w)`` (theory guide §10); the
        sample-based norms need data.
    centered : bool, default True
        Normalize by the norm of the centred projections (default) or of the raw ones;
        only ``N`` changes, the pre-activation stays centred (theory guide §10).
    bn_eps : float, default 0.0
        BN's epsilon: ``N(w) = sqrt(w'Sw + bn_eps)`` (``normalization="batch"`` only).

    Raises
    ------
    ValueError
        Labels other than ``-1``/``+1``, shapes that do not match, non-finite entries.
    SingularCovarianceError
        ``S`` is singular and no remedy was asked for.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import EmpiricalHalfspace
    >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
    ...               [-0.2, 1.1]])
    >>> prob = EmpiricalHalfspace(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0])
    >>> prob.dim, prob.population, prob.is_separable()
    (2, False, False)
    """

    population = False

    def __init__(self, X, y, loss="logistic", *, ridge: float = 0.0, null_space: str = "raise",
                 normalization: str = "batch",
                 centered: bool = True, bn_eps: float = 0.0):
        data = prepare_data(X, y, labels=True, ridge=ridge, null_space=null_space)
        self.data = data
        self.X, self.y = data.X, data.y
        self._neg_y = -self.y  # z_i = -y_i x_i
        n = self.X.shape[0]
        self._n = n
        self._setup(data.S, -(self.X.T @ self.y) / n, loss, {"n": n, "ridge": data.ridge},
                    normalization, centered, bn_eps)

    def _assign_samples(self, X, y, center_y):
        n = X.shape[0]
        self.X, self.y, self._neg_y, self._n = X, y, -y, n
        self._assign_moment(X)  # S formed when read (theory guide §11)
        self.u = -(X.T @ y) / n
        self._spectral_constants(*self._spectral_factors())  # computed when read

    def _margins(self, x):
        return self._neg_y * self.X.dot(x)  # (the BLAS call of @, without its dispatch)

    def value_and_grad(self, x):
        return self._value_and_grad_at(self._margins(self.check_x(x)))

    def _value_and_grad_at(self, t: np.ndarray):
        """``(f, grad f)`` from the margins ``t = z'x`` (one pass over ``X``)."""
        fun, d1 = self.loss.value_and_dphi(t)
        return fun, self._grad_from_dphi(d1, out=d1)

    def _grad_from_dphi(self, d1, out=None):
        """``grad f = mean_i phi'(t_i) z_i = X'(-y phi'(t)) / n``: one pass over ``X``."""
        return self.X.T.dot(np.multiply(self._neg_y, d1, out=out)) / self._n

    def f(self, x):
        x = self.check_x(x)
        with np.errstate(over="ignore", invalid="ignore"):  # a huge x: handled below
            t = self._margins(x)
            # a loss's fused mean where it has one: value_and_grad's value, bit for bit (the
            # plain mean of phi had differed by up to 22 ulp, so res.fun != f(res.x))
            value = float(self.loss.value_and_dphi(t)[0]) if self.loss.mean_and_dphi \
                is not None else float(np.mean(self.loss.phi(t)))
            if math.isnan(value):  # a margin overflowed: the margins of x / max|x|, scaled
                c = float(np.max(np.abs(x)))
                value = float(np.mean(self.loss.phi(c * self._margins(x / c))))
        return value

    def hessian_vector(self, x, v) -> np.ndarray:
        """``hess f(x) v = X'(phi''(t) * X v) / n`` with the margins ``t = z'x`` (theory
        guide §12; ``z_i z_i' = x_i x_i'`` since ``y_i^2 = 1``).

        Parameters
        ----------
        x : array_like
            The point, shape ``(dim,)``.
        v : array_like
            The vector, shape ``(dim,)``.

        Returns
        -------
        ndarray
            ``hess f(x) v``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import EmpiricalHalfspace
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = EmpiricalHalfspace(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0])
        >>> prob.hessian_vector([0.0, 0.0], [1.0, 0.0]).round(6)
        array([ 0.109514, -0.000972])
        """
        d2 = self.loss.d2phi(self._margins(self.check_x(x)))
        return self.X.T @ (d2 * (self.X @ np.asarray(v, dtype=float))) / self._n

    _RECYCLES_STATE = True

    def _direction_state(self, w, Xw=None, spare=None):
        # z_i'w for every sample: one pass over X (none where the state made X w: a batch's);
        # in the arrays of a spare state where one is given (the same numbers: X w into the
        # array, then -y times it in place), its other array kept as the scratch buffer
        if Xw is None and spare is not None:
            arrays = [a for a in (spare.get("zw"), spare.get("buf")) if a is not None and
                      a.shape == self._neg_y.shape and a.flags.c_contiguous]
            if arrays:
                zw = self.X.dot(w, out=arrays[0])
                np.multiply(self._neg_y, zw, out=zw)
                return {"zw": zw} if len(arrays) == 1 else {"zw": zw, "buf": arrays[1]}
        return {"zw": self._margins(w) if Xw is None else self._neg_y * Xw}

    def _dphi_at(self, state, a):
        """``(mean phi(t), phi'(t))`` at ``t = a z'w``, cached per direction for the last ``a``
        (the gradient and GDNP's ``c1`` are evaluated at the same point)."""
        last = state.get("dphi")
        if last is not None and last[0] == a:
            return last[1], last[2]
        zw = state["zw"]
        if self.loss is LOSSES["logistic"]:
            # the margins a z'w in the direction's scratch buffer (the length search's, free
            # between searches): no new array of n floats for each evaluation (not for a
            # loss of one's own, whose phi' could return its argument itself)
            state["curvature"] = math.nan  # (the buffer no longer holds a probe's values)
            t = np.multiply(zw, a, out=self._scratch(state, "buf", zw))
        else:
            t = a * zw
        fun, d1 = self.loss.value_and_dphi(t)
        state["dphi"] = (a, fun, d1)
        return fun, d1

    def _eval_scaled(self, w, state, a):
        fun, d1 = self._dphi_at(state, a)
        if state.get("c1_next"):
            # GDNP's direction step reads c1 at this point next: from phi' now, while it is
            # in cache, before the pass over X; then nothing else reads phi' here, and the
            # gradient's pass can take its buffer
            self._c1(state, a)
            del state["dphi"]
            return fun, self._grad_from_dphi(d1, out=d1)
        return fun, self._grad_from_dphi(d1)

    @staticmethod
    def _a0(state) -> np.ndarray:
        a0 = state.get("a0")
        if a0 is None:  # a_i = z_i'w / N(w), once per direction
            a0 = state["a0"] = state["zw"] / state["N"]
        return a0

    @staticmethod
    def _scratch(state, key: str, like: np.ndarray) -> np.ndarray:
        buf = state.get(key)
        if buf is None:
            buf = state[key] = np.empty_like(like)
        return buf

    def _logistic_sum(self, state, a0: np.ndarray, g: float) -> float:
        """``sum_i a_i / (1 + exp(-g a_i))`` in two scratch buffers: ``buf`` keeps
        ``1 + exp(-g a)`` and ``buf2`` the terms (for :meth:`_fused_expansion` and the probe),
        about 4x cheaper than scipy's expit; exp -> inf gives the exact limit 0. ``np.sum``
        is pairwise (see :meth:`_length_model`'s error bound)."""
        buf = self._scratch(state, "buf", a0)
        terms = self._scratch(state, "buf2", a0)
        state["curvature"] = math.nan  # the buffers no longer hold the last probe's
        np.multiply(a0, -g, out=buf)
        with np.errstate(over="ignore"):
            np.exp(buf, out=buf)
        buf += 1.0
        return float(_SUM(np.divide(a0, buf, out=terms)))

    def _dg(self, state, g):
        a0 = self._a0(state)
        if self.loss is LOSSES["logistic"]:
            s = self._logistic_sum(state, a0, g)
            if s != 0.0:  # an exact 0 may be underflow (separable data): use expit's tails
                return s / a0.size
        return float(np.mean(self.loss.dphi(g * a0) * a0))

    def _logistic_probe(self, state, g: float) -> tuple[float, float, float]:
        """``(S(g), (P + N)(g), S'(g))`` in one pass (theory guide §4): ``S`` bit for bit
        :meth:`_dg` (the same operations), then ``P + N = mean |t_i|`` as a sum and ``S' =
        (mean a_i t_i - mean t_i^2)`` as two dot products (``t_i = a_i s_i`` the terms, of the
        sign of ``a_i``; ``s_i = 1 / (1 + exp(-g a_i))``; ``a_i t_i (1 - s_i) = a_i t_i -
        t_i^2``), within the bounds of
        :meth:`~gdnp.problems.taylor.MassRatioLocator.probe_bounds` (``fused_slope``). Where
        the sum is exactly 0 the value is :meth:`_dg`'s fallback (scipy's expit: the same
        rounding bounds). The scratch buffers keep ``1 + exp(-g a_i)`` and the terms for
        :meth:`_logistic_curvature`."""
        a0 = self._a0(state)
        n = a0.size
        s = self._logistic_sum(state, a0, g)
        value = s / n if s != 0.0 else self._dg(state, g)  # (recomputes the same buffers)
        terms = state["buf2"]
        slope = (_bound_dot(terms, a0) - _bound_dot(terms, terms)) / n
        scale = float(_SUM(np.abs(terms, out=self._scratch(state, "buf3", a0))))
        state["curvature"] = None  # not computed yet at this length
        return value, scale / n, slope

    def _logistic_curvature(self, state) -> float:
        """The curvature envelope ``C(g) = mean |a_i|^3 s_i (1 - s_i) >= |S''(g)|``
        (``|phi'''| <= phi''``; theory guide §4) at the length of the last
        :meth:`_logistic_probe`, from the buffers it left (``1 + exp(-g a_i)`` and the terms
        ``a_i s_i``): three passes and a dot product, for Newton's error in a located search.
        """
        curvature = state.get("curvature")
        if curvature is not None and math.isnan(curvature):
            raise RuntimeError("the curvature envelope is read right after a probe, before "
                               "any other evaluation rewrites its buffers")
        if curvature is None:
            buf, terms = state["buf"], state["buf2"]
            np.divide(1.0, buf, out=buf)  # s_i (np.reciprocal, the same numbers, is 2x slower)
            np.subtract(1.0, buf, out=buf)
            buf *= terms  # a_i s_i (1 - s_i)
            curvature = state["curvature"] = _bound_dot(buf, self._a_absa(state)) / buf.size
        return curvature

    @classmethod
    def _max_abs(cls, state) -> float:
        """``max |a_i|``, once per direction (two reductions, no array)."""
        max_abs = state.get("max_abs")
        if max_abs is None:
            a0 = cls._a0(state)
            max_abs = state["max_abs"] = max(float(_MAX(a0)), -float(_MIN(a0)))
        return max_abs

    @classmethod
    def _a_absa(cls, state) -> np.ndarray:
        """``a_i |a_i|``, once per direction, when a probe's curvature is first asked for."""
        a_absa = state.get("a_absa")
        if a_absa is None:
            a0 = cls._a0(state)
            a_absa = state["a_absa"] = np.abs(a0)
            np.multiply(a0, a_absa, out=a_absa)
        return a_absa

    def _length_locator(self, state):
        """:class:`~gdnp.problems.taylor.MassRatioLocator` over the samples (logistic loss,
        ``phi' = sigma`` positive and increasing, every weight ``1/n``): probes give the plain
        value of ``d_g f`` with ``P + N`` and ``S'``, for Newton steps and sign certificates
        that decide the midpoints away from the root (theory guide §4), with the constants
        of :meth:`_locator_constants`."""
        consts = self._locator_constants(state)
        if consts is None:
            return None
        k_sum, max_abs, _, n_terms, _, _, _ = consts
        probe = partial(self._logistic_probe, state)

        def values(ts, slopes: bool = False):
            rows = np.array([probe(float(t)) for t in np.atleast_1d(ts)]).reshape(-1, 3)
            return rows[:, 0], rows[:, 1], (rows[:, 2], None) if slopes else None

        model = MassRatioLocator(values, partial(self._dg, state), sum_depth=k_sum,
                                 max_abs=max_abs, n_terms=n_terms, probe=probe,
                                 fused_slope=True)
        model.curvature_of_last_probe = partial(self._logistic_curvature, state)
        return model

    def _locator_constants(self, state) -> tuple | None:
        """The length locator's constants for this direction, ``(sum_depth, max|a|, max|a|,
        n_terms, tiny, 0, 0)`` as :meth:`GaussianHalfspace._locator_constants` gives them,
        or ``None`` where there is no locator (a loss other than the logistic, margins all
        zero or not finite). The sum's rounding depth is that of :meth:`_length_model`,
        plus one rounding for the division by ``n`` (in the depth of the sum and in the dot
        products' ``n + 1`` terms); terms whose ``exp`` overflows are 0 instead of ``|a|
        e^{-|g a|} < max|a| 2.3e-308`` each, within the allowance for underflow (``tiny =
        1e-300`` per term)."""
        if self.loss is not LOSSES["logistic"]:
            return None
        max_abs = self._max_abs(state)
        if not (math.isfinite(max_abs) and max_abs > 0.0):
            return None
        n = state["zw"].size
        k_sum = 25 + math.ceil(math.log2(n)) + math.ceil(n / 8192) + 1
        return (float(k_sum), max_abs * (1.0 + 1e-15), max_abs * (1.0 + 1e-15), n + 1,
                1e-300 * (n + 1), 0.0, 0.0)

    def _compiled_length_search(self, state):
        """GDNP's located length search for this direction in compiled code
        (:func:`gdnp._jit.data_logistic_search`, numba; each ``exp(-t a)`` in NumPy), or
        ``None`` where it does not apply (numba absent or switched off, a loss other than
        the logistic). The callable takes ``(a, b, maxiter, xtol, start)`` and returns
        :func:`gdnp.bisect`'s ``(root, info)``, or ``None`` where the Python search must
        run; the halvings are plain bisection's either way (theory guide §4)."""
        if self.loss is not LOSSES["logistic"] or not _jit.available():
            return None

        def search(a, b, maxiter, xtol, start):
            prefilled = math.nan
            zw, norm = state["zw"], state["N"]
            buf = self._scratch(state, "buf", zw)
            # (in _logistic_sum's scratch buffer: the Python probe's buffers are rewritten)
            state["curvature"] = math.nan
            if "max_abs" not in state:
                # a new direction: the maximum of its margins a_i = z_i'w / N(w) and the
                # first probe's -t a in one compiled pass (the numbers of _a0 and _max_abs);
                # the margins themselves are formed where they are used, never stored
                t = start if start == start and a < start < b else 0.5 * (a + b)
                top = _jit.scaled_margins(zw, norm, t, buf)
                if top is not None:
                    state["max_abs"], prefilled = top, t
            consts = self._locator_constants(state)
            if consts is None:
                return None
            return _jit.data_logistic_search(zw, norm, buf, a, b, maxiter, xtol, start,
                                             consts, prefilled)

        return search

    def _length_nodes(self, state):
        return self._a0(state), None

    TINY_TERM = 1e-140

    def _fused_expansion(self, state, a_abs, a_absa, a_sign):
        """Logistic loss, from the terms ``a s`` (``s = sigma(g a)``) that :meth:`_dg` leaves
        in a scratch buffer: ``sum a^2 s (1 - s) = (as)'a - (as)'(as)``,
        ``sum |a|^3 s (1 - s) = (as)'(a|a|) - (|a| as)'(as)`` (the envelope is ``phi''``) and
        ``sum |a s| = sign(a)'(as)``: five dot products and one pass. The differences are
        bounded by the sums of their (non-negative) parts."""
        if self.loss is not LOSSES["logistic"]:
            return None
        a0 = self._a0(state)
        n = a0.size
        terms = state["buf2"]
        # Terms below TINY_TERM leave the dot products (their squares and products would be
        # subnormal numbers, which cost the CPU ~100x more per operation): what they would
        # have added is bounded and returned as allowances on the slope and the curvature.
        big = np.greater_equal(np.abs(terms, out=state["buf"]), self.TINY_TERM)
        n_drop = n - int(np.count_nonzero(big))
        if n_drop:
            terms, a0 = terms[big], a0[big]
            a_abs, a_absa, a_sign = a_abs[big], a_absa[big], a_sign[big]
            weighted = np.multiply(a_abs, terms)
        else:
            weighted = np.multiply(a_abs, terms, out=state["buf"])
        p2, q2 = _bound_dot(terms, a0) / n, _bound_dot(terms, terms) / n
        p3, q3 = _bound_dot(terms, a_absa) / n, _bound_dot(weighted, terms) / n
        m = state["moments"][4]  # max|a|
        tau = self.TINY_TERM * n_drop / n
        return (p2 - q2, p2 + q2, p3 - q3, p3 + q3, _bound_dot(a_sign, terms) / n + tau,
                tau * (m + self.TINY_TERM), tau * m * (m + self.TINY_TERM))

    def _c1(self, state, a):
        last = state.get("c1")
        if last is not None and last[0] == a:
            return last[1]
        _, d1 = self._dphi_at(state, a)
        n = d1.size
        if self.loss is LOSSES["logistic"]:
            # phi'' = sigma (1 - sigma), 1 - sigma exact to within u absolutely, which is all
            # c1 needs: both sums pairwise, in one compiled pass where the compiled search is
            # loaded, else in NumPy (into a scratch buffer the length search's evaluations
            # rewrite anyway): the same numbers either way
            sums = _jit.sum_and_spread(d1) if d1.flags.c_contiguous else None
            if sums is None:
                spread = np.subtract(1.0, d1, out=self._scratch(state, "buf", d1))
                sums = float(_SUM(d1)), float(_SUM(np.multiply(spread, d1, out=spread)))
            d1_sum, d2_mean = sums[0], sums[1] / n
        else:
            d1_sum = float(_SUM(d1))
            d2_mean = float(np.mean(self.loss.d2phi(a * state["zw"])))
        c1 = d1_sum / n - d2_mean * a * state["uw"]
        state["c1"] = (a, c1)
        return c1

    def is_separable(self, progress: bool = False) -> bool:
        """Whether some ``w`` has ``y_i x_i'w >= 1`` for all samples (an LP, scipy HiGHS).

        On separable data the logistic and sigmoid losses have no finite minimiser
        (theory guide §3, §9). With the logistic loss the answer comes from certificates
        first (those ``solution()`` uses where ``n d > 2e5``; on smaller data it runs the LP
        first, a fraction of a second there): a point with a tiny gradient and a positive
        definite Hessian proves a finite minimiser (not separable), also in the coordinates of
        that Hessian's Cholesky factor (ill-conditioned data), a point with every margin
        positive proves separability (seconds at ``n = 1e6``). The LP, exact for every loss,
        runs when neither is found; its cost grows steeply with the data: about a second at
        ``n = 1e4, d = 100``, several at ``n = 3e4``, minutes from ``n = 5e4`` (measured).

        Parameters
        ----------
        progress : bool, default False
            Show HiGHS's log.

        Returns
        -------
        bool
            ``True`` if the (centred) data are linearly separable.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import EmpiricalHalfspace
        >>> X = np.array([[1.0, 0.5], [-1.0, 0.2], [0.5, -1.0], [-0.5, -0.3], [0.3, 0.9],
        ...               [-0.2, 1.1]])
        >>> prob = EmpiricalHalfspace(X, [1.0, -1.0, -1.0, 1.0, 1.0, -1.0])
        >>> prob.is_separable()
        False
        """
        if self.loss is LOSSES["logistic"]:
            verdict = self._certified_newton()[1]
            if verdict is not None:
                return verdict == "separable"
        return self._lp_separable(progress)

    def _lp_separable(self, progress: bool = False) -> bool:
        """:meth:`is_separable` by the LP alone (``progress``: HiGHS's log).

        HiGHS's memory is checked first (measured: about 30 times the data's). It runs in a
        forked child process where the platform has ``fork`` (the data are shared, not
        copied), so that Ctrl-C stops it at once and cleanly: a HiGHS solve abandoned in a
        thread of this process had aborted the interpreter at exit (SIGABRT, "terminate
        called without an active exception"). Elsewhere it runs in a daemon thread."""
        import multiprocessing
        import threading

        from scipy.optimize import linprog  # here: scipy.optimize is slow to import

        check_memory(30.0 * 8.0 * self._n * self.dim,
                     f"checking separability by an LP (n = {self._n}, d = {self.dim})")
        A = self.y[:, None] * self.X

        def solve() -> int:
            return int(linprog(np.zeros(self.dim), A_ub=A, b_ub=-np.ones(self._n),
                               bounds=[(None, None)] * self.dim, method="highs",
                               options={"disp": bool(progress)}).status)

        if self._n * self.dim <= _LP_DIRECT:
            # a small LP (milliseconds) in this thread: a child costs ~10 ms to fork, more
            # than the LP, and Ctrl-C waits only as long as the LP; no thread is left running
            return solve() == 0
        # (a daemonic process, a dask or multiprocessing.Pool worker, may not have children:
        # the thread there)
        if "fork" in multiprocessing.get_all_start_methods() and \
                not multiprocessing.current_process().daemon:
            return _in_forked_child(solve, "the separability LP") == 0
        out: dict = {}

        def run() -> None:
            try:
                out["status"] = solve()
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                out["error"] = exc

        worker = threading.Thread(target=run, name="gdnp-separability-lp", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.1)
        if "error" in out:
            raise out["error"]
        return out["status"] == 0

    def _separable_error(self):
        return NoFiniteMinimizerError(
            "X, y: the data are linearly separable, so the "
            f"{self.loss.name} loss has no finite minimiser")

    def _reference_solution(self):
        if self.loss.name == "squared":
            return self._least_squares_solution()
        # Certificates first (seconds at n = 1e6): a point with a tiny gradient and a positive
        # definite Hessian proves that a finite minimiser exists; a direction with every margin
        # positive proves separability. The LP (exact, but minutes at n = 1e5, d = 100) runs
        # first only on small data, and on large data only when neither certificate is found.
        small = self._n * self.dim <= 200_000
        if small and self._lp_separable():
            raise self._separable_error()
        if self.loss is not LOSSES["logistic"]:  # no certificate: L-BFGS's local minimum
            x, fx = self._lbfgs_newton()
            margins = self._margins(x)
            if np.max(margins) < 0.0:
                raise self._separable_error()
            lo, hi = self.loss.limits
            if np.isfinite(lo) and np.isfinite(hi):
                # bounded loss (sigmoid): along the ray of x, f tends to the share of margins of
                # each sign weighted by the loss's limits; a point no lower than that limit is
                # on the way to infinity, not a minimiser (theory guide §3)
                at_zero = float(self.loss.phi(np.zeros(1))[0])
                limit = float(np.mean(np.where(margins > 0.0, hi,
                                               np.where(margins < 0.0, lo, at_zero))))
                if fx >= limit * (1.0 - 1e-9):
                    raise NoFiniteMinimizerError(
                        f"{self!r}: L-BFGS's point (||x|| = {np.linalg.norm(x):.3g}) is no lower "
                        f"than the limit of f along its ray ({limit:.6g}): the {self.loss.name} "
                        "loss has no finite minimiser here (its infimum is approached at "
                        "infinity)", infimum=limit)
            return x, fx
        x, verdict = self._certified_newton()
        if verdict == "separable":
            raise self._separable_error()
        if verdict is None and not small:  # (on small data the LP has already run)
            warn_external(
                f"{self!r}: neither a finite minimiser nor a separating direction was "
                f"certified; checking separability by an LP on n = {self._n}, d = {self.dim} "
                "(HiGHS prints its progress on stderr)", RuntimeWarning)
            with _stdout_to_stderr():  # HiGHS's log is C output to file descriptor 1
                separable = self._lp_separable(progress=True)
            if separable:
                raise self._separable_error()
        if verdict is None:
            # not strictly separable (the LP), yet no finite minimiser certified: the data may
            # be quasi-separated (every margin of one sign along a direction, some of them 0),
            # whose infimum is at infinity too (theory guide §3)
            warn_external(
                f"{self!r}: no finite minimiser was certified and the data are not strictly "
                "separable (an LP); they may be quasi-separated (a direction along which every "
                "margin is of one sign or zero), where the loss has no finite minimiser either: "
                f"the reference point (||x|| = {np.linalg.norm(x):.3g}) is Newton's last, not "
                "certified, and its f* only an upper bound", ReferenceWarning)
        return x, self.f(x)

    def _least_squares_solution(self):
        """The squared loss's minimiser in closed form: with ``y_i^2 = 1``,
        ``f(x) = mean((1 + z_i'x)^2)/2 = mean((y_i - x_i'x)^2)/2``, least squares of the labels
        on the centred features, minimised at ``x* = -C^-1 u`` with ``C = X'X/n`` the data's
        own second moment (``S`` less any ``ridge``, which changes the BN metric, not ``f``;
        theory guide §2, §9), refined on the residuals. Where the data do not span the space
        (collinear columns with ``ridge``) ``f`` is constant along the null space and ``x*``
        is taken in the data's range. Milliseconds where L-BFGS had taken 15000 passes over
        the data at ``kappa(S) = 1e8`` (80 s at ``n = 1e5, d = 100``)."""
        ridge = float(getattr(self.data, "ridge", 0.0) or 0.0)
        C = self.S if ridge == 0.0 else self.X.T @ self.X / self._n
        Q = self._data_range()
        if Q is not None:
            C = Q.T @ C @ Q
        try:
            factor = cho_factor(0.5 * (C + C.T))
        except (np.linalg.LinAlgError, ValueError):  # not positive definite in float64
            x = np.linalg.lstsq(self.X, self.y, rcond=None)[0]
            return x, self.f(x)

        def solve(v):
            return cho_solve(factor, v) if Q is None else Q @ cho_solve(factor, Q.T @ v)

        x = refine_least_squares(self.X, self.y, solve(-self.u), solve)[0]
        return x, self.f(x)

    def _hessian(self, x, block: int = GRAM_BLOCK) -> np.ndarray:
        """``X' diag(phi''(z'x)) X / n`` in row blocks (no ``n x d`` temporary), on one BLAS
        thread (:func:`~gdnp.problems.data.weighted_gram`: a loaded machine would otherwise
        spend minutes here)."""
        return self._hessian_from_curvatures(self.loss.d2phi(self._margins(x)), block)

    def _hessian_from_curvatures(self, d2: np.ndarray, block: int = GRAM_BLOCK) -> np.ndarray:
        """:meth:`_hessian` from the curvatures ``d2 = phi''(t)`` at the margins."""
        return weighted_gram(self.X, d2 / self._n, block)

    def _hessian_matrix(self, x) -> np.ndarray:
        """``hess f(x)`` as a matrix, :meth:`hessian_vector`'s ``X'(phi''(t) * X v) / n`` for
        every ``v`` at once: one pass over the data instead of ``dim`` (theory guide §12).
        Blocks of at most 2^25 entries (256 MiB) of the scaled rows."""
        x = self.check_x(x)
        return self._hessian(x, block=max(1, min(GRAM_BLOCK, 2**25 // max(self.dim, 1))))

    def _certified_newton(self, maxiter: int = 60):
        """Damped Newton from a short L-BFGS run, with the two certificates checked at each
        iterate. Returns ``(x, verdict)``, ``verdict`` in ``{"finite", "separable", None}``.

        Finite minimiser: for a loss with ``|(log phi'')'| <= 1`` (logistic), along any
        segment of length ``r`` the margins move by at most ``r Z`` (``Z = max_i ||z_i||``),
        so ``H(y) >= exp(-r Z) H(x)`` and ``f(y) >= f(x) - ||g|| r + exp(-r Z) mu r^2 / 2``
        (``mu = lambda_min(H(x))``). With ``r = 1/Z``, ``||g|| < mu / (2 e Z)`` makes ``f``
        larger on the sphere ``||y - x|| = r`` than at its centre, so the convex ``f`` has a
        minimiser inside (theory guide §3); a factor 4 covers the rounding of ``g`` and
        ``mu``. Separable: some iterate ``x`` has ``z_i'x < 0`` for every sample.

        The same test in the coordinates ``x = L^-T y`` of the Hessian's Cholesky factor
        ``H = L L'`` (:meth:`_preconditioned_certificate`) is the one that decides on
        ill-conditioned data, where ``mu / (8 e Z)`` lies below the gradient's rounding.
        """
        from scipy.optimize import minimize  # here: scipy.optimize is slow to import
        with _one_blas_thread():
            res = minimize(self.value_and_grad, np.zeros(self.dim), jac=True,
                           method="L-BFGS-B", options={"maxiter": _LBFGS_START, "gtol": 1e-13,
                                                       "ftol": 0.0, "maxcor": 30})
        x = res.x
        row_norms = np.sqrt(np.concatenate([
            np.einsum("ij,ij->i", self.X[i:i + 65536], self.X[i:i + 65536])
            for i in range(0, self._n, 65536)]))
        zmax = float(np.max(row_norms))
        Q = self._data_range()
        certified = False
        floor_count, best_gnorm = 0, math.inf
        for _ in range(maxiter):
            t = self._margins(x)  # (one pass: the test, f, its gradient and its Hessian)
            if np.max(t) < 0.0:
                return x, "separable"
            fx, G = self._value_and_grad_at(t)
            d2 = self.loss.d2phi(t)  # (the Hessian's weights, its rounding's, the certificate's)
            H = self._hessian_from_curvatures(d2)
            if Q is not None:  # f is constant along the data's null space: work on its range
                H, G_r = Q.T @ H @ Q, Q.T @ G
            else:
                G_r = G
            mu = float(np.linalg.eigvalsh(H)[0])
            gnorm = float(np.linalg.norm(G))
            # H's rounding, twice its probabilistic estimate sqrt(n) eps mean phi''_i ||z_i||^2:
            # mu certifies only above it (a column equal to another plus 1e-12 times the label
            # has a true curvature of 1e-24 along the separating direction, and a computed
            # one of 1e-17)
            h_err = 2.0 * _EPS * math.sqrt(self._n) * float(
                np.mean(d2 * row_norms * row_norms))
            try:  # (H = L L': Newton's step and the preconditioned certificate)
                L = np.linalg.cholesky(H) if mu > 0.0 else None
            except np.linalg.LinAlgError:
                L = None
            if mu > h_err and gnorm < 0.25 * (mu - h_err) / (2.0 * math.e * zmax):
                certified = True
            elif L is not None and not certified:  # (its own rounding test, also scaled)
                certified = self._preconditioned_certificate(x, t, d2, G_r, H, L, mu, h_err, Q,
                                                              row_norms)
            if L is not None:
                step = cho_solve((L, True), G_r)
            else:
                try:
                    step = np.linalg.solve(H, G_r)
                except np.linalg.LinAlgError:
                    step = np.linalg.lstsq(H, G_r, rcond=None)[0]
            if Q is not None:
                step = Q @ step
            t, slope = 1.0, float(G @ step)
            at_floor = 0.5 * slope <= 4.0 * np.finfo(float).eps * max(1.0, abs(fx))
            if certified and at_floor:
                # Newton's predicted decrease is below f's rounding, which leaves x about
                # sqrt(eps) from the minimiser: polish it by the gradient, which still resolves
                return self._gradient_polish(x, G, H, Q), "finite"
            floor_count = floor_count + 1 if at_floor and gnorm >= 0.5 * best_gnorm else 0
            best_gnorm = min(best_gnorm, gnorm)
            if floor_count >= 3:
                # neither f nor the gradient has fallen for three Newton steps: both at their
                # rounding, and no certificate will come from more (the 60 steps had cost
                # 15 minutes at n = 3e4, d = 1000)
                break
            for _ in range(40):  # backtracking (Armijo)
                x_new = x - t * step
                f_new = self.f(x_new)
                if np.isfinite(f_new) and f_new <= fx - 1e-4 * t * slope:
                    break
                t *= 0.5
            else:
                # f no longer resolves Newton's decrease (its rounding), while the gradient,
                # far from its own rounding, still falls quadratically: take the full step
                # where it halves the gradient (nearly separable data need |g| far below
                # where f stops resolving, to certify mu / (8 e Z))
                x_new = x - step
                f_new, G_new = self.value_and_grad(x_new)
                if not (np.isfinite(f_new) and float(np.linalg.norm(G_new)) < 0.5 * gnorm):
                    break
                x = x_new
                continue
            if certified and f_new >= fx:
                break
            x = x_new
            if certified and float(np.linalg.norm(t * step)) <= 1e-15 * max(
                    1.0, float(np.linalg.norm(x))):
                break
        return x, ("finite" if certified else None)

    def _preconditioned_certificate(self, x, t, d2, G, H, L, mu: float, h_err: float, Q,
                                    row_norms) -> bool:
        """The finite-minimiser certificate of :meth:`_certified_newton` in the coordinates
        ``y = L'x`` of the Cholesky factor ``H = L L'`` of the Hessian at ``x`` (in the data's
        range ``Q`` where given): ``f(L^-T y)`` is the logistic loss of the samples
        ``zeta_i = L^-1 z_i``, so its minimiser exists iff ``f``'s does, and there the test
        reads ``||L^-1 g|| < mu_P / (8 e Z_P)`` with ``mu_P = lambda_min(L^-1 H L^-T) ~ 1`` and
        ``Z_P = max_i ||zeta_i||`` (theory guide §3). On ``kappa(S) = 1e8`` the plain test asks
        for ``||g|| ~ 1e-14``, the gradient's rounding (the LP had then run for minutes, on
        data nowhere near separable); this one holds by orders of magnitude.

        The rounding of ``g`` is added to ``||L^-1 g||``, tenfold, by its probabilistic
        estimate (errors of independent signs add in quadrature): the sum over the samples,
        ``sqrt(n) eps`` of its terms, at ``||L^-1|| = mu^-1/2``; each margin's error, ``sqrt(d)
        eps ||z_i|| ||x||``, along its own sample, ``phi''_i ||zeta_i||`` in these coordinates.
        ``Z_P`` costs a pass of ``n d^2`` flops (one Hessian's), made only where ``||L^-1 g||``
        alone passes a bound that needs no pass (``Z_P >= 2 sqrt(d)``, from ``mean_i phi''_i
        ||zeta_i||^2 = d`` and ``phi'' <= 1/4``). ``t``, ``d2``: the margins at ``x`` and
        ``phi''`` there; ``h_err``: the rounding of ``H`` (a bound on ``||H_computed - H||``),
        which lowers ``mu_P`` by ``h_err / mu`` (``||L^-1||^2 = 1 / mu``)."""
        from scipy.linalg import solve_triangular

        eps = np.finfo(float).eps
        k = H.shape[0]
        decrement = float(np.linalg.norm(solve_triangular(L, G, lower=True)))
        if not decrement < 0.25 / (2.0 * math.e * 2.0 * math.sqrt(k)):  # rounding only adds
            return False
        L_inv = solve_triangular(L, np.eye(k), lower=True)
        mu_p = float(np.linalg.eigvalsh(L_inv @ H @ L_inv.T)[0])
        # the same roundings bounded after the Jacobi scaling D = sqrt(diag H) too, and the
        # smaller bound taken: ||L^-1 E L^-T|| <= ||D^-1 E D^-1|| / lambda_min(D^-1 H D^-1) for
        # any positive diagonal D, and the scaled bounds, with ||D^-1 z_i|| for ||z_i||, do not
        # grow with the columns' spread (columns scaled 1x..1e3x had lowered mu_P below 0,
        # and the LP then ran for minutes on data Newton had solved)
        scale = np.sqrt(np.diag(H))
        if not np.all(scale > 0.0):  # (a zero diagonal: no scaling, the plain bounds only)
            scale = np.ones(k)
        mu_d = float(np.linalg.eigvalsh(H / np.outer(scale, scale))[0])
        zeta2 = np.empty(self._n)
        scaled2 = np.empty(self._n)
        for i in range(0, self._n, 4096):  # ||L^-1 z_i||^2 and ||D^-1 z_i||^2 in row blocks
            Z = self.X[i:i + 4096] if Q is None else self.X[i:i + 4096] @ Q
            B = solve_triangular(L, Z.T, lower=True)
            zeta2[i:i + 4096] = np.einsum("ij,ij->j", B, B)
            Zs = Z / scale
            scaled2[i:i + 4096] = np.einsum("ij,ij->i", Zs, Zs)
        d1 = self.loss.dphi(t)
        summation = eps * math.sqrt(self._n) * math.sqrt(float(np.mean((d1 * row_norms) ** 2)))
        grad_err = summation / math.sqrt(mu)
        h_rel = h_err / mu
        if mu_d > 0.0:
            grad_err = min(grad_err, eps * math.sqrt(self._n) * math.sqrt(
                float(np.mean(d1 * d1 * scaled2)) / mu_d))
            h_rel = min(h_rel, 2.0 * eps * math.sqrt(self._n) * float(np.mean(d2 * scaled2))
                        / mu_d)
        # each margin's rounding, sqrt(d) eps sum_j |z_ij x_j| (the margins are formed in the
        # data's coordinates), is at most ||z_i|| ||x||, and ||D^-1 z_i|| ||D x|| where H is
        # in those coordinates too
        margins = eps * math.sqrt(self.dim) * float(np.linalg.norm(x)) * math.sqrt(
            float(np.mean(d2 * d2 * row_norms * row_norms * zeta2)) / self._n)
        if Q is None:
            margins = min(margins, eps * math.sqrt(self.dim) * float(np.linalg.norm(
                scale * x)) * math.sqrt(float(np.mean(d2 * d2 * scaled2 * zeta2)) / self._n))
        bound = decrement + 10.0 * (grad_err + margins)
        z_p = math.sqrt(float(np.max(zeta2)))
        mu_p -= h_rel  # the true Hessian's, in these coordinates
        return mu_p > 0.0 and bound < 0.25 * mu_p / (2.0 * math.e * z_p)

    def _gradient_polish(self, x, G, H, Q=None, steps: int = 6):
        """Newton steps with the Hessian ``H`` of ``x`` kept, each taken only where it halves
        the gradient's norm: ``f`` cannot tell points within its rounding apart (a stop on its
        decrease leaves ``x`` about ``sqrt(eps)`` from the minimiser, relatively), while the
        gradient keeps falling, quadratically at first, until its own rounding. Each step is
        one pass for the gradient (no new Hessian); ``Q``, where given, is the basis of the
        data's range that ``H`` is expressed in."""
        gnorm = float(np.linalg.norm(G))
        try:
            factor = cho_factor(H)
        except (np.linalg.LinAlgError, ValueError):
            return x
        for _ in range(steps):
            step = cho_solve(factor, G if Q is None else Q.T @ G)
            x_new = x - (step if Q is None else Q @ step)
            f_new, G_new = self.value_and_grad(x_new)
            g_new = float(np.linalg.norm(G_new))
            if not (np.isfinite(f_new) and g_new < 0.5 * gnorm):
                break
            x, G, gnorm = x_new, G_new, g_new
        return x

    def _data_range(self) -> np.ndarray | None:
        """An orthonormal basis of the range of the data's own ``X'X`` (``S`` less a
        ``ridge``), or ``None`` where that is the whole space. With ``ridge`` on collinear
        columns ``f`` is constant along the null space, whose directions the certificate of a
        finite minimiser and Newton's steps then leave out (theory guide §3, §9)."""
        ridge = float(getattr(self.data, "ridge", 0.0) or 0.0)
        if ridge <= 0.0:
            return None
        # the data's own second moment (S less the ridge, computed as such: S - ridge I
        # loses the data's small eigenvalues when the ridge exceeds them)
        n_samples = self.X.shape[0]
        raw, V = np.linalg.eigh(self.X.T @ self.X / n_samples)
        keep = raw > 1e3 * np.finfo(float).eps * max(float(raw[-1]), 1e-300)
        if keep.all():
            return None
        # the eigenvalues of S resolve no better than eps * lambda_max: decide the doubtful
        # directions on the data themselves, as lstsq does (||X v|| against max(n, d) eps
        # sigma_max): nearly collinear columns (1e-7 apart) still move the margins, and the
        # loss falls along them (dropping them had left f* 1.7e-3 above sklearn's)
        n, d = self.X.shape
        sigma_max = math.sqrt(max(float(raw[-1]), 0.0) * n)
        doubtful = np.flatnonzero(~keep)
        sigma = np.linalg.norm(self.X @ V[:, doubtful], axis=0)
        keep[doubtful] = sigma > max(n, d) * np.finfo(float).eps * sigma_max
        kept = sigma[sigma > max(n, d) * np.finfo(float).eps * sigma_max]
        if kept.size and sigma_max > 0 and float(kept.min() / sigma_max) ** 2 < 1e-16:
            # a direction the data span only to ~1e-8 of their scale: X'X's condition is
            # beyond 1e16 there, and the loss's minimiser along it (far out, and shallow)
            # is not resolved in float64 (a column 1e-9 from another: f* 9e-4 too high)
            warn_external(
                f"X: the data span a direction only to {float(kept.min() / sigma_max):.1e} of "
                "their scale (nearly collinear columns): with ridge= the reference optimum "
                "along it is not reliable in float64; drop the column or pass "
                "null_space='drop'", ConditioningWarning)
        return None if keep.all() else V[:, keep]

    def _lbfgs_newton(self):
        """L-BFGS from ``x = 0`` (a local minimum for a non-convex loss), then Newton steps for
        a convex one. L-BFGS runs on the columns scaled to unit second moment, ``x = v / s``
        with ``s_j = sqrt(S_jj)``: the same problem, on which it needs about as many
        evaluations whatever the features' scales (columns spread 1x to 1000x had taken the
        sigmoid 734 evaluations against 62 scaled, and up to its 20000 on larger data)."""
        scale = np.sqrt(np.diag(self.S))
        scale[~(scale > 0.0) | ~np.isfinite(scale)] = 1.0  # (a zero column: left as it is)

        def scaled(v):
            fun, grad = self.value_and_grad(v / scale)
            return fun, grad / scale

        from scipy.optimize import minimize  # here: scipy.optimize is slow to import
        with _one_blas_thread():
            res = minimize(scaled, np.zeros(self.dim), jac=True, method="L-BFGS-B",
                           options={"maxiter": 20000, "gtol": 1e-13, "ftol": 0.0, "maxcor": 30})
        x = res.x / scale
        if self.loss.convex:  # Newton polish: the Hessian X' diag(phi'') X / n is exact
            for _ in range(8):
                fx, G = self.value_and_grad(x)
                H = self._hessian(x)  # in row blocks: no n x d temporary
                try:
                    step = np.linalg.solve(H, G)
                except np.linalg.LinAlgError:
                    break
                x_new = x - step
                f_new = self.f(x_new)
                if not np.isfinite(f_new) or f_new > fx:  # f's rounding: the gradient decides
                    x = self._gradient_polish(x, G, H)
                    break
                x = x_new
        return x, self.f(x)
