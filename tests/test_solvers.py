"""Solvers: convergence on small instances, result type, callback, divergence, bisection."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

import gdnp
from gdnp import OptimizeResult, bisect
from gdnp.problems import MLP, OLS, Halfspace, NoFiniteMinimizerError

from conftest import PlainProblem, make_problem

METHODS = ["gd", "agd", "bngd", "gdnp"]
CONVEX = [("ols_pop", "squared"), ("ols_data", "squared"), ("hs_pop", "logistic"),
          ("hs_pop", "squared"), ("hs_data", "logistic"), ("hs_data", "squared")]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", CONVEX, ids=lambda k: f"{k[0]}-{k[1]}")
def test_methods_converge_on_small_convex_instances(method, kind):
    prob = make_problem(*kind)
    res = gdnp.solve(prob, method, maxiter=4000, tol=1e-9)
    gap = res.history["gap"]
    assert res.status in (0, 1)
    assert np.all(np.isfinite(gap))
    assert gap[-1] < 1e-8 * max(1.0, gap[0]), (method, kind, gap[-1])
    assert res.fun == pytest.approx(prob.f(res.x), rel=1e-12)


@pytest.mark.parametrize("kind", CONVEX, ids=lambda k: f"{k[0]}-{k[1]}")
def test_gd_with_one_over_zeta_is_monotone_on_convex_problems(kind):
    """With step 1/zeta the descent lemma makes f non-increasing."""
    prob = make_problem(*kind)
    fun = gdnp.gd(prob, maxiter=300, tol=0).history["fun"]
    assert np.all(np.diff(fun) <= 1e-15 * np.abs(fun[:-1]) + 1e-16)


def test_gdnp_rho_gap_is_monotone_on_ols():
    """Step (4) decreases the Rayleigh quotient monotonically (K19 OLS theorem)."""
    prob = OLS.random(6, 100, seed=3)
    rho = gdnp.gdnp(prob, maxiter=200, tol=0).history["rho_gap"]
    assert np.all(np.diff(rho) <= 1e-14)


def test_mlp_methods_decrease_the_loss():
    prob = make_problem("mlp")
    f_star = prob.solution()[1]
    for method in METHODS:
        res = gdnp.solve(prob, method, maxiter=150, tol=0, reference=False)
        fun = res.history["fun"]
        assert res.status == 1, (method, res.message)
        assert fun[-1] < fun[0] - 0.05, method
        assert fun[-1] - f_star < 0.05, method


@pytest.mark.parametrize("seed", [0, 1])
def test_agd_restarts_its_momentum_instead_of_diverging_on_the_mlp(seed):
    """Under backtracking (unknown smoothness, a non-convex MLP) the k/(k+3) momentum without
    restart carried f from 0.67 to about 1e6 (status 2); with the function-value restart f
    never rises above f_0 and ends below GD's run of the same length plus a margin."""
    prob = MLP.random(4, 2, 10, 200, seed=seed)
    res = gdnp.agd(prob, maxiter=300, tol=0, reference=False)
    fun = res.history["fun"]
    assert res.status == 1, res.message
    assert res.n_restart > 0 and res.lr is None
    assert fun.max() <= fun[0] and fun[-1] < fun[0] - 0.15
    gd = gdnp.gd(prob, maxiter=300, tol=0, reference=False)
    assert fun[-1] < gd.fun + 0.01


def test_agd_with_known_smoothness_never_restarts():
    """A known smoothness (convex problems here) keeps the plain schedule: no restart, and the
    iterates of y_k = x_k + k/(k+3) (x_k - x_{k-1}), x_{k+1} = y_k - grad f(y_k)/zeta."""
    prob = Halfspace.random(4, 10.0, separation=0.8, seed=1)
    res = gdnp.agd(prob, maxiter=30, tol=0, reference=False, momentum="schedule")
    assert res.n_restart == 0
    x = x_prev = prob.initial_point(0)
    for k in range(30):
        y = x + k / (k + 3.0) * (x - x_prev)
        x_prev, x = x, y - prob.grad(y) / prob.smoothness
    np.testing.assert_array_equal(res.x, x)


def test_mlp_gdnp_alternation_and_outputs():
    prob = make_problem("mlp")
    res = gdnp.gdnp(prob, maxiter=40, tol=0, reference=False)
    assert res.direction.shape == (prob.hidden, prob.d)
    assert res.length.shape == (prob.hidden,)
    np.testing.assert_allclose(prob.from_bn(res.direction, res.length, res.theta), res.x)
    assert res.n_bisect > 0


@pytest.mark.parametrize("method", ["gdnp", "bngd"])
def test_a_single_unit_length_is_a_float(method):
    """BNGD had returned a 0-d array (printed with six digits), GDNP a float."""
    res = gdnp.solve(OLS.random(d=4, kappa=10.0, seed=0), method, maxiter=5)
    assert type(res.length) is float and res.direction.shape == (4,)


def test_result_type_and_history():
    prob = Halfspace.random(4, 10, separation=0.8, seed=1)
    res = gdnp.solve(prob, "gdnp", maxiter=30, tol=0)
    import scipy.optimize

    assert isinstance(res, OptimizeResult) and isinstance(res, dict)
    assert isinstance(res, scipy.optimize.OptimizeResult)  # code checking scipy's type takes it
    for key in ("x", "fun", "grad_norm", "nit", "nfev", "status", "success", "message",
                "history", "length", "direction", "n_bisect"):
        assert key in res and getattr(res, key) is res[key]
    lengths = {k: len(v) for k, v in res.history.items()}
    assert len(set(lengths.values())) == 1 and lengths["iter"] == res.nit + 1
    assert {"iter", "fun", "grad_norm2", "time", "gap"} <= set(res.history)
    assert res.status == 1 and not res.success and res.nit == 30
    assert np.all(np.diff(res.history["time"]) >= 0)
    assert "history" in repr(res)


def test_tol_gives_status_zero():
    res = gdnp.solve(OLS.random(3, 10, seed=0), "agd", maxiter=10_000, tol=1e-8)
    assert res.status == 0 and res.success
    assert res.grad_norm <= 1e-8


def test_callback_receives_intermediate_result_and_can_stop():
    seen = []

    def cb(intermediate_result):
        seen.append(intermediate_result)
        if intermediate_result.nit == 5:
            raise StopIteration

    res = gdnp.solve(OLS.random(3, 10, seed=0), "bngd", maxiter=100, tol=0, callback=cb)
    assert res.status == 99 and res.nit == 5
    assert [r.nit for r in seen] == list(range(6))
    assert {"x", "fun", "grad_norm2", "gap"} <= set(seen[-1])


@pytest.mark.parametrize("method", ["gd", "agd", "bngd", "gdnp"])
def test_a_keyword_only_intermediate_result_callback_works_as_in_scipy(method):
    """scipy passes the result by keyword to a callback whose only parameter is named
    ``intermediate_result`` (it may be keyword-only); gdnp had passed it by position."""
    seen = []

    def cb(*, intermediate_result):
        seen.append(intermediate_result.nit)
        if intermediate_result.nit == 3:
            raise StopIteration

    res = gdnp.solve(OLS.random(3, 10, seed=0), method, maxiter=50, tol=0, callback=cb)
    assert res.status == 99 and seen == [0, 1, 2, 3]
    # a mini-batch run too (BNGD and GD take batch_size)
    if method in ("gd", "bngd"):
        seen.clear()
        rng = np.random.default_rng(0)
        data = OLS.from_data(rng.standard_normal((40, 3)), rng.standard_normal(40))
        res = gdnp.solve(data, method, maxiter=50, tol=0, callback=cb, batch_size=8)
        assert res.status == 99 and seen == [0, 1, 2, 3]


@pytest.mark.parametrize("method", ["gd", "agd", "bngd", "gdnp"])
def test_callback_sees_the_converged_iterate_last(method):
    """Every recorded iterate reaches the callback, the converged one included (scipy's last
    call is at res.x); StopIteration raised there keeps status 0."""
    prob = OLS.random(3, 10, seed=0)
    seen = []
    res = gdnp.solve(prob, method, maxiter=5000, tol=1e-8, callback=seen.append)
    assert res.status == 0
    assert [r.nit for r in seen] == list(res.history["iter"])
    np.testing.assert_array_equal(seen[-1].x, res.x)
    assert seen[-1].grad_norm == pytest.approx(res.grad_norm, rel=1e-15)

    def stop_at_the_end(r):
        if r.grad_norm <= 1e-8:
            raise StopIteration

    assert gdnp.solve(prob, method, maxiter=5000, tol=1e-8, callback=stop_at_the_end).status == 0


@pytest.mark.parametrize("exc", [ZeroDivisionError, OverflowError, FloatingPointError, KeyError])
def test_an_exception_in_the_callback_propagates_and_is_not_a_divergence(exc):
    """A bug in the user's callback is the callback's error (scipy lets it propagate), not
    status 2 'diverged' of the run, even where it is an arithmetic error."""
    def cb(r):
        if r.nit == 3:
            raise exc("in the callback")

    for method in ("gd", "gdnp"):
        with pytest.raises(exc, match="in the callback"):
            gdnp.solve(OLS.random(3, 10, seed=0), method, maxiter=20, callback=cb)


def test_divergence_is_a_status_not_an_exception():
    prob = OLS.random(3, 10, seed=0)
    res = gdnp.gd(prob, lr=10.0 / prob.L, maxiter=5000, tol=0)
    assert res.status == 2 and not res.success
    assert "diverged" in res.message
    assert np.all(np.isfinite(res.x)) and np.isfinite(res.fun)
    assert res.nit < 5000
    # nit, x and fun describe the last recorded iterate; the message names the one after it
    assert res.nit == res.history["iter"][-1] and res.fun == res.history["fun"][-1]
    assert f"at iteration {res.nit + 1}" in res.message
    np.testing.assert_array_equal(res.x, gdnp.gd(prob, lr=10.0 / prob.L, maxiter=res.nit,
                                                 tol=0).x)



def test_a_breakdown_keeps_the_solvers_own_keys_at_the_returned_x():
    # the sigmoid length has no finite minimiser along this direction: the length search
    # raises inside the run, which ends with status 2 and still carries GDNP's own keys
    prob = Halfspace.random(5, 20, separation=0.8, seed=2, loss="sigmoid")
    x0 = np.array([1.0, -0.5, 0.3, 0.8, 0.2])
    res = gdnp.gdnp(prob, x0=x0, maxiter=1, tol=0, reference=False)
    assert res.status == 2 and "no finite minimiser of the length" in res.message
    assert "non-convex loss such as the sigmoid" in res.message
    assert {"length", "direction", "n_bisect", "n_certified", "T_s"} <= set(res)
    np.testing.assert_allclose(prob.from_bn(res.direction, res.length), res.x, rtol=1e-15)
    np.testing.assert_allclose(res.x, x0, rtol=1e-15)  # x_0, through to_bn and back


@pytest.mark.parametrize("method", ["bngd", "gdnp"])
def test_direction_and_length_belong_to_the_returned_x_after_a_divergence(method):
    # the iterate that diverged is not returned, and neither are its direction and length
    prob = OLS.random(3, 10, seed=0)
    opts = {"lr_g": 50.0} if method == "bngd" else {"L": 1e-3 * prob.L}
    res = gdnp.solve(prob, method, maxiter=50, tol=0, **opts)
    assert res.status == 2
    assert np.all(np.isfinite(res.direction)) and np.isfinite(res.length)
    np.testing.assert_allclose(prob.from_bn(res.direction, res.length), res.x, rtol=1e-12)


class _Along:
    """A unit's length function for the MLP's fallback search: ``f`` and ``d_g f``."""

    def __init__(self, f, df):
        self.value, self.dg = f, df


def test_mlp_length_fallback_finds_the_minimiser_the_search_around_g_missed():
    """f(g) = -exp(-(g - 6)^2 / 8) - 0.9 sigmoid(g / 50): a local minimiser at g ~ 6.0 below
    the saturated limit -0.9, and d_g f < 0 (then underflowing) all the way right of g = 272,
    where the search around the length expanded without a sign change."""
    from gdnp.decoupled import _scanned_unit_length

    def f(g):
        return -np.exp(-(g - 6.0) ** 2 / 8.0) - 0.9 / (1.0 + np.exp(-g / 50.0))

    def df(g):
        s = 1.0 / (1.0 + np.exp(-g / 50.0))
        return (g - 6.0) / 4.0 * np.exp(-(g - 6.0) ** 2 / 8.0) - 0.9 * s * (1.0 - s) / 50.0

    root, info = _scanned_unit_length(_Along(f, df), 272.0, 50, 0.0)
    assert root == pytest.approx(brentq(df, 4.0, 8.0), abs=1e-12)
    assert f(root) < f(1e4) - 0.5  # below the saturated limit
    assert info["scanned"] > 20 and info["nfev"] > info["scanned"]
    # monotone: f falls toward its limit everywhere, no minimiser to find
    assert _scanned_unit_length(_Along(lambda g: -np.tanh(g), lambda g: np.tanh(g) ** 2 - 1.0),
                                272.0, 50, 0.0) is None


def test_gdnp_on_the_mlp_continues_where_its_length_search_saturated_on_one_side():
    """MLP.random(3, 2, 10, 200, seed=0): at sweep 9 the default search around hidden unit 1's
    length (272) expanded right, where its tanh saturates, and the run had ended "no finite
    minimiser" (status 2), yet f along that length has a minimiser near 6.6, lower than the
    saturated limit; the fallback scan finds it and the run goes on to maxiter."""
    res = gdnp.solve(MLP.random(3, 2, 10.0, 200, seed=0), "gdnp", maxiter=100)
    assert res.status == 1 and res.nit == 100
    assert np.all(np.isfinite(res.length)) and np.max(np.abs(res.length)) < 1e3


def test_mlp_gdnp_returns_the_units_of_the_last_recorded_sweep():
    prob = MLP.random(3, 2, 10, 100, seed=0)
    res = gdnp.gdnp(prob, maxiter=3, tol=0)
    np.testing.assert_allclose(prob.from_bn(res.direction, res.length, res.theta), res.x,
                               rtol=1e-14)

def test_seeded_runs_are_reproducible():
    prob = Halfspace.sample(4, 10, 500, separation=0.8, seed=3)
    a = gdnp.solve(prob, "gdnp", maxiter=20, tol=0, seed=5)
    b = gdnp.solve(prob, "gdnp", maxiter=20, tol=0, seed=5)
    c = gdnp.solve(prob, "gdnp", maxiter=20, tol=0, seed=6)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.allclose(a.history["fun"][:3], c.history["fun"][:3])


def test_closed_form_length_agrees_with_bisection_on_ols():
    prob = OLS.random(5, 100, seed=2)
    a = gdnp.gdnp(prob, maxiter=50, tol=0, length="closed_form")
    b = gdnp.gdnp(prob, maxiter=50, tol=0, T_s=60)
    np.testing.assert_allclose(a.history["fun"], b.history["fun"], rtol=1e-12)


# ------------------------------------------------------------------- bisection
def test_bisect_matches_brentq_and_reports_bracket():
    def fun(t):
        return np.tanh(t - 0.3) + 0.1 * (t - 0.3)

    root, info = bisect(fun, -1.0, 1.0, maxiter=60)
    assert root == pytest.approx(brentq(fun, -1, 1, xtol=1e-15), abs=1e-15)
    assert fun(info["a"]) <= 0 <= fun(info["b"])
    assert info["nit"] <= 60 and info["expansions"] == 0


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_bisect_near_the_end_of_the_float_range(sign):
    """A bracket whose ends sum beyond the largest float: a + b had overflowed, no halving ran
    and bisect returned inf as the root. The midpoints are then a/2 + b/2."""
    root, info = bisect(lambda g: g - sign * 1.5e308, *sorted([sign * 1e308, sign * 1.7e308]),
                        maxiter=60)
    assert root == sign * 1.5e308 and info["nit"] > 40


def test_bisect_halves_exactly_T_s_times():
    root, info = bisect(lambda t: t - 0.123, -1.0, 1.0, maxiter=10)
    assert info["nit"] == 10
    assert info["b"] - info["a"] == pytest.approx(2.0 / 2**10)
    assert abs(root - 0.123) <= 1.0 / 2**10


def test_bisect_expands_the_bracket_geometrically():
    root, info = bisect(lambda t: t - 1000.0, -1.0, 1.0, maxiter=80)
    assert root == pytest.approx(1000.0, abs=1e-9)
    # the k-th expansion adds a bracket of width 2^(k+1): b_k = 2^(k+2) - 3 >= 1000 at k = 8
    assert info["expansions"] == 8
    root, info = bisect(lambda t: t + 50.0, -1.0, 1.0, maxiter=80)
    assert root == pytest.approx(-50.0, abs=1e-9)


def test_gdnp_eps_guards_h_itself_not_g_times_h():
    """K19's guard skips the direction step when |h_t| <= eps (theory guide §4); at a small
    length g_0 = 0.01 a guard on |g_t h_t| would skip steps the algorithm takes."""
    prob = Halfspace.random(4, 10.0, separation=0.8, seed=1)
    w0, g0 = prob.to_bn(prob.initial_point(0))
    w0 = w0 / np.sqrt(w0 @ prob.S @ w0)  # ||w0||_S = 1: s_0 = -1 / (L g_0 h_0)
    base = gdnp.gdnp(prob, w0=w0, g0=0.01, maxiter=1, tol=0, reference=False)
    s0 = base.history["step"][1]
    h0 = -1.0 / (prob.L * 0.01 * s0)
    taken = gdnp.gdnp(prob, w0=w0, g0=0.01, maxiter=1, tol=0, reference=False,
                      eps=0.9 * abs(h0))
    assert taken.history["step"][1] == s0  # |g h| = 0.01 |h| < eps, yet the step is taken
    skipped = gdnp.gdnp(prob, w0=w0, g0=0.01, maxiter=1, tol=0, reference=False,
                        eps=1.1 * abs(h0))
    assert skipped.history["step"][1] == 0.0


def test_a_solved_problem_still_pickles():
    """GDNP's per-direction scratch (closures of the length search) is not pickled: a problem
    used in a run can go to multiprocessing workers, and solves the same there (to rounding:
    BLAS may sum in another order at another alignment)."""
    import pickle

    for prob in (Halfspace.random(5, 10, separation=0.8, seed=0),
                 Halfspace.sample(4, 10, 200, seed=0), OLS.random(3, 10, seed=0)):
        first = gdnp.solve(prob, "gdnp", maxiter=5)
        again = gdnp.solve(pickle.loads(pickle.dumps(prob)), "gdnp", maxiter=5)
        np.testing.assert_allclose(again.x, first.x, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("method, keys", [("gd", {"lr"}), ("agd", {"lr", "momentum",
                                                                  "n_restart"})])
def test_a_breakdown_keeps_gd_and_agd_keys(method, keys):
    """A step that overflows ends with status 2 and the method's own keys, as a divergence
    the recorder sees does (code reading res.lr over many runs failed on these)."""
    rng = np.random.default_rng(0)
    X = 100.0 * rng.standard_normal((200, 3))
    y = np.where(X[:, 0] > 0, 1.0, -1.0)
    res = gdnp.solve(Halfspace.from_data(X, y), method, maxiter=50, lr=1e307)
    assert res.status == 2 and keys <= set(res)


def test_eigenvalues_are_built_sorted_and_keep_their_attributes_through_pickle():
    import pickle

    from gdnp import Eigenvalues

    ev = Eigenvalues([3.0, 1.0, 2.0], coords="bn", method="dense", radial=0.5)
    np.testing.assert_array_equal(ev, [1.0, 2.0, 3.0])
    back = pickle.loads(pickle.dumps(ev))
    assert (back.coords, back.method, back.radial) == ("bn", "dense", 0.5)
    prob = OLS.random(3, 10, seed=0)
    spec = gdnp.hessian_spectrum(prob, prob.solution()[0], coords="bn")
    assert pickle.loads(pickle.dumps(spec)).coords == "bn" and spec[1:].coords == "bn"


def test_mlp_with_the_squared_loss_has_a_length_bound_and_bngd_runs():
    """The MLP's loss argument -y F(x) lies in [-sum|theta|, sum|theta|], where the squared
    loss's l' is bounded: BNGD's default lr_g exists (it had asked for lr_g, which the
    command line cannot pass, so `gdnp solve mlp --loss squared` failed as a whole)."""
    from gdnp.problems import MLP

    p = MLP.random(3, 2, 10.0, 100, seed=0, loss="squared")
    theta = p.theta
    reach = np.sum(np.abs(theta))
    # phi = (1 + t)^2 / 2: phi'' = 1, |phi'| <= 1 + reach on [-reach, reach]; the joint
    # (g, theta) bound at E[a^2] = 1 (MLP._length_bound)
    assert p.length_smoothness == pytest.approx(
        np.sum(theta**2) + p.hidden + (1.0 + reach) * (0.8 * np.max(np.abs(theta)) + 1.0))
    res = gdnp.solve(p, "bngd", maxiter=100, reference=False)
    assert res.status == 1 and np.isfinite(res.fun)
    assert res.history["fun"][-1] < res.history["fun"][0]


@pytest.mark.parametrize("scale", [0.0, 1e-6, 1e-2, 1.0])
def test_bngd_on_an_mlp_with_small_output_weights_descends(scale):
    """BNGD's lr_g moves theta too: its default bounds the theta block (max l'' * hidden) as
    well as the lengths' (~theta). Small theta had given lr_g ~ 1/theta and a loss that grew
    500-fold with status 1; theta = 0 an error about an internal attribute."""
    from gdnp.problems import MLP

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    y = np.where(X[:, 0] + 0.8 * rng.standard_normal(200) > 0, 1.0, -1.0)
    p = MLP.from_data(X, y, theta=scale * np.array([1.0, -1.0, 1.0, -1.0]))
    assert p.length_smoothness >= p.loss.max_d2phi * p.hidden
    res = gdnp.solve(p, "bngd", maxiter=200, reference=False)
    assert res.fun < res.history["fun"][0] and np.all(res.history["fun"] < 0.7)


def test_a_scipy_style_callback_is_told_what_it_receives():
    """callback(xk) habits from scipy: reading an array attribute of the intermediate result
    says that it is the result and that its iterate is .x (it was a bare 'AttributeError:
    shape'); other missing attributes stay plain AttributeErrors."""
    from gdnp.problems import OLS

    p = OLS.random(4, 10.0)
    with pytest.raises(AttributeError, match=r"'shape'.*intermediate result.*\.x"):
        gdnp.solve(p, "gd", maxiter=2, callback=lambda xk: xk.shape)
    res = gdnp.solve(p, "gd", maxiter=2)
    with pytest.raises(AttributeError) as info:
        res.no_such_field  # noqa: B018
    assert str(info.value) == "no_such_field"
    assert not hasattr(res, "__array__")
    # indexing as xk[0] or xk[-1] says the same (it was a bare KeyError: 0); a missing field
    # name stays a plain KeyError
    for index in (lambda xk: xk[0], lambda xk: xk[-1]):
        with pytest.raises(KeyError, match=r"indexed by field names.*\.x"):
            gdnp.solve(p, "gd", maxiter=2, callback=index)
    with pytest.raises(KeyError) as info:
        res["no_such_field"]
    assert info.value.args == ("no_such_field",)


def test_mlp_length_bound_covers_the_joint_hessian_of_lengths_and_output_weights():
    """BNGD moves every g_i and theta with one rate: length_smoothness bounds the top
    eigenvalue of f's Hessian in (g, theta), also with aligned units (where it is about
    max l'' sum theta_i^2, not max l'' max theta_i^2) and with the weight norm on small
    inputs (whose theta block does not shrink with lambda_max(S))."""
    from gdnp.problems import MLP

    def joint_top_eig(p, W, g, theta):
        k = p.hidden

        def grad(v):
            gv, tv = v[:k], v[k:]
            ev = p.value_and_grad_bn(W, gv, tv)
            return np.concatenate([ev.grad_g, ev.grad_x[-k:]])

        v0, h = np.concatenate([g, theta]), 1e-6
        H = np.array([(grad(v0 + h * e) - grad(v0 - h * e)) / (2 * h)
                      for e in np.eye(2 * k)])
        return np.linalg.eigvalsh(0.5 * (H + H.T))[-1]

    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 3))
    y = np.where(X[:, 0] + 0.5 * rng.standard_normal(400) > 0, 1.0, -1.0)
    aligned = MLP.from_data(X, y, hidden=6, theta=np.full(6, 4.0))
    W = np.tile(rng.standard_normal(3), (6, 1))
    g = np.full(6, 0.01)
    assert joint_top_eig(aligned, W, g, aligned.theta) <= aligned.length_smoothness
    small = MLP.from_data(0.01 * X, y, hidden=4, normalization="weight")
    res = gdnp.solve(small, "bngd", maxiter=50, reference=False)
    assert np.max(res.history["fun"]) <= res.history["fun"][0] + 1e-12


def test_gdnp_on_an_mlp_with_fixed_output_weights_can_converge():
    """With theta fixed (K19's setting, the default) GDNP stops on the hidden units'
    gradient, which it drives to 0; the output weights' part, which no sweep reduces, is in
    the history (theta_grad2). Before, tol could never be met (status 1 with grad_norm 0.011
    although the units' gradient was 2e-17)."""
    from gdnp.problems import MLP

    p = MLP.random(3, 2, 3.0, 500, seed=2)
    res = gdnp.gdnp(p, maxiter=4000, tol=1e-8, reference=False)
    assert res.status == 0 and res.grad_norm <= 1e-8 and res.nit < 4000
    assert res.history["theta_grad2"][-1] > 1e-10  # theta's own gradient stays
    assert p.grad_norm2(p.grad(res.x)) > res.grad_norm**2


@pytest.mark.parametrize("method", ["gd", "bngd"])
def test_batch_size_n_has_an_epoch_column_like_every_mini_batch_run(method):
    """batch_size = n is the full-batch run (bit for bit) and still a mini-batch run in its
    history: one batch per epoch, so epoch = step (a loop over batch sizes ending at n had
    met a KeyError there)."""
    from gdnp.problems import Halfspace

    h = Halfspace.sample(3, 10.0, 60, seed=0)
    opts = {"lr": 0.5} if method == "gd" else {}
    a = gdnp.solve(h, method, batch_size=60, maxiter=5, reference=False, **opts)
    b = gdnp.solve(h, method, maxiter=5, reference=False, **opts)
    assert np.array_equal(a.x, b.x)
    assert np.array_equal(a.history["epoch"], np.arange(6.0))
    assert "epoch" not in b.history


def test_gdnp_start_direction_at_extreme_scales_runs_the_same_iterates():
    """Only w0's direction matters (theory guide §1). A start of size 1e154 had been refused
    as "u'w0 = 0" (||w0|| overflowed in the test), 1e100 with g0 = 1e-120 had overflowed its
    first step (status 2), and 1e-160 had run from a subnormal w'Sw, 1e-4 off; GDNP now brings
    w0 to unit scale by a power of two first: the same iterates (bit for bit for a power of
    two), and the result's direction in the start's own scale."""
    prob = Halfspace.random(8, 100, separation=0.99, seed=1)
    w = np.random.default_rng(0).standard_normal(8)
    ref = gdnp.gdnp(prob, maxiter=30, tol=0.0, reference=False, w0=w, g0=1.0)
    for scale, g0 in ((1e154, 1.0), (1e-160, 1.0), (1e100, 1e-120)):
        res = gdnp.gdnp(prob, maxiter=30, tol=0.0, reference=False, w0=w * scale, g0=g0)
        assert res.status == 1
        np.testing.assert_allclose(res.history["fun"][1:], ref.history["fun"][1:], rtol=1e-12)
    exact = gdnp.gdnp(prob, maxiter=30, tol=0.0, reference=False, w0=np.ldexp(w, 300), g0=1.0)
    assert np.array_equal(exact.history["fun"], ref.history["fun"])
    assert np.array_equal(exact.direction, np.ldexp(ref.direction, 300))


def test_gdnp_step_history_and_guard_in_the_start_scale():
    """The step column is s_t of the user's w (it scales as w^2): one direction step from w0
    with it gives the run's next direction; and a start rescaled by 2^k records steps 4^k
    apart, with the same iterates."""
    prob = OLS.random(4, 10.0, seed=3)
    w0 = np.array([0.3, 0.2, -0.1, 0.05])  # max |w0| in [1/4, 1/2): rescaled by 2 inside
    res = gdnp.gdnp(prob, maxiter=1, tol=0.0, reference=False, w0=w0, g0=1.0,
                    length="closed_form")
    ev = prob.value_and_grad_bn(w0, 1.0)  # the first direction step is at (w0, g0)
    w1 = w0 - res.history["step"][1] * ev.grad_w
    np.testing.assert_allclose(w1 / np.linalg.norm(w1),
                               res.direction / np.linalg.norm(res.direction), rtol=1e-13)
    big = gdnp.gdnp(prob, maxiter=5, tol=0.0, reference=False, w0=np.ldexp(w0, 40), g0=1.0)
    ref = gdnp.gdnp(prob, maxiter=5, tol=0.0, reference=False, w0=w0, g0=1.0)
    assert np.array_equal(big.history["fun"], ref.history["fun"])
    np.testing.assert_array_equal(big.history["step"], np.ldexp(ref.history["step"], 80))
    # the guard |h_t| <= eps reads h_t = c1 u'w_t of the user's w_t: 2^40 w0 moves where w0
    # (|h| of order 1) does not
    kept = gdnp.gdnp(prob, maxiter=3, tol=0.0, reference=False, w0=w0, g0=1.0, eps=1e3)
    moved = gdnp.gdnp(prob, maxiter=3, tol=0.0, reference=False, w0=np.ldexp(w0, 40),
                      g0=1.0, eps=1e3)
    assert np.all(kept.history["step"] == 0.0) and np.all(moved.history["step"][1:] != 0.0)


def test_gdnp_with_bn_eps_starts_at_x0():
    """With bn_eps > 0, N(c w) != c N(w): the start is not rescaled (it had been, which moved
    x_0 and left the returned length at another scale than the direction)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 3))
    prob = OLS.from_data(X, X @ [1.0, -2.0, 0.5] + 0.1 * rng.standard_normal(200),
                         bn_eps=1e-3)
    x0 = np.array([0.3, 0.2, -0.1])
    res = gdnp.gdnp(prob, x0=x0, maxiter=20, reference=False)
    assert res.history["fun"][0] == prob.f(x0)
    np.testing.assert_allclose(prob.from_bn(res.direction, res.length), res.x, rtol=1e-14)
    small = gdnp.gdnp(prob, x0=1e-3 * x0, maxiter=0, reference=False)
    np.testing.assert_allclose(small.x, 1e-3 * x0, rtol=1e-14)


def test_gd_backtracking_reaches_tol_below_the_rounding_of_f():
    """A problem of unknown smoothness (GD backtracks): once the Armijo decrease c lr ||G||^2
    is below one ulp of f, the f test is rounding; GD had locked into an exact 2-cycle at
    ||grad f|| = 1.9e-9 and never reached the default tol = 1e-10. The test in gradients
    (exact on a quadratic) takes over there."""
    prob = OLS.random(4, 10.0, seed=0)
    prob.smoothness = None
    res = gdnp.solve(prob, "gd", maxiter=2000)
    assert res.status == 0 and res.grad_norm <= 1e-10
    assert res.lr is None  # (it did backtrack)


def test_gdnp_mlp_nfev_counts_the_output_weight_steps():
    """nfev counts the L-BFGS evaluations of theta -> E[l(H theta)] that theta_steps makes
    (they had been left out: a count lower than the work done). Two runs whose theta step
    returns the same theta, claiming 0 and 1000 evaluations, differ by 1000 per sweep."""
    from unittest import mock

    prob = MLP.random(4, 3, 10, 200, seed=0)
    real = prob._optimize_theta(prob.unit_projections(prob.to_bn(prob.initial_point(0))[0]),
                                prob.to_bn(prob.initial_point(0))[1], prob.theta, 3)
    assert real[1] >= 2  # L-BFGS's evaluations and the final comparison

    def claiming(k):
        return lambda A, g, theta, maxiter: (theta, k)

    runs = []
    for k in (0, 1000):
        with mock.patch.object(prob, "_optimize_theta", claiming(k)):
            runs.append(gdnp.gdnp(prob, maxiter=4, tol=0.0, reference=False, theta_steps=3))
    assert np.array_equal(runs[0].x, runs[1].x)
    assert runs[1].nfev - runs[0].nfev == 4 * 1000


class _Rosenbrock(PlainProblem):
    """Rosenbrock's function as a problem of one's own (no known smoothness: GD and AGD
    backtrack)."""

    def __init__(self, b: float = 100.0):
        self.b, self.dim, self.S, self.u = b, 2, np.eye(2), None
        self.smoothness = self.strong_convexity = self.length_smoothness = None

    def value_and_grad(self, x):
        x = self.check_x(x)
        r = x[1] - x[0] ** 2
        return (float((1.0 - x[0]) ** 2 + self.b * r ** 2),
                np.array([-2.0 * (1.0 - x[0]) - 4.0 * self.b * x[0] * r, 2.0 * self.b * r]))

    def _reference_solution(self):
        return np.ones(2), 0.0


@pytest.mark.parametrize("x0", [(-1.2, 1.0), (2.0, 2.0), (-1.0, -1.0), (0.0, 3.0)])
def test_agd_backtracking_converges_on_rosenbrock(x0):
    """AGD with backtracking (unknown smoothness) on Rosenbrock's valley: it had kept the
    uphill point at each restart and doubled its trial step, a limit cycle that restarted
    about every other step and ended 20x above its own best (0.0497 from (-1.2, 1)); it now
    drops the uphill step and grows its trial step by 1.25, and reaches tol = 1e-6 in under
    8000 steps from each of these starts (GD: about 15000)."""
    prob = _Rosenbrock()
    res = gdnp.solve(prob, "agd", x0=np.array(x0), maxiter=8000, tol=1e-6)
    assert res.status == 0 and res.fun < 1e-10
    assert res.fun <= np.min(res.history["fun"]) * (1 + 1e-12) + 1e-300


class _WrongGradient(_Rosenbrock):
    """Rosenbrock's function with its gradient's sign flipped: no direction descends."""

    def value_and_grad(self, x):
        f, g = super().value_and_grad(x)
        return f, -g


@pytest.mark.parametrize("method", ["gd", "agd"])
def test_a_line_search_that_finds_no_decrease_ends_the_run(method):
    """A wrong gradient under backtracking: GD had crept on by steps of 1e-20 (accepted by the
    gradient form of the Armijo test at f's rounding, or untested after 60 halvings) and
    reported 'maximum number of iterations reached' after 2000 iterations at f = 24.2; the
    run now ends at once with status 2 and says why."""
    prob = _WrongGradient()
    res = gdnp.solve(prob, method, x0=np.array([-1.2, 1.0]), maxiter=2000, tol=1e-6)
    assert res.status == 2 and res.nit == 0
    assert "line search failed at iteration 0" in res.message
    assert "finite differences" in res.message
    # the right gradient from the same start runs on (GD needs about 15000 steps to tol)
    right = gdnp.solve(_Rosenbrock(), method, x0=np.array([-1.2, 1.0]), maxiter=3000, tol=1e-6)
    assert right.status in (0, 1) and right.fun < 1e-2


def test_agd_never_records_the_uphill_point_it_drops():
    """Under backtracking a restart drops the uphill step: the recorded history never rises,
    the result is never an uphill point (it had been whenever maxiter ended on one), and the
    restart's step reuses the last iterate's evaluation."""
    prob = _Rosenbrock()
    for maxiter in range(40, 200, 7):
        res = gdnp.solve(prob, "agd", x0=np.array([-1.2, 1.0]), maxiter=maxiter, tol=0.0)
        assert np.all(np.diff(res.history["fun"]) <= 0.0)
        assert res.fun == np.min(res.history["fun"])
    assert res.n_restart > 0
    # two evaluations per step, one at a restart, and the line search's own
    assert res.nfev < 2 * maxiter + 1 + 60 * maxiter


def _scaled_ols(f_star: float, seed: int = 2):
    """OLS with L = 1e4 and a chosen f*, its smoothness unknown (GD and AGD backtrack)."""
    base = OLS.random(5, 100.0, seed=seed)
    S, u = base.S * 1e4, base.u * 1e4
    w = np.linalg.solve(S, -u)
    prob = OLS.from_moments(S, u, float(-u @ w) + f_star)
    prob.smoothness = None
    return prob, w


@pytest.mark.parametrize("method", ["gd", "agd"])
def test_backtracking_from_near_the_minimum_of_a_stiff_problem(method):
    """From a start 1e-6 off the minimum of a problem with L = 1e4 the first trial step (2)
    needs many halvings, and the Armijo decrease falls below f's rounding on the way: an
    earlier cap on those halvings ended the run at iteration 0 as 'line search failed'. It
    converges, as GD with its fixed step does."""
    prob, w = _scaled_ols(1e6)
    res = gdnp.solve(prob, method, x0=w + 1e-6, maxiter=20000, tol=1e-10)
    assert res.status == 0 and np.linalg.norm(res.x - w) < 1e-9


def test_backtracking_on_problems_of_any_scale():
    """f = s ||x||^2 with s up to 1e30: the first trial step needs about log2(s) halvings,
    more than a fixed 60 allowed; GD converges on every scale."""
    for scale in (1e10, 1e20, 1e30):
        prob = _Quadratic(scale)
        res = gdnp.solve(prob, "gd", x0=np.array([0.7, -1.3]), maxiter=2000, tol=1e-10 * scale)
        assert res.status == 0 and np.linalg.norm(res.x) < 1e-9


class _Quadratic(PlainProblem):
    def __init__(self, scale: float):
        self.scale, self.dim, self.S, self.u = scale, 2, np.eye(2), None
        self.smoothness = self.strong_convexity = self.length_smoothness = None

    def value_and_grad(self, x):
        x = self.check_x(x)
        return self.scale * float(x @ x), 2.0 * self.scale * x

    def _reference_solution(self):
        return np.zeros(2), 0.0


def test_agd_restarts_below_the_rounding_of_f():
    """With f* = 1e6 the differences of f between iterates are at f's rounding, which had
    decided AGD's restart test: momentum carried its exact gap up in 2560 of 4000 steps and it
    did not converge. Below the rounding the test compares by the gradients (the trapezoid
    rule, exact on a quadratic): AGD converges as fast as with f* = 0.01 and its exact gap
    never rises."""
    counts = {}
    for f_star in (0.01, 1e6):
        prob, w = _scaled_ols(f_star)
        gaps = []

        def exact(r, prob=prob, w=w, gaps=gaps):
            d = r.x - w
            gaps.append(float(d @ prob.S @ d))

        res = gdnp.solve(prob, "agd", x0=w + 1e-3, maxiter=4000, tol=1e-10, callback=exact)
        assert res.status == 0
        assert np.all(np.diff(gaps) <= 1e-3 * np.abs(gaps[:-1]) + 1e-30)
        counts[f_star] = res.nit
    assert counts[1e6] <= 2 * counts[0.01]


def test_a_run_on_a_problem_without_a_minimiser_says_so():
    """Separable data: the reference finds no finite minimiser, so there is no gap, and GDNP
    (whose analysis assumes a minimiser) settled into a two-point cycle at f = 0.0393 and
    0.0423 after reaching 0.0159 at iteration 2, ending 'maximum number of iterations
    reached' and nothing else. The message now says both."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 5))
    y = np.where((X - X.mean(0)) @ rng.standard_normal(5) > 0, 1.0, -1.0)
    prob = Halfspace.from_data(X, y)
    res = gdnp.solve(prob, "gdnp", maxiter=300, tol=0)
    assert res.status == 1 and "gap" not in res.history
    assert "no finite minimiser (X, y: the data are linearly separable" in res.message
    best = int(np.argmin(res.history["fun"]))
    assert res.fun > res.history["fun"][best]
    assert f"above its best, {res.history['fun'][best]:.6g} at iteration {best}" in res.message
    gd = gdnp.solve(prob, "gd", maxiter=300, tol=0)  # GD's f keeps falling: no such clause
    assert "no finite minimiser" in gd.message and "above its best" not in gd.message


def _record_every_problems():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 6))
    y = np.where(X @ rng.standard_normal(6) + rng.logistic(size=3000) > 0, 1.0, -1.0)
    return {"ols": OLS.from_data(X, X @ np.ones(6) + rng.standard_normal(3000)),
            "halfspace-l1": Halfspace.from_data(X, y, normalization="l1"),
            "mlp": MLP.random(4, 3, 10.0, 600, seed=0)}


@pytest.mark.parametrize("name", ["ols", "halfspace-l1", "mlp"])
@pytest.mark.parametrize("method", ["gd", "bngd"])
def test_record_every_records_less_and_moves_the_same(name, method):
    """A mini-batch step had also made a full pass over the data for the history (a B = 32
    step at n = 1e5, d = 100 cost 5.7 ms against 0.1 ms for its batch gradient): with
    record_every the full objective is evaluated every so many steps, and the iterates, and
    so the recorded values, are those of recording every step, bit for bit."""
    prob = _record_every_problems()[name]
    kw = {"batch_size": 32, "maxiter": 120, "reference": False,
          **({"lr": 0.3} if method == "gd" else {})}
    every = gdnp.solve(prob, method, **kw)
    sparse = gdnp.solve(prob, method, record_every=9, **kw)
    steps = sparse.history["iter"]
    assert list(steps) == [*range(0, 120, 9), 120] and sparse.record_every == 9
    for key, col in sparse.history.items():
        if key != "time":
            np.testing.assert_array_equal(col, every.history[key][steps], err_msg=key)
    np.testing.assert_array_equal(sparse.x, every.x)
    assert sparse.nit == 120 and sparse.nfev == len(steps)


@pytest.mark.parametrize("value, error, match", [
    (0, ValueError, "record_every must be an integer >= 1"),
    (2.0, TypeError, "record_every must be an integer >= 1"),
    (True, TypeError, "record_every must be an integer >= 1"),
])
def test_record_every_is_checked(value, error, match):
    prob = _record_every_problems()["ols"]
    with pytest.raises(error, match=match):
        gdnp.solve(prob, "gd", batch_size=32, record_every=value, maxiter=3)


@pytest.mark.parametrize("method", ["gd", "bngd"])
def test_record_every_needs_mini_batches(method):
    with pytest.raises(ValueError, match="record_every=5 applies to mini-batch runs only"):
        gdnp.solve(OLS.random(3, 10.0, seed=0), method, record_every=5, maxiter=3)


def _separable_halfspace():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 5))
    return Halfspace.from_data(X, np.where((X - X.mean(0)) @ np.ones(5) > 0, 1.0, -1.0))


@pytest.mark.parametrize("make", [
    lambda: Halfspace.sample(5, 10.0, 2000, separation=0.5, seed=0),
    _separable_halfspace,
    lambda: Halfspace.random(5, 10.0, seed=0),
    lambda: OLS.random(4, 10.0, seed=0),
    lambda: MLP.random(4, 2, 10.0, 300, seed=0),
], ids=["data", "separable", "population", "ols", "mlp"])
@pytest.mark.parametrize("method", ["gd", "agd", "bngd", "gdnp"])
def test_a_problem_is_freed_when_dropped_after_a_run(make, method):
    """No reference cycle keeps a problem alive after a run: BNGD's and GDNP's recorders had
    held their extras closures (recorder -> closure -> recorder), scipy's brentq keeps its
    function in a cycle, and a stored NoFiniteMinimizerError its traceback's frames, so that
    looping over data sets grew memory by a copy of X per problem until the cyclic garbage
    collector ran (1590 MB after five n = 3e5 problems, 325 MB after gc.collect())."""
    import gc
    import weakref

    enabled = gc.isenabled()
    gc.collect()
    gc.disable()  # only reference counting: what frees memory as the loop goes
    try:
        prob = make()
        ref = weakref.ref(prob)
        try:
            gdnp.solve(prob, method, maxiter=5)
        except NoFiniteMinimizerError:  # (the separable problem's reference, for no method)
            pass
        del prob
        assert ref() is None
    finally:
        if enabled:
            gc.enable()


def test_gdnp_on_mlp_samples_is_no_descent_method_and_l_shortens_its_steps():
    """Documents a disagreement with the Gaussian theory (theory guide §5): on samples K19's
    direction step s = -||w||_S^3 / (L g h) is not bounded by a unit's curvature, so from the
    reference optimum (where GD stays) GDNP's unit 1 steps with s = 45.6 and f rises; with a
    tenfold L the optimum holds."""
    p = MLP.random(3, 2, 10.0, 60, seed=0)
    xs = p.solution().x
    f_star = p.f(xs)
    gd = gdnp.solve(p, "gd", x0=xs, maxiter=50)
    assert gd.history["fun"].max() <= f_star * (1 + 1e-12)
    res = gdnp.solve(p, "gdnp", x0=xs, maxiter=50)
    assert res.history["fun"].max() > 2.0 * f_star  # 0.902 against 0.378
    long_l = gdnp.solve(p, "gdnp", x0=xs, maxiter=50, L=10.0 * p.L)
    assert long_l.history["fun"].max() <= f_star * (1 + 1e-9)


@pytest.mark.parametrize("certify", [False, None])
def test_gdnp_mlp_nfev_counts_every_evaluation_of_its_length_searches(certify, monkeypatch):
    """nfev is one per sweep plus every O(n) evaluation along a unit's length; a search whose
    expansion failed, the fallback scan and its values had gone uncounted (14 of 884 at 8
    sweeps of this problem), also in the run that ends there (status 2)."""
    from gdnp.problems import UnitView

    calls = [0]
    dg_value, value = UnitView._dg_value, UnitView.value

    def counted_dg(self, g):
        calls[0] += 1
        return dg_value(self, g)

    def counted_value(self, g):
        calls[0] += 1
        return value(self, g)

    monkeypatch.setattr(UnitView, "_dg_value", counted_dg)
    monkeypatch.setattr(UnitView, "value", counted_value)
    prob = MLP.random(3, 2, 10.0, 60, seed=0)
    for sweeps in (8, 50):  # 8: past the first scan; 50: ends with status 2 at sweep 13
        calls[0] = 0
        res = gdnp.gdnp(prob, maxiter=sweeps, tol=0.0, reference=False, certify=certify)
        assert res.nfev == calls[0] + res.nit + 1
    assert res.status == 2


def test_mlp_default_output_weights_shrink_with_the_width():
    """The default output weights are ``+-(1 + U[0, 1)) min(1, 2/sqrt(hidden))``: those of up
    to four units unchanged, wider layers scaled so that the output keeps its spread (300
    units on 200 samples had started at f = 5.08, against log 2 = 0.69 at zero output)."""
    for hidden in (1, 4, 9, 300):
        p = MLP.random(3, hidden, 10.0, 200, seed=0)
        raw = np.abs(p.theta) / min(1.0, 2.0 / np.sqrt(hidden))
        assert np.all((raw >= 1.0) & (raw < 2.0))
        if hidden <= 4:
            assert np.all(np.abs(p.theta) >= 1.0)
    wide = MLP.random(3, 300, 10.0, 200, seed=0)
    assert wide.f(wide.initial_point(0)) < 1.0


def test_mlp_evaluation_keeps_two_network_sized_arrays():
    """``MLP.value_and_grad`` forms its ``(n, hidden)`` arrays in place: two alive at most
    (it had peaked at four, whose freeing and faulting back at every evaluation was more
    than half of a reference solution's time), with the same numbers."""
    import tracemalloc

    p = MLP.random(10, 16, 10.0, 20000, seed=0)
    x = p.initial_point(0)
    fun, grad = p.value_and_grad(x)
    tracemalloc.start()
    try:
        again = p.value_and_grad(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2.5 * p.n * p.hidden * 8
    assert again[0] == fun and np.array_equal(again[1], grad)
    assert p.f(x) == fun  # f and value_and_grad share the forward pass, bit for bit


def _mlp_bn_coordinates(prob, x):
    """``v = (w_1, g_1, ..., w_h, g_h, theta)`` at ``x`` and ``v -> grad f_bn(v)`` from the
    MLP's exact BN gradient (``value_and_grad_bn``)."""
    hid, d = prob.hidden, prob.d
    w, g = prob.to_bn(x)
    theta = prob.split(x)[1]

    def grad(v):
        blocks = v[: hid * (d + 1)].reshape(hid, d + 1)
        ev = prob.value_and_grad_bn(blocks[:, :d], blocks[:, d], v[hid * (d + 1):])
        return np.concatenate([np.column_stack([ev.grad_w, ev.grad_g]).ravel(),
                               ev.grad_x[hid * d:]])

    return np.concatenate([np.column_stack([w, g]).ravel(), theta]), grad


@pytest.mark.parametrize("normalization, bn_eps", [("batch", 0.0), ("weight", 0.0),
                                                   ("l1", 0.0), ("l3", 0.0), ("batch", 0.1)])
def test_mlp_bn_hessian_is_the_bn_gradients_derivative(normalization, bn_eps):
    """coords='bn' on the MLP: the Hessian of f_bn in (w_i, g_i, theta) on the units' tangent
    spaces, from the exact Hessian by the chain rule, equals central differences of the exact
    BN gradient (1e-10 of its largest entry measured; asserted to 1e-7), and each unit's
    radial curvature is 0 for a scale-invariant norm and that of the differences with
    bn_eps > 0."""
    from gdnp.spectrum import _mlp_bn_matrix, _reflector_matrix

    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 3)) * [1.0, 2.0, 0.5]
    y = np.sign(X @ [1.0, -1.0, 0.5] + 0.3 * rng.standard_normal(60))
    prob = MLP.from_data(X, y, hidden=2, normalization=normalization, bn_eps=bn_eps)
    x = 1.3 * prob.initial_point(1)
    v0, grad = _mlp_bn_coordinates(prob, x)
    H = np.empty((v0.size, v0.size))
    for j in range(v0.size):
        step = np.zeros(v0.size)
        step[j] = 1e-5 * max(1.0, abs(v0[j]))
        H[:, j] = (grad(v0 + step) - grad(v0 - step)) / (2.0 * step[j])
    H = 0.5 * (H + H.T)
    hid, d = prob.hidden, prob.d
    T = np.zeros((v0.size, prob.dim))
    w = prob.to_bn(x)[0]
    radial = []
    for i in range(hid):
        e = w[i] / np.linalg.norm(w[i])
        block = slice(i * (d + 1), i * (d + 1) + d)
        T[block, i * (d - 1):(i + 1) * (d - 1)] = _reflector_matrix(e)[:, 1:]
        T[i * (d + 1) + d, hid * (d - 1) + i] = 1.0
        radial.append(e @ H[block, block] @ e)
    T[hid * (d + 1):, hid * d:] = np.eye(hid)
    M, got_radial = _mlp_bn_matrix(prob, x, True)
    scale = np.abs(M).max()
    np.testing.assert_allclose(M, T.T @ H @ T, rtol=0, atol=1e-7 * scale)
    np.testing.assert_allclose(got_radial, radial, rtol=0, atol=1e-7 * scale)
    if bn_eps == 0.0:
        np.testing.assert_allclose(got_radial, 0.0, atol=1e-14 * scale)
    ev = gdnp.hessian_spectrum(prob, x, coords="bn")
    assert (ev.size, ev.coords, ev.method) == (prob.dim, "bn", "dense")
    np.testing.assert_allclose(ev, np.linalg.eigvalsh(T.T @ H @ T), rtol=0, atol=1e-7 * scale)
    directions = gdnp.hessian_spectrum(prob, x, coords="bn", include_length=False)
    assert directions.size == hid * (d - 1)
    np.testing.assert_allclose(directions, np.linalg.eigvalsh(M[:hid * (d - 1), :hid * (d - 1)]),
                               rtol=0, atol=1e-12 * scale)


def test_gdnp_reuses_the_last_direction_states_arrays_on_data():
    """A GDNP step builds the next direction state of an empirical halfspace in the arrays of
    the last one (no new arrays of n floats per iteration): the same numbers as a fresh
    state, in the same memory; such states are the run's own, never the problem's cached
    one (which another caller, another thread's run, can be handed)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 4))
    y = np.where(X @ [1.0, -2.0, 0.5, 0.0] + rng.standard_normal(500) > 0, 1.0, -1.0)
    prob = Halfspace.from_data(X, y)
    w1, w2 = np.array([1.0, 0.2, -0.3, 0.1]), np.array([0.7, -1.0, 0.4, 0.2])
    first = prob._state(w1, fresh=True, private=True)
    assert getattr(prob, "_cache", None) is None  # (not cached)
    prob._length_function(first)(0.8)  # makes the scratch buffer
    old = (first["zw"], first["buf"])
    second = prob._state(w2, fresh=True, recycle=first, private=True)
    assert second["zw"] is old[0] and second["buf"] is old[1]
    fresh = Halfspace.from_data(X, y)._state(w2)
    np.testing.assert_array_equal(second["zw"], fresh["zw"])


def test_gdnp_on_the_mlp_with_theta_fixed_says_what_converged():
    """With theta fixed (theta_steps=0, K19's setting) GDNP converges in the hidden units
    only: at theta = 0, or with saturated units, that is at once, and the message says so
    with theta's own gradient norm (it had read plainly "converged")."""
    prob = MLP.random(3, 2, 10.0, 100, seed=0)
    x = np.ones(8)
    x[6:] = 0.0
    res = gdnp.solve(prob, "gdnp", x0=x, maxiter=50)
    theta_grad = np.linalg.norm(prob.grad(res.x)[6:])
    assert res.status == 0 and theta_grad > 0.1
    assert "hidden units' gradient norm" in res.message and "theta is 0" in res.message
    assert f"its own gradient norm is {theta_grad:.3g}" in res.message
    res = gdnp.solve(prob, "gdnp", x0=1e100 * np.ones(8), maxiter=50)
    assert res.status == 0 and "pass theta_steps > 0" in res.message
