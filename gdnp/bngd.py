"""BNGD (C19): plain simultaneous gradient descent on the BN parameters (theory guide §2, §6).

    g_{k+1} = g_k - lr_g d_g f(w_k, g_k),     w_{k+1} = w_k - lr grad_w f(w_k, g_k)

For the MLP the output weights ``theta`` take gradient steps with ``lr_g`` too.
"""

from __future__ import annotations

import math

import numpy as np

from gdnp.problems import MLP, BNEval, LinearProblem, Problem

from ._common import (
    ArrayLike,
    Callback,
    Seed,
    check_positive,
    known_constant,
    prepare_run,
    require_u,
    start_from_bn,
)
from .result import OptimizeResult, Recorder, status_on_breakdown
from .stochastic import MiniBatches, check_batch_size, check_record_every

__all__ = ["bngd"]


def _bn_eval(problem, ev) -> BNEval:
    """``value_and_grad_bn``'s result as a :class:`~gdnp.problems.BNEval`: a plain 4-tuple
    ``(fun, grad_w, grad_g, grad_x)`` from a problem of one's own is taken as one; anything
    else is a TypeError naming the method (it had been "'tuple' object has no attribute
    'fun'")."""
    if isinstance(ev, BNEval):
        return ev
    if isinstance(ev, tuple) and len(ev) == 4:
        return BNEval(*ev)
    raise TypeError(f"{type(problem).__name__}.value_and_grad_bn returned "
                    f"{type(ev).__name__}, expected a gdnp.problems.BNEval (fun, grad_w, "
                    "grad_g, grad_x)")


@status_on_breakdown
def bngd(problem: Problem, x0: ArrayLike | None = None, maxiter: int = 1000,
         tol: float = 1e-10, seed: Seed = 0, callback: Callback = None, *,
         lr: float | None = None, lr_g: float | None = None, w0=None, g0=None,
         reference: bool = True, batch_size: int | None = None, statistics: str = "batch",
         record_every: int = 1) -> OptimizeResult:
    """Gradient descent on ``(w, g)`` with a direction rate ``lr`` and a length rate ``lr_g``.

    Parameters
    ----------
    problem : Problem
    x0 : array_like, optional
        Start; default ``problem.initial_point(seed)``.
    maxiter, tol : int, float
        Stop after ``maxiter`` steps or once ``||grad f||_{S^-1} <= tol``.
    seed : int or Generator
        Seed of the default start (and of the mini-batches).
    callback : callable, optional
        ``callback(intermediate_result)``; raise ``StopIteration`` to stop.
    lr : float, optional
        Direction rate ``epsilon``; default ``1/zeta`` (``1`` where the smoothness is
        unknown, as for the MLP). C19: BNGD
        converges for any ``lr > 0``, with an effective step ``2 lr ||w~*||^2 / ||w_inf||^2``.
    lr_g : float, optional
        Length rate ``epsilon_g``; default ``1 / sup d^2f/dg^2``, the problem's
        ``length_smoothness`` (``1/2`` on OLS with the batch norm, where one step gives the
        exact length; ``1/(2 lambda_max(S))`` with the weight norm; on the MLP, whose output
        weights take steps of ``lr_g`` too, the bound also covers their block of the Hessian,
        ``max l'' * hidden``). For the l1, l3 and linf
        norms, which have no bound over every direction, the bound at the current direction
        ``w_k``, ``1/(zeta_g ||w_k||_S^2 / N(w_k)^2)`` at each step, the largest over the
        MLP's units (theory guide §10; the result's ``lr_g`` is the last step's); a mini-batch
        step of OLS or a halfspace takes its batch's, with ``S_B`` and ``N_B`` (theory guide
        §11). A
        ``ValueError`` asks for it where no bound is known (a loss with an unbounded
        ``phi''``).
    w0, g0 : array_like and float, optional
        Start in BN coordinates instead of ``x0`` (both or neither). C19's scaling law: the
        runs ``(lr, w0)`` and ``(c^2 lr, c w0)`` give the same ``g_k`` and ``w_k`` scaled by ``c``.
    batch_size : int, optional
        Stochastic BNGD (theory guide §11): each step follows the BN gradients of
        ``problem.batch(indices, statistics=statistics)``; with ``statistics="batch"`` that is
        real BN training (each batch normalized with its own mean and moments, the gradient
        flowing through them), with ``"population"`` the same batches normalized with the
        full data's statistics (an unbiased gradient). The history is on the full-data
        objective ``f(g w / N(w))`` at every step, plus ``epoch``. ``batch_size = n`` is the
        full-batch run. Data problems only (OLS, halfspaces, the MLP).
    statistics : {"batch", "population"}
        Which statistics normalize each mini-batch (see ``batch_size``); ``"population"``
        only with ``batch_size`` (a ``ValueError`` without it, where it would have no effect).
    record_every : int, default 1
        Mini-batch runs only: evaluate the full-data objective (history, ``tol``, divergence
        test, callback) every ``record_every`` steps and at the last, a full pass over the
        data that a step of ``batch_size`` samples otherwise does not make
        (``n // batch_size`` records once per epoch). The iterates do not depend on it.
    reference : bool
        Compute ``f*`` with the problem's reference solver and record ``gap``.

    Returns
    -------
    OptimizeResult
        With ``length`` and ``direction`` (the final ``g`` and un-normalized ``w``); the history
        adds ``w_norm2`` (``||w_k||_2^2``, which never decreases when ``N`` is scale invariant,
        ``bn_eps = 0``, theory guide §1) and, for
        single-unit problems, ``rho_gap`` (``rho(w_k) - rho*``).

    Raises
    ------
    ValueError
        For a non-positive ``lr`` or ``lr_g``, only one of ``w0`` and ``g0``, or an invalid
        ``batch_size`` or ``statistics``.
    TypeError
        If ``problem`` is not a :class:`~gdnp.problems.Problem` or ``callback`` is not
        callable.

    Notes
    -----
    The step is ``w <- w - lr grad_w f_bn(w, g)``, ``g <- g - lr_g d_g f_bn(w, g)`` on
    ``f_bn(w, g) = f(g w / N(w))`` (theory guide §1); on OLS it is C19's BNGD
    (theory guide §2).

    Examples
    --------
    >>> import numpy as np
    >>> import gdnp
    >>> from gdnp.problems import OLS
    >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
    >>> res = gdnp.bngd(prob, x0=[1.0, 0.5], maxiter=200, tol=1e-8)
    >>> res.status, res.nit, round(float(res.length), 6)
    (0, 20, 2.236068)
    >>> np.round(res.x, 6)
    array([1., 1.])
    """
    require_u(problem)
    x, maxiter, tol, f_star = prepare_run(problem, x0, maxiter, tol, seed, callback, reference)
    lr = check_positive(lr, "lr", allow_none=True)
    lr_g = check_positive(lr_g, "lr_g", allow_none=True)
    if lr is None:
        zeta = known_constant(problem, "smoothness")
        lr = 1.0 / zeta if zeta is not None else 1.0
    mlp = isinstance(problem, MLP)
    linear = isinstance(problem, LinearProblem)
    # the curvature bound at the current direction, for a norm with no bound over every
    # direction (l1, l3, linf): problem._length_bound(||w||_S^2 / N(w)^2), per step
    per_step = False
    if lr_g is None:
        zeta_g = known_constant(problem, "length_smoothness")
        base = getattr(problem, "_length_curvature", None)
        if zeta_g is not None:
            lr_g = 1.0 / zeta_g
        elif base is not None and math.isfinite(base) and base > 0:
            per_step = True
        else:
            raise ValueError("lr_g: the problem's length_smoothness (a bound on d^2 f / dg^2) "
                             "is unknown; pass lr_g")
    statistics = statistics.lower() if isinstance(statistics, str) else statistics  # any case
    B = check_batch_size(problem, batch_size, statistics)
    every = check_record_every(record_every, B)
    batches = None
    if B is not None and B != problem.X.shape[0]:
        batches = MiniBatches(problem.X.shape[0], B, seed)
    if w0 is not None or g0 is not None:
        x = start_from_bn(problem, x, w0, g0, x0)
        w = np.array(w0, dtype=float, copy=True)
        g = np.array(g0, dtype=float, copy=True) if mlp else float(g0)
    else:
        w, g = problem._to_bn(x, "x0")
    theta = problem.split(x)[1].copy() if mlp else None
    extra = ("w_norm2", "rho_gap") if linear else ("w_norm2",)
    if B is not None:  # (batch_size = n: one batch per epoch, the epoch count is the step)
        extra = (*extra, "epoch")
    rec = Recorder(problem, "bngd", tol, callback, f_star, extra_keys=extra)
    if not linear:  # f and grad_x come from the problem's own value_and_grad_bn
        rec.hook = "value_and_grad_bn"

    def extras() -> dict:  # the direction and length of the last recorded iterate
        w_k, g_k, theta_k = rec.state if rec.state is not None else (None, None, None)
        out = {"length": None if g_k is None else (
                   np.array(g_k, dtype=float, copy=True) if mlp else float(g_k)),
               "direction": None if w_k is None else np.array(w_k, copy=True),
               "lr": lr, "lr_g": lr_g}
        if B is not None:
            out.update(batch_size=B, statistics=statistics, record_every=every)
        if mlp:
            out["theta"] = theta_k
        return out

    rec.extras = extras

    def step_ratio(st) -> float:
        """The per-step length bound's ratio at ``w`` (``st``: its full direction state, or
        None where none was made: between records, and on the MLP)."""
        if linear:
            return problem._length_ratio(st) if st is not None else \
                problem._length_ratio_of(w)
        return max(float(wi @ problem.S @ wi) / problem.normalizer.value(wi) ** 2 for wi in w)

    for k in range(maxiter + 1):
        st = None  # the full direction state of w, made where the step is recorded
        # between records (record_every) a mini-batch step makes no pass over the full data;
        # its arithmetic is a recorded step's, so the iterates do not depend on every
        if not (k % every and k < maxiter and batches is not None):
            # (overflow and invalid values are silenced for the run by status_on_breakdown)
            try:
                if linear:  # one check and one direction state for the gradient, the
                    # iterate and rho (what value_and_grad_bn, from_bn and rayleigh compute);
                    # every w is a new array that is never modified in place (fresh). After
                    # the first step only g needs a test: a non-finite w fails the state's
                    # own test of ||w||_S (the same ValueError, the same divergence)
                    if k == 0 or not math.isfinite(g):
                        w, g = problem._check_bn(w, g)
                    st = problem._state(w, fresh=True)
                    ev = problem._value_and_grad_bn(w, st, g)
                    x_cur = problem._point(w, st, g)
                else:
                    ev = _bn_eval(problem, problem.value_and_grad_bn(w, g, theta) if mlp
                                  else problem.value_and_grad_bn(w, g))
                    x_cur = problem.from_bn(w, g, theta) if mlp else problem.from_bn(w, g)
                    if k == 0 and np.shape(ev.grad_w) != np.shape(w):
                        raise TypeError(f"{type(problem).__name__}.value_and_grad_bn "
                                        f"returned grad_w of shape {np.shape(ev.grad_w)}, "
                                        f"expected {np.shape(w)} (w's)")
            except ValueError:  # w or g left the finite range: a divergence, not a crash
                rec.status, rec._divergence_note = 2, (k, np.nan)
                break
            rec.nfev += 1
            # the extra columns in the order of `extra`: w_norm2 (np.sum, unwrapped),
            # rho_gap, epoch
            more = (float(np.add.reduce(w * w, axis=None)),)
            if linear:
                more += (problem._rho_gap(st),)
            if B is not None:
                more += (float(k) if batches is None else batches.epoch(k),)
            if rec.record(k, x_cur, ev.fun, ev.grad_x, more, (w, g, theta)) or k == maxiter:
                break
        if batches is not None:
            try:
                part = problem.batch(batches.next(), statistics=statistics)
                ev = _bn_eval(part, part.value_and_grad_bn(w, g, theta) if mlp else
                              part.value_and_grad_bn(w, g))
            except ValueError:  # N_B(w) = 0 on this batch: the step is undefined
                rec.stop(2, f"diverged: the batch normalization of step {k} is undefined "
                            "(N_B(w) = 0); x is the last recorded iterate")
                break
        if per_step and batches is not None and linear:
            # the step is the batch's: the bound of f_B at ||w_k||_{S_B}^2 / N_B(w_k)^2 (the
            # full data's had overshot a batch's curvature 2.8x under linf, and diverged), from
            # the direction state value_and_grad_bn just cached: N(w) once per step (with
            # population statistics a sample norm's N is a pass over all n samples)
            lr_g = 1.0 / part._length_bound(part._length_ratio(part._state(w)))
        elif per_step:  # the bound at ||w_k||_S^2 / N(w_k)^2, the largest unit's
            lr_g = 1.0 / problem._length_bound(step_ratio(st))
        w = w - lr * ev.grad_w
        g = g - lr_g * ev.grad_g
        if mlp:
            theta = theta - lr_g * ev.grad_x[-problem.hidden:]
    return rec.result(**extras())
