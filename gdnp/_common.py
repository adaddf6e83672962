"""Argument checks and set-up shared by the solvers."""

from __future__ import annotations

import contextlib
import math
import numbers
import re
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from gdnp.problems import LinearProblem, NoFiniteMinimizerError, Problem
from gdnp.problems._validate import as_bool, as_seed_rng

__all__ = ["prepare_run", "check_positive", "known_constant", "require_u", "reference_value",
           "usable_cpus", "start_from_bn", "ArrayLike", "Seed", "Callback"]

#: A seed: an integer or a :class:`numpy.random.Generator` (never the global random state).
Seed = int | np.random.Generator
#: ``callback(intermediate_result)``, called at every iterate (scipy's convention).
Callback = Callable[[Any], Any] | None


def power_of_two_scaled(w: np.ndarray) -> tuple[np.ndarray, int]:
    """``(w 2^-k, k)`` with the largest ``|w_i 2^-k|`` in ``[1/2, 1)``: exact (a power of two),
    so that quadratic forms in ``w`` neither overflow nor underflow; ``k = 0`` for ``w = 0``
    or a non-finite ``w``."""
    top = float(np.max(np.abs(w))) if w.size else 0.0
    k = math.frexp(top)[1] if 0.0 < top < math.inf else 0
    return np.ldexp(w, -k), k


def check_positive(value, name: str, *, allow_none: bool = False, allow_zero: bool = False):
    """A finite positive real (or ``None`` when allowed); the error names the argument."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    ok = value >= 0.0 if allow_zero else value > 0.0
    if not np.isfinite(value) or not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value}")
    return value


def known_constant(problem: Problem, name: str) -> float | None:
    """The problem's ``smoothness``, ``strong_convexity`` or ``length_smoothness`` where it is
    known: ``None`` for ``None`` or ``inf`` (unknown, e.g. a loss with unbounded ``phi''``:
    the solvers then backtrack or ask for a step), and for a zero strong convexity (none); a
    ``ValueError`` naming it if it is NaN, negative, or a zero smoothness (a step ``1/0``)."""
    value = getattr(problem, name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"problem.{name} must be a real number or None (unknown), got "
                        f"{type(value).__name__}")
    value = float(value)
    if name == "strong_convexity" and value == 0.0:
        return None
    if not value > 0.0:
        raise ValueError(f"problem.{name} must be > 0, inf or None (unknown), got {value}")
    return value if np.isfinite(value) else None


def usable_cpus() -> int:
    """The number of CPUs this process may run on (``len(os.sched_getaffinity(0))`` where
    available: a ``taskset`` or a container's limit; else ``os.cpu_count()``), at least 1."""
    import os

    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def require_u(problem: Problem) -> None:
    """A single-unit problem's ``u``, which GDNP, BNGD and BN-coordinate spectra read (``u'w``
    and ``rho*``): a ``ValueError`` naming it when it is ``None`` (GD and AGD do not need it)."""
    if isinstance(problem, LinearProblem) and problem.u is None:
        raise ValueError("problem: u is None, but GDNP, BNGD and BN coordinates need u (u'w "
                         "and rho*; -E[yx] for OLS, E[z] = -E[yx] for halfspaces; "
                         "theory guide §0)")


def reference_value(problem: Problem) -> float | None:
    """``f*`` from the problem's reference solver, or ``None`` if it has no finite minimiser."""
    try:
        return problem.solution()[1]
    except NoFiniteMinimizerError:
        return None
    except NotImplementedError as exc:
        raise NotImplementedError(f"{type(problem).__name__} has no reference solution "
                                  f"({str(exc) or type(exc).__name__}); pass "
                                  "reference=False to run without the gap f - f*") from exc


def check_seed(seed) -> None:
    """``seed`` as every solver takes it (an int >= 0, a SeedSequence or a Generator; ``None``
    is not reproducible): a ``TypeError`` or ``ValueError`` naming it, else nothing."""
    if not isinstance(seed, np.random.Generator):
        as_seed_rng(seed)


def prepare_run(problem, x0, maxiter, tol, seed, callback, reference: bool):
    """Validate the common solver arguments; return ``(x0, maxiter, tol, f_star)``."""
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a gdnp.problems.Problem, got {type(problem).__name__}")
    missing = [a for a in ("dim", "S") if getattr(problem, a, None) is None]
    if missing:  # a problem of one's own: named here, not as an AttributeError deep inside
        raise TypeError(f"{type(problem).__name__} must set {' and '.join(missing)} (the "
                        "parameter count and the metric S of the stopping test)")
    if isinstance(problem.dim, bool) or not isinstance(problem.dim, numbers.Integral) or \
            problem.dim < 1:
        raise TypeError(f"{type(problem).__name__}.dim must be a positive integer, got "
                        f"{problem.dim!r}")
    if isinstance(maxiter, bool) or not isinstance(maxiter, numbers.Integral):
        raise TypeError(f"maxiter must be an integer, got {maxiter!r}")
    if maxiter < 0:
        raise ValueError(f"maxiter must be an integer >= 0, got {maxiter!r}")
    tol = check_positive(tol, "tol", allow_zero=True)
    if callback is not None and not callable(callback):
        raise TypeError("callback must be callable or None")
    as_bool(reference, "reference")
    problem._cho()  # S^-1 is needed at every iterate (||grad f||_{S^-1}): fail before the run
    if x0 is None:
        x0 = problem.initial_point(seed)
    else:  # the seed still draws the mini-batches: the same rules, whether or not it is used
        check_seed(seed)
        x0 = problem.check_x(x0, "x0")
    f_star = reference_value(problem) if reference else None
    return np.array(x0, dtype=float), int(maxiter), tol, f_star


def start_from_bn(problem, x, w0, g0, x0=None):
    """``x0`` from a BN start ``(w0, g0)`` when given (both or neither, and not beside the
    user's own ``x0``), else ``x`` itself."""
    if w0 is None and g0 is None:
        return x
    if w0 is None or g0 is None:
        raise ValueError("w0 and g0 must be given together (a BN start) or not at all")
    if x0 is not None:
        raise ValueError("give x0 or the BN start (w0, g0), not both")
    try:
        return problem.from_bn(w0, g0)
    except (ValueError, TypeError) as exc:  # from_bn's names are w and g: the user's w0, g0
        message = re.sub(r"^(w|g)(?=[ :])", r"\g<1>0", str(exc))
        if message == str(exc):
            raise
        raise type(exc)(message) from None


@contextlib.contextmanager
def signal_handler_set(signum: int, handler):
    """``signal.signal(signum, handler)`` while the block runs, the previous handler restored
    after (one not set from Python, which cannot be set back, as the default action); in a
    thread other than the main one, where handlers cannot be set, nothing changes. For what a
    child process inherits when it starts inside the block."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signum, handler)
    try:
        yield
    finally:
        signal.signal(signum, signal.SIG_DFL if previous is None else previous)
