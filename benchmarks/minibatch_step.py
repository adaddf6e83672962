"""Time a mini-batch step of GD and BNGD against a hand-written numpy SGD step.

A speed review had found a step of ``B = 100`` samples costing ``O(B d^2)`` (each batch problem
formed its ``S``, and OLS factored it): 5.4 ms at ``d = 1000`` where the batch gradient costs
0.03 ms. Since then a step takes its products with ``S`` from the batch's samples (theory
guide §11). This script measures, on the review's data (``n = 2e4`` centred Gaussian features,
noisy teacher labels; OLS on a noisy linear target) at ``d = 100, 300, 1000``, the time of a
step of ``gdnp.solve(problem, method, batch_size=100, ...)`` for GD and BNGD (both
statistics) on the halfspace and GD on OLS, and of a hand-written numpy step of logistic SGD
on the same rows (``x -= lr X_B'(-y sigmoid(t))/B``, its rows gathered from the same array).

A step's time is the difference of two runs of 200 and 400 steps with the same two records
(``record_every=400``: the start and the last iterate, each a pass over all ``n`` samples), so
that the records and the set-up cancel; best of ``--repeat`` (default 3) after a warm-up run.
The record, with the machine's load, BLAS threads and package versions, goes to
``benchmarks/minibatch_step.json`` (written atomically); ``benchmarks/RESULTS.md`` quotes it,
and a test keeps its numbers equal to it. About 20 s on 2 cores.

``--before FILE --before-commit HASH``: a record of this script run on an earlier commit (whose
steps formed ``S``), kept in the new record under ``before`` with the speed-up of each step.
Run ``python benchmarks/minibatch_step.py [--threads K] [--repeat N] [--out FILE]`` on an idle
machine (``--threads 1``: one BLAS thread, for a machine shared with other work).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
N, B, STEPS, DIMS = 20000, 100, 200, (100, 300, 1000)
#: (key, problem, method, statistics)
CASES = (("gd", "halfspace", "gd", "batch"), ("gd_population", "halfspace", "gd", "population"),
         ("bngd", "halfspace", "bngd", "batch"),
         ("bngd_population", "halfspace", "bngd", "population"),
         ("ols_gd", "ols", "gd", "batch"))


def _data(d: int):
    from gdnp.problems import OLS, Halfspace

    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, d))
    X -= X.mean(0)
    teacher = rng.standard_normal(d)
    y = np.where(X @ teacher + 3 * rng.standard_normal(N) > 0, 1.0, -1.0)
    return {"halfspace": Halfspace.from_data(X, y),
            "ols": OLS.from_data(X, X @ rng.standard_normal(d) + rng.standard_normal(N))}


def _step_seconds(run, repeat: int) -> float:
    """The time of ``STEPS`` steps: ``run(2 STEPS) - run(STEPS)``, best of ``repeat``."""
    run(STEPS)  # warm: the problem's spectral constants, first-call costs
    best = {}
    for _ in range(repeat):
        for steps in (STEPS, 2 * STEPS):
            t0 = time.perf_counter()
            run(steps)
            best[steps] = min(best.get(steps, np.inf), time.perf_counter() - t0)
    return max(best[2 * STEPS] - best[STEPS], 0.0) / STEPS


def _numpy_sgd(prob, steps: int) -> None:
    """Logistic SGD written out in numpy, on the problem's own (column-major) rows."""
    from gdnp.stochastic import MiniBatches

    X, y, x = prob.X, prob.y, np.zeros(prob.dim)
    batches = MiniBatches(N, B, 0)
    for _ in range(steps):
        idx = batches.next()
        Xb, yb = X[idx], y[idx]
        t = -yb * (Xb @ x)
        x -= 0.1 * (Xb.T @ (-yb / (1.0 + np.exp(-t)))) / B


def measure(repeat: int = 3) -> dict:
    import gdnp

    rows = {}
    for d in DIMS:
        probs = _data(d)
        row = {"numpy_sgd": 1e3 * _step_seconds(
            lambda k, p=probs["halfspace"]: _numpy_sgd(p, k), repeat)}
        for key, kind, method, statistics in CASES:
            opts = dict(tol=0.0, batch_size=B, statistics=statistics, record_every=2 * STEPS,
                        reference=False)
            row[key] = 1e3 * _step_seconds(
                lambda k, p=probs[kind], m=method, o=opts: gdnp.solve(p, m, maxiter=k, **o),
                repeat)
        rows[str(d)] = {"ms_per_step": row,
                        "over_numpy_sgd": {k: v / row["numpy_sgd"] for k, v in row.items()
                                           if k != "numpy_sgd"}}
    return {"problem": f"n = {N}, B = {B}, Halfspace.from_data / OLS.from_data on Gaussian "
                       f"features, d in {list(DIMS)}",
            "dims": rows, "repeat": repeat}


def main() -> None:
    from gdnp._io import atomic_write_text, package_versions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "minibatch_step.json"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads (default: the library's own)")
    parser.add_argument("--before", default=None,
                        help="a record of this script on an earlier commit, to compare with")
    parser.add_argument("--before-commit", default=None, help="that earlier commit")
    args = parser.parse_args()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(limits=args.threads, user_api="blas")
    else:
        limit = nullcontext()
    with limit:
        record = measure(max(args.repeat, 1))
    record["machine"] = {"cpus": os.cpu_count(), "blas_threads": args.threads,
                         "load_average_at_end": list(os.getloadavg())}
    if args.before is not None:
        old = json.loads(Path(args.before).read_text(encoding="utf-8"))
        record["before"] = {
            "commit": args.before_commit,
            "ms_per_step": {d: row["ms_per_step"] for d, row in old["dims"].items()},
            "speedup": {d: {k: v / record["dims"][d]["ms_per_step"][k]
                            for k, v in row["ms_per_step"].items() if k != "numpy_sgd"}
                        for d, row in old["dims"].items()},
            "machine": old.get("machine")}
    record["versions"] = package_versions()
    atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k != "versions"}, indent=1))


if __name__ == "__main__":
    main()
