"""Baselines on the original parameters (theory guide §6): gradient descent and Nesterov's AGD."""

from __future__ import annotations

import math

import numpy as np

from gdnp.problems import Problem
from gdnp.problems._validate import all_finite

from ._common import ArrayLike, Callback, Seed, check_positive, known_constant, prepare_run
from .result import OptimizeResult, Recorder, _finite, status_on_breakdown
from .stochastic import MiniBatches, check_batch_size, check_record_every

__all__ = ["gd", "agd"]


#: AGD's backtracking tries ``AGD_STEP_GROWTH`` times its last step first (GD doubles it).
#: With momentum a fast-growing trial step overshoots along a curved valley: doubling, AGD
#: restarted about every other step on Rosenbrock's function (b = 100) and did not reach
#: ``tol = 1e-6`` in 20000 steps from any of four starts; with 1.25 it takes 6500-7600 steps
#: (GD 14900-15800), and 600-780 at b = 10 (1150-1370 doubling).
AGD_STEP_GROWTH = 1.25


#: Successive halvings over which ``f`` rising at first order along ``-G`` (by at least half
#: of ``lr ||G||^2``, and not by less at each halving, as an overshoot's rise would shrink)
#: proves that ``-G`` does not descend: the line search stops there. With a wrong gradient
#: (its sign flipped) GD had crept on by steps of 1e-20, accepted by the gradient form of the
#: test at ``f``'s rounding, and reported "maximum number of iterations reached".
_ASCENT_HALVINGS = 4


class LineSearchError(Exception):
    """No step of a backtracking line search decreased ``f`` (the direction does not descend)."""


def _armijo(problem, x, fun, G, lr, rec, shrink=0.5, c=1e-4, max_halvings=1100):
    """Backtracking from ``lr``: largest ``lr * shrink^k`` with sufficient decrease.

    Where the decrease asked for, ``c lr ||G||^2``, is below the rounding of ``f`` (the test
    would be decided by rounding: at ``f``'s floor GD had locked into a 2-cycle of steps
    accepted with ``f_new == f``), the test is its form in gradients, exact on a quadratic
    (Hager and Zhang's approximate Armijo condition, theory guide §6): accept when
    ``grad f(x_new)'G >= -(1 - 2c) ||G||^2``, i.e. the step has not overshot the line's
    minimum by more than the Armijo condition allows. Raises :class:`LineSearchError` where
    ``f`` rises at first order along ``-G`` over :data:`_ASCENT_HALVINGS` halvings (an
    overshoot's rise shrinks at least twofold per halving, a wrong gradient's does not), or
    where no step down to 0 passes (``max_halvings``: steps down to the smallest float, for
    problems of any scale)."""
    g2 = float(G @ G)
    lr0 = lr
    ascent, last_rise, halvings = 0, math.inf, 0
    for halvings in range(max_halvings):  # noqa: B007 (the count, in the message below)
        if lr == 0.0:
            break
        x_new = x - lr * G
        decrease = c * lr * g2
        if fun - decrease == fun and np.isfinite(fun):  # below f's rounding
            f_new, G_new = problem.value_and_grad(x_new)
            rec.nfev += 1
            if np.isfinite(f_new) and float(G_new @ G) >= -(1.0 - 2.0 * c) * g2:
                return x_new, lr
        else:
            f_new = problem.f(x_new)
            rec.nfev += 1
            if np.isfinite(f_new) and f_new <= fun - decrease:
                return x_new, lr
            rise = (f_new - fun) / (lr * g2) if np.isfinite(f_new) else math.inf
            ascent = ascent + 1 if 0.5 <= rise and rise > 0.75 * last_rise else 0
            last_rise = rise
            if ascent >= _ASCENT_HALVINGS:
                raise LineSearchError(
                    f"f rises along -grad f at first order (by {rise:.3g} lr ||grad f||^2 at "
                    f"each of the last {ascent + 1} trial steps, down to {lr:.3g}; "
                    f"||grad f|| = {math.sqrt(g2):.3g}, f = {fun:.6g}): the gradient may not be "
                    "f's (check it against finite differences)")
        lr *= shrink
    raise LineSearchError(
        f"no step along -grad f decreased f by the Armijo amount ({halvings} halvings from "
        f"{lr0:.3g}, ||grad f|| = {math.sqrt(g2):.3g}, f = {fun:.6g}): f may not be smooth "
        "here, or the gradient may not be f's (check it against finite differences)")


def _first_value_and_grad(problem, x):
    """``problem.value_and_grad(x)``, its return checked to be a pair (a problem of one's own
    returning ``f`` alone had failed as "cannot unpack non-iterable float object")."""
    out = problem.value_and_grad(x)
    if not (isinstance(out, tuple) and len(out) == 2):
        size = f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""
        raise TypeError(f"{type(problem).__name__}.value_and_grad returned "
                        f"{type(out).__name__}{size}; a pair (f, grad f) is needed")
    return out


def _uphill(fun, fun_prev, G, G_prev, x, x_prev) -> bool:
    """Whether ``f(x) > f(x_prev)``: by the values where their difference is above ``f``'s
    rounding, else by the trapezoid rule on the gradients, ``(G + G_prev)'(x - x_prev) / 2``,
    exact on a quadratic (with ``f* = 1e6`` added to a least-squares problem, AGD's restart
    test had been decided by rounding: momentum carried its exact gap up in 2560 of 4000
    steps)."""
    if G_prev is None:
        return False
    diff = fun - fun_prev
    if abs(diff) > 8.0 * np.finfo(float).eps * max(abs(fun), abs(fun_prev)):
        return diff > 0.0
    return float((G + G_prev) @ (x - x_prev)) > 0.0


@status_on_breakdown
def gd(problem: Problem, x0: ArrayLike | None = None, maxiter: int = 1000,
       tol: float = 1e-10, seed: Seed = 0, callback: Callback = None, *,
       lr: float | None = None, reference: bool = True, batch_size: int | None = None,
       statistics: str = "batch", record_every: int = 1) -> OptimizeResult:
    """Gradient descent ``x <- x - lr grad f(x)`` (theory guide §6), or its mini-batch form.

    Parameters
    ----------
    problem : Problem
    x0 : array_like, optional
        Start; default ``problem.initial_point(seed)``.
    maxiter, tol : int, float
        Stop after ``maxiter`` steps or once ``||grad f||_{S^-1} <= tol``.
    seed : int or Generator
        Seed of the default start.
    callback : callable, optional
        ``callback(intermediate_result)``; raise ``StopIteration`` to stop.
    lr : float, optional
        Step size; default ``1/zeta`` (the problem's smoothness), or Armijo backtracking
        when the smoothness is unknown (MLP); a line search that finds no decrease ends the
        run with status 2 and says so (a wrong gradient, say).
    reference : bool
        Compute ``f*`` with the problem's reference solver and record ``gap``.
    batch_size : int, optional
        Mini-batch SGD (theory guide §11): each step follows the gradient of
        ``problem.batch(indices, statistics=statistics)`` for ``batch_size`` samples drawn
        without replacement within an epoch (``gdnp.stochastic``), seeded by ``seed``;
        ``maxiter`` counts steps. ``batch_size = n`` is the full-batch run.
    statistics : {"batch", "population"}
        Centre each batch with its own mean (``"batch"``) or the full data's
        (``"population"``, only with ``batch_size``: a ``ValueError`` without it).
    record_every : int, default 1
        Mini-batch runs only: evaluate the full-data objective (history, ``tol``, divergence
        test, callback) every ``record_every`` steps and at the last. That evaluation is a
        full pass over the data, which a step of ``batch_size`` samples otherwise does not
        make: ``record_every = n // batch_size`` records once per epoch. The iterates do not
        depend on it.

    Returns
    -------
    OptimizeResult
        Adds ``lr`` (``None`` under backtracking) and, for mini-batch runs, ``batch_size``,
        ``statistics`` and ``record_every``. The history is on the full-data objective at
        every step (every ``record_every`` steps, its ``iter`` the step); mini-batch runs add
        ``epoch`` (epochs completed) to it.

    Raises
    ------
    ValueError
        For a non-positive ``lr``, an invalid ``batch_size`` or ``statistics``, or a mini-batch
        run without ``lr`` on a problem of unknown smoothness.
    TypeError
        If ``problem`` is not a :class:`~gdnp.problems.Problem` or ``callback`` is not
        callable.

    Examples
    --------
    On a population OLS problem with ``kappa = 4`` (step ``1/zeta``, rate ``1 - 1/kappa``):

    >>> import numpy as np
    >>> import gdnp
    >>> from gdnp.problems import OLS
    >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
    >>> res = gdnp.gd(prob, x0=[0.0, 0.0], maxiter=200, tol=1e-8)
    >>> res.status, res.nit, res.lr
    (0, 67, 0.125)
    >>> np.round(res.x, 6)
    array([1., 1.])
    """
    x, maxiter, tol, f_star = prepare_run(problem, x0, maxiter, tol, seed, callback, reference)
    lr = check_positive(lr, "lr", allow_none=True)
    statistics = statistics.lower() if isinstance(statistics, str) else statistics  # any case
    B = check_batch_size(problem, batch_size, statistics)
    every = check_record_every(record_every, B)
    zeta = known_constant(problem, "smoothness")
    backtrack = lr is None and zeta is None
    if lr is None and not backtrack:
        lr = 1.0 / zeta
    if B is not None and backtrack:
        raise ValueError("batch_size: mini-batch gd needs a step size lr for this problem "
                         "(its smoothness is unknown and backtracking needs the full objective)")
    batches = MiniBatches(problem.X.shape[0], B, seed) if B not in (None, _n(problem)) else None
    step = 1.0 if backtrack else lr
    # (batch_size = n is the full-batch run, one batch per epoch: its epoch count is the step)
    rec = Recorder(problem, "gd", tol, callback, f_star,
                   extra_keys=("epoch",) if B is not None else ())
    out = {"lr": None if backtrack else lr}
    if B is not None:
        out.update(batch_size=B, statistics=statistics, record_every=every)
    rec.extras = out.copy  # the same keys when a breakdown ends the run
    for k in range(maxiter + 1):
        if k % every and k < maxiter and batches is not None:
            # a mini-batch step between records: no pass over the full data
            x = x - lr * problem.batch(batches.next(), statistics=statistics).grad(x)
            continue
        fun, G = problem.value_and_grad(x) if k else _first_value_and_grad(problem, x)
        rec.nfev += 1
        more = () if B is None else (  # (the "epoch" column)
            float(k) if batches is None else batches.epoch(k),)
        if rec.record(k, x, fun, G, more) or k == maxiter:
            break
        if backtrack:
            try:
                x, step = _armijo(problem, x, fun, G, 2.0 * step, rec)
            except LineSearchError as exc:
                rec.stop(2, f"line search failed at iteration {k}: {exc}")
                break
        elif batches is None:
            x = x - lr * G
        else:
            x = x - lr * problem.batch(batches.next(), statistics=statistics).grad(x)
    return rec.result(**out)


def _n(problem) -> int | None:
    X = getattr(problem, "X", None)
    return None if X is None else X.shape[0]


@status_on_breakdown
def agd(problem: Problem, x0: ArrayLike | None = None, maxiter: int = 1000,
        tol: float = 1e-10, seed: Seed = 0, callback: Callback = None, *,
        lr: float | None = None, momentum: str = "auto", reference: bool = True
        ) -> OptimizeResult:
    """Nesterov's accelerated gradient (theory guide §6).

    ``y_k = x_k + beta_k (x_k - x_{k-1})``, ``x_{k+1} = y_k - lr grad f(y_k)``, with
    ``beta = (1 - sqrt(mu_f lr)) / (1 + sqrt(mu_f lr))`` when the strong convexity ``mu_f`` is
    known (``momentum="strongly_convex"``; at the default ``lr = 1/zeta`` this is
    ``(sqrt(zeta) - sqrt(mu_f)) / (sqrt(zeta) + sqrt(mu_f))``) and ``beta_k = k/(k+3)``
    otherwise (``momentum="schedule"``). ``lr`` defaults to ``1/zeta``, or backtracking at
    ``y_k`` when the smoothness is unknown. Under backtracking the problem may be non-convex
    (MLP), and the schedule then restarts whenever ``f(x_k) > f(x_{k-1})`` (O'Donoghue and
    Candes' function-value restart: ``beta`` starts again from 0, and the uphill step is
    dropped: the next step is a gradient step from ``x_{k-1}``), so that momentum does not
    carry the iterates uphill; with a known smoothness the iterates are the plain schedule's.

    Parameters
    ----------
    problem : Problem
    x0 : array_like, optional
        Start; default ``problem.initial_point(seed)``.
    maxiter, tol : int, float
        Stop after ``maxiter`` steps or once ``||grad f||_{S^-1} <= tol``.
    seed : int or Generator
        Seed of the default start.
    callback : callable, optional
        ``callback(intermediate_result)``; raise ``StopIteration`` to stop.
    lr : float, optional
        Step size; default ``1/zeta``, or Armijo backtracking at ``y_k`` when the smoothness
        is unknown (MLP).
    momentum : {"auto", "strongly_convex", "schedule"}
        ``beta = (1 - sqrt(mu_f lr)) / (1 + sqrt(mu_f lr))`` (``strongly_convex``) or
        ``beta_k = k/(k+3)`` (``schedule``); ``auto`` picks the first when the problem knows
        its smoothness and strong convexity.
    reference : bool
        Compute ``f*`` with the problem's reference solver and record ``gap``.

    Returns
    -------
    OptimizeResult
        Adds ``lr`` (``None`` under backtracking), ``momentum`` (the rule used) and
        ``n_restart`` (the momentum's restarts, 0 unless backtracking). Each step costs two
        gradient evaluations (at ``x_k`` and ``y_k``; one after a restart, where ``y_k`` is
        the last iterate again), counted in ``nfev`` with the line search's. A restart
        records the last iterate again (the uphill point is not recorded), and a line search
        that finds no decrease ends the run with status 2 (a wrong gradient, say).

    Raises
    ------
    ValueError
        For a non-positive ``lr``, an unknown ``momentum``, or ``momentum="strongly_convex"``
        on a problem without known smoothness and strong convexity.
    TypeError
        If ``problem`` is not a :class:`~gdnp.problems.Problem` or ``callback`` is not
        callable.

    Examples
    --------
    >>> import numpy as np
    >>> import gdnp
    >>> from gdnp.problems import OLS
    >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
    >>> res = gdnp.agd(prob, x0=[0.0, 0.0], maxiter=200, tol=1e-8)
    >>> res.status, res.nit, res.momentum
    (0, 32, 'strongly_convex')
    >>> np.round(res.x, 6)
    array([1., 1.])
    """
    x, maxiter, tol, f_star = prepare_run(problem, x0, maxiter, tol, seed, callback, reference)
    lr = check_positive(lr, "lr", allow_none=True)
    if momentum not in ("auto", "strongly_convex", "schedule"):
        raise ValueError(f"momentum must be 'auto', 'strongly_convex' or 'schedule', "
                         f"got {momentum!r}")
    zeta = known_constant(problem, "smoothness")
    mu_f = known_constant(problem, "strong_convexity")
    if momentum == "strongly_convex" and (mu_f is None or zeta is None):
        raise ValueError("momentum='strongly_convex' needs a problem with known smoothness "
                         "and strong convexity")
    if momentum == "auto":
        momentum = "strongly_convex" if (mu_f is not None and zeta is not None) else "schedule"
    backtrack = lr is None and zeta is None
    if lr is None and not backtrack:
        lr = 1.0 / zeta
    step = 1.0 if backtrack else lr
    beta_sc = None
    if momentum == "strongly_convex":
        q = np.sqrt(mu_f * (lr if lr is not None else 1.0 / zeta))
        beta_sc = (1.0 - q) / (1.0 + q)
    rec = Recorder(problem, "agd", tol, callback, f_star)
    x_prev = x.copy()
    # function-value restart (theory guide §6) under backtracking only: there the problem may
    # be non-convex (MLP), and momentum that carries f uphill is dropped; elsewhere j == k
    restart = backtrack
    j = 0  # steps since the momentum last restarted
    n_restart = 0
    fun_prev, G_prev = math.inf, None

    def extras() -> dict:  # also when a breakdown ends the run
        return {"lr": None if backtrack else lr, "momentum": momentum,
                "n_restart": n_restart if restart else 0}

    rec.extras = extras
    for k in range(maxiter + 1):
        fun, G = problem.value_and_grad(x) if k else _first_value_and_grad(problem, x)
        rec.nfev += 1
        dropped = restart and _uphill(fun, fun_prev, G, G_prev, x, x_prev)
        if dropped:
            # the step went uphill: drop it with the momentum, from the last iterate again
            # (the iterate recorded is the last one once more; keeping the uphill point, the
            # doubling trial step had carried AGD up the valley's wall every other step: a
            # limit cycle on Rosenbrock's function)
            x, fun, G = x_prev, fun_prev, G_prev
            j = 0
            n_restart += 1
        if rec.record(k, x, fun, G) or k == maxiter:
            break
        fun_prev, G_prev = fun, G
        beta = beta_sc if beta_sc is not None else j / (j + 3.0)
        j += 1
        if dropped:  # beta = 0: y is x, whose value and gradient are at hand
            y, fy, Gy = x, fun, G
        else:
            y = x + beta * (x - x_prev)
            fy, Gy = problem.value_and_grad(y)
            rec.nfev += 1
        x_prev = x
        if not (_finite(fy) and all_finite(Gy)):  # (np.all's Python layers: ~3 us)
            x = y  # let the recorder report the divergence
            continue
        if backtrack:
            try:
                x, step = _armijo(problem, y, fy, Gy, AGD_STEP_GROWTH * step, rec)
            except LineSearchError as exc:
                rec.stop(2, f"line search failed at iteration {k}: {exc}")
                break
        else:
            x = y - lr * Gy
    return rec.result(**extras())
