"""pytest-benchmark cases (not in the default test run): ``pytest benchmarks/``.

Sizes follow `gdnp bench`: empirical halfspace n = 10^5, d = 100, T_s = 30; OLS from data at
n = 10^3 and n = 10^6 (sufficient statistics); the raw two-matvec floor on the same X.
Set ``GDNP_BENCH_QUICK=1`` for toy sizes.
"""

from __future__ import annotations

import os

import pytest

QUICK = os.environ.get("GDNP_BENCH_QUICK", "") not in ("", "0")
D = 10 if QUICK else 100
N_HS = 2000 if QUICK else 100_000
N_OLS = (200, 5000) if QUICK else (1_000, 1_000_000)


@pytest.fixture(scope="session")
def halfspace():
    from gdnp.problems import Halfspace

    return Halfspace.sample(D, 10.0, N_HS, seed=0)


@pytest.fixture(scope="session", params=N_OLS, ids=lambda n: f"n={n}")
def ols_data(request):
    from gdnp.cli import build_problem

    return build_problem("ols", kappa=100.0, dim=D, seed=0, n=request.param)
