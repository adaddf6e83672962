"""Time GDNP's MLP sweep with the units' certified length search against plain bisection.

``gdnp bench``'s MLP row (``MLP.random(10, 4, 10, 2000)``, ``T_s = 50``, 200 sweeps), measured
the way that row is (:func:`gdnp.bench._per_iteration_user`: the median of the differences of
``history["time"]`` of a plain ``gdnp.solve`` run, ``reference=False``; GD, GDNP and GDNP with
``certify=False`` alternate for five rounds and the best round of each is kept), plus the
evaluations of ``d_g f`` per sweep. Both GDNP runs have the same iterates, bit for bit (checked
here). The record, with the machine's load and package versions, goes to
``benchmarks/mlp_sweep.json`` (written atomically); ``benchmarks/RESULTS.md`` and the user
guide quote it, and a test keeps their numbers equal to it.

With ``--repeat N`` the measurement runs N times: the record is the run whose certified /
plain ratio is the median, with every run's ratios in ``runs`` (the machine's speed drifts
by tens of percent between runs). Run ``python benchmarks/mlp_sweep.py [--repeat N] [--out
FILE]`` on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def measure(rounds: int = 5) -> dict:
    import gdnp
    from gdnp.bench import _per_iteration_user
    from gdnp.problems import MLP

    prob = MLP.random(10, 4, 10.0, 2000, seed=0)
    runs = {"gd": ("gd", {}), "gdnp": ("gdnp", {"T_s": 50}),
            "gdnp_plain": ("gdnp", {"T_s": 50, "certify": False})}
    m = _per_iteration_user(prob, runs, rounds, 200)
    fast = gdnp.solve(prob, "gdnp", maxiter=200, T_s=50, reference=False)
    plain = gdnp.solve(prob, "gdnp", maxiter=200, T_s=50, certify=False, reference=False)
    if not np.array_equal(fast.history["fun"], plain.history["fun"]):
        raise RuntimeError("the certified and plain searches gave different iterates")
    per = m["per_iter_s"]
    return {"problem": "MLP.random(d=10, hidden=4, kappa=10, n=2000), T_s=50, 200 sweeps",
            "ms_per_iteration": {k: 1e3 * v for k, v in per.items()},
            "gdnp_over_gd": per["gdnp"] / per["gd"],
            "gdnp_plain_over_gd": per["gdnp_plain"] / per["gd"],
            "certified_over_plain": per["gdnp"] / per["gdnp_plain"],
            "evaluations_per_sweep": {"gdnp": fast.nfev / fast.nit - 1.0,
                                      "gdnp_plain": plain.nfev / plain.nit - 1.0},
            "rounds": rounds}


def main() -> None:
    from gdnp._io import atomic_write_text, package_versions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "mlp_sweep.json"))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    records = [measure() for _ in range(max(args.repeat, 1))]
    order = sorted(range(len(records)), key=lambda i: records[i]["certified_over_plain"])
    record = dict(records[order[len(order) // 2]])
    record["runs"] = [{k: r[k] for k in ("certified_over_plain", "gdnp_over_gd",
                                         "gdnp_plain_over_gd")} for r in records]
    record["machine"] = {"cpus": os.cpu_count(), "load_average_at_end": list(os.getloadavg())}
    record["versions"] = package_versions()
    atomic_write_text(args.out, json.dumps(record, indent=1) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k != "versions"}, indent=1))


if __name__ == "__main__":
    main()
