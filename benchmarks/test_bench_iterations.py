"""Per-iteration cost (pytest-benchmark): ``pytest benchmarks/ --benchmark-only``.

Each benchmark runs a fixed number of iterations with ``reference=False`` (no reference
solve), so its time divided by ``ITERS`` is the time per iteration.
"""

from __future__ import annotations

import numpy as np
import pytest

import gdnp

ITERS = 10


def _run(problem, method, **opts):
    return gdnp.solve(problem, method, maxiter=ITERS, tol=0.0, reference=False, **opts)


@pytest.mark.parametrize("method", ["gd", "agd", "bngd", "gdnp"])
def test_halfspace_iterations(benchmark, halfspace, method):
    opts = {"T_s": 30} if method == "gdnp" else {}
    res = benchmark(_run, halfspace, method, **opts)
    assert res.nit == ITERS


def test_halfspace_gdnp_plain_bisection(benchmark, halfspace):
    """GDNP evaluating ``d_g f`` at every midpoint (``certify=False``), for comparison."""
    res = benchmark(_run, halfspace, "gdnp", T_s=30, certify=False)
    assert res.nit == ITERS


def test_halfspace_two_matvec_floor(benchmark, halfspace):
    X = halfspace.X
    w = np.ones(X.shape[1])
    r = np.ones(X.shape[0])

    def two_matvecs():
        for _ in range(ITERS):
            X @ w
            X.T @ r

    benchmark(two_matvecs)


@pytest.mark.parametrize("method", ["gd", "gdnp"])
def test_ols_from_data_iterations(benchmark, ols_data, method):
    res = benchmark(_run, ols_data, method)
    assert res.nit == ITERS


def test_sweep_cells(benchmark, tmp_path):
    from gdnp.sweep import run_sweep

    cfg = {"problem": ["halfspace"], "n": [2000], "dim": [10], "method": ["gd", "gdnp"],
           "seed": [0, 1], "maxiter": 50}
    counter = iter(range(10**6))
    benchmark.pedantic(lambda: run_sweep(cfg, tmp_path / f"s{next(counter)}", progress=False),
                       rounds=3, iterations=1)
