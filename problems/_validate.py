"""Argument checks shared by the problem constructors: each error names the argument.

Besides types and values, two checks protect a run from the machine's limits:

* **memory**: :func:`check_memory` refuses, before anything is allocated, a request whose
  arrays would need more than the limit: the environment variable ``GDNP_MAX_BYTES`` (bytes,
  e.g. ``GDNP_MAX_BYTES=64e9``) when set, else the memory the operating system reports as
  available (``MemAvailable`` of ``/proc/meminfo``, or ``os.sysconf``);
* **float64 range**: matrices and data whose second moments overflow or underflow are
  rejected with a message naming the argument and asking to rescale it.
"""

from __future__ import annotations

import numbers
import os
import warnings

import numpy as np

__all__ = [
    "ConditioningWarning",
    "NonFiniteError",
    "as_real",
    "check_memory",
    "available_memory",
    "all_finite",
    "as_finite_array",
    "as_vector",
    "as_spd_matrix",
    "as_labels",
    "as_positive_int",
    "as_condition_number",
    "as_seed_rng",
    "check_scale",
    "spd_rtol",
]


MAX_BYTES_ENV = "GDNP_MAX_BYTES"


class NonFiniteError(ValueError):
    """An array holds NaN or infinite values (bad input, or an iterate that blew up).

    The solvers turn it into status 2 (a breakdown: the user guide's statuses).

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import OLS
    >>> OLS.from_moments(np.diag([1.0, np.nan]), [0.0, 0.0], 1.0)
    Traceback (most recent call last):
    ...
    gdnp.problems.NonFiniteError: S contains 1 NaN or infinite value(s)
    """


class ReferenceWarning(UserWarning):
    """A problem's reference solution is only an upper bound on its minimum: the MLP's best
    L-BFGS run stopped on its iteration budget instead of at a stationary point (theory guide
    §5: the network is not convex, and its ``f*`` is a local reference even when the run
    converges). Gaps measured against it can be negative or carry an offset."""


class ConditioningWarning(UserWarning):
    """A matrix is positive definite but so ill-conditioned that float64 results lose digits.

    See theory guide §9 (singular and ill-conditioned metrics).

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from gdnp.problems import ConditioningWarning, OLS
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = OLS.from_moments(np.diag([1.0, 1e-14]), [0.0, 0.0], 1.0)
    >>> caught[0].category is ConditioningWarning
    True
    """


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation, or ``None`` when unknown.

    ``MemAvailable`` of ``/proc/meminfo`` (Linux), else ``os.sysconf`` free pages.
    """
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _memory_limit() -> tuple[float | None, str]:
    raw = os.environ.get(MAX_BYTES_ENV)
    if raw:
        try:
            limit = float(raw)
        except ValueError:
            raise ValueError(f"{MAX_BYTES_ENV}={raw!r} is not a number of bytes") from None
        if not limit > 0:
            raise ValueError(f"{MAX_BYTES_ENV}={raw!r} must be a positive number of bytes")
        return limit, f"the cap {MAX_BYTES_ENV}={raw}"
    avail = available_memory()
    if avail is None:
        return None, ""
    return float(avail), (f"the memory available ({avail / 2**30:.3g} GiB; set "
                          f"{MAX_BYTES_ENV} to change the limit)")


def check_memory(nbytes: float, what: str) -> None:
    """Raise ``ValueError`` before allocating when ``what`` needs more than the limit.

    The limit is ``GDNP_MAX_BYTES`` when set, else the available memory (module docstring).
    ``nbytes`` is an estimate of the peak (the arrays a constructor holds at once).
    """
    limit, source = _memory_limit()
    if limit is not None and nbytes > limit:
        raise ValueError(f"{what} needs about {nbytes / 2**30:.3g} GiB of memory, more than "
                         f"{source}")


def as_real(value, name: str, *, minimum: float | None = None, maximum: float | None = None,
            open_min: bool = False, open_max: bool = False) -> float:
    """A finite real scalar within ``[minimum, maximum]`` (ends excluded when ``open_*``).

    ``bool``, strings, complex numbers and arrays raise ``TypeError`` naming ``name``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    low = "" if minimum is None else ("> " if open_min else ">= ") + f"{minimum:g}"
    high = "" if maximum is None else ("< " if open_max else "<= ") + f"{maximum:g}"
    bounds = " and ".join(b for b in (low, high) if b)
    ok = np.isfinite(v)
    if ok and minimum is not None:
        ok = v > minimum if open_min else v >= minimum
    if ok and maximum is not None:
        ok = v < maximum if open_max else v <= maximum
    if not ok:
        raise ValueError(f"{name} must be a finite number{' ' + bounds if bounds else ''}, "
                         f"got {value!r}")
    return v


def warn_external(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` attributed to the first caller outside gdnp (the user's own line, as
    ``stacklevel`` would be if it were known): however deep in gdnp the cause is found."""
    import sys

    roots = tuple(os.path.dirname(mod.__file__) + os.sep
                  for mod in (sys.modules.get(name) for name in
                              ("gdnp", "gdnp.problems", "gdnp.proofs", "gdnp.plots"))
                  if mod is not None and getattr(mod, "__file__", None))
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(roots):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def as_bool(value, name: str) -> bool:
    """``value`` as a Python bool: a bool, a numpy bool (0-d arrays included), or the integer
    0 or 1; a ``TypeError`` naming ``name`` for anything else (a string such as ``"False"``
    is truthy, so it is refused, not read)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype == bool:
        return bool(value)
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")


def all_finite(arr: np.ndarray) -> bool:
    """``np.all(np.isfinite(arr))`` for an ndarray, without the Python layers of ``np.all``
    and ``ndarray.all`` (the same reduction; a few us per call, and every solver iterate
    makes several)."""
    return bool(_AND(np.isfinite(arr), axis=None))


_AND = np.logical_and.reduce


def as_finite_array(value, name: str, ndim: int | None = None, *,
                    keep_single: bool = False) -> np.ndarray:
    """Convert ``value`` to a float array, rejecting non-numeric, complex, NaN and inf entries.

    A column ``(n, 1)`` where a vector is expected gets a hint to ``ravel()`` it. With
    ``keep_single=True`` a float32 or float16 ndarray is returned as it is (checked, not
    converted): a caller that makes its own float64 copy (centring the data) then needs no
    intermediate one.
    """
    if type(value) is np.ndarray and value.dtype == np.float64:
        arr = value  # the common case (every solver iterate): the checks below pass it as is
    elif (keep_single and isinstance(value, np.ndarray)
          and not isinstance(value, np.ma.MaskedArray)
          and value.dtype in (np.float32, np.float16)):
        arr = value  # (a memmap too: read in place)
    else:
        arr = _as_float_array(value, name)
    if ndim is not None and arr.ndim != ndim:
        hint = ""
        if ndim == 1 and arr.ndim == 2 and 1 in arr.shape:
            hint = f"; pass {name}.ravel() for a single column or row"
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}{hint}")
    if not all_finite(arr):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise NonFiniteError(f"{name} contains {bad} NaN or infinite value(s)")
    return arr


def _as_float_array(value, name: str) -> np.ndarray:
    """``value`` as a float array, rejecting strings, complex and non-numeric entries."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}")
    masked = int(np.ma.count_masked(value)) if isinstance(value, np.ma.MaskedArray) else 0
    if masked:
        raise TypeError(f"{name}: a masked array ({masked} masked "
                        f"entr{'y' if masked == 1 else 'ies'}): gdnp would use the values under "
                        f"the mask; drop those rows or fill them first ({name}.filled(...))")
    if type(value).__name__ == "Solution":  # problem.solution(): the (x, fun) pair
        raise TypeError(f"{name}: got a problem's solution() (the pair x_star, f_star); pass "
                        "its minimiser, problem.solution().x")
    raw = value if isinstance(value, np.ndarray) else None
    if raw is None:
        if getattr(value, "requires_grad", False) and callable(getattr(value, "detach", None)):
            # a PyTorch tensor in an autograd graph (a model's parameter or activation)
            raise TypeError(f"{name}: a tensor that requires grad; pass {name}.detach() (gdnp "
                            "computes its own gradients and keeps no graph)")
        try:
            raw = np.asarray(value)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(f"{name} must be a numeric array: {exc}") from None
    if raw.dtype.kind == "c" or (raw.dtype == object and any(
            isinstance(v, complex) for v in raw.flat)):
        raise TypeError(f"{name} must be real; got a complex array (pass {name}.real "
                        "explicitly if the imaginary part is meant to be dropped)")
    if raw.dtype.kind in "USVMm" or (raw.dtype == object and any(
            isinstance(v, (str, bytes)) for v in raw.flat)):
        raise TypeError(f"{name} must be a numeric array, got entries of type {raw.dtype}")
    try:
        return np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array: {exc}") from None


def as_vector(value, name: str, dim: int | None = None) -> np.ndarray:
    """A finite 1-D float vector, optionally of length ``dim``."""
    arr = as_finite_array(value, name, ndim=1)
    if dim is not None and arr.shape != (dim,):
        raise ValueError(f"{name} must have shape ({dim},), got {arr.shape}")
    return arr


#: Above this condition number a positive definite matrix is accepted with a
#: :class:`ConditioningWarning`: solving with it loses about ``log10(cond)`` of float64's 16
#: digits, so the reference optimum is accurate to ``~cond * 2.2e-16`` (``2e-5`` at ``1e11``).
WARN_CONDITION = 1e11
#: Entries beyond this magnitude (or, for nonzero entries, below its inverse) make products
#: such as ``w'Sw`` or ``X'X`` overflow or underflow float64 (``sqrt`` of its range).
FLOAT_RANGE = 1e150


def spd_rtol(d: int) -> float:
    """``10 d eps``: eigenvalues below ``rtol * lambda_max`` are rounding, not positive.

    The rounding level of a computed eigenvalue of a ``d x d`` matrix (as
    ``numpy.linalg.matrix_rank``); shared by the population constructors and ``from_data``.
    """
    return 10.0 * d * np.finfo(float).eps


def check_scale(arr: np.ndarray, name: str) -> None:
    """Reject arrays whose entries would overflow or underflow float64 products."""
    # max(max, -min): two reductions, no |arr| temporary (an 800 MB one had cost 1-1.5 s at
    # n = 1e6, d = 100); NaN propagates through either
    big = max(float(np.max(arr)), -float(np.min(arr))) if arr.size else 0.0
    if big > FLOAT_RANGE:
        raise ValueError(f"{name} has entries as large as {big:.3g}: products of them overflow "
                         f"float64 (limit {FLOAT_RANGE:.0e}); rescale {name}")
    if 0.0 < big < 1.0 / FLOAT_RANGE:
        raise ValueError(f"{name} has no entry larger than {big:.3g}: products of them underflow "
                         f"float64 (limit {1 / FLOAT_RANGE:.0e}); rescale {name}")


def as_spd_matrix(value, name: str = "S", *, rtol: float | None = None) -> np.ndarray:
    """A finite, square, symmetric, positive definite matrix (symmetrized copy).

    Positive definite means ``lambda_min > rtol * lambda_max`` with ``rtol`` the rounding level
    :func:`spd_rtol` by default, so ``cond(S)`` up to about ``1 / (10 d eps)`` is accepted;
    beyond ``1e11`` with a :class:`ConditioningWarning` about float64 accuracy.
    """
    arr = as_finite_array(value, name, ndim=2)
    n, m = arr.shape
    if n != m or n == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {arr.shape}")
    check_scale(arr, name)
    scale = max(float(np.max(np.abs(arr))), np.finfo(float).tiny)
    if not np.allclose(arr, arr.T, rtol=0.0, atol=1e-10 * scale):
        raise ValueError(f"{name} must be symmetric")
    arr = 0.5 * (arr + arr.T)
    eig = np.linalg.eigvalsh(arr)
    if rtol is None:
        rtol = spd_rtol(n)
    if eig[0] <= rtol * max(eig[-1], 0.0) or eig[-1] <= 0:
        raise ValueError(
            f"{name} must be positive definite; its eigenvalues range over "
            f"[{eig[0]:.3g}, {eig[-1]:.3g}] (eigenvalues below {rtol:.2g} * lambda_max are "
            "rounding in float64)"
        )
    cond = eig[-1] / eig[0]
    if cond >= WARN_CONDITION:
        warn_external(
            f"{name} is positive definite but cond({name}) = {cond:.3g}: float64 solves with it "
            f"are accurate to only about {cond * np.finfo(float).eps:.1g} relative",
            ConditioningWarning)
    return arr


def as_labels(value, name: str = "y", n: int | None = None) -> np.ndarray:
    """Labels in ``{-1, +1}`` as a float vector (``{0, 1}`` or booleans get a hint)."""
    is_bool = np.asarray(value).dtype == bool if not isinstance(value, (str, bytes)) else False
    arr = as_vector(value, name)
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} must have {n} entries (one per row of X), got {arr.shape[0]}")
    bad = ~np.isin(arr, (-1.0, 1.0))
    if is_bool or np.any(bad):
        vals = np.unique(arr[bad])[:5]
        hint = ""
        if is_bool or np.all(np.isin(arr, (0.0, 1.0))):
            hint = f"; labels in {{0, 1}} or booleans map to them with 2*{name} - 1"
        found = "booleans" if is_bool else vals.tolist()
        raise ValueError(f"{name} must contain only -1 and +1; found {found}{hint}")
    return arr


def as_positive_int(value, name: str, minimum: int = 1) -> int:
    """An integer ``>= minimum`` (bools rejected; numpy integers accepted)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def as_condition_number(kappa, name: str = "kappa", d: int | None = None) -> float:
    """A finite real ``kappa >= 1``; with ``d``, at most ``1 / (20 d eps)``.

    A ``d x d`` matrix built in float64 carries eigenvalue errors of about ``d eps
    lambda_max``, so a smallest eigenvalue ``1/kappa`` below twice :func:`spd_rtol` would not
    be recognisably positive.
    """
    kappa = as_real(kappa, name, minimum=1.0)
    if d is not None:
        top = 1.0 / (2.0 * spd_rtol(d))
        if kappa > top:
            raise ValueError(
                f"{name} = {kappa:.3g} is beyond float64's reach for a {d} x {d} matrix: the "
                f"smallest eigenvalue 1/{name} would drown in rounding (~{d} * 2.2e-16); "
                f"use {name} <= {top:.3g}")
    return kappa


def as_seed_rng(seed) -> np.random.Generator:
    """A ``numpy.random.Generator`` from an int seed, a SeedSequence or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise TypeError("seed must be an int or a numpy.random.Generator "
                        "(None is not reproducible)")
    if isinstance(seed, bool) or not isinstance(seed, (numbers.Integral, np.random.SeedSequence)):
        raise TypeError(
            f"seed must be an int or a numpy.random.Generator, got {type(seed).__name__}")
    if isinstance(seed, numbers.Integral) and seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return np.random.default_rng(seed)
