"""Fuzzing (hypothesis): any argument gets a result or a ValueError/TypeError naming it, and
no run ends in an exception or returns a non-finite iterate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gdnp
from gdnp.problems import OLS, Halfspace

# scalars a user might pass by mistake: extremes, NaN, strings, bools, containers, complex
odd_scalars = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    # small sizes, or sizes far beyond any memory (refused before allocating); sizes between
    # fit in memory but take minutes (a 10^5 x 10^5 rotation), which is not what this tests
    st.integers(min_value=-(2**70), max_value=40),
    st.integers(min_value=10**12, max_value=2**70),
    st.sampled_from(["0.5", "", None, True, False, [3.0], (1,), 1 + 2j, np.nan, np.float64(2),
                     np.int64(3)]),
)

ARGUMENT_NAMES = ("d", "kappa", "seed", "noise", "separation", "n_nodes")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(d=odd_scalars, kappa=odd_scalars, seed=odd_scalars, noise=odd_scalars)
def test_ols_random_accepts_or_names_the_argument(d, kappa, seed, noise):
    try:
        prob = OLS.random(d, kappa, seed=seed, noise=noise)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ARGUMENT_NAMES), str(exc)
        return
    assert np.all(np.isfinite(prob.S)) and prob.mu > 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kappa=odd_scalars, separation=odd_scalars, n_nodes=odd_scalars)
def test_halfspace_random_accepts_or_names_the_argument(kappa, separation, n_nodes):
    try:
        prob = Halfspace.random(3, kappa, separation=separation, n_nodes=n_nodes)
    except (ValueError, TypeError) as exc:
        assert any(name in str(exc) for name in ARGUMENT_NAMES), str(exc)
        return
    assert 0 < prob.separation < 1


scales = st.sampled_from([1e-310, 1e-200, 1e-150, 1e-8, 1.0, 1e8, 1e150, 1e200, 1e308])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scale=scales, seed=st.integers(0, 2**16), which=st.sampled_from(["X", "one entry"]))
def test_badly_scaled_data_is_accepted_or_named(scale, seed, which):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 3))
    y = np.where(X[:, 0] + rng.standard_normal(40) > 0, 1.0, -1.0)
    with np.errstate(over="ignore"):
        if which == "X":
            X = X * scale
        else:
            X[0, 0] = scale
    for make in (lambda: OLS.from_data(X, X[:, 1]), lambda: Halfspace.from_data(X, y)):
        try:
            prob = make()
        except (ValueError, TypeError) as exc:
            assert "X" in str(exc), str(exc)
            continue
        assert np.all(np.isfinite(prob.S)) and prob.mu > 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=st.sampled_from(sorted(gdnp.METHODS)),
       log_lr=st.floats(min_value=-300, max_value=300),
       kappa=st.sampled_from([1.0 + 1e-9, 10.0, 1e4, 1e10]),
       separation=st.sampled_from([1e-150, 1e-8, 0.5, 0.999999]),
       problem=st.sampled_from(["ols", "halfspace"]))
def test_runs_end_with_a_status_never_an_exception(method, log_lr, kappa, separation, problem):
    prob = (OLS.random(3, kappa, seed=0) if problem == "ols"
            else Halfspace.random(3, kappa, separation=separation, seed=0))
    opts = {} if method == "gdnp" else {"lr": 10.0 ** log_lr}
    if method == "gdnp":
        opts = {"L": 10.0 ** log_lr, "T_s": 20}
    res = gdnp.solve(prob, method, maxiter=30, tol=0, reference=False, **opts)
    assert res.status in (0, 1, 2)
    assert res.history["iter"].size >= 1
    assert np.all(np.isfinite(res.x)) and np.isfinite(res.fun)
    if res.status == 2:
        assert res.message.startswith("diverged")


@pytest.mark.parametrize("bad", [np.nan, -1.0, "1", 1.5, True])
def test_bisect_budget_arguments_are_checked(bad):
    with pytest.raises((ValueError, TypeError), match="max_expand"):
        gdnp.bisect(lambda t: t, -1.0, 1.0, max_expand=bad)
