"""Certified bisection of GDNP's length (problems/taylor.py): the same halvings as plain
bisection, every certified sign right, and the bounds it rests on."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

import gdnp
from gdnp import bisect
from gdnp.problems import LOSSES, Halfspace

from conftest import halfspace_data


def _problem(loss="logistic", seed=0, n=2000, d=6, separation=0.9):
    return Halfspace.sample(d, 10.0, n, separation=separation, seed=seed, loss=loss)


# ------------------------------------------------------------------ loss facts
@pytest.mark.parametrize("name", ["logistic", "sigmoid", "squared"])
def test_third_derivative_bounds_of_the_losses(name):
    """``sup|phi'''|``, the envelope ``e`` (``|phi'''(s)| <= e(t)`` for ``|s| >= |t|``,
    ``log e`` 1-Lipschitz) and the sign of ``t phi'''``, against central differences."""
    loss = LOSSES[name]
    t = np.linspace(-30, 30, 120001)
    h = 1e-4
    d3 = (loss.d2phi(t + h) - loss.d2phi(t - h)) / (2 * h)
    fd_err = 1e-7
    assert np.max(np.abs(d3)) <= loss.max_d3phi + fd_err
    assert np.max(np.abs(d3)) >= loss.max_d3phi - 1e-6  # the sup is attained, not loose
    env = loss.d3phi_envelope(t)
    # |phi'''(s)| <= e(t) for all |s| >= |t|, on both sides of 0 (the grid is symmetric, so
    # index i mirrors N - 1 - i): the max of |phi'''| over |s| >= |t|
    a3 = np.abs(d3)
    same_side = np.where(t >= 0, np.maximum.accumulate(a3[::-1])[::-1],
                         np.maximum.accumulate(a3))
    outer = np.maximum(same_side, same_side[::-1])
    assert np.all(outer <= env + fd_err)
    assert np.allclose(env, env[::-1])  # even
    if np.any(env > 0):
        log_e = np.log(env[env > 0])
        assert np.max(np.abs(np.diff(log_e)) / np.diff(t[env > 0])) <= 1.0 + 1e-6
    if np.isfinite(loss.max_dphi):  # the rounding allowances grow phi' by exp(|t - s|)
        log_d1 = np.log(np.abs(loss.dphi(t)))
        assert np.max(np.abs(np.diff(log_d1)) / np.diff(t)) <= 1.0 + 1e-6
    if loss.d3phi_sign == -1:
        assert np.all(t * d3 <= fd_err)


def test_fused_logistic_value_and_derivative_match_the_reference_forms():
    loss = LOSSES["logistic"]
    t = np.concatenate([np.linspace(-50, 50, 10001), [-1e4, -800.0, 0.0, 800.0, 1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid-value warnings
        fun, d1 = loss.value_and_dphi(t)
    assert fun == pytest.approx(np.mean(np.logaddexp(0.0, t)), rel=1e-14)
    np.testing.assert_allclose(d1, expit(t), rtol=2e-15, atol=0)  # a few ulp


@pytest.mark.parametrize("n", [7, 100, 129, 8192, 8193, 100_000, 300_001])
def test_pairwise_sum_error_bound(n):
    """The summation bound behind the value allowance: |np.sum - exact| <= k u sum|x| with
    k = 25 + ceil(log2 n) + ceil(n / 8192), on data with heavy cancellation."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n) * np.exp(rng.uniform(-20, 20, n))
    x = np.concatenate([x, -x[: n // 2]])[:n]  # cancellation
    k = 25 + math.ceil(math.log2(n)) + math.ceil(n / 8192)
    err = abs(float(np.sum(x)) - math.fsum(x))
    assert err <= k * np.finfo(float).eps / 2 * float(np.sum(np.abs(x)))


# --------------------------------------------------- certified signs are right
@pytest.mark.parametrize("loss", ["logistic", "sigmoid"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_certified_intervals_contain_the_computed_derivative(loss, seed):
    """From expansions at a few lengths, the interval for S(t) holds the computed S(t) at every
    t of a grid, and each certified sign is the computed sign."""
    prob = _problem(loss, seed)
    rng = np.random.default_rng(seed)
    w = prob.initial_point(seed)
    S = prob.length_derivative(w)
    model = prob.length_model(w)
    checked = certified = 0
    for x in rng.uniform(-3.0, 12.0, 4):
        model.evaluate(x)
        for t in np.concatenate([np.linspace(-5.0, 15.0, 201), x + np.geomspace(1e-9, 1, 30),
                                 x - np.geomspace(1e-9, 1, 30)]):
            v = S(t)
            decided = False
            for e in model.expansions:
                lo, hi = model.interval(t, e)
                assert lo <= v <= hi, (t, e.x, lo, v, hi)
                decided |= lo > 0.0 or hi < 0.0
            c = model.certain(t)
            checked += 1
            if c != 0.0:
                certified += 1
                assert np.sign(c) == np.sign(v), (t, c, v)
            if decided:  # the fast test in certain() decides whatever the intervals decide
                assert c != 0.0, t
    assert certified > 0.3 * checked  # the certificates decide most signs


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), g=st.floats(0.05, 30.0), t=st.floats(-40.0, 40.0))
def test_certified_sign_never_contradicts_evaluation(seed, g, t):
    prob = _problem("logistic", seed % 7, n=500, d=3)
    w = prob.initial_point(seed)
    model = prob.length_model(w)
    model.evaluate(g)
    c = model.certain(t)
    if c != 0.0:
        assert np.sign(c) == np.sign(prob.length_derivative(w)(t))


def test_models_exist_only_where_their_bounds_are_derived():
    from gdnp.problems import OLS
    assert OLS.random(4, 10.0, seed=0).length_model(np.ones(4)) is None  # O(1) evaluations
    prob = Halfspace.sample(4, 10.0, 300, seed=0, loss="squared")
    assert prob.length_model(np.ones(4)) is None  # phi' unbounded: no allowance derived
    assert Halfspace.random(4, 10.0, seed=0).length_model(np.ones(4)) is not None


@pytest.mark.parametrize("loss", ["logistic", "sigmoid"])
def test_population_certified_intervals_and_gdnp_iterates(loss):
    """The Gauss-Hermite form (weighted nodes): intervals hold the computed S(t), and GDNP's
    iterates are those of plain bisection."""
    prob = Halfspace.random(6, 100.0, separation=0.95, seed=1, loss=loss)
    w = prob.initial_point(2)
    S, model = prob.length_derivative(w), prob.length_model(w)
    for x in (0.5, 3.0, 9.0):
        model.evaluate(x)
    for t in np.linspace(-4.0, 14.0, 181):
        v = S(t)
        for e in model.expansions:
            lo, hi = model.interval(t, e)
            assert lo <= v <= hi
        c = model.certain(t)
        assert c == 0.0 or np.sign(c) == np.sign(v)
    if loss == "logistic":
        plain = gdnp.gdnp(prob, maxiter=60, tol=0, T_s=30, certify=False)
        cert = gdnp.gdnp(prob, maxiter=60, tol=0, T_s=30, certify=True)
        np.testing.assert_array_equal(cert.history["fun"], plain.history["fun"])
        assert cert.nfev < 0.3 * plain.nfev
        # population default: the located search (mass-ratio certificates), same iterates
        default = gdnp.gdnp(prob, maxiter=60, tol=0, T_s=30)
        np.testing.assert_array_equal(default.history["fun"], plain.history["fun"])
        assert default.n_certified > 0 and default.nfev < 0.4 * plain.nfev


# --------------------------------------------- the same bisection, fewer passes
@pytest.mark.parametrize("loss", ["logistic", "sigmoid"])
def test_certified_bisection_takes_the_same_halvings(loss):
    prob = _problem(loss, 3)
    rng = np.random.default_rng(3)
    saved = 0
    for _ in range(10):
        w = prob.initial_point(int(rng.integers(1 << 30)))
        g0 = float(rng.uniform(0.5, 8.0))
        a, b = g0 - 0.5 * max(g0, 1.0), g0 + 0.5 * max(g0, 1.0)
        # (GDNP's semantics: the sigmoid's non-monotone d_g f can decrease through zero on
        # the bracket, a maximum of f along g; the search then moves outward)
        plain, pinfo = bisect(prob.length_derivative(w), a, b, maxiter=40,
                              decreasing="expand")
        cert, cinfo = bisect(prob.length_derivative(w), a, b, maxiter=40,
                             model=prob.length_model(w), decreasing="expand")
        assert cert == plain
        assert (cinfo["a"], cinfo["b"], cinfo["a0"], cinfo["b0"], cinfo["nit"]) == \
            (pinfo["a"], pinfo["b"], pinfo["a0"], pinfo["b0"], pinfo["nit"])
        assert cinfo["nfev"] + cinfo["ncertified"] >= pinfo["nfev"]
        saved += pinfo["nfev"] - cinfo["nfev"]
    # measured: logistic 36, sigmoid 18 of ~42 evaluations saved per bisection (the sigmoid
    # loss is not convex and phi''' changes sign, so only Taylor bounds certify)
    assert saved >= 10 * (30 if loss == "logistic" else 15)


def test_gdnp_iterates_are_identical_with_and_without_certificates():
    X, y = halfspace_data(seed=5, n=3000, d=5)
    prob = Halfspace.from_data(X, y)
    plain = gdnp.gdnp(prob, maxiter=80, tol=0, T_s=30, certify=False)
    cert = gdnp.gdnp(prob, maxiter=80, tol=0, T_s=30)
    np.testing.assert_array_equal(cert.history["fun"], plain.history["fun"])
    np.testing.assert_array_equal(cert.x, plain.x)
    assert cert.n_bisect == plain.n_bisect
    assert cert.n_certified > 0 and plain.n_certified == 0
    assert cert.nfev < 0.4 * plain.nfev
    with pytest.raises(TypeError, match="certify"):
        gdnp.gdnp(prob, maxiter=1, certify="yes")


def test_separable_data_still_raise_no_sign_change_with_certificates():
    """The certificates never invent a sign change: on separable data the length bisection
    still fails cleanly (GDNP status 2 or NoSignChangeError), as without them."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    X -= X.mean(axis=0)  # separable through the origin after the centring gdnp applies
    y = np.sign(X @ np.array([1.0, -2.0, 0.5]))
    prob = Halfspace.from_data(X, y)
    w = np.array([1.0, -2.0, 0.5])
    with pytest.raises(gdnp.NoSignChangeError):
        bisect(prob.length_derivative(w), 0.5, 1.5, maxiter=30, model=prob.length_model(w))
    with pytest.raises(gdnp.NoSignChangeError):
        bisect(prob.length_derivative(w), 0.5, 1.5, maxiter=30)


# ----------------------------------------------------------------- the MLP's hidden units
def _mlp_cases():
    from gdnp.problems import MLP

    rng = np.random.default_rng(5)
    X = rng.standard_normal((400, 5)) * rng.uniform(0.5, 10.0, 5)
    y = np.sign(rng.standard_normal(400))
    return [MLP.random(6, 3, 30.0, 800, seed=0), MLP.random(4, 2, 1000.0, 500, seed=3),
            MLP.from_data(X, y, hidden=3, theta=[2.5, -1.0, 0.3]),
            MLP.from_data(X, y, hidden=2, loss="sigmoid", theta=[3.0, -2.0])]


@pytest.mark.parametrize("case", range(4))
def test_mlp_units_certified_search_equals_plain_bisection_bit_for_bit(case):
    """The units' Taylor models decide most signs; GDNP's iterates stay those of plain
    bisection (certify=False), bit for bit, with fewer evaluations."""
    prob = _mlp_cases()[case]
    for opts in ({}, {"T_s": 30, "bracket": (-20.0, 20.0)}):
        plain = gdnp.gdnp(prob, maxiter=15, tol=0.0, certify=False, reference=False, **opts)
        fast = gdnp.gdnp(prob, maxiter=15, tol=0.0, reference=False, **opts)
        np.testing.assert_array_equal(fast.x, plain.x)
        np.testing.assert_array_equal(fast.history["fun"], plain.history["fun"])
        assert fast.n_bisect == plain.n_bisect
        assert fast.n_certified > 0 and fast.nfev < plain.nfev


def test_mlp_unit_rounding_bound_holds_against_40_digit_values():
    """The model's E bounds |computed d_g f - exact| at every length (40-digit mpmath),
    saturated units and large output weights included."""
    mpmath = pytest.importorskip("mpmath")
    from gdnp.problems import MLP

    mpmath.mp.dps = 40
    rng = np.random.default_rng(0)
    worst = 0.0
    for loss, scale in (("logistic", 3.0), ("sigmoid", 3.0), ("logistic", 300.0)):
        X = rng.standard_normal((60, 3)) * rng.uniform(0.5, 20.0, 3)
        prob = MLP.from_data(X, np.sign(rng.standard_normal(60)), hidden=2, loss=loss,
                             theta=rng.uniform(-scale, scale, 2))
        w, g = prob.to_bn(prob.initial_point(1))
        A = prob.unit_projections(w)
        for i in range(2):
            view = prob.unit_view(w, g, i, A)
            model = view.length_model()
            th = mpmath.mpf(float(view.theta))
            for t in (0.01, 1.0, -5.0, 40.0):
                total = mpmath.mpf(0)
                for a, r in zip(view.a0, view.r, strict=True):
                    tt = mpmath.tanh(mpmath.mpf(t) * mpmath.mpf(a))
                    sig = 1 / (1 + mpmath.exp(-(th * tt + mpmath.mpf(r))))
                    d1 = sig if loss == "logistic" else sig * (1 - sig)
                    total += d1 * th * (1 - tt * tt) * mpmath.mpf(a)
                exact = total / len(view.a0)
                worst = max(worst, abs(float(exact - mpmath.mpf(view.dg(t)))) / model.error)
    assert worst < 0.05  # a few percent of E at most (the worst case seen in review: 1.1%)


def test_mlp_unit_model_survives_pickling_and_refuses_underflow():
    """A pickled network keeps the registry's loss (and so its model); a unit whose rounding
    bound would be subnormal gets none (its absolute rounding would not be covered)."""
    import pickle

    from gdnp.problems import MLP

    prob = pickle.loads(pickle.dumps(MLP.random(4, 2, 10.0, 200, seed=0)))
    w, g = prob.to_bn(prob.initial_point(0))
    A = prob.unit_projections(w)
    assert prob.unit_view(w, g, 0, A).length_model() is not None
    tiny = prob.unit_view(w, g, 0, A, theta=np.array([1e-310, 1.0]))
    assert tiny.length_model() is None
    plain = gdnp.gdnp(prob, maxiter=3, tol=0.0, certify=np.False_, reference=False)
    assert plain.n_certified == 0


def test_mlp_squared_loss_has_no_unit_model():
    from gdnp.problems import MLP

    prob = MLP.random(3, 2, 10.0, 100, seed=0, loss="squared")
    w, g = prob.to_bn(prob.initial_point(0))
    assert prob.unit_view(w, g, 0, prob.unit_projections(w)).length_model() is None
