"""``gdnp bench``: per-iteration cost, time to a fixed gap, memory, and the target ratios.

For each problem and method it records the time per iteration (median of the differences of
``history["time"]``), the iterations and wall time until the gap ``f - f*`` has fallen by
``GAP_REDUCTION`` from its initial value, and the peak memory of the run (tracemalloc, which
sees numpy's buffers; a separate short run so that tracing does not slow the timed one).
scipy's L-BFGS runs on the same problems from the same start as an honest reference.

Ratios, all measured in the same run:

* ``gdnp_over_gd``: GDNP/GD time per iteration on the empirical halfspace
  (n = 10^5, d = 100, T_s = 30); target <= 1.3.
* ``ols_n_ratio``: OLS (from data, sufficient statistics) time per iteration at n = 10^6 over
  n = 10^3; target <= 1.2.
* ``floor_gd`` / ``floor_gdnp``: time per iteration over two raw BLAS matrix-vector products
  ``X @ w`` and ``X.T @ r`` on the same ``X`` (the physical floor); target <= 1.5.
* ``sweep_speedup``: a 40-cell sweep with ``--jobs 1`` over ``--jobs 2`` (this process and
  a cold-started loky worker), each the best of two alternating rounds; target >= 1.7.
* ``memory``: the peak extra memory of GD and GDNP iterations at n = 10^6, d = 100, against
  the size of ``X`` (no ``n x d`` temporaries).

Per-iteration ratios as a user's history shows them (``iteration_ratios``): for each problem
form (population halfspaces at d = 10 and 100 with T_s = 50, OLS at d = 10 and on three
other problems (d = 3, d = 100, and from data), the MLP per sweep, and a
family of empirical logistic halfspaces of different feature scales, label noise and n with
T_s = 30), GD and GDNP run as ``gdnp.solve(problem, method, reference=False)`` with the default
``tol`` (``maxiter`` 40 on the empirical family, 200 on the MLP, the default elsewhere); each
time is the median of the differences of ``history["time"]``, the best of 5 interleaved
rounds. Targets: population <= 2.5, OLS <= 2, empirical <= 1.3 (MLP: reported only). An
ablation beside each single-unit row: GDNP with its recorded lengths replayed instead of
searched (``replay_ratio``), and that plus the evaluations any bit-for-bit search of this
design must make (``floor_ratio``, a lower bound on the row's ratio up to the machine's drift
between rounds; theory guide §4). On logistic halfspaces (population and data) the length
search runs compiled where numba is installed (the ``fast`` extra, ``pip install -e
".[fast]"`` in a clone; the machine record's ``compiled_search`` says whether its kernel
loaded), else in Python; the halvings are plain bisection's either way, and those rows also
time the same GDNP with the search in Python (``python_search_ratio``).

``reference``: the wall time of ``solution()`` on nearly separable empirical halfspaces at
n = 10^5 and 10^6 (d = 100), certificates first, an LP only when neither certificate holds.

``--quick`` runs the same cases at toy sizes (for tests); numbers are then meaningless.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

from gdnp import _jit
from gdnp._io import atomic_write_text, package_versions, writable_file

__all__ = ["run_bench", "bench_main", "machine_info", "to_markdown", "GAP_REDUCTION"]

GAP_REDUCTION = 1e-6
METHODS = ("gd", "agd", "bngd", "gdnp")
TARGETS = {"gdnp_over_gd": ("<=", 1.3), "ols_n_ratio": ("<=", 1.2), "floor_gd": ("<=", 1.5),
           "floor_gdnp": ("<=", 1.5), "sweep_speedup": (">=", 1.7)}


def _sizes(quick: bool) -> dict:
    if quick:
        return {"d": 10, "n_hs": 2000, "n_ols": (200, 5000), "n_mem": 5000, "kappa": 10.0,
                "maxiter": 30, "maxiter_hs": 20, "T_s": 30, "sweep_cells": 4,
                "sweep_n": 500, "sweep_maxiter": 20, "repeat": 5, "rounds": 1,
                "rounds_sweep": 1}
    return {"d": 100, "n_hs": 100_000, "n_ols": (1_000, 1_000_000), "n_mem": 1_000_000,
            "kappa": 10.0, "maxiter": 2000, "maxiter_hs": 300, "T_s": 30, "sweep_cells": 40,
            "sweep_n": 50_000, "sweep_maxiter": 150, "repeat": 30, "rounds": 5,
            "rounds_sweep": 2}


# ------------------------------------------------------------------ machine
def machine_info() -> dict:
    """Platform, CPU count, BLAS (threadpoolctl and numpy's build config), versions."""
    info = package_versions(("gdnp", "numpy", "scipy", "threadpoolctl", "numba"))
    info.update(processor=platform.processor() or None, cpu_count=os.cpu_count(),
                compiled_search=_jit.ready())  # (compiled here, outside the timed runs)
    try:
        from threadpoolctl import threadpool_info

        info["threadpools"] = [{k: p.get(k) for k in ("user_api", "internal_api", "num_threads",
                                                       "version", "architecture")}
                               for p in threadpool_info()]
    except Exception:  # noqa: BLE001 - optional
        info["threadpools"] = []
    try:
        cfg = np.show_config(mode="dicts")
        blas = cfg.get("Build Dependencies", {}).get("blas", {})
        info["numpy_blas"] = {k: blas.get(k) for k in ("name", "version", "openblas configuration")
                              if k in blas}
    except Exception:  # noqa: BLE001
        info["numpy_blas"] = {}
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info["loadavg"] = list(os.getloadavg())
    except OSError:
        pass
    return info


# ------------------------------------------------------------------ measurements
def _per_iter(hist) -> float:
    t = np.asarray(hist["time"], dtype=float)
    return float(np.median(np.diff(t))) if t.size > 1 else float("nan")


def _to_gap(iters, times, gaps, target):
    gaps = np.asarray(gaps, dtype=float)
    hit = np.flatnonzero(gaps <= target)
    if hit.size == 0:
        return None, None
    i = int(hit[0])
    return int(iters[i]), float(times[i])


def _peak_memory(fn) -> float:
    """Peak traced memory (MB) allocated while ``fn()`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return (peak - base) / 2**20


def _rss_mb() -> float | None:
    try:
        import resource

        r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return r / 1024.0 if sys.platform != "darwin" else r / 2**20
    except (ImportError, OSError):  # pragma: no cover
        return None


def _solver_opts(method: str, T_s: int) -> dict:
    return {"T_s": T_s} if method == "gdnp" else {}


def _case(prob, name: str, method: str, maxiter: int, T_s: int, f_star, mem_iters: int) -> dict:
    import gdnp

    opts = _solver_opts(method, T_s)
    # reference=False: f* comes from _reference (the empirical halfspace's solution() would
    # run its LP separability check, minutes at n = 10^5); gaps are formed here
    res = gdnp.solve(prob, method, maxiter=maxiter, tol=0.0, seed=0, reference=False, **opts)
    h = dict(res.history)
    if f_star is not None:
        h["gap"] = np.asarray(h["fun"]) - f_star
    row = {"problem": name, "method": method, "n": (prob.info or {}).get("n"), "d": prob.dim,
           "iterations": int(res.nit), "time_per_iter_s": _per_iter(h),
           "wall_s": float(h["time"][-1]) if len(h["time"]) else None, "status": int(res.status),
           "final_gap": None, "iters_to_gap": None, "time_to_gap_s": None}
    if "gap" in h and len(h["gap"]):
        gap0 = float(h["gap"][0])
        row["final_gap"] = float(h["gap"][-1])
        row["gap_target"] = GAP_REDUCTION * gap0
        row["iters_to_gap"], row["time_to_gap_s"] = _to_gap(h["iter"], h["time"], h["gap"],
                                                            row["gap_target"])
    row["peak_mem_mb"] = _peak_memory(
        lambda: gdnp.solve(prob, method, maxiter=mem_iters, tol=0.0, seed=0, reference=False,
                           **opts))
    return row


def _lbfgs(prob, name: str, maxiter: int, f_star) -> dict:
    """scipy L-BFGS-B from the solvers' start; iterations and time to the same gap."""
    from scipy.optimize import minimize

    x0 = prob.initial_point(0)
    f0 = prob.f(x0)
    times, funs = [0.0], [f0]
    t0 = time.perf_counter()

    def cb(xk):
        times.append(time.perf_counter() - t0)
        funs.append(prob.f(xk))  # outside L-BFGS's own work, but inside the clock: honest upper

    res = minimize(prob.value_and_grad, x0, jac=True, method="L-BFGS-B", callback=cb,
                   options={"maxiter": maxiter, "gtol": 0.0, "ftol": 0.0, "maxcor": 10})
    wall = time.perf_counter() - t0
    row = {"problem": name, "method": "lbfgs (scipy)", "n": (prob.info or {}).get("n"),
           "d": prob.dim, "iterations": int(res.nit),
           "time_per_iter_s": float(np.median(np.diff(times))) if len(times) > 1 else None,
           "wall_s": wall, "status": int(res.status), "final_gap": None, "iters_to_gap": None,
           "time_to_gap_s": None, "nfev": int(res.nfev)}
    if f_star is not None:
        gaps = np.asarray(funs) - f_star
        row["final_gap"] = float(gaps[-1])
        row["gap_target"] = GAP_REDUCTION * float(gaps[0])
        row["iters_to_gap"], row["time_to_gap_s"] = _to_gap(
            np.arange(len(gaps)), times, gaps, row["gap_target"])
    row["peak_mem_mb"] = _peak_memory(lambda: minimize(
        prob.value_and_grad, x0, jac=True, method="L-BFGS-B",
        options={"maxiter": 5, "gtol": 0.0, "ftol": 0.0}))
    return row


def _matvec_floor(X: np.ndarray, repeat: int) -> float:
    """Median time of ``X @ w`` plus ``X.T @ r`` (two raw BLAS matrix-vector products)."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal(X.shape[1])
    r = rng.standard_normal(X.shape[0])
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        a = X @ w
        b = X.T @ r
        ts.append(time.perf_counter() - t0)
        del a, b
    return float(np.median(ts))


def _interleaved_halfspace(prob, sz: dict, T_s: int) -> dict:
    """Per-iteration times of GD, GDNP (certified bisection, the default), GDNP with plain
    bisection (``certify=False``: an ``O(n)`` pass per halving) and the two-matvec floor on
    the same ``X``, measured in interleaved rounds; the minimum over rounds of each median, so
    that a burst of other load on a shared machine hits one round, not one method."""
    import gdnp

    runs = {"gd": ("gd", {}), "gdnp": ("gdnp", {"T_s": T_s}),
            "gdnp_plain": ("gdnp", {"T_s": T_s, "certify": False})}
    best = {k: np.inf for k in (*runs, "floor")}
    iters = max(sz["maxiter_hs"] // 5, 5)
    for _ in range(sz["rounds"]):
        best["floor"] = min(best["floor"], _matvec_floor(prob.X, sz["repeat"]))
        for key, (method, opts) in runs.items():
            res = gdnp.solve(prob, method, maxiter=iters, tol=0.0, seed=0, reference=False,
                             **opts)
            best[key] = min(best[key], _per_iter(res.history))
    return best


def _per_iteration_user(prob, runs: dict, rounds: int, maxiter: int | None,
                        replay: str | None = None) -> dict:
    """Per-iteration time of each run ``key -> (method, options)`` as a user's history shows
    it: the median of the differences of ``history["time"]`` of a plain ``gdnp.solve`` run
    (``reference=False``, so no reference solution inside the clock; default ``tol``;
    ``maxiter`` as given, ``None`` for the solver's default), best over ``rounds``
    interleaved rounds. Also the evaluations per iteration of the last round.

    ``replay``: the key of a GDNP run to ablate. Its length searches are recorded once (an
    untimed run), and every round adds the run ``"replay"``: the same GDNP with the recorded
    lengths replayed instead of searched, hence the same iterates bit for bit (checked) and no
    search cost. The result then adds ``search`` (:func:`_search_profile`)."""
    import gdnp
    from gdnp.decoupled import _length_tape

    kw = {} if maxiter is None else {"maxiter": maxiter}
    tape = None
    if replay is not None:
        method, opts = runs[replay]
        with _length_tape() as tape:
            recorded = gdnp.solve(prob, method, seed=0, reference=False, **kw, **opts)
        runs = {**runs, "replay": runs[replay]}
    best = {k: np.inf for k in runs}
    nfev = {}
    first: dict = {}
    for _ in range(rounds):
        for key, (method, opts) in runs.items():
            if key == "replay":
                with _length_tape(replay=[g for g, _ in tape.searches]):
                    res = gdnp.solve(prob, method, seed=0, reference=False, **kw, **opts)
                if not np.array_equal(res.history["fun"], recorded.history["fun"]):
                    raise RuntimeError("the replayed lengths did not give the same iterates")
            elif key == "gdnp_python":  # the compiled search switched off: the same iterates
                with _jit.switched_off():
                    res = gdnp.solve(prob, method, seed=0, reference=False, **kw, **opts)
                if "gdnp" in first and not np.array_equal(res.history["fun"], first["gdnp"]):
                    raise RuntimeError("the Python search did not give the compiled search's "
                                       "iterates")
            else:
                res = gdnp.solve(prob, method, seed=0, reference=False, **kw, **opts)
            first.setdefault(key, res.history["fun"])
            best[key] = min(best[key], _per_iter(res.history))
            nfev[key] = res.nfev / max(res.nit, 1)
    out = {"per_iter_s": best, "nfev_per_iter": nfev}
    if tape is not None:
        out["search"] = _search_profile(prob, recorded, tape.searches)
    return out


def _search_profile(prob, res, searches: list) -> dict:
    """What any length search of this design must pay, from a recorded GDNP run.

    ``min_evals``: the median over its searches of the evaluations of ``d_g f`` a bit-for-bit
    search cannot avoid: none where comparisons decide every sign (OLS), else the midpoints
    no certificate decides (``nband``: inside the rounding band around the root, where plain
    bisection's computed sign is noise and its plain value must be computed), at least one
    (a new direction's root is unknown until ``d_g f`` is evaluated). ``plain_eval_s``: one
    plain evaluation at the run's last direction and length, alone (``timeit``, best of 5;
    inside a run it only costs more)."""
    import timeit

    infos = [info for _, info in searches if info is not None and "nband" in info]
    if not infos:
        return {"searches": len(searches), "nband_median": None, "nfev_median": None,
                "plain_eval_s": None, "min_evals": 0.0}
    # per search: none where comparisons decided every sign (OLS), else the band's values or
    # one evaluation to locate the root at all
    least = [0 if info["nfev"] == 0 else max(1, info["nband"]) for info in infos]
    out = {"searches": len(searches),
           "nband_median": float(np.median([info["nband"] for info in infos])),
           "nfev_median": float(np.median([info["nfev"] for info in infos])),
           "plain_eval_s": None, "min_evals": float(np.median(least))}
    if out["min_evals"] > 0:
        state = prob._state(np.asarray(res.direction, dtype=float))
        dg = prob._length_function(state)
        # on the Gaussian nodes its band values are compiled (on data, NumPy's exp and the
        # compiled sum: about the Python value's time)
        if prob.population and prob._compiled_length_search(state) is not None:
            dg = _jit.plain_value(*prob._length_rule(), *prob._ab(state))
        g = float(res.length)
        dg(g)  # per-direction set-up (nodes, scratch buffers) outside the timing
        number = max(1, int(0.02 / max(timeit.timeit(lambda: dg(g), number=1), 1e-7)))
        out["plain_eval_s"] = min(timeit.repeat(lambda: dg(g), number=number,
                                                repeat=5)) / number
    return out


def _empirical(n: int, d: int, spread: float, sharpness: float):
    """A logistic halfspace from data: feature scales spread geometrically over ``1 ..
    spread``, labels drawn from a logistic teacher of the given sharpness (noisy)."""
    from gdnp.problems import Halfspace

    rng = np.random.default_rng(int(spread) + n)
    scales = np.geomspace(1.0, spread, d)
    X = rng.standard_normal((n, d)) * scales
    logits = sharpness * (X / scales) @ (rng.standard_normal(d) / np.sqrt(d))
    y = np.where(rng.random(n) < 1.0 / (1.0 + np.exp(-logits)), 1.0, -1.0)
    name = (f"empirical halfspace n={n}, d={d}, scales 1-{spread:g}x, teacher "
            f"sharpness {sharpness:g} (noisy labels)")
    return name, Halfspace.from_data(X, y)


def empirical_family(quick: bool) -> list[tuple[str, object]]:
    """Empirical logistic halfspaces of different feature scales (spread of the per-feature
    standard deviations), teacher-label noise and ``n``, plus :meth:`Halfspace.sample`."""
    from gdnp.problems import Halfspace

    d = 10 if quick else 100
    n_big, n_small, n_large = (2000, 1000, 4000) if quick else (100_000, 30_000, 300_000)
    out = [_empirical(n, d, spread, sharpness)
           for spread, sharpness, n in ((1.0, 3.0, n_big), (10.0, 3.0, n_big),
                                        (100.0, 1.0, n_big), (10.0, 10.0, n_small))]
    out.append((f"Halfspace.sample(d={d}, kappa=10, n={n_big})",
                Halfspace.sample(d, 10.0, n_big, seed=0)))
    # the n = 3e4 member's generator at ten times its n (X of 240 MB, beyond any cache)
    out.append(_empirical(n_large, d, 10.0, 10.0))
    return out


def empirical_beyond(quick: bool) -> list[tuple[str, object, int]]:
    """``(name, problem, T_s)``: empirical halfspaces outside the family's shape, measured
    against the same target, so that it is not met on the family's instances only: GDNP's
    default ``T_s = 50`` (the last brackets are narrower than the rounding band, whose
    midpoints take plain evaluations), fewer features (the matrix-vector products, which GD
    and GDNP share, cost less beside the search's passes) and fewer samples."""
    d, n = (10, 2000) if quick else (100, 100_000)
    return [(*_empirical(n, d, 10.0, 3.0), 50),
            (*_empirical(n, max(d // 5, 2), 10.0, 3.0), 30),
            (*_empirical(n // 10, d, 10.0, 3.0), 30)]


_OLS_DATA_NAME = "OLS.from_data(n={n}, d={d}, feature scales 1-30x, noisy linear labels)"


def _ols_data_sizes(quick: bool) -> dict:
    return {"n": 500, "d": 5} if quick else {"n": 5000, "d": 20}


def _ols_data(quick: bool):
    """Least squares from seeded data: features scaled 1x to 30x, labels linear plus noise."""
    from gdnp.problems import OLS

    n, d = _ols_data_sizes(quick).values()
    rng = np.random.default_rng(20)
    X = rng.standard_normal((n, d)) * np.geomspace(1.0, 30.0, d)
    return OLS.from_data(X, X @ rng.standard_normal(d) + rng.standard_normal(n))


def _iteration_ratios(quick: bool, log=None) -> list[dict]:
    """GDNP / GD per iteration on each problem form, measured as a user's history shows it
    (:func:`_per_iteration_user`); MLP: GDNP per sweep over GD per iteration."""
    from gdnp.problems import MLP, OLS, Halfspace

    rounds = 2 if quick else 5
    d_small, d_big = (4, 10) if quick else (10, 100)
    cases = [
        (f"population halfspace d={d_small}, kappa=100, separation=0.99, T_s=50",
         lambda: Halfspace.random(d_small, 100.0, separation=0.99, seed=0), 50, None, 2.5),
        (f"population halfspace d={d_big}, kappa=100, separation=0.99, T_s=50",
         lambda: Halfspace.random(d_big, 100.0, separation=0.99, seed=0), 50, None, 2.5),
        (f"OLS.random(d={d_small}, kappa=100), T_s=50",
         lambda: OLS.random(d_small, 100.0, seed=0), 50, None, 2.0),
        # the OLS target on other sizes and on data (sufficient statistics)
        ("OLS.random(d=3, kappa=10), T_s=50", lambda: OLS.random(3, 10.0, seed=1), 50, None,
         2.0),
        (f"OLS.random(d={d_big}, kappa=1000), T_s=50",
         lambda: OLS.random(d_big, 1000.0, seed=4), 50, None, 2.0),
        (f"{_OLS_DATA_NAME.format(**_ols_data_sizes(quick))}, T_s=50",
         lambda: _ols_data(quick), 50, None, 2.0),
        ("MLP.random(d=10, hidden=4, kappa=10, n=2000), T_s=50 (GDNP per sweep)",
         lambda: MLP.random(10, 4, 10.0, 500 if quick else 2000, seed=0), 50,
         20 if quick else 200, None),
    ]
    rows = []
    for name, make, T_s, maxiter, target in cases:
        _log(log, f"[bench]   {name}")
        prob = make()
        rows.append(_compared_row(name, prob, T_s, rounds, maxiter, target,
                                  replay=None if isinstance(prob, MLP) else "gdnp"))
    family = [(name, prob, 30) for name, prob in empirical_family(quick)]
    beyond = empirical_beyond(quick)
    for i, (name, prob, T_s) in enumerate(family + beyond):
        name += f", T_s={T_s}" + (" (the default)" if T_s == 50 else "")
        _log(log, f"[bench]   {name}")
        rows.append({**_compared_row(name, prob, T_s, rounds, 10 if quick else 40, 1.3),
                     "group": "empirical family" if i < len(family) else "empirical beyond"})
        del prob
        gc.collect()
    return rows


def _compared_row(name, prob, T_s, rounds, maxiter, target, replay="gdnp") -> dict:
    """One row of ``iteration_ratios``: GD and GDNP in the same interleaved rounds
    (:func:`_per_iteration_user`), and, where the problem has a compiled length search
    (:mod:`gdnp._jit`), the same GDNP with the Python search too (``python_search_ratio``,
    the same iterates, checked)."""
    from gdnp.problems import Halfspace

    runs = {"gd": ("gd", {}), "gdnp": ("gdnp", {"T_s": T_s})}
    compiled = isinstance(prob, Halfspace) and _jit.available() and \
        prob._compiled_length_search(prob._state(prob.initial_point(0))) is not None
    if compiled:
        runs["gdnp_python"] = ("gdnp", {"T_s": T_s})
    m = _per_iteration_user(prob, runs, rounds, maxiter, replay=replay)
    row = _iteration_row(name, m, target, maxiter)
    if compiled:
        row["python_search_ratio"] = m["per_iter_s"]["gdnp_python"] / row["gd_s"]
    return row


def _iteration_row(name, m, target, maxiter) -> dict:
    """One row of ``iteration_ratios``; with a replayed run (:func:`_per_iteration_user`)
    also the search's ablation: ``replay_ratio`` (GDNP with its lengths replayed, no search,
    over GD) and ``floor_ratio``, that plus the evaluations any bit-for-bit search of this
    design must make (``min_evals`` plain evaluations, each at its time alone) over GD: a
    lower bound on ``ratio`` for this iteration in numpy, compared with the target
    (``floor_within_target``)."""
    gd, gdnp_t = m["per_iter_s"]["gd"], m["per_iter_s"]["gdnp"]
    ratio = gdnp_t / gd
    row = {"problem": name, "gd_s": gd, "gdnp_s": gdnp_t, "ratio": ratio,
           "target": None if target is None else f"<= {target}",
           "met": None if target is None else bool(ratio <= target),
           "gdnp_evals_per_iter": m["nfev_per_iter"]["gdnp"],
           "maxiter": maxiter}
    search = m.get("search")
    if search is not None:
        replay = m["per_iter_s"]["replay"]
        floor = replay + search["min_evals"] * (search["plain_eval_s"] or 0.0)
        row.update(gdnp_replay_s=replay, replay_ratio=replay / gd, floor_ratio=floor / gd,
                   floor_within_target=None if target is None else bool(floor / gd <= target),
                   search=search)
    return row


def _reference_times(quick: bool, log=None) -> list[dict]:
    """Wall time of ``solution()`` (the reference optimum, certificates first) on nearly
    separable empirical logistic halfspaces (a sharp teacher: few labels disagree with it)
    at ``n = 10^5`` and ``10^6``, ``d = 100``; one ``X`` alive at a time."""
    from gdnp.problems import Halfspace, NoFiniteMinimizerError

    d = 10 if quick else 100
    rows = []
    for n in ((2000, 5000) if quick else (100_000, 1_000_000)):
        rng = np.random.default_rng(n)
        X = rng.standard_normal((n, d))
        y = np.where(rng.random(n) < 1.0 / (1.0 + np.exp(-30.0 * (X @ rng.standard_normal(
            d)) / np.sqrt(d))), 1.0, -1.0)
        prob = Halfspace.from_data(X, y)
        del X
        gc.collect()
        _log(log, f"[bench]   reference solution, n={n}")
        t0 = time.perf_counter()
        try:
            _, f_star = prob.solution()
            verdict = "finite minimiser"
        except NoFiniteMinimizerError:
            f_star, verdict = None, "separable"
        rows.append({"n": n, "d": d, "seconds": time.perf_counter() - t0, "verdict": verdict,
                     "f_star": f_star})
        del prob
        gc.collect()
    return rows


def _sweep_speedup(sz: dict) -> dict:
    """Wall time of the same 40-cell sweep with ``jobs=1`` (serial, in this process) and
    ``jobs=2`` (this process and one loky worker, as ``gdnp sweep --jobs 2`` runs it), each
    the best of ``sz["rounds_sweep"]`` alternating rounds (a machine's speed can drift over
    minutes), the 2-process runs from a cold start (their time includes starting the worker
    process and its imports); the start-up alone is measured on a 2-cell sweep and reported
    beside."""
    from .sweep import run_sweep

    k = sz["sweep_cells"]
    seeds = list(range(k // 4))
    cfg = {"grid": {"problem": ["halfspace"], "n": [sz["sweep_n"]], "dim": [20],
                    "kappa": [10.0, 100.0], "method": ["gd", "gdnp"], "seed": seeds},
           "maxiter": sz["sweep_maxiter"], "options": {"gdnp": {"T_s": sz["T_s"]}}}
    tiny = {"grid": {"problem": ["halfspace"], "n": [200], "dim": [3], "method": ["gd"],
                     "seed": [0, 1]}, "maxiter": 2}
    out = {"cells": 2 * 2 * len(seeds), "n": sz["sweep_n"], "maxiter": sz["sweep_maxiter"]}
    with tempfile.TemporaryDirectory() as tmp:
        # the serial run's process has imported what a cell needs (the workers import it
        # as part of their start-up)
        run_sweep(tiny, Path(tmp) / "warm", jobs=1, progress=False)
        times: dict[int, list[float]] = {1: [], 2: []}
        for r in range(sz["rounds_sweep"]):
            for jobs in (2, 1):
                _shutdown_loky()
                t0 = time.perf_counter()
                run_sweep(cfg, Path(tmp) / f"j{jobs}-{r}", jobs=jobs, backend="loky",
                          progress=False)
                times[jobs].append(time.perf_counter() - t0)
        for jobs, ts in times.items():
            out[f"seconds_{jobs}"] = min(ts)
            out[f"seconds_{jobs}_rounds"] = ts
        _shutdown_loky()
        t0 = time.perf_counter()
        run_sweep(tiny, Path(tmp) / "startup", jobs=2, backend="loky", progress=False)
        out["startup_2_workers_s"] = time.perf_counter() - t0
    out["speedup"] = out["seconds_1"] / out["seconds_2"]
    out["speedup_excluding_startup"] = out["seconds_1"] / max(
        out["seconds_2"] - out["startup_2_workers_s"], 1e-9)
    return out


def _shutdown_loky() -> None:
    """Stop joblib's reusable loky workers, so that the next sweep starts cold."""
    try:
        from joblib.externals.loky import get_reusable_executor
    except ImportError:  # pragma: no cover - joblib is an optional extra
        return
    # reuse=True: the executor the sweep made (whatever its arguments), not a new one
    get_reusable_executor(reuse=True).shutdown(wait=True)


def _ratio(name, value, **extra):
    op, target = TARGETS[name]
    met = None if value is None or not np.isfinite(value) else (
        value <= target if op == "<=" else value >= target)
    return {"value": value, "target": f"{op} {target}", "met": met, **extra}


def _reference(prob, maxiter: int) -> float | None:
    """``f*``: the problem's own reference for population and OLS problems; for the empirical
    halfspace a long L-BFGS run (its ``solution()`` adds an LP separability check that costs
    minutes at n = 10^5, so it is kept out of the benchmark)."""
    from scipy.optimize import minimize

    from gdnp.problems import NoFiniteMinimizerError
    from gdnp.problems.halfspace import EmpiricalHalfspace

    if not isinstance(prob, EmpiricalHalfspace):
        try:
            return prob.solution()[1]
        except NoFiniteMinimizerError:
            return None
    res = minimize(prob.value_and_grad, np.zeros(prob.dim), jac=True, method="L-BFGS-B",
                   options={"maxiter": maxiter, "gtol": 1e-12, "ftol": 0.0, "maxcor": 30})
    return float(res.fun)


def run_bench(quick: bool = False, sweep: bool = True, log=None) -> dict:
    """Run every case; return the JSON-serializable report (see :func:`bench_main`)."""
    import gdnp
    from gdnp.cli import build_problem
    from gdnp.problems import OLS, Halfspace

    sz = _sizes(quick)
    d, kappa, T_s = sz["d"], sz["kappa"], sz["T_s"]
    report = {"quick": quick, "machine": machine_info(),
              "settings": {**{k: v for k, v in sz.items() if k != "n_ols"},
                           "n_ols": list(sz["n_ols"]), "gap_reduction": GAP_REDUCTION,
                           "methods": list(METHODS)},
              "cases": [], "ratios": {}, "floor": {}, "memory": {}}
    t_start = time.perf_counter()
    problems = [
        ("ols (population)", lambda: OLS.random(d, kappa * 10, seed=0), sz["maxiter"]),
        (f"ols (n={sz['n_ols'][0]})", lambda: build_problem(
            "ols", kappa=kappa * 10, dim=d, seed=0, n=sz["n_ols"][0]), sz["maxiter"]),
        (f"ols (n={sz['n_ols'][1]})", lambda: build_problem(
            "ols", kappa=kappa * 10, dim=d, seed=0, n=sz["n_ols"][1]), sz["maxiter"]),
        ("halfspace (population)", lambda: Halfspace.random(d, kappa, seed=0), sz["maxiter"]),
        (f"halfspace (n={sz['n_hs']})", lambda: Halfspace.sample(d, kappa, sz["n_hs"], seed=0),
         sz["maxiter_hs"]),
    ]
    _log(log, "[bench] GDNP / GD per iteration on every problem form (user's view)")
    report["iteration_ratios"] = _iteration_ratios(quick, log)
    _log(log, "[bench] reference solutions of nearly separable data")
    report["reference"] = _reference_times(quick, log)
    per_iter = {}
    for name, make, maxiter in problems:
        _log(log, f"[bench] building {name}")
        prob = make()
        f_star = _reference(prob, 20 * maxiter)
        for method in METHODS:
            _log(log, f"[bench]   {method}")
            row = _case(prob, name, method, maxiter, T_s, f_star, mem_iters=3)
            report["cases"].append(row)
            per_iter[(name, method)] = row["time_per_iter_s"]
        report["cases"].append(_lbfgs(prob, name, 20 * maxiter, f_star))
        if getattr(prob, "X", None) is not None and name.startswith("halfspace"):
            _log(log, "[bench]   GD / GDNP / floor per iteration (interleaved repeats)")
            best = _interleaved_halfspace(prob, sz, T_s)
            floor = best["floor"]
            report["floor"] = {"problem": name, "two_matvec_s": floor,
                               "X_mb": prob.X.nbytes / 2**20, "per_iter_s": best}
            report["ratios"]["floor_gd"] = _ratio("floor_gd", best["gd"] / floor)
            report["ratios"]["floor_gdnp"] = _ratio("floor_gdnp", best["gdnp"] / floor)
            report["ratios"]["gdnp_over_gd"] = _ratio(
                "gdnp_over_gd", best["gdnp"] / best["gd"], problem=name, T_s=T_s,
                plain_bisection=best["gdnp_plain"] / best["gd"],
                plain_bisection_over_floor=best["gdnp_plain"] / floor)
        del prob
        gc.collect()
    # the n-ratio compares two runs of microseconds per iteration, so one pass each is at
    # the mercy of the machine's other load: interleave repeated runs and keep each minimum
    _log(log, "[bench] OLS per-iteration time, n small vs large (interleaved repeats)")
    ols_pair = [build_problem("ols", kappa=kappa * 10, dim=d, seed=0, n=n) for n in sz["n_ols"]]
    best = {(i, m): np.inf for i in range(2) for m in METHODS}
    for _ in range(5):
        for i, prob in enumerate(ols_pair):
            for m in METHODS:
                res = gdnp.solve(prob, m, maxiter=sz["maxiter"] // 4, tol=0.0, seed=0,
                                 reference=False, **_solver_opts(m, T_s))
                best[(i, m)] = min(best[(i, m)], _per_iter(res.history))
    del ols_pair
    report["ratios"]["ols_n_ratio"] = _ratio(
        "ols_n_ratio", best[(1, "gdnp")] / best[(0, "gdnp")], method="gdnp",
        n=list(sz["n_ols"]), per_method={m: best[(1, m)] / best[(0, m)] for m in METHODS})
    # memory: the peak extra memory of a few GD / GDNP iterations at n = n_mem
    _log(log, f"[bench] memory at n={sz['n_mem']}")
    pmem = Halfspace.sample(d, kappa, sz["n_mem"], seed=1)

    mem = {"n": sz["n_mem"], "d": d, "X_mb": pmem.X.nbytes / 2**20}
    for method in ("gd", "gdnp"):
        opts = _solver_opts(method, T_s)
        gdnp.solve(pmem, method, maxiter=1, tol=0.0, reference=False, **opts)  # warm caches
        mem[f"{method}_peak_mb"] = _peak_memory(lambda m=method, o=opts, p=pmem: gdnp.solve(
            p, m, maxiter=3, tol=0.0, reference=False, **o))
        mem[f"{method}_peak_over_X"] = mem[f"{method}_peak_mb"] / mem["X_mb"]
    mem["rss_max_mb"] = _rss_mb()
    report["memory"] = mem
    del pmem
    gc.collect()
    if sweep:
        _log(log, "[bench] sweep speedup (loky, --jobs 1 vs --jobs 2)")
        sp = _sweep_speedup(sz)
        report["ratios"]["sweep_speedup"] = _ratio("sweep_speedup", sp["speedup"], **{
            k: v for k, v in sp.items() if k != "speedup"})
    report["total_s"] = time.perf_counter() - t_start
    return report


def _log(log, msg):
    if log is not None:
        print(msg, file=log, flush=True)


def _num(v, spec=".3g"):
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return format(v, spec)


def _met_cell(met: bool | None, quick: bool) -> str:
    """A table's *met* cell: whether the target holds; no verdict at ``--quick``'s toy sizes,
    which measure nothing a target is about."""
    if met is None:
        return "-"
    if quick:
        return "not measured (--quick)"
    return "yes" if met else "**no**"


def to_markdown(report: dict) -> str:
    """The report as markdown tables (machine, ratios vs targets, cases, memory)."""
    m = report["machine"]
    blas = ", ".join(f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} "
                     f"threads, {p.get('architecture')})" for p in m.get("threadpools", [])
                     if p.get("user_api") == "blas") or "-"
    lines = ["### Machine", "",
             f"- platform: {m['platform']} ({m.get('cpu_model') or m.get('processor') or '?'})",
             f"- CPUs: {m['cpu_count']}; load average at start: "
             f"{', '.join(f'{x:.2f}' for x in m.get('loadavg', []))}",
             f"- BLAS: {blas}",
             f"- python {m['python']}, numpy {m['numpy']}, scipy {m['scipy']}, "
             f"gdnp {m.get('gdnp')}",
             "- length search on logistic halfspaces (population and data): " + (
                 f"compiled (numba {m.get('numba')})" if m.get("compiled_search")
                 else "Python (numba absent, switched off or not loadable; the `fast` extra "
                 "installs it)"),
             ""]
    lines += ["### Ratios (measured in this run)", "",
              "| ratio | value | target | met |", "|---|---|---|---|"]
    labels = {"gdnp_over_gd": "GDNP / GD time per iteration, empirical halfspace",
              "ols_n_ratio": "OLS time per iteration, n = 10^6 / n = 10^3 (GDNP)",
              "floor_gd": "GD time per iteration / two raw matvecs on X",
              "floor_gdnp": "GDNP time per iteration / two raw matvecs on X",
              "sweep_speedup": "sweep of 40 cells, --jobs 1 / --jobs 2 (loky)"}
    for k, lab in labels.items():
        r = report["ratios"].get(k)
        if r is None:
            continue
        lines.append(f"| {lab} | {_num(r['value'])} | {r['target']} | "
                     f"{_met_cell(r['met'], report['quick'])} |")
    g = report["ratios"].get("gdnp_over_gd") or {}
    if "plain_bisection" in g:
        lines += [f"| GDNP with plain bisection (`certify=False`) / GD, for reference | "
                  f"{_num(g['plain_bisection'])} | - | - |",
                  f"| GDNP with plain bisection / two raw matvecs, for reference | "
                  f"{_num(g['plain_bisection_over_floor'])} | - | - |"]
    fl = report.get("floor") or {}
    if fl:
        lines += ["", f"Two-matvec floor on X ({fl['problem']}, {fl['X_mb']:.3g} MB): "
                      f"{fl['two_matvec_s'] * 1e3:.3g} ms."]
        per = fl.get("per_iter_s")
        if per:
            lines[-1] += (" Per iteration, best of interleaved rounds: GD "
                          f"{per['gd'] * 1e3:.2f} ms, GDNP {per['gdnp'] * 1e3:.2f} ms, GDNP "
                          f"with plain bisection {per['gdnp_plain'] * 1e3:.2f} ms.")
    rows = report.get("iteration_ratios") or []
    if rows:
        lines += ["", "### GDNP / GD per iteration, as a user's history shows it", "",
                  "Each time is the median of the per-iteration differences of "
                  "`history[\"time\"]` of a plain `gdnp.solve` run (`reference=False`, "
                  "default `tol`), the best of interleaved rounds (GD and GDNP alternate). "
                  "MLP: GDNP's time per sweep over all units. *Lengths replayed*: the same "
                  "GDNP run with its recorded lengths replayed instead of searched (the same "
                  "iterates, bit for bit; no search). *Search floor*: that plus the "
                  "evaluations of `d_g f` any bit-for-bit search of this design makes (the "
                  "plain values at the midpoints inside the rounding band, at least one; each "
                  "timed alone, compiled where the search is), a lower bound on GDNP / GD for "
                  "this iteration (up to the machine's drift between rounds). *Python "
                  "search*: on logistic halfspaces the length search runs compiled (numba); "
                  "the same GDNP with it in Python (`GDNP_NUMBA=0`, the same iterates, "
                  "checked) in the same rounds.", "",
                  "| problem | GD [ms/iter] | GDNP [ms/iter] | GDNP / GD | target | met | "
                  "GDNP evaluations / iter | lengths replayed / GD | search floor / GD | "
                  "Python search / GD |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            met = _met_cell(r["met"], report["quick"])
            cells = ["-" if key not in r else f"{r[key]:.2f}"
                     for key in ("replay_ratio", "floor_ratio", "python_search_ratio")]
            lines.append(f"| {r['problem']} | {r['gd_s'] * 1e3:.3f} | {r['gdnp_s'] * 1e3:.3f} "
                         f"| {r['ratio']:.2f} | {r['target'] or '-'} | {met} | "
                         f"{r['gdnp_evals_per_iter']:.1f} | {' | '.join(cells)} |")
    ref = report.get("reference") or []
    if ref:
        lines += ["", "### Reference solution (`solution()`) on nearly separable data", "",
                  "| n | d | seconds | verdict |", "|---|---|---|---|"]
        for r in ref:
            lines.append(f"| {r['n']} | {r['d']} | {r['seconds']:.1f} | {r['verdict']} |")
    lines += ["", f"### Solvers (gap target: initial gap x {GAP_REDUCTION:g})", "",
              "| problem | method | ms / iter | iterations | iters to gap | time to gap [s] | "
              "final gap | peak mem [MB] |", "|---|---|---|---|---|---|---|---|"]
    for r in report["cases"]:
        tpi = r["time_per_iter_s"]
        lines.append(
            f"| {r['problem']} | {r['method']} | {_num(None if tpi is None else tpi * 1e3)} | "
            f"{r['iterations']} | {_num(r['iters_to_gap'], 'd') if r['iters_to_gap'] is not None else '-'} | "  # noqa: E501
            f"{_num(r['time_to_gap_s'])} | {_num(r['final_gap'], '.2e')} | "
            f"{_num(r['peak_mem_mb'], '.1f')} |")
    mem = report.get("memory") or {}
    if mem:
        lines += ["", f"### Memory at n = {mem['n']}, d = {mem['d']}", "",
                  f"X itself: {mem['X_mb']:.3g} MB. Peak extra memory of 3 iterations "
                  f"(tracemalloc): GD {mem['gd_peak_mb']:.1f} MB "
                  f"({mem['gd_peak_over_X']:.3f} x X), GDNP {mem['gdnp_peak_mb']:.1f} MB "
                  f"({mem['gdnp_peak_over_X']:.3f} x X). Max RSS of the benchmark process: "
                  f"{_num(mem.get('rss_max_mb'), '.0f')} MB."]
    sp = report["ratios"].get("sweep_speedup")
    if sp:
        lines += ["", f"Sweep: {sp['cells']} cells (halfspace, n = {sp.get('n')}, "
                      f"{sp.get('maxiter')} iterations) in {sp['seconds_1']:.1f} s on 1 worker, "
                      f"{sp['seconds_2']:.1f} s on 2 workers from a cold start (starting the "
                      f"2 workers alone: {sp.get('startup_2_workers_s', float('nan')):.1f} s; "
                      "speed-up without it: "
                      f"{sp.get('speedup_excluding_startup', float('nan')):.2f})."]
    lines += ["", f"Total benchmark time: {report['total_s']:.0f} s"
              + (" (--quick: toy sizes, numbers not meaningful)." if report["quick"] else ".")]
    return "\n".join(lines) + "\n"


def bench_main(argv: list[str] | None = None) -> int:
    """``gdnp bench [--json] [--quick] [--markdown FILE] [--no-sweep]``."""
    from gdnp.cli import ArgumentParser, HelpFormatter, _show_progress, add_progress_option

    p = ArgumentParser(prog="gdnp bench", formatter_class=HelpFormatter,
                                description=__doc__.split("\n\n")[0].replace("``", ""))
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--quick", action="store_true", help="toy sizes (seconds; for tests)")
    p.add_argument("--markdown", metavar="FILE", help="also write the markdown tables here")
    p.add_argument("--no-sweep", action="store_true", help="skip the sweep speed-up case")
    add_progress_option(p, "one line per case on stderr (default: when stderr is a terminal)")
    p.add_argument("--verbose", action="store_true", help=argparse.SUPPRESS)  # old name
    args = p.parse_args(argv)
    if args.markdown:  # checked before the run, which takes minutes
        try:
            writable_file(args.markdown, "--markdown")
        except ValueError as exc:
            p.error(str(exc))
    show = True if args.verbose else _show_progress(args.progress)
    report = run_bench(quick=args.quick, sweep=not args.no_sweep,
                       log=sys.stderr if show else None)
    md = to_markdown(report)
    # the report first: a markdown file that cannot be written after all loses nothing
    if args.json:
        json.dump(report, sys.stdout, indent=2, default=float, allow_nan=True)
        print()
    else:
        print(md, end="")
    if args.markdown:
        try:
            atomic_write_text(Path(args.markdown), md)
        except OSError as exc:
            print(f"gdnp bench: error: --markdown: cannot write {args.markdown!r} "
                  f"({exc.strerror or exc}); the report is on stdout", file=sys.stderr)
            return 2
    return 0
