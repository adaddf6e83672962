"""Property-based checks (hypothesis) of identities that must hold for every input."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gdnp import bisect
from gdnp.problems import OLS

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(root=finite, slope=st.floats(min_value=1e-3, max_value=1e3), lo=finite,
       width=st.floats(min_value=1e-3, max_value=1e3))
@example(root=5e-324, slope=0.5, lo=0.0, width=1.0)
def test_bisect_finds_the_root_of_any_increasing_line(root, slope, lo, width):
    """Whatever the initial bracket, expansion then halving brackets the root."""
    def fun(t):
        return slope * (t - root)

    root_hat, info = bisect(fun, lo, lo + width, maxiter=200)
    # the bracket holds the root, unless fun vanished at an end by rounding (root = 5e-324:
    # fun(0) = -0.5 * 5e-324 underflows to 0, an exact zero bisect rightly returns)
    assert info["a"] <= root <= info["b"] or fun(info["a"]) == 0.0 or fun(info["b"]) == 0.0
    assert abs(root_hat - root) <= 1e-12 * max(1.0, abs(root)) + 4 * np.spacing(abs(root) + 1)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), d=st.integers(1, 6),
       log_kappa=st.floats(0.0, 4.0), c=st.floats(0.01, 100.0))
def test_ols_profile_and_scale_invariance(seed, d, log_kappa, c):
    """``f(w, g*(w)) = E[y^2] + rho(w)`` and ``f(c w, g) = f(w, g)`` (theory guide §1-2)."""
    kappa = 10.0**log_kappa if d > 1 else 1.0
    prob = OLS.random(d, kappa, seed=seed)
    w = prob.initial_point(seed + 1)
    g_star = prob.optimal_length(w)
    f_profile = prob.f_bn(w, g_star)
    assert np.isclose(f_profile, prob.yy + prob.rayleigh(w), rtol=1e-10, atol=1e-12)
    assert abs(prob.dg_bn(w, g_star)) <= 1e-10 * max(1.0, abs(g_star))
    assert np.isclose(prob.f_bn(c * w, 0.7), prob.f_bn(w, 0.7), rtol=1e-11, atol=1e-13)
    assert prob.rayleigh(w) >= prob.rho_star - 1e-12 * abs(prob.rho_star)


def test_haar_rotation_is_scipys_draw_without_importing_scipy_stats():
    """``random_covariance`` draws its eigenvectors with an inline copy of
    ``scipy.stats.special_ortho_group`` (importing scipy.stats costs every sweep worker about
    a second): the same matrices bit for bit from the same generator state, and rotations."""
    import subprocess
    import sys

    from scipy.stats import special_ortho_group

    from gdnp.problems.spectra import _haar_rotation, random_covariance

    for d in (2, 3, 7, 30):
        for seed in (0, 1, 12345):
            ours = _haar_rotation(d, np.random.default_rng(seed))
            theirs = special_ortho_group.rvs(d, random_state=np.random.default_rng(seed))
            assert np.array_equal(ours, theirs)
            assert np.allclose(ours @ ours.T, np.eye(d), atol=1e-12)
            assert abs(np.linalg.det(ours) - 1.0) < 1e-12
    # drawing a covariance leaves scipy.stats unimported
    code = ("import sys; from gdnp.problems.spectra import random_covariance; "
            "random_covariance(5, 10.0, 0); print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
    assert random_covariance(4, 10.0, 3).shape == (4, 4)


@settings(max_examples=100, deadline=None)
@given(t=st.lists(st.floats(min_value=-1e3, max_value=1e3, allow_nan=False), min_size=1,
                  max_size=50))
@example(t=[0.0, -0.0, 5e-324, -5e-324, -745.2, 745.2, -709.8, 36.9, -36.9, 1e3, -1e3])
def test_logistic_value_and_derivative_match_their_definitions(t):
    """The fused logistic pass gives ``sigma(t) = 1/(1 + e^-t)`` for ``t >= 0`` and
    ``e^t/(1 + e^t)`` for ``t < 0`` bit for bit (its blend is exact), within 4 eps of the
    exact sigmoid (mpmath, 50 digits; subnormal values to within 1e-320, where
    ``scipy.special.expit`` returns 0 at ``t = -709.8``) and ``mean log(1 + e^t)`` to the
    rounding of ``logaddexp`` relative to ``mean |t|``."""
    import mpmath

    from gdnp.problems.losses import _logistic_mean_and_d1

    t = np.asarray(t, dtype=float)
    fun, d1 = _logistic_mean_and_d1(t.copy())
    E = np.exp(-np.abs(t))
    r = 1.0 / (1.0 + E)
    by_sign = np.where(t < 0.0, E * r, r)
    np.testing.assert_array_equal(d1, by_sign)
    with mpmath.workdps(50):
        ref = np.array([float(1 / (1 + mpmath.exp(-mpmath.mpf(v)))) for v in t])
    assert np.all(np.abs(d1 - ref) <= 4 * np.finfo(float).eps * ref + 1e-320)
    # the mean is (sum t + sum |t|)/2n + mean log1p(e^-|t|): its rounding is relative to
    # mean |t|, not to the mean itself (t = [1e-13, -128] gives 0.3466 within 3e-15)
    exact = float(np.mean(np.logaddexp(0.0, t)))
    assert abs(fun - exact) <= 8 * np.finfo(float).eps * (exact + np.mean(np.abs(t)))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), d=st.integers(1, 8), scale=st.floats(-300, 300),
       bad=st.sampled_from([None, np.nan, np.inf, -np.inf]))
def test_recorder_gradient_norm_is_finite_exactly_when_the_gradient_is(seed, d, scale, bad):
    """The recorder's ``||G||^2_{S^-1}``: :meth:`grad_norm2` for a finite ``G`` (the same
    number), a non-finite number and no error when an entry is NaN or infinite; and a
    subclass whose own norm calls the base one does not loop."""
    prob = OLS.random(d, 10.0 if d > 1 else 1.0, seed=seed % 1000)
    G = np.random.default_rng(seed).standard_normal(d) * 10.0 ** (scale / 2)
    if bad is not None:
        G[seed % d] = bad
        with np.errstate(all="ignore"):  # (as every solver runs)
            assert not np.isfinite(prob._grad_norm2_or_inf(G))
        return
    with np.errstate(all="ignore"):
        value = prob._grad_norm2_or_inf(G)
    assert value == prob.grad_norm2(G) or not np.isfinite(value)  # (an overflowing norm)

    class Scaled(OLS):
        def grad_norm2(self, G):
            return 2.0 * super().grad_norm2(G)

    other = Scaled(prob.S, prob.u, prob.yy)
    assert other._grad_norm2_or_inf(G) == 2.0 * prob.grad_norm2(G)
