"""GDNP's located length search on logistic halfspaces, compiled with numba.

An optional accelerator (the ``fast`` extra: ``pip install -e ".[fast]"`` in a clone, or numba
installed beside gdnp; ``GDNP_NUMBA=0`` turns it off). It runs the same algorithm as
:func:`gdnp.bisection._bisect_located` with :class:`gdnp.problems.taylor.MassRatioLocator`
(theory guide §4), one compiled function (:func:`gdnp._jit_kernels.located`) for both
problem forms: Newton probes of ``S(t)`` from the predicted length, two edges certified
around the root by the locator's rounding bounds, then plain bisection's halvings, a
midpoint outside the edges taking its certified sign and one inside (the rounding band) its
plain value.

* **Gaussian nodes** (population), in one compiled call. The plain value ``S(t) = sum_k c_k
  sigma(t a_k)`` is computed with the operations of the NumPy kernel
  (:func:`gdnp.problems.halfspace._logistic_kernels`) in the same order: ``fl(t a_k)``,
  scipy's ``expit`` as ``1 / (1 + exp(-x))`` (exactly ``1.0`` from ``x = 37`` on), times
  ``c_k``, and NumPy's pairwise summation (blocks of 128 with eight accumulators), so every
  value, hence every halving, is bit for bit what plain bisection computes (tested against
  it, and against the NumPy kernel value by value; checked again each time it loads).
* **Data** (empirical). NumPy's vectorised ``exp`` cannot be reproduced bit for bit in
  compiled code, so at each length where it needs ``S`` the compiled code calls NumPy's
  ``exp`` (a small object-mode function) on ``-t a``; it then finishes the plain value with the
  operations of the Python search (:meth:`gdnp.problems.EmpiricalHalfspace._logistic_sum`)
  in the same order, NumPy's pairwise sum included (checked when it loads), takes the
  probe's ``P + N``, ``S'`` and curvature envelope in the same pass, and runs the
  certificates, the Newton steps and the halvings.

The certificates are the locator's own functions (:mod:`gdnp.problems.taylor`:
``probe_bounds``, ``certifies_probe``, ``certifies_virtual``, ``certifies_beyond``), compiled
as they are; the probe's ``P + N``, ``S'`` and curvature envelope are sums in another order
than the NumPy reductions, which the bounds allow (any order is within ``n u`` of the sum of
magnitudes). Where the compiled search cannot finish as the located search does (no sign
change on the bracket, a non-finite value, a sum that is exactly 0, an edge it cannot
certify), it says so and the caller runs the Python search instead.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading

__all__ = ["LOAD_AFTER_SECONDS", "LOAD_AFTER_SECONDS_COLD", "available", "cache_is_warm",
           "data_logistic_search", "plain_value",
           "population_logistic_search", "ready", "scaled_margins", "sum_and_spread",
           "switched_off"]

#: Seconds of Python length searches that the compiled one could have run, after which a
#: process loads it (``GDNP_NUMBA`` unset or ``auto``): about what importing numba and loading
#: the kernels from its cache cost (0.3-0.35 s measured), so that a short run never pays more
#: than twice what it would have spent, and a long one pays once. ``GDNP_NUMBA=1`` loads it
#: at the first search, ``GDNP_NUMBA=0`` never.
LOAD_AFTER_SECONDS = 0.3

#: The same, where numba's on-disk cache does not hold the compiled search yet (a new
#: installation, or numba or this module changed since): loading then compiles it, about 9 s
#: measured (:func:`cache_is_warm`), so a process waits for that much time in Python searches
#: before paying it; ``GDNP_NUMBA=1``, or :func:`ready` once (``scripts/dev.py`` does it at
#: set-up), compiles it at once.
LOAD_AFTER_SECONDS_COLD = 10.0

_OFF_VALUES = ("0", "false", "no", "off")
_EAGER_VALUES = ("1", "true", "yes", "on", "eager")
_NUMBA = None  # None: not asked yet; True: numba is installed; False: absent, off or failed
_EAGER = False  # GDNP_NUMBA=1: load at the first search
_PYTHON_SECONDS = 0.0  # Python searches so far that the compiled one could have run


def available() -> bool:
    """Whether the compiled search can run: numba is installed (it is imported only when the
    search is first loaded), ``GDNP_NUMBA`` is not ``0`` and loading has not failed."""
    global _NUMBA, _EAGER
    if _NUMBA is None:
        raw = os.environ.get("GDNP_NUMBA", "auto")
        setting = raw.strip().lower()
        _EAGER = setting in _EAGER_VALUES
        from gdnp.problems._validate import warn_external

        if setting not in _OFF_VALUES + _EAGER_VALUES + ("auto", ""):
            warn_external(f"GDNP_NUMBA={raw!r} is not one of {', '.join(_OFF_VALUES)} (off), "
                          f"{', '.join(_EAGER_VALUES)} (at the first search) or auto (once it "
                          "pays off); using auto", RuntimeWarning)
        interpreted = os.environ.get("NUMBA_DISABLE_JIT", "0").strip() not in ("", "0")
        if setting in _OFF_VALUES or interpreted:  # (numba's interpreter mode: far slower
            _NUMBA = False  # than the Python search)
        else:
            from importlib.util import find_spec

            try:
                _NUMBA = find_spec("numba") is not None
            except (ImportError, ValueError):
                _NUMBA = False
        if _EAGER and not _NUMBA:  # asked for explicitly: say why it will not run
            warn_external(f"GDNP_NUMBA={raw!r} asks for the compiled length search, but "
                          + ("NUMBA_DISABLE_JIT is set" if interpreted else
                             "numba is not installed (the 'fast' extra installs it)")
                          + "; using the Python search (the same iterates)", RuntimeWarning)
    return _NUMBA is not False and not getattr(_SWITCH, "off", False)


def loaded() -> bool:
    """Whether the compiled search is loaded in this process."""
    return _KERNEL is not None


def worth_loading() -> bool:
    """Whether this process should load the compiled search now: at once with
    ``GDNP_NUMBA=1``, else after :data:`LOAD_AFTER_SECONDS` of Python searches where numba's
    cache holds it and :data:`LOAD_AFTER_SECONDS_COLD` where loading would compile it."""
    if not available():
        return False
    if _EAGER or _KERNEL is not None:
        return True
    if _PYTHON_SECONDS < LOAD_AFTER_SECONDS:
        return False
    return _PYTHON_SECONDS >= LOAD_AFTER_SECONDS_COLD or cache_is_warm() is not False


_WARM: bool | None = None  # cache_is_warm's answer, once per process (None: not asked)


def cache_is_warm() -> bool | None:
    """Whether numba's on-disk cache holds the compiled search for this source (then loading
    takes about 0.3 s, else compiling it about 9 s): ``True``, ``False``, or ``None`` where
    numba's cache cannot be read (then loading is tried as where it is warm). Imports numba
    and the kernels' module (about 0.3 s, which loading would pay anyway); asked once per
    process."""
    global _WARM
    if _WARM is None:
        try:
            from gdnp._jit_kernels import located, search

            # numba's own index of the function's machine code: empty where absent or stale
            # (its source changed since); an internal of numba, read defensively
            _WARM = all(bool(f._cache._cache_file._load_index()) for f in (located, search))
        except Exception:  # noqa: BLE001 - an optional accelerator: unknown, not an error
            return None
    return _WARM


def charge(seconds: float) -> None:
    """Count ``seconds`` of a Python search the compiled one could have run."""
    global _PYTHON_SECONDS
    _PYTHON_SECONDS += seconds


@contextlib.contextmanager
def switched_off():
    """The Python search within the block, in this thread, as with ``GDNP_NUMBA=0`` (for
    comparisons)."""
    saved = getattr(_SWITCH, "off", False)
    _SWITCH.off = True
    try:
        yield
    finally:
        _SWITCH.off = saved


_SWITCH = threading.local()  # switched_off() blocks, per thread


_KERNEL = None


def ready() -> bool:
    """Whether the compiled search runs here: :func:`available`, and its kernel compiles or
    loads from numba's cache (done now, once per process, a few seconds the first time)."""
    return available() and _kernel() is not None


def _kernel():
    """The compiled search (:mod:`gdnp._jit_kernels`), imported and compiled on first use
    (numba's on-disk cache keeps the machine code between processes), or ``None`` if that
    fails: then a ``RuntimeWarning`` says so once, :func:`available` turns false and the
    Python search runs (the same iterates)."""
    global _KERNEL, _NUMBA
    if _KERNEL is None:
        try:
            import numpy as np

            from gdnp._jit_kernels import search

            # compile (or load) the signatures GDNP calls, here where a failure (no
            # writable cache folder, an LLVM error) can still fall back
            xi, omega = np.array([-1.0, 1.0]), np.array([0.5, 0.5])
            search(xi, omega, 0.5, 0.5, -4.0, 4.0, 2, 0.0, np.nan, 16.0, 1.0, 1.0, 2, 2e-300,
                   0.0, 0.0)
            _data_search(np.array([-1.0, 2.0]), 1.5, np.empty(2), -4.0, 4.0, 2, 0.0, np.nan,
                         (16.0, 2.0, 2.0, 3, 3e-300, 0.0, 0.0))
            _check_values()
            _check_data_values()
        except Exception as exc:  # noqa: BLE001 - an optional accelerator: fall back
            from gdnp.problems._validate import warn_external

            _NUMBA = False
            warn_external(f"the compiled length search is unavailable "
                          f"({type(exc).__name__}: {exc}); using the Python search, which "
                          "gives the same iterates. If numba cannot write its cache next to "
                          "an installed package, set NUMBA_CACHE_DIR to a writable folder; "
                          "GDNP_NUMBA=0 uses the Python search without this warning",
                          RuntimeWarning)
            return None
        _KERNEL = search
    return _KERNEL


def _check_values() -> None:
    """Compare the compiled plain value with the NumPy kernel's at a few hundred lengths on a
    601-node rule: a platform whose compiled ``exp`` is not the one scipy's ``expit`` calls
    (a vectorised math library, say) would otherwise break the bit-for-bit halvings.
    ``RuntimeError`` on any difference (then the Python search runs)."""
    import numpy as np
    from scipy.special import expit

    from gdnp.problems.quadrature import normal_rule

    xi, omega = normal_rule(601)
    compiled = plain_value(xi, omega, 0.3, 0.95)
    a0 = 0.3 + 0.95 * xi
    c = omega * a0
    for t in np.concatenate([np.geomspace(1e-3, 1e3, 150), -np.geomspace(1e-3, 1e3, 150)]):
        got = compiled(t)
        want = float(np.add.reduce(expit(a0 * t) * c))
        if got != want or math.copysign(1.0, got) != math.copysign(1.0, want):
            raise RuntimeError(f"its value at t = {t!r} is {got!r}, NumPy's {want!r}")


def _check_data_values() -> None:
    """Compare the compiled empirical value (:func:`gdnp._jit_kernels.data_value`, from
    NumPy's ``exp``, the margins divided as it goes) with the Python search's NumPy
    operations at a few lengths on 30000 margins: ``RuntimeError`` on any difference."""
    import numpy as np

    from gdnp._jit_kernels import data_value
    from gdnp._jit_kernels import sum_and_spread as kernel_spread

    rng = np.random.default_rng(0)
    zw = rng.standard_normal(30_000) * np.geomspace(0.01, 30.0, 30_000)
    norm = 2.7
    a0 = zw / norm
    buf, stack, vals = np.empty_like(a0), np.empty((3, 192), np.int64), np.empty(96)
    acc, leaf = np.zeros(4), np.empty((3, 128))
    with np.errstate(over="ignore"):
        for t in (-7.0, -0.3, 1e-3, 0.8, 5.0, 60.0):
            e = np.exp(np.multiply(a0, -t))
            buf[:] = e
            got = data_value(zw, norm, buf, stack, vals, 2, acc, leaf)
            want = float(np.add.reduce(np.divide(a0, e + 1.0)))
            if got != want or math.copysign(1.0, got) != math.copysign(1.0, want):
                raise RuntimeError(f"its value on data at t = {t!r} is {got!r}, NumPy's "
                                   f"{want!r}")
            # c1's two sums from sigma = 1 / (1 + e) (gdnp.problems.EmpiricalHalfspace._c1)
            sigma = 1.0 / (e + 1.0)
            got2 = kernel_spread(sigma, stack, vals, np.empty(96))
            want2 = (np.add.reduce(sigma), np.add.reduce((1.0 - sigma) * sigma))
            if got2[0] != want2[0] or got2[1] != want2[1]:
                raise RuntimeError(f"its sums of sigma on data at t = {t!r} are {got2!r}, "
                                   f"NumPy's {want2!r}")


def plain_value(xi, omega, ma: float, sa: float):
    """``t -> S(t)`` as the compiled search evaluates it inside the rounding band, on the
    nodes ``a_k = ma + sa xi_k`` with ``c_k = omega_k a_k`` (the NumPy kernel's number, bit
    for bit)."""
    import numpy as np

    from gdnp._jit_kernels import value

    a0 = ma + sa * xi
    c = omega * a0
    buf, sig = np.empty_like(a0), np.empty_like(a0)
    stack, vals = np.empty((3, 192), np.int64), np.empty(96)
    return lambda t: value(t, a0, c, buf, sig, stack, vals)


def population_logistic_search(xi, omega, ma: float, sa: float, a: float, b: float,
                               maxiter: int, xtol: float, start: float, consts: tuple):
    """Plain bisection's halvings of ``[a, b]`` on the population logistic length
    derivative, located and certified in compiled code (see the module docstring).

    ``consts = (sum_depth, max_abs, max_abs_all, n_terms, tiny, mass_small, slope_small)``
    are the locator's (:meth:`gdnp.problems.GaussianHalfspace._locator_constants`). Returns
    ``(root, info)`` as :func:`gdnp.bisect` does, or ``None`` where the Python search must
    run instead."""
    kernel = _kernel()
    if kernel is None:
        return None
    return _found(kernel(xi, omega, float(ma), float(sa), float(a), float(b),
                         _halvings(maxiter), float(xtol), float(start), *consts), a, b)


def _halvings(maxiter: int) -> int:
    """``maxiter`` for the kernel: a float64 bracket cannot be halved 4096 times (the walk
    stops where a midpoint equals an end, within about 2100), and 2^-4096 of any width is 0,
    so a larger ``T_s`` changes nothing but would overflow the kernel's integers."""
    return min(int(maxiter), 4096)


def _found(out, a: float, b: float):
    """The kernel's ``(status, a, b, halvings, evaluations, certified signs, band values)``
    as :func:`gdnp.bisect`'s ``(root, info)``, or ``None`` (status 1: the Python search
    runs)."""
    status, lo, hi, nit, nfev, ncert, nband = (float(v) for v in out)  # (Python floats)
    if status != 0.0:
        return None
    return 0.5 * (lo + hi), {"a": lo, "b": hi, "a0": a, "b0": b, "nit": int(nit),
                             "nfev": int(nfev), "ncertified": int(ncert), "expansions": 0,
                             "nband": int(nband)}


def data_logistic_search(zw, norm: float, buf, a: float, b: float, maxiter: int,
                         xtol: float, start: float, consts: tuple,
                         prefilled: float = math.nan):
    """Plain bisection's halvings of ``[a, b]`` on the empirical logistic length derivative
    ``S(t) = mean_i a_i / (1 + exp(-t a_i))`` (``a = zw / norm``: the samples' projections
    over ``N(w)``, NumPy's numbers, formed where they are used and never stored), located
    and certified in compiled code (see the module docstring).

    At each length it needs, the compiled code writes ``-t a`` into ``buf``, NumPy takes its
    ``exp`` in place, and the compiled code finishes ``S`` as the Python search does
    (:meth:`gdnp.problems.EmpiricalHalfspace._logistic_sum`: the terms ``a / (1 + exp(-t
    a))``, NumPy's pairwise sum), with the probe's ``P + N``, ``S'`` and curvature envelope
    in the same pass. ``consts`` as for :func:`population_logistic_search`
    (:meth:`gdnp.problems.EmpiricalHalfspace._locator_constants`); ``prefilled``: a length
    ``t`` for which ``buf`` already holds ``-t a`` (:func:`scaled_margins`). Returns ``(root,
    info)`` as :func:`gdnp.bisect` does, or ``None`` where the Python search must run."""
    import numpy as np

    for name, arr in (("zw", zw), ("buf", buf)):  # (compiled code checks no bounds)
        if not (type(arr) is np.ndarray and arr.dtype == np.float64 and arr.ndim == 1
                and arr.flags.c_contiguous and arr.size == zw.size):
            raise ValueError(f"{name}: a contiguous float64 array of the margins' size "
                             f"({np.size(zw)}) is needed")
    if not (math.isfinite(norm) and norm > 0.0):
        raise ValueError(f"norm must be a finite float > 0, got {norm!r}")
    if _kernel() is None:
        return None
    return _data_search(zw, norm, buf, a, b, maxiter, xtol, start, consts, prefilled)


def _data_search(zw, norm, buf, a, b, maxiter, xtol, start, consts, prefilled=math.nan):
    import numpy as np

    from gdnp._jit_kernels import located

    work = getattr(_DATA_WORK, "arrays", None)  # the search's small work arrays
    if work is None:
        work = _DATA_WORK.arrays = (np.empty(4), np.empty((3, 192), np.int64), np.empty(96),
                                    np.empty((7, 40)), np.empty((3, 128)), np.empty(7))
    acc, stack, vals, table, leaf, out = work
    with np.errstate(over="ignore"):  # exp -> inf: the term's exact limit 0
        located(zw, zw, acc, buf, zw, stack, vals, table, leaf, True, float(prefilled),
                float(a), float(b), _halvings(maxiter), float(xtol), float(start), *consts,
                out, float(norm))
    return _found(out, a, b)


# the data search's work arrays, per thread (a search never runs inside another in one
# thread: the compiled code calls nothing but NumPy's exp)
_DATA_WORK = threading.local()


def sum_and_spread(x) -> tuple[float, float] | None:
    """``(np.add.reduce(x), np.add.reduce((1 - x) * x))`` in one compiled pass over the
    contiguous float64 ``x`` (the same numbers: NumPy's pairwise sums), or ``None`` where the
    compiled search is not loaded or is switched off in this thread (:func:`switched_off`)."""
    if _KERNEL is None or getattr(_SWITCH, "off", False):
        return None
    import numpy as np

    from gdnp._jit_kernels import sum_and_spread as kernel

    work = getattr(_SPREAD_WORK, "arrays", None)
    if work is None:
        work = _SPREAD_WORK.arrays = (np.empty((3, 192), np.int64), np.empty(96),
                                      np.empty(96))
    s1, s2 = kernel(x, *work)
    return float(s1), float(s2)


_SPREAD_WORK = threading.local()


def scaled_margins(zw, norm: float, t: float, buf) -> float | None:
    """For a new direction with margins ``a = zw / norm`` (NumPy's numbers, not stored):
    ``buf = -t a`` (a first probe's, see :func:`data_logistic_search`'s ``prefilled``) and
    ``max |a|`` (NaN where a value is NaN) in one compiled call, or ``None`` where the
    compiled search is not loaded. The arrays must be contiguous float64 of ``zw``'s size
    and ``norm > 0`` (not checked here: the caller's direction state)."""
    if _KERNEL is None:
        return None
    from gdnp._jit_kernels import scaled_margins as kernel

    return float(kernel(zw, float(norm), float(t), buf))
