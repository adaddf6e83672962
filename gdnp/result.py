"""Result type and the per-iteration recorder shared by every solver.

The recorder owns everything that is the same for all methods: the history arrays, the
stopping test on ``||grad f||_{S^-1} <= tol``, divergence detection (status 2, never an
exception) and the ``callback(intermediate_result)`` protocol of ``scipy.optimize``
(raising ``StopIteration`` stops the run with status 99).

Statuses: ``0`` converged (``||grad f||_{S^-1} <= tol``), ``1`` the iteration budget ran out,
``2`` diverged, ``99`` stopped by the callback. **Divergence rule** (status 2): a run ends
with status 2, its message naming the cause and its history up to the last finite iterate,
when

* the objective, the gradient or the iterate is NaN or infinite; or
* the objective grows past ``f_0 + DIVERGENCE_FACTOR * (1 + |f_0|)`` (factor ``1e6``): no
  method here increases ``f`` that much on a problem it converges on (GD and GDNP decrease
  ``f``; AGD's overshoot is bounded by ``2 (f_0 - f*)`` on convex problems); or
* an arithmetic breakdown interrupts a step (``OverflowError``, ``FloatingPointError``,
  ``ZeroDivisionError``, a non-finite intermediate), or a length update finds no finite
  minimiser (:class:`~gdnp.NoSignChangeError`, e.g. separable data): the solvers are
  wrapped by :func:`status_on_breakdown`, which turns these into status 2.

``x``, ``fun`` and ``grad_norm`` of a diverged run belong to the last finite recorded iterate.
The mirror of the second rule is only a note: a run ending with status 1 or 2 after ``f``
fell more than that margin below ``f_0`` says in its message that the objective may be
unbounded below.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import math
import numbers
import re
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import OptimizeResult as _ScipyOptimizeResult

from gdnp.problems._validate import all_finite

__all__ = ["OptimizeResult", "Recorder", "STATUS_MESSAGES", "DIVERGENCE_FACTOR",
           "DEFAULT_MAXITER", "DEFAULT_TOL", "status_on_breakdown"]

#: Status 2 once ``f - f_0 > DIVERGENCE_FACTOR * (1 + |f_0|)`` (module docstring).
DIVERGENCE_FACTOR = 1e6
#: The defaults shared by ``gdnp.solve``, every solver, ``gdnp solve`` and ``gdnp sweep``:
#: at most 1000 iterations, stop once ``||grad f||_{S^-1} <= 1e-10``.
DEFAULT_MAXITER = 1000
DEFAULT_TOL = 1e-10

STATUS_MESSAGES = {
    0: "converged: gradient norm at or below tol",
    1: "maximum number of iterations reached",
    2: "diverged: non-finite or exploding objective",
    99: "stopped by the callback",
}


_isfinite, _sqrt, _perf_counter = math.isfinite, math.sqrt, time.perf_counter
_EPS = float(np.finfo(float).eps)


def _finite(v) -> bool:
    """``np.isfinite(v)`` for a scalar (``math.isfinite`` for a float, the usual case)."""
    return math.isfinite(v) if isinstance(v, float) else bool(np.isfinite(v))


#: Attributes of an ndarray that a callback written for scipy's ``callback(xk)`` may read.
_ARRAY_ATTRIBUTES = frozenset(("shape", "ndim", "size", "dtype", "T", "flat", "reshape",
                               "ravel", "flatten", "astype", "tolist", "item", "sum", "mean",
                               "max", "min", "dot", "nbytes", "real", "imag", "argmax",
                               "argmin", "clip", "round", "all", "any"))


class OptimizeResult(_ScipyOptimizeResult):
    """The result of a solver run: a ``dict`` with attribute access, a subclass of
    :class:`scipy.optimize.OptimizeResult` (code that checks for scipy's type takes it).

    Like :class:`scipy.optimize.OptimizeResult`, ``res.x`` and ``res["x"]`` are the same
    entry, and the printed form lists every key (the history is summarised).

    Attributes
    ----------
    x : numpy.ndarray
        The final iterate in the original coordinates (``w~``; for the MLP the flat vector of
        unit weights and output weights). After a divergence, the last finite iterate.
    fun : float
        ``f(x)``.
    grad_norm : float
        ``||grad f(x)||_{S^-1}``, the stopping criterion's norm (theory guide §0).
    nit : int
        Iterations done to reach ``x``: ``history["iter"][-1]``, also after a divergence (the
        message names the iteration that diverged).
    nfev : int
        Evaluations of the objective or its derivatives (GDNP counts every ``d_g f`` of its
        bisections).
    status : int
        0: converged (``grad_norm <= tol``); 1: ``maxiter`` reached; 2: diverged or broke
        down (a non-finite or exploding objective, a GDNP length with no finite minimiser,
        or a backtracking line search that found no decrease);
        99: stopped by the callback. See ``STATUS_MESSAGES``.
    success : bool
        ``status == 0``.
    message : str
        Why the run stopped, with details where they help (iteration and value of a
        divergence, the unit whose length has no minimiser...).
    method : str
        ``"gd"``, ``"agd"``, ``"bngd"`` or ``"gdnp"``.
    history : dict of numpy.ndarray
        Equal-length arrays, one entry per recorded iterate: ``iter``, ``fun``,
        ``grad_norm2`` (``||grad f||^2_{S^-1}``), ``time`` (seconds since the start) and,
        when the problem has a reference optimum ``f*``, ``gap`` (``f - f*``). The BN methods
        add ``w_norm2`` (``||w_k||_2^2``, BNGD) or ``dg2`` and ``step`` (GDNP) and, on
        single-unit problems, ``rho_gap`` (``rho(w) - rho*``, theory guide §2).

    Notes
    -----
    Method-specific keys: ``lr`` (GD, AGD: the step used, ``None`` with backtracking),
    ``momentum`` (AGD), ``length`` and ``direction`` (BNGD, GDNP: the final ``g`` and
    un-normalised ``w``), ``n_bisect`` and ``n_certified`` (GDNP: halvings, and signs decided
    by a certified model), ``theta`` (GDNP on the MLP).

    Examples
    --------
    >>> import gdnp
    >>> from gdnp.problems import OLS
    >>> res = gdnp.solve(OLS.random(d=3, kappa=10, seed=0), "gd", maxiter=5, tol=0.0)
    >>> res.status, res.nit, res.success
    (1, 5, False)
    >>> res.message
    'maximum number of iterations reached'
    >>> res.x is res["x"]
    True
    >>> sorted(res.history)
    ['fun', 'gap', 'grad_norm2', 'iter', 'time']
    >>> res.history["iter"]
    array([0, 1, 2, 3, 4, 5])
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            if name.startswith("__") or name not in _ARRAY_ATTRIBUTES:
                raise AttributeError(name) from exc
            # an ndarray's attribute: a callback written for scipy's callback(xk)
            raise AttributeError(
                f"OptimizeResult has no attribute {name!r}: a gdnp callback receives the "
                "intermediate result (as scipy's callback(intermediate_result)), whose iterate "
                "is .x (a copy: .x.copy() is not needed)") from exc

    def __missing__(self, key):
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            # an index: a callback written for scipy's callback(xk) reading xk[0]
            raise KeyError(
                f"{key!r}: an OptimizeResult is indexed by field names; a gdnp callback "
                "receives the intermediate result (as scipy's callback(intermediate_result)), "
                "whose iterate is .x")
        raise KeyError(key)

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __dir__(self):
        return list(self.keys())

    def __repr__(self) -> str:
        if not self:
            return "OptimizeResult()"
        keys = [k for k in self if k != "history"]
        width = max(map(len, keys)) + 1
        lines = []
        for k in keys:
            v = self[k]
            text = np.array2string(v, threshold=8, precision=6) if isinstance(
                v, np.ndarray) else repr(v)
            # a matrix's later rows line up under its first (as scipy's OptimizeResult)
            text = text.replace("\n", "\n" + " " * (width + 2))
            lines.append(f"{k.rjust(width)}: {text}")
        if "history" in self:
            h = self["history"]
            lines.append(f"{'history'.rjust(width)}: {len(h.get('iter', []))} records of "
                         f"{sorted(h)}")
        return "\n".join(lines)


def _takes_result_by_keyword(callback: Callable) -> bool:
    """Whether ``callback``'s parameters are exactly ``intermediate_result`` (scipy's test in
    ``scipy.optimize.minimize``); ``False`` where its signature cannot be read."""
    try:
        return set(inspect.signature(callback).parameters) == {"intermediate_result"}
    except (TypeError, ValueError):  # a builtin or a callable without a signature
        return False


def _by_keyword(callback: Callable, result) -> Any:
    return callback(intermediate_result=result)


class Recorder:
    """Collects the history of one run and decides when it stops (for solver authors).

    A solver calls :meth:`record` once per iterate (with the values of its ``extra_keys``
    history columns, in their order, and optionally its own ``state`` at that iterate) and
    stops when it returns ``True``, may call :meth:`stop` to end with a specific status and
    message, and returns :meth:`result`. A solver with method-specific result keys
    (``length``, ``direction``...) sets :attr:`extras` to a function returning them from
    :attr:`state`, the state of the last *recorded* iterate: every way a run ends, a
    breakdown caught by :func:`status_on_breakdown` included, then returns keys that belong
    to ``x``. Users of the
    solvers never need it; ``gdnp.solve``'s docstring has a complete example of the loop's
    result.

    Parameters
    ----------
    problem : Problem
        The problem (for ``grad_norm2`` and the reference optimum).
    method : str
        Method name, stored in the result.
    tol : float
        Stop (status 0) once ``||grad f(x)||_{S^-1} <= tol``.
    callback : callable or None
        ``callback(intermediate_result)``; may raise ``StopIteration``.
    f_star : float or None
        Reference optimum; adds ``gap`` to the history.
    divergence : float
        Status 2 when ``f - f_0 > divergence * (1 + |f_0|)`` or anything is non-finite
        (the divergence rule of the module docstring).
    """

    def __init__(self, problem, method: str, tol: float, callback: Callable | None,
                 f_star: float | None, divergence: float = DIVERGENCE_FACTOR, extra_keys=()):
        self.problem, self.method, self.tol = problem, method, tol
        self.callback, self.f_star, self.divergence = callback, f_star, divergence
        if callback is not None and _takes_result_by_keyword(callback):
            # scipy's rule: a callback whose only parameter is named intermediate_result
            # receives the result by keyword (it may be keyword-only)
            self.callback = functools.partial(_by_keyword, callback)
        self.cols: dict[str, list] = {k: [] for k in ("iter", "fun", "grad_norm2", "time")}
        if f_star is not None:
            self.cols["gap"] = []
        for k in extra_keys:
            self.cols[k] = []
        self.t0 = time.perf_counter()
        self.status: int | None = None
        # the problem's method whose (f, grad f) the first record checks (its error names it)
        self.hook = "value_and_grad"
        self.x_last = None
        self.fun_last = np.nan
        self.gn2_last = np.nan
        self.nit = 0
        self.nfev = 0
        self.f0 = None
        self.state = None  # the solver's state at x_last (as passed to record)
        self.extras: Callable[[], dict] | None = None  # method-specific result keys
        self._div_margin = math.inf
        self._grad_norm2 = problem._grad_norm2_or_inf
        cols = self.cols
        self._append_iter, self._append_fun = cols["iter"].append, cols["fun"].append
        self._append_gn2, self._append_time = cols["grad_norm2"].append, cols["time"].append
        self._append_gap = cols["gap"].append if f_star is not None else None
        self._append_extra = tuple(cols[k].append for k in extra_keys)
        active = _ACTIVE.get(None)
        if active is not None:  # inside a solver wrapped by status_on_breakdown
            active.append(self)

    def record(self, k: int, x: np.ndarray, fun: float, G: np.ndarray, extra: tuple = (),
               state=None) -> bool:
        """Record iterate ``k`` and decide whether the run stops.

        Parameters
        ----------
        k : int
            Iteration index.
        x : numpy.ndarray
            The iterate in the original coordinates.
        fun : float
            ``f(x)``.
        G : numpy.ndarray
            ``grad f(x)`` (its ``S^-1`` norm is the stopping criterion).
        extra : tuple
            Values of the ``extra_keys`` columns for this iterate, in the order of
            ``extra_keys`` (a tuple, not keywords: this runs at every iterate of every solver,
            and keyword passing cost about 1 us of GD's 14 us iteration on a small problem).

        Returns
        -------
        bool
            ``True`` when the run must stop; the status is then set (0 converged, 2 diverged,
            99 stopped by the callback). A diverged iterate is not recorded.
        """
        # all_finite and math.isfinite: the same tests as np.all(np.isfinite(.)) without
        # numpy's Python layers (several us per iterate, more than a small problem's algebra);
        # a finite ||G||^2 proves G finite (Problem._grad_norm2_or_inf). The column appends
        # are bound once (__init__): this runs at every iterate of every solver
        if self.f0 is None:  # the first record: a problem of one's own may return anything
            self._check_first(G, fun, x)
        gn2 = self._grad_norm2(G)
        finite = _finite(fun) and _isfinite(gn2) and all_finite(x)
        if finite and self.f0 is None:
            self.f0 = float(fun)
            self._div_margin = self.divergence * (1.0 + abs(self.f0))
        if not finite and self.x_last is None:
            raise _start_error(f"f = {fun!r}, ||grad f||^2_(S^-1) = {gn2!r}")
        if not finite or fun - self.f0 > self._div_margin:
            self.status = 2  # nit, x and fun stay those of the last recorded iterate
            self._divergence_note = (k, fun)
            if _finite(fun) and not _isfinite(gn2):  # f finite: the gradient was not
                self._message = (f"diverged: the gradient is not finite at iteration {k} "
                                 f"(f = {float(fun)!r} there); x is the last finite iterate "
                                 f"(iteration {self.nit})")
            if finite:
                self._message = (
                    f"diverged: f = {float(fun):.6g} at iteration {k} exceeds f_0 + "
                    f"{self.divergence:g} (1 + |f_0|) (f_0 = {self.f0:.6g}); x is the last "
                    f"iterate below that bound (iteration {self.nit})")
            return True
        fun = float(fun)
        self.x_last, self.fun_last, self.gn2_last, self.nit = x, fun, gn2, k
        self.state = state
        self._append_iter(k)
        self._append_fun(fun)
        self._append_gn2(gn2)
        self._append_time(_perf_counter() - self.t0)
        if self._append_gap is not None:
            self._append_gap(fun - self.f_star)
        if extra:
            for append, value in zip(self._append_extra, extra, strict=True):
                append(value)
        converged = gn2 >= 0.0 and _sqrt(gn2) <= self.tol  # (np.sqrt: nan below 0)
        if converged:
            self.status = 0
        if self.callback is not None and self._call_back(x, fun, gn2, k) and not converged:
            self.status = 99
            return True
        return converged

    def _check_first(self, G, fun, x) -> None:
        """The first record's value, gradient and iterate, checked once: a problem of one's own
        whose ``value_and_grad`` returns a gradient of another shape had failed deep in a
        linear solve ("incompatible dimensions"), one of another type or an ``f`` that is not
        a number in the solver's arithmetic, and a ``from_bn`` of another shape not at all."""
        name = type(self.problem).__name__
        dim = getattr(self.problem, "dim", None)
        what = "grad_x" if self.hook == "value_and_grad_bn" else "a gradient"
        if not (np.ndim(fun) == 0 and isinstance(np.asarray(fun).item(), numbers.Real)):
            raise TypeError(f"{name}.{self.hook} returned f = {fun!r} "
                            f"({type(fun).__name__}); a real number is needed")
        if not isinstance(G, np.ndarray):
            raise TypeError(f"{name}.{self.hook} returned {what} of type "
                            f"{type(G).__name__}; a numpy array is needed")
        shape = np.shape(G)
        if dim is not None and shape != (dim,):
            raise ValueError(f"{name}.{self.hook} returned {what} of shape {shape}, "
                             f"expected ({dim},)")
        if dim is not None and np.shape(x) != (dim,):
            raise ValueError(f"{name}: the iterate has shape {np.shape(x)}, expected ({dim},) "
                             "(for the BN methods, from_bn's return)")

    def _call_back(self, x, fun: float, gn2: float, k: int) -> bool:
        """Pass the recorded iterate to the callback; ``True`` if it raised ``StopIteration``.
        Any other exception is the callback's own: it propagates as raised (marked, so that
        :func:`status_on_breakdown` does not take it for a breakdown of the run)."""
        inter = OptimizeResult(x=x.copy(), fun=fun, grad_norm=_sqrt(max(gn2, 0.0)),
                               grad_norm2=gn2, nit=k, method=self.method)
        if self.f_star is not None:
            inter["gap"] = fun - self.f_star
        try:
            self.callback(inter)
        except StopIteration:
            return True
        except BaseException as exc:
            exc._gdnp_from_callback = True
            raise
        return False

    def breakdown(self, exc: BaseException) -> None:
        """End the run with status 2 after ``exc`` interrupted a step (see the module doc)."""
        from .bisection import NoSignChangeError

        if self.x_last is None and not isinstance(exc, NoSignChangeError):
            raise _start_error("a value overflowed float64" if isinstance(exc, OverflowError)
                               else f"{type(exc).__name__}: {exc}") from exc
        k = self.nit + 1 if self.cols["iter"] else 0
        if isinstance(exc, NoSignChangeError):
            # the bisected function is d_g f of the length g (bisect itself calls it fun)
            text = re.sub(r"\bfun\b", "d_g f", str(exc)).replace(
                "vanishes to rounding at ", "vanishes to rounding at g = ")
            # a bracket merely too narrow for the doublings is not "no minimiser"
            headline = ("the length's bracket could not be expanded to its root"
                        if "too narrow" in text else "no finite minimiser of the length")
            cause = f"{headline} at iteration {k} ({text})"
        else:
            what = {OverflowError: "a value overflowed float64",
                    ZeroDivisionError: "a division by zero",
                    FloatingPointError: "a floating-point error"}.get(type(exc))
            cause = (f"{what} at iteration {k} ({type(exc).__name__}: {exc})" if what else
                     f"{type(exc).__name__} at iteration {k}: {exc}")
        last = (f"x is the last finite iterate (iteration {self.nit})"
                if self.x_last is not None else "no iterate was finite")
        self.status = 2
        self._message = f"diverged: {cause}; {last}"

    def stop(self, status: int, message: str) -> None:
        """End the run with ``status`` (a key of ``STATUS_MESSAGES``) and ``message``.

        Parameters
        ----------
        status : int
            The final status.
        message : str
            Replaces the status's default message in the result.
        """
        self.status = status
        self._message = message

    def _unbounded_hint(self) -> str:
        """A note for a run that ran out of iterations or broke down after ``f`` fell more than
        the divergence margin below ``f_0``, the mirror of the divergence rule: the objective
        may be unbounded below (only a note: the status stays what the run's end says, since a
        bounded objective may also fall that far from a remote start)."""
        if self.f0 is None:
            return ""
        note = getattr(self, "_divergence_note", None)
        low = self.fun_last
        try:  # the value that ended a diverged run (-inf, say), if it fell further
            ended = float(note[1]) if note is not None else None
        except (TypeError, ValueError):
            ended = None
        if _fell_far(self.f0, ended, self._div_margin):
            low = ended
        if not _fell_far(self.f0, low, self._div_margin):
            return ""
        return (f"; f fell from f_0 = {self.f0:.6g} to {low:.6g}, more than "
                f"{self.divergence:g} (1 + |f_0|) below: the objective may be unbounded below")

    def _no_minimiser_note(self) -> str:
        """A note for a run on a problem whose reference found no finite minimiser (separable
        data, the sigmoid loss on the Gaussian model): no ``f*`` and no gap, and, where the
        run's ``f`` ended above its best, by how much (GDNP's analysis assumes a minimiser;
        on separable data its iterates can settle into a cycle above an earlier value)."""
        exc = getattr(self.problem, "_solution", None)
        if not (self.f_star is None and isinstance(exc, Exception)
                and getattr(exc, "permanent", False)):
            return ""
        note = (f"; the problem has no finite minimiser ({exc}), so the history has no gap "
                "f - f*")
        funs = self.cols.get("fun")
        if funs:
            best = int(np.argmin(funs))
            if self.fun_last > funs[best] + 1e3 * _EPS * abs(funs[best]):
                note += (f"; f ended at {self.fun_last:.6g}, above its best, "
                         f"{funs[best]:.6g} at iteration {int(self.cols['iter'][best])}")
        return note

    def result(self, **extra) -> OptimizeResult:
        """Assemble the :class:`OptimizeResult` (status 1 unless another was set).

        Parameters
        ----------
        **extra
            Method-specific keys added to the result (``length``, ``direction``...).

        Returns
        -------
        OptimizeResult
            The result, with the history as arrays (``iter`` as integers).
        """
        status = 1 if self.status is None else self.status
        msg = STATUS_MESSAGES[status]
        if getattr(self, "_message", None):
            msg = self._message
        elif status == 2:
            k, fun = self._divergence_note
            msg = (f"{msg} (f = {fun!r} at iteration {k}); x is the last finite iterate "
                   f"(iteration {self.nit})")
        if status in (1, 2):
            msg += self._unbounded_hint()
        msg += self._no_minimiser_note()
        history = {k: np.asarray(v, dtype=float) for k, v in self.cols.items()}
        history["iter"] = history["iter"].astype(int)
        x = self.x_last
        res = OptimizeResult(
            x=None if x is None else np.array(x, dtype=float, copy=True),
            fun=self.fun_last,
            grad_norm=float(np.sqrt(self.gn2_last)),
            nit=int(self.nit),
            nfev=int(self.nfev),
            status=status,
            success=status == 0,
            message=msg,
            method=self.method,
            history=history,
        )
        res.update(extra)
        # the solvers' extras are closures over this recorder: dropping them breaks the cycle
        # recorder -> extras -> recorder, which had kept the problem (an empirical one holds a
        # copy of X) alive until the cyclic garbage collector ran
        self.extras = None
        return res


def _fell_far(f0: float | None, fun, margin: float) -> bool:
    """Whether ``fun`` lies more than ``margin`` below ``f0`` (``-inf`` included)."""
    return f0 is not None and fun is not None and not math.isnan(fun) and f0 - fun > margin


def _start_error(what: str) -> ValueError:
    """Bad input: the objective is not finite at the start, so no iterate can be returned."""
    return ValueError(f"x0: the objective is not finite at the start ({what}): at the scale "
                      "of the start (x0, or w0 and g0) or of the problem's data, float64 over- "
                      "or underflows, or the problem's own value_and_grad returns a non-finite "
                      "value there; start at a moderate scale")


_ACTIVE: contextvars.ContextVar[list | None] = contextvars.ContextVar("gdnp_recorders",
                                                                      default=None)


def _breakdowns() -> tuple[type[BaseException], ...]:
    from gdnp.problems._validate import NonFiniteError

    from .bisection import NoSignChangeError

    return (OverflowError, FloatingPointError, ZeroDivisionError, NonFiniteError,
            NoSignChangeError)


def status_on_breakdown(solver: Callable[..., OptimizeResult]) -> Callable[..., OptimizeResult]:
    """Wrap a solver so that an arithmetic breakdown during its run is status 2, not a crash.

    Once the solver has created its :class:`Recorder` (so its arguments are validated), an
    ``OverflowError``, ``FloatingPointError``, ``ZeroDivisionError``, non-finite intermediate
    (:class:`~gdnp.problems.NonFiniteError`) or :class:`~gdnp.NoSignChangeError`
    ends the run: the result has status 2, a message naming the exception, the history up
    to the last finite iterate and the solver's own keys at it (:attr:`Recorder.extras`).
    Before that point (bad input) the exception propagates.
    numpy's overflow and invalid-value warnings are silenced during the run: the recorder
    reports non-finite values itself.
    """

    @functools.wraps(solver)
    def wrapper(*args, **kwargs):
        recorders: list[Recorder] = []
        token = _ACTIVE.set(recorders)
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                return solver(*args, **kwargs)
        except _breakdowns() as exc:
            if not recorders or getattr(exc, "_gdnp_from_callback", False):
                raise  # bad input, or the user's callback failed: not the run's breakdown
            rec = recorders[-1]
            rec.breakdown(exc)
            return rec.result(**(rec.extras() if rec.extras is not None else {}))
        finally:
            _ACTIVE.reset(token)

    return wrapper
