"""GDNP: gradient descent in normalized parameterization (K19 Algorithm 1, theory guide §4-§5).

Single unit (OLS, halfspaces), for ``t = 0 .. T_d - 1``::

    h_t     = c1(w~_t) * u'w_t                          # Stein coefficient, equation (6)
    s_t     = -||w_t||_S^3 / (L g_t h_t)                # if |h_t| > eps (and g_t != 0)
    w_{t+1} = w_t - s_t grad_w f(w_t, g_t)              # = w_t - eta_t grad rho(w_t), equation (4)
    g_{t+1} = bisection of g -> d_g f(w_{t+1}, g)       # T_s halvings, cached projections

MLP: the same two steps unit after unit with ``psi_i(t) = l(theta_i tanh t + r_i)`` in place of
``phi``, then (optionally) a few L-BFGS steps on the output weights ``theta`` (theory guide §5).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import numbers
import time

import numpy as np

from gdnp.problems import MLP, OLS, LinearProblem, Problem
from gdnp.problems.taylor import SignThreshold

from . import _jit
from ._common import (
    ArrayLike,
    Callback,
    Seed,
    check_positive,
    power_of_two_scaled,
    prepare_run,
    require_u,
    start_from_bn,
)
from .bisection import (
    NoSignChangeError,
    _dyadic_bracket,
    _threshold_expansion,
    _threshold_halvings,
    bisect,
)
from .result import OptimizeResult, Recorder, status_on_breakdown

__all__ = ["gdnp", "rayleigh_step_size"]


def rayleigh_step_size(w: np.ndarray, g: float, h: float, nS: float, L: float,
                       N: float | None = None) -> float:
    """GDNP's direction step ``s_t = -||w||_S^2 N(w) / (L g h)`` (theory guide §4, §10).

    With ``N = ||w||_S`` (the default) this is K19's ``-||w||_S^3 / (L g h)``. For another
    norm ``N``, at a length with ``d_g f = 0`` the BN gradient is ``grad_w f = (g/N) grad f(w~)
    = -(g c1 ||w||_S^2 / (2 N u'w)) grad rho(w)`` whatever ``N`` is (checked symbolically in
    the proofs), so this ``s_t`` again makes ``s_t grad_w f = eta_t grad rho`` (step (4) of
    theory guide §2). No published rate covers a norm other than ``||w||_S``.
    """
    M = nS if N is None else N
    den = L * g * h
    if 1e-96 < nS < 1e96 and 1e-96 < abs(M) < 1e96 and 1e-290 < abs(den) < 1e290:
        # (the exact expressions the runs always used)
        return -(nS**3) / den if N is None else -(nS * nS * N) / den
    N = M
    # ||w||_S far from 1 (the start's scale is the user's, and f does not see it): the same
    # quotient factor by factor, so that nS^3 neither underflows to 0 (a direction that never
    # moved, silently) nor overflows (a run reported as diverged at a finite objective)
    return -(nS / L) * (nS / g) * (N / h)


def _bracket(g: float, bracket, dyadic: bool = True, floor: float = 1.0
             ) -> tuple[float, float]:
    """The user's bracket, or the default around ``g`` (theory guide §4): the dyadic one (of
    width at least ``floor``, the problem's length scale), or ``g -+ max(|g|, 1)/2`` for a
    unit of the MLP, whose length function is not monotone (a different bracket can hold a
    different root)."""
    if bracket is not None:
        return bracket
    if dyadic:
        return _dyadic_bracket(g, floor)
    r = 0.5 * max(abs(g), 1.0)
    return g - r, g + r


# Lengths kept to predict the next one: polynomials of degree 0 to 8 through the last ones
# compete, the one that best predicted the last length from those before it wins. GDNP's
# lengths move smoothly (a population halfspace's next length within ~5e-6 relatively) or
# settle fast (an empirical halfspace's within 1e-8 of the root in 3 iterations, where a fixed
# quartic overshot by 2e-3). On the n = 3e4 empirical halfspace of the benchmarks the
# prediction was within 3e-7 of the root in 31%, 51% and 59% of 40 searches with the last 6,
# 8 and 10 lengths
_EXTRAPOLATION_POINTS = 10


def _extrapolate(roots: list[float]) -> float:
    """The next length predicted from the last ones (oldest first): where the length search
    starts (theory guide §4). The polynomial through the last ``j + 1`` lengths, one step on,
    is the sum of their backward differences ``sum_{i <= j} nabla^i g``; of the degrees
    ``j = 0 .. len - 2`` the one that best predicted the last length from the lengths before
    it wins (exact on a polynomial of degree ``len - 2``). A poor prediction only costs an
    evaluation (the bracket and the halvings do not depend on it)."""
    row = list(roots)
    n = len(row)
    last, prev = [row[-1]], row[-2:-1]  # nabla^i at the last length and at the one before
    for level in range(1, n):  # the difference table, in place
        m = n - level
        for j in range(m):
            row[j] = row[j + 1] - row[j]
        last.append(row[m - 1])
        if m > 1:
            prev.append(row[m - 2])
    return _best_polynomial_step(last, prev)


def _best_polynomial_step(last: list[float], prev: list[float]) -> float:
    """``sum_{i <= j} nabla^i g`` (``last``: the backward differences at the newest length)
    for the degree ``j`` whose same sum at the length before (``prev``) came closest to the
    newest length (:func:`_extrapolate`)."""
    best_degree, best_err, guess = 0, math.inf, 0.0
    for j, term in enumerate(prev):
        guess += term
        err = abs(guess - last[0])
        if err < best_err:
            best_degree, best_err = j, err
    return math.fsum(last[:best_degree + 1])


class _LengthTape:
    """The length searches of GDNP runs, for ``gdnp bench``'s ablation (not part of the API).

    Recording (``replay=None``), each single-unit length update appends ``(g, info)``
    (``info``: the search's, ``None`` for the closed form); replaying, each update returns the
    next recorded length without searching, so that a run on the same problem from the same
    start has the same iterates, bit for bit, without the search's cost (theory guide §4).
    """

    def __init__(self, replay=None):
        self.searches: list[tuple[float, dict | None]] = []
        self.replay = None if replay is None else iter(replay)

    def next_length(self) -> float:
        try:
            return next(self.replay)
        except StopIteration:
            raise RuntimeError("the replayed run asked for more lengths than were recorded"
                               ) from None


_LENGTH_TAPE: contextvars.ContextVar[_LengthTape | None] = contextvars.ContextVar(
    "gdnp_length_tape", default=None)


@contextlib.contextmanager
def _length_tape(replay=None):
    """Record the length searches of the GDNP runs inside the block (``replay=None``), or
    replay the lengths ``replay`` in turn instead of searching (see :class:`_LengthTape`)."""
    tape = _LengthTape(replay)
    token = _LENGTH_TAPE.set(tape)
    try:
        yield tape
    finally:
        _LENGTH_TAPE.reset(token)


#: Length searches run plainly after two located ones in a row that certified no midpoint and
#: evaluated ``d_g f`` more often than plain bisection does (``T_s`` midpoints and the
#: bracket's ends); doubled, up to the maximum, each time the located search that follows is
#: unproductive again. On the
#: population halfspace at separation 0.999, near the optimum, the rounding band covers the
#: whole bracket: the located search certified nothing and made 83 evaluations per search
#: against plain bisection's 53. The halvings, and so the iterates, are the same either way.
_UNPRODUCTIVE_PLAIN, _UNPRODUCTIVE_PLAIN_MAX = 4, 64


class _LengthPredictor:
    """:func:`_extrapolate` of the last ``size`` lengths, kept up to date incrementally.

    The backward differences at the newest length follow from those at the one before:
    ``nabla^i g_t = nabla^(i-1) g_t - nabla^(i-1) g_(t-1)``, the same subtractions as the
    difference table of :func:`_extrapolate` (so the same numbers), in O(size) per length
    instead of O(size^2) (about 1 us instead of 6 per located search). Lengths are only
    stored when pushed; the differences catch up when a prediction is asked for (a search
    by comparisons alone, on OLS, never asks).
    """

    def __init__(self, size: int = _EXTRAPOLATION_POINTS):
        self.size = size
        self.lengths: list[float] = []  # the last `size` lengths, oldest first
        self.pending = 0  # of those, how many the differences do not include yet
        self.last: list[float] = []  # nabla^i at the newest included length
        self.prev: list[float] = []  # the same at the length before it

    def __bool__(self) -> bool:
        return bool(self.lengths)

    def push(self, g: float) -> None:
        """Add the newest length ``g`` (the oldest beyond ``size`` is forgotten)."""
        self.lengths.append(g)
        del self.lengths[:-self.size]
        self.pending += 1

    def predict(self) -> float:
        """The next length: :func:`_extrapolate` of the last ``size`` lengths pushed."""
        if self.pending:
            if self.pending >= self.size:  # every difference is new: start from the window
                self.last = []
            for g in self.lengths[-min(self.pending, self.size):]:
                new = [g]
                for d in self.last[:self.size - 1]:
                    new.append(new[-1] - d)
                self.prev, self.last = self.last, new
            self.pending = 0
        return _best_polynomial_step(self.last, self.prev[:len(self.last) - 1])


def _ldexp(x: float, k: int) -> float:
    """``x 2^k``, infinite where that overflows (``math.ldexp`` raises there)."""
    try:
        return math.ldexp(x, k)
    except OverflowError:
        return math.copysign(math.inf, x)


def _check_bracket(bracket):
    if bracket is None:
        return None
    try:
        a, b = (float(v) for v in bracket)
    except (TypeError, ValueError):
        raise TypeError("bracket must be None or a pair (a, b) of numbers") from None
    if not (np.isfinite(a) and np.isfinite(b) and a < b):
        raise ValueError(f"bracket must satisfy a < b with finite ends, got {bracket!r}")
    return a, b


def _u_is_rounding(problem) -> bool:
    """Whether a data problem's ``u`` is zero up to rounding: ``u'S^-1 u`` (the squared
    separation of the data, at most ``E[y^2]``) below ``1e-24`` of ``E[y^2]`` (1 for labels
    ``+-1``); all labels equal on centred data leave ``u = -mean(y) mean(x)`` at ``1e-16``
    instead of 0."""
    if getattr(problem, "population", True):  # a u given exactly: only 0 is 0
        return False
    u = problem.u
    try:
        q = float(u @ problem.solve_S(u))  # (the problem's cached factor of S)
    except (np.linalg.LinAlgError, ValueError):
        return False
    return q <= 1e-24 * float(getattr(problem, "yy", 1.0))


def _check_direction(u, w, what: str, arg: str = "x0", problem=None):
    if not np.any(u) or (problem is not None and _u_is_rounding(problem)):
        raise ValueError(
            "problem: u = -E[yx] = 0 (up to rounding: are all labels equal?), so u'w = 0 for "
            "every direction and GDNP's step is undefined (rho = 0, h = 0; theory guide §9): "
            "no start can help; gd or bngd apply")
    uw = float(u @ w)
    if abs(uw) <= 1e-14 * np.linalg.norm(u) * np.linalg.norm(w):
        raise ValueError(
            f"{arg}: {what} has u'w0 = 0, where GDNP stalls (rho(w0) = 0, h = 0; theory guide "
            f"§9); pass another {arg}" + (" or seed" if arg == "x0" else ""))


@status_on_breakdown
def gdnp(problem: Problem, x0: ArrayLike | None = None, maxiter: int = 1000,
         tol: float = 1e-10, seed: Seed = 0, callback: Callback = None, *,
         T_s: int = 50, eps: float = 0.0, L: float | None = None, bracket=None,
         length: str = "bisect", xtol: float = 0.0, theta_steps: int = 0,
         w0=None, g0=None, certify: bool | None = None, reference: bool = True
         ) -> OptimizeResult:
    """K19's GDNP on a single-unit problem, or unit by unit on the MLP.

    GDNP is full-batch: its length bisection needs the full objective's ``d_g f``
    (mini-batches, ``batch_size=``, are for ``gd`` and ``bngd``). Under a normalization other
    than the idealised ``||w||_S`` (``normalization=``, ``bn_eps=`` of the problems) the
    direction step is ``s_t = -||w||_S^2 N(w) / (L g h)``; on a single unit, after a first
    length solve, this makes the iterates the same as under ``||w||_S`` (theory guide §10).
    On the MLP they depend on the norm: a unit's length is solved before the units after it
    move, so at its next direction step ``d_g f`` is no longer 0, which the identity needs.
    K19's rates are proved for ``||w||_S`` only, and no published rate covers another norm.

    Parameters
    ----------
    problem : Problem
    x0 : array_like, optional
        Start (``w_0 = x0``, ``g_0 = ||x0||_S``); needs ``u'w_0 != 0`` for every unit.
    maxiter : int
        ``T_d``, the number of direction steps (sweeps over the units for the MLP).
    tol : float
        Stop once ``||grad f(w~)||_{S^-1} <= tol``.
    seed : int or Generator
        Seed of the default start ``problem.initial_point(seed)``.
    callback : callable, optional
        ``callback(intermediate_result)``; raise ``StopIteration`` to stop.
    T_s : int
        Bisection halvings per length update (at least 1).
    eps : float
        The direction step is skipped when ``|h_t| <= eps`` (K19's guard, theory guide §4),
        and at a length ``g_t = 0``, where the step ``s_t`` is undefined.
    L : float, optional
        ``lambda_max(S)`` by default.
    bracket : (float, float), optional
        Initial bracket of every length bisection (K19's ``[a^{(0)}, b^{(0)}]``); default:
        width the smallest power of two ``W >= max(|g_t|, s)``, centred at ``g_t`` rounded to
        a multiple of ``W 2^-52``, so that bisection's midpoints are exact dyadic points, with
        ``s = 1`` (OLS whose optimal lengths are far below 1: ``s = 2^20 sqrt(E[y^2])``, a
        bound on them) (MLP: ``g_t -+ max(|g_t|, 1)/2``). Expanded geometrically until it
        holds a sign change.
    length : {"bisect", "closed_form"}
        ``closed_form`` uses ``g*(w) = -u'w/||w||_S`` (OLS only).
    xtol : float
        Stop a bisection early once its bracket is narrower than ``xtol``.
    theta_steps : int
        MLP only: L-BFGS iterations on ``theta`` after each sweep (their evaluations of
        ``theta -> E[l(H theta)]`` count in ``nfev``). The default 0 keeps
        ``theta`` fixed, K19's setting: ``tol`` and ``grad_norm`` then measure the hidden
        units' gradient (``sum_i ||G_{w_i}||^2_{S^-1}``, what GDNP moves), and the history's
        ``theta_grad2`` the output weights' ``||G_theta||^2``. With updates ``theta`` can grow
        until a unit's length has no finite minimiser, which ends the run with status 2.
    w0, g0 : array_like and float, optional
        Start in BN coordinates instead of ``x0`` (both or neither); GDNP's iterates ``w~``
        do not depend on the scale of ``w0`` (theory guide §1).
    certify : bool, optional
        How the bisection decides its signs; the halvings, hence the iterates, are those of
        plain bisection in every case (theory guide §4). ``None`` (default): where the
        problem locates the root of ``d_g f``
        (:meth:`~gdnp.problems.LinearProblem.length_locator`: OLS, whose computed ``d_g f``
        changes sign exactly at its root, and halfspaces with the logistic loss, population
        or empirical, by Newton steps and mass-ratio certificates) the midpoints away from
        the root take their certified signs and only those near it are evaluated; on other
        data problems certified Taylor models of ``d_g f``
        (:meth:`~gdnp.problems.LinearProblem.length_model`, and for the MLP's units
        :class:`~gdnp.problems.UnitLengthModel`) decide a sign whenever their error bound is
        conclusive. ``True``: the Taylor models wherever available, and nothing else (no
        located search, no exact threshold: on OLS, which has no Taylor model, it is plain
        bisection). ``False``: ``d_g f`` evaluated at every midpoint.
    reference : bool
        Compute ``f*`` with the problem's reference solver and record ``gap``.

    Returns
    -------
    OptimizeResult
        Adds ``length``, ``direction``, ``n_bisect`` (total halvings), ``n_certified``
        (signs decided by a certified model without evaluating ``d_g f``, bracket ends
        included), ``n_compiled`` (length searches run by the compiled search, theory guide
        §4; 0 without numba) and, for the MLP, ``theta``. The history adds ``dg2``
        (``(d_g f)^2`` after the length update), and for single-unit problems ``rho_gap``
        (``rho(w_t) - rho*``) and ``step`` (``s_t``).

    Raises
    ------
    ValueError
        For an invalid option (``T_s``, ``eps``, ``L``, ``bracket``, ``length``, ``xtol``,
        ``theta_steps``), only one of ``w0`` and ``g0``, a start with ``u'w_0 = 0``, a
        problem with ``u = 0`` (also up to rounding, as all labels equal leave it),
        ``length="closed_form"`` on a problem other than OLS, or ``theta_steps`` on a
        single-unit problem.
    TypeError
        For a problem GDNP does not support, a malformed ``bracket``, a non-bool
        ``certify`` or a callback that is not callable.

    Notes
    -----
    Each direction step ``w <- w - s_t grad_w f_bn(w, g)`` with
    ``s_t = -||w||_S^2 N(w) / (L g h)`` (``rayleigh_step_size``) alternates with a bisection
    of ``T_s`` halvings on ``d_g f_bn(w, g) = 0`` for the length (theory guide §4).

    Examples
    --------
    >>> import numpy as np
    >>> import gdnp
    >>> from gdnp.problems import OLS
    >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
    >>> res = gdnp.gdnp(prob, x0=[1.0, 0.5], maxiter=50, tol=1e-8)
    >>> res.status, res.nit, res.n_bisect > 0
    (0, 36, True)
    >>> np.round(res.x, 6)
    array([1., 1.])

    The closed-form length on OLS needs no bisection:

    >>> gdnp.gdnp(prob, x0=[1.0, 0.5], maxiter=50, tol=1e-8, length="closed_form").n_bisect
    0
    """
    require_u(problem)
    x, maxiter, tol, f_star = prepare_run(problem, x0, maxiter, tol, seed, callback, reference)
    if isinstance(T_s, bool) or not isinstance(T_s, numbers.Integral):
        raise TypeError(f"T_s must be an integer, got {T_s!r}")
    if T_s < 1:
        raise ValueError(f"T_s must be an integer >= 1, got {T_s!r} (the halvings of each "
                         "length bisection: with none, every length would be the bracket's "
                         "midpoint, whatever the direction)")
    T_s = int(T_s)
    eps = check_positive(eps, "eps", allow_zero=True)
    xtol = check_positive(xtol, "xtol", allow_zero=True)
    L = problem.L if L is None else check_positive(L, "L")
    bracket = _check_bracket(bracket)
    if certify is not None and not isinstance(certify, (bool, np.bool_)):
        raise TypeError(f"certify must be a bool or None, got {type(certify).__name__}")
    if length not in ("bisect", "closed_form"):
        raise ValueError(f"length must be 'bisect' or 'closed_form', got {length!r}")
    if length == "closed_form" and not isinstance(problem, OLS):
        raise ValueError("length='closed_form' is available for OLS only")
    x = start_from_bn(problem, x, w0, g0, x0)
    if isinstance(problem, MLP):
        return _gdnp_mlp(problem, x, maxiter, tol, callback, f_star, T_s, eps, L, bracket,
                         xtol, theta_steps, w0, g0, certify)
    if not isinstance(problem, LinearProblem):
        raise TypeError(
            f"gdnp needs a single-unit gdnp.problems.LinearProblem (OLS, Halfspace, or a "
            f"subclass implementing _eval_scaled, _dg and _c1) or an MLP; got "
            f"{type(problem).__name__}, a Problem for gd, agd and bngd only")
    if isinstance(theta_steps, bool) or not isinstance(theta_steps, numbers.Integral) or \
            theta_steps != 0:
        raise ValueError(f"theta_steps applies to the MLP only (its output weights); "
                         f"{type(problem).__name__} has none, got theta_steps={theta_steps!r}")

    w, g = problem._to_bn(x, "x0") if w0 is None else (np.array(w0, dtype=float), float(g0))
    # only w's direction matters (theory guide §1): its largest entry brought into [1/2, 1) by
    # a power of two, which is exact, so that ||w||_S, u'w and the step neither overflow nor
    # underflow from a start of extreme scale (1e154 had read as u'w0 = 0, 1e-160 lost digits
    # in a subnormal w'Sw); at any other scale the iterates are the same, bit for bit where
    # N(w) scales exactly (not the l3 norm's cube root: to rounding there); the result's
    # direction, the step column (s_t scales as w^2) and the guard's h_t (as w) are those of
    # the start's scale. Not with bn_eps > 0: N(c w) = sqrt(c^2 w'Sw + eps) is not c N(w),
    # the rescaled start would be another point (theory guide §10)
    w, shift = power_of_two_scaled(w) if not problem.bn_eps else (w, 0)
    _check_direction(problem.u, w, "the initial direction", "x0" if w0 is None else "w0",
                     problem)
    rec = Recorder(problem, "gdnp", tol, callback, f_star,
                   extra_keys=("rho_gap", "dg2", "step"))
    n_bisect = n_certified = n_compiled = 0

    def extras() -> dict:  # the direction and length of the last recorded iterate
        w_k, g_k = rec.state if rec.state is not None else (None, None)
        return {"length": None if g_k is None else float(g_k),
                "direction": None if w_k is None else np.ldexp(w_k, shift),
                "n_bisect": n_bisect,
                "n_certified": n_certified, "n_compiled": n_compiled, "T_s": int(T_s)}

    rec.extras = extras
    step_user = 0.0
    w, g = problem._check_bn(w, g)
    general = problem._normalizer is not None

    # the default bracket's least width: 1, or a smaller bound on the optimal lengths that the
    # problem knows (OLS: |g*| <= sqrt(E[y^2]); targets scaled by 1e-20 had lengths below
    # the 2^-T_s resolution of a bracket of width 1)
    length_floor = float(getattr(problem, "length_scale", 1.0))
    roots = _LengthPredictor()  # the last lengths, to start the located search near the next
    tape = _LENGTH_TAPE.get()  # None outside the benchmark's ablation
    # a located search that evaluated more than plain bisection would have (its rounding band
    # covered the bracket: no sign could be certified, every probe was spent for nothing) is
    # followed by plain searches, the same halvings, for a number of iterations that doubles
    # each time a retry is unproductive again (see _UNPRODUCTIVE_PLAIN)
    plain = {"left": 0, "next": _UNPRODUCTIVE_PLAIN, "in_a_row": 0}

    def _length(w, st, g):
        """Root of ``d_g f(w, .)`` from the cached direction state ``st`` of ``w``."""
        if tape is None:
            return _search(w, st, g)[0]
        if tape.replay is not None:
            return tape.next_length()
        g, info = _search(w, st, g)
        tape.searches.append((g, info))
        return g

    def _search(w, st, g):
        nonlocal n_bisect, n_certified, n_compiled
        if length == "closed_form":
            return problem.optimal_length(w), None
        a, b = _bracket(g, bracket, floor=length_floor)
        root = problem._length_threshold(st) if certify is None else None
        if root is not None and not a < root < b:  # expand as bisect does, without its budget
            a, b, _ = _threshold_expansion(root, a, b)
            if a == b:  # an end of the bracket is the root itself (its computed d_g f is 0)
                return root, {"nit": 0, "nfev": 0, "ncertified": 0, "nband": 0}
        if root is not None and a < root < b:
            # every sign known (OLS): plain bisection's halvings by comparisons alone, or in
            # closed form on the dyadic bracket; no prediction is needed (none is stored)
            lo, hi, nit = _threshold_halvings(root, a, b, T_s, xtol)
            n_bisect += nit
            n_certified += nit + 2
            return 0.5 * (lo + hi), {"nit": nit, "nfev": 0, "ncertified": nit + 2,
                                     "nband": 0}
        found = None
        python_since = None  # a Python search the compiled one could have run: timed
        if certify is None and plain["left"] > 0:  # after an unproductive located search
            plain["left"] -= 1
            model = None
        else:
            # the located search in one compiled call where the problem has one (numba),
            # once loading it has paid off in this process (gdnp._jit.LOAD_AFTER_SECONDS)
            if can_compile and (_jit.loaded() or _jit.worth_loading()):
                compiled = problem._compiled_length_search(st)
                if compiled is not None:
                    found = compiled(a, b, T_s, xtol, roots.predict() if roots else math.nan)
            elif can_compile:
                python_since = time.perf_counter()
            model = problem._length_locator(st) if certify is None and found is None \
                else None
            if model is None and found is None and (
                    (not problem.population) if certify is None else certify):
                model = problem._length_model(st)
        if found is not None:
            g, info = found
            n_compiled += 1
        else:
            if roots and model is not None and not isinstance(model, SignThreshold):
                model.start = roots.predict()  # start the search at the predicted length
            g, info = bisect(problem._length_function(st), a, b, maxiter=T_s, xtol=xtol,
                             model=model, decreasing="expand")
            if python_since is not None:
                _jit.charge(time.perf_counter() - python_since)
        if certify is None and model is None and found is None:  # the fallback: plainly
            info.setdefault("nband", info["nit"])
            info["plain_fallback"] = True
        elif certify is None:
            # unproductive: no midpoint certified (the band covered the bracket) and more
            # evaluations than plain bisection; a search that certified most of its halvings
            # after a few probes (a new direction far from the prediction) does not count
            if info.get("nband", 0) >= info["nit"] and not info.get("expansions") and \
                    info["nfev"] > info["nit"] + 2:
                # (a search whose bracket had to expand is the length's transient, not this
                # state); one such search can happen in a transient too; two in a row, or a
                # retry after plain searches, is a state
                plain["in_a_row"] += 1
                if plain["in_a_row"] >= 2:
                    plain["left"] = plain["next"]  # plain bisection for a while
                    plain["next"] = min(2 * plain["next"], _UNPRODUCTIVE_PLAIN_MAX)
            else:
                plain["in_a_row"] = 0
                plain["next"] = _UNPRODUCTIVE_PLAIN
        n_bisect += info["nit"]
        n_certified += info["ncertified"]
        rec.nfev += info["nfev"]
        roots.push(g)
        return g, info

    # one direction state per iterate (Sw, ||w||_S, u'w and the projections), read by every
    # quantity below instead of re-validating w for each (theory guide §1, §4)
    st = problem._state(w)
    private = False  # (the first state may be the problem's cached one, shared)
    st["c1_next"] = True
    # whether the problem has a compiled located search (it depends on the problem only)
    can_compile = certify is None and problem._compiled_length_search(st) is not None
    for t in range(maxiter + 1):
        nS, uw, N = st["nS"], st["uw"], st["N"]
        ev = problem._value_and_grad_bn(w, st, g)
        rec.nfev += 1
        if rec.record(t, problem._point(w, st, g), ev.fun, ev.grad_x,
                      (problem._rho_gap(st), float(ev.grad_g) ** 2, step_user),
                      (w, g)) or t == maxiter:  # (rho_gap, dg2, step); w is never modified
            break
        if t == 0 and general:
            # for a norm other than ||w||_S the step identity needs d_g f = 0 (theory guide
            # §10): solve the length of w_0 first
            g = _length(w, st, g)
            ev = problem._value_and_grad_bn(w, st, g)
        # direction: s_t grad_w f = eta_t grad rho (theory guide §4, §10)
        h = problem._c1(st, g / N) * uw
        step = step_user = 0.0
        # (h and the step in the start's scale: h scales as w, s_t as w^2)
        moved = abs(_ldexp(h, shift) if shift else h) > eps and g != 0.0
        if moved:
            step = rayleigh_step_size(w, g, h, nS, L, N if general else None)
            step_user = _ldexp(step, 2 * shift) if shift else step
            w = w - step * ev.grad_w  # a new array, never modified in place
        # length: root of d_g f(w_{t+1}, .) with the projections of w_{t+1} cached (the state
        # is kept for the next iteration too)
        # the next states are this run's own (not cached, so no other caller, another
        # thread's run included, holds them), and each reuses the last one's per-sample arrays
        # where the problem can: nothing reads them after this step
        if moved:
            st = problem._state(w, fresh=True, recycle=st if private else None, private=True)
        else:  # (the same w: the problem's cached state, or one made and cached now)
            st = problem._state(w)
        private = moved
        st["c1_next"] = True  # the next evaluation is followed by c1 at its point (data:
        g = _length(w, st, g)  # computed from phi' while it is in cache)
    return rec.result(**extras())


def _scan_top(g: float) -> float:
    """The largest length :func:`_scanned_unit_length` looks at: a power of two at least 16
    times ``max(|g|, 1)`` (the default search around ``g`` reached a few times ``|g|``)."""
    return 2.0 ** min(math.ceil(math.log2(16.0 * max(abs(g), 1.0))), 1000)


def _scanned_unit_length(view, g: float, T_s: int, xtol: float):
    """A hidden unit's length where the search around ``g`` found no sign change of ``d_g f``
    (it expanded into the side where the unit's tanh saturates and ``d_g f`` reads 0, its
    ``sech^2 = 1 - tanh^2`` cancelled): the
    lowest in ``f`` (:meth:`~gdnp.problems.UnitView.value`) of the local minimisers along the
    length, one per increasing sign change of ``d_g f`` on the grid ``0, +-2^k`` (``2^-2 <=
    2^k <=`` :func:`_scan_top`), each bisected plainly; ``(root, info)``, or ``None`` where
    the grid holds no such sign change (theory guide §4-§5: the unit's length function is not
    monotone, so another bracket can hold another root)."""
    top = _scan_top(g)
    steps = [2.0 ** k for k in range(-2, int(math.log2(top)) + 1)]
    grid = [-s for s in reversed(steps)] + [0.0] + steps
    values = [view.dg(p) for p in grid]
    best = None
    for a, b, va, vb in zip(grid, grid[1:], values, values[1:], strict=False):
        if va < 0.0 < vb:  # f falls, then rises: a local minimiser between a and b
            root, info = bisect(view.dg, a, b, maxiter=T_s, xtol=xtol)
            value = view.value(root)
            if best is None or value < best[0]:
                best = (value, root, info)
    if best is None:
        return None
    _, root, info = best
    info = {**info, "nfev": info["nfev"] + len(grid), "scanned": len(grid)}
    return root, info


def _gdnp_mlp(problem: MLP, x, maxiter, tol, callback, f_star, T_s, eps, L, bracket, xtol,
              theta_steps, w0=None, g0=None, certify=None):
    if isinstance(theta_steps, bool) or not isinstance(theta_steps, numbers.Integral) or \
            theta_steps < 0:
        raise ValueError(f"theta_steps must be an integer >= 0, got {theta_steps!r}")
    if w0 is None:
        w, g = problem._to_bn(x, "x0")
    else:
        w, g = np.array(w0, dtype=float), np.array(g0, dtype=float)
    theta = problem.split(x)[1].copy()
    for i in range(problem.hidden):
        _check_direction(problem.u, w[i], f"hidden unit {i}", "x0" if w0 is None else "w0",
                         problem if i == 0 else None)
    A = problem.unit_projections(w)
    rec = Recorder(problem, "gdnp", tol, callback, f_star, extra_keys=("dg2", "theta_grad2"))
    units = problem.hidden * problem.d
    if not theta_steps:
        # theta fixed (K19's setting): the stopping rule and grad_norm are on what GDNP moves,
        # the hidden units' block; its part on theta, which no sweep reduces, would keep
        # every run from tol (theta_grad2 in the history records it)
        def units_norm2(G: np.ndarray) -> float:
            head = np.zeros_like(G)
            head[:units] = G[:units]
            return problem._grad_norm2_or_inf(head) if np.all(np.isfinite(G)) else math.inf

        rec._grad_norm2 = units_norm2
    n_bisect = n_certified = 0

    def extras() -> dict:  # the units' directions and lengths at the last recorded sweep
        w_k, g_k, theta_k = rec.state if rec.state is not None else (None, None, None)
        return {"length": g_k, "direction": w_k, "theta": theta_k, "n_bisect": n_bisect,
                "n_certified": n_certified, "n_compiled": 0, "T_s": int(T_s)}

    rec.extras = extras
    for t in range(maxiter + 1):
        x_cur = problem.from_bn(w, g, theta)
        ev = problem.value_and_grad_bn(w, g, theta)  # one forward and one backward pass
        rec.nfev += 1
        # (copies: the sweep below updates w and g unit by unit, in place)
        G_theta = ev.grad_x[units:]
        if rec.record(t, x_cur, ev.fun, ev.grad_x, (float(ev.grad_g @ ev.grad_g),
                                                     float(G_theta @ G_theta)),
                      (w.copy(), g.copy(), theta.copy())) or t == maxiter:
            break
        # the activations tanh(A g), kept in step column by column as the units move: each
        # unit's view then costs one tanh pass over its own column, not over all of them
        H = np.tanh(A * g[None, :])
        for i in range(problem.hidden):
            view = problem._unit_view(w, g, i, A, theta, H)
            h = view.c1(g[i]) * view.uw
            if abs(h) > eps and g[i] != 0.0:
                s = rayleigh_step_size(view.w, g[i], h, view.nS, L,
                                       None if view.dN is None else view.N)
                w[i] = w[i] - s * view.grad_w(g[i])
                A[:, i] = problem.unit_projection(w[i])
                H[:, i] = np.tanh(A[:, i] * g[i])
                view = problem._unit_view(w, g, i, A, theta, H)
            # the unit's Taylor model decides the signs it certifies (the halvings are plain
            # bisection's); certify=False evaluates d_g f at every midpoint
            model = None if certify is not None and not certify else view.length_model()
            evaluated = view.evaluations  # (nfev: every O(n) evaluation of the search below)
            try:
                g[i], info = bisect(view.dg, *_bracket(g[i], bracket, dyadic=False),
                                    maxiter=int(T_s), xtol=xtol, model=model,
                                    decreasing="expand")
            except NoSignChangeError:
                found = None if bracket is not None else \
                    _scanned_unit_length(view, g[i], int(T_s), xtol)
                if found is None:
                    rec.nfev += view.evaluations - evaluated  # (the failed search's too)
                    top = _scan_top(g[i])
                    where = "from the given bracket" if bracket is not None else \
                        f"around its length {g[i]:.6g} nor on [-{top:.3g}, {top:.3g}]"
                    rec.stop(2, f"diverged: hidden unit {i}'s length has no finite "
                                f"minimiser found at sweep {t}: d_g f has no increasing sign "
                                f"change {where}, so f falls toward its tanh's saturated "
                                "limit; x is the last recorded iterate")
                    break
                g[i], info = found
            n_bisect += info["nit"]
            n_certified += info["ncertified"]
            # the view's own count: a failed expansion, the scan and its values included,
            # which the returned info leaves out
            rec.nfev += view.evaluations - evaluated
            H[:, i] = np.tanh(A[:, i] * g[i])
        if rec.status is not None:
            break
        if theta_steps:
            theta, calls = problem._optimize_theta(A, g, theta, theta_steps)
            rec.nfev += calls  # (the objective in theta with the features fixed)
    if not theta_steps and rec.status == 0 and rec.state is not None:
        # converged in the hidden units, the only block that moves: say so, with what is
        # left in theta (a theta of 0, or units saturated, had read as plainly converged)
        theta_grad = math.sqrt(float(ev.grad_x[units:] @ ev.grad_x[units:]))
        note = (" (theta is 0: the units do not change f)" if not np.any(rec.state[2]) else
                "")
        rec.stop(0, "converged: the hidden units' gradient norm at or below tol (theta "
                    f"fixed, theta_steps=0; its own gradient norm is {theta_grad:.3g}"
                    f"{', pass theta_steps > 0 to move it' if theta_grad > tol else ''})"
                    f"{note}")
    return rec.result(**extras())
