"""Bad input: each case raises ValueError/TypeError whose message names the problem."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import gdnp
from gdnp.problems import (
    MLP,
    OLS,
    Halfspace,
    NoFiniteMinimizerError,
    SingularCovarianceError,
)

from conftest import PlainProblem, halfspace_data

S2 = np.array([[2.0, 0.3], [0.3, 1.0]])
U2 = np.array([0.3, -0.2])


def test_wrong_shapes():
    with pytest.raises(ValueError, match="u must have shape"):
        OLS.from_moments(S2, np.ones(3), 1.0)
    with pytest.raises(ValueError, match="S must be a non-empty square"):
        OLS.from_moments(np.ones((2, 3)), U2, 1.0)
    X, y = halfspace_data()
    with pytest.raises(ValueError, match="y must have 300 entries"):
        Halfspace.from_data(X, y[:-1])
    with pytest.raises(ValueError, match="X must be 2-dimensional"):
        Halfspace.from_data(X[:, 0], y)
    prob = OLS.random(3, 10, seed=0)
    with pytest.raises(ValueError, match=r"x0 must have shape \(3,\)"):
        gdnp.gd(prob, x0=np.ones(4))


@pytest.mark.parametrize("where", ["X", "y"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_in_data(where, bad):
    X, y = halfspace_data()
    X, y = X.copy(), y.copy()
    if where == "X":
        X[3, 1] = bad
    else:
        y[3] = bad
    with pytest.raises(ValueError, match=f"{where} contains 1 NaN or infinite"):
        OLS.from_data(X, y)


@pytest.mark.parametrize("name", ["S", "u"])
def test_nan_in_moments(name):
    S, u = S2.copy(), U2.copy()
    (S if name == "S" else u)[0, ...] = np.nan
    with pytest.raises(ValueError, match=f"{name} contains"):
        Halfspace.gaussian(S, u)


def test_labels_outside_pm1():
    X, y = halfspace_data()
    with pytest.raises(ValueError, match=r"y must contain only -1 and \+1; found \[0.0\]"):
        Halfspace.from_data(X, (y + 1) / 2)
    with pytest.raises(ValueError, match="y must contain only -1 and"):
        MLP.from_data(X, 2 * y)


@pytest.mark.parametrize("kappa", [0.5, -1.0, np.nan, np.inf])
def test_kappa_below_one(kappa):
    with pytest.raises(ValueError, match="kappa must be a finite number >= 1"):
        OLS.random(3, kappa)


def test_kappa_wrong_type_and_d_below_one():
    with pytest.raises(TypeError, match="kappa must be a real number"):
        Halfspace.random(3, "10")
    with pytest.raises(ValueError, match="d must be >= 1"):
        Halfspace.random(0, 10.0)
    with pytest.raises(TypeError, match="d must be an integer"):
        OLS.random(2.5, 10.0)


def test_non_symmetric_S():
    with pytest.raises(ValueError, match="S must be symmetric"):
        OLS.from_moments(np.array([[1.0, 0.5], [0.0, 1.0]]), U2, 1.0)


def test_indefinite_S():
    with pytest.raises(ValueError, match="S must be positive definite"):
        Halfspace.gaussian(np.array([[1.0, 0.0], [0.0, -0.1]]), U2)


def test_gaussian_model_needs_separation_below_one():
    u = np.array([1.5, 0.0])
    with pytest.raises(ValueError, match=r"u'S\^-1 u < 1"):
        Halfspace.gaussian(S2, u)
    with pytest.raises(ValueError, match=r"separation must lie in \[1e-150, 1\)"):
        Halfspace.random(3, 10, separation=1.0)


def test_singular_empirical_S_constant_feature():
    X, y = halfspace_data()
    X = X.copy()
    X[:, 2] = 4.0
    with pytest.raises(SingularCovarianceError, match=r"constant feature column\(s\) \[2\]"):
        Halfspace.from_data(X, y)
    ridge = Halfspace.from_data(X, y, ridge=1e-3)
    assert np.linalg.eigvalsh(ridge.S)[0] == pytest.approx(1e-3)
    dropped = Halfspace.from_data(X, y, null_space="drop")
    assert dropped.dim == 3
    assert gdnp.gdnp(dropped, maxiter=50, tol=0).history["gap"][-1] < 1e-8


def test_singular_S_from_a_tiny_but_varying_column_is_not_called_constant():
    X, y = halfspace_data()
    X = X * np.array([1e-4, 1.0, 1.0, 1e4])
    with pytest.raises(SingularCovarianceError,
                       match=r"feature column\(s\) \[0\] of scale .*standardising") as info:
        Halfspace.from_data(X, y)
    assert "constant" not in str(info.value)


def test_singular_empirical_S_collinear_features():
    X, y = halfspace_data()
    X = np.column_stack([X, X[:, 0] - 2 * X[:, 1]])
    with pytest.raises(SingularCovarianceError, match=r"collinear feature columns \[0, 1, 4\]"):
        OLS.from_data(X, y)
    assert OLS.from_data(X, y, null_space="drop").dim == 4


def test_x0_zero():
    prob = Halfspace.random(3, 10, seed=0)
    with pytest.raises(ValueError, match="x0: the zero vector has no BN direction"):
        gdnp.gdnp(prob, x0=np.zeros(3))
    with pytest.raises(ValueError, match="x0: the zero vector"):
        gdnp.bngd(prob, x0=np.zeros(3))


def test_to_bn_names_its_argument_x_and_the_solvers_name_x0():
    prob = Halfspace.random(3, 10, seed=0)
    with pytest.raises(ValueError, match="^x: the zero vector has no BN direction; pass a "
                                         "non-zero x$"):
        prob.to_bn(np.zeros(3))
    mlp = MLP.random(3, 2, 10, 100, seed=0)
    with pytest.raises(ValueError, match="^x: some hidden unit has zero weights"):
        mlp.to_bn(np.zeros(mlp.dim))
    with pytest.raises(ValueError, match="^x0: some hidden unit has zero weights"):
        gdnp.gdnp(mlp, x0=np.zeros(mlp.dim), reference=False)


def test_initial_direction_orthogonal_to_u():
    prob = Halfspace.random(3, 10, seed=0)
    w0 = np.cross(prob.u, [1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="u'w0 = 0, where GDNP stalls"):
        gdnp.gdnp(prob, x0=w0)


def test_separable_data_has_no_finite_length():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 3))
    X -= X.mean(axis=0)  # separable through the origin after the centring gdnp applies
    y = np.sign(X @ np.array([1.0, -2.0, 0.5]))
    prob = Halfspace.from_data(X, y)
    with pytest.raises(NoFiniteMinimizerError, match="linearly separable"):
        prob.solution()
    # one behaviour across problems: the run ends with status 2 and its history, and only
    # solution() raises NoFiniteMinimizerError
    res = gdnp.gdnp(prob, x0=np.array([1.0, -2.0, 0.5]), maxiter=20, reference=False)
    assert res.status == 2 and not res.success
    assert "no finite minimiser" in res.message and "separable data" in res.message
    assert res.history["iter"].size >= 1 and np.all(np.isfinite(res.x))


def test_unknown_method_option_and_loss():
    prob = OLS.random(3, 10, seed=0)
    with pytest.raises(ValueError, match=r"method 'newton' is unknown; choose one of"):
        gdnp.solve(prob, "newton")
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['T_s'\] for method 'gd'"):
        gdnp.solve(prob, "gd", T_s=3)
    with pytest.raises(ValueError, match="loss 'hinge' is unknown"):
        Halfspace.random(3, 10, loss="hinge")
    with pytest.raises(ValueError, match="length='closed_form' is available for OLS only"):
        gdnp.gdnp(Halfspace.random(3, 10, seed=0), length="closed_form")


@pytest.mark.parametrize("kw,match", [
    ({"lr": -1.0}, "lr must be a finite number > 0"),
    ({"lr_g": 0.0}, "lr_g must be a finite number > 0"),
    ({"maxiter": -3}, "maxiter must be an integer >= 0"),
    ({"tol": np.nan}, "tol must be a finite number >= 0"),
])
def test_bad_solver_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        gdnp.bngd(OLS.random(3, 10, seed=0), **kw)


def test_problem_must_be_a_problem_and_seed_must_be_given():
    with pytest.raises(TypeError, match="problem must be a gdnp.problems.Problem"):
        gdnp.gd("ols")
    with pytest.raises(TypeError, match="seed must be an int"):
        OLS.random(3, 10, seed=None)


def test_no_solver_returns_nan():
    prob = OLS.random(3, 10, seed=0)
    for method in gdnp.METHODS:
        res = gdnp.solve(prob, method, maxiter=200, tol=0, lr=1e6) if method != "gdnp" else \
            gdnp.solve(prob, method, maxiter=200, tol=0)
        assert np.isfinite(res.fun) and np.all(np.isfinite(res.x)), method


# ------------------------------------------------------------------ hardening
X4, Y4 = halfspace_data(n=60, d=3)


def _big_entry(X):
    X = X.copy()
    X[0, 0] = 1e308
    return X


@pytest.mark.parametrize("make, exc, match", [
    # complex input is refused, not truncated to its real part
    (lambda: OLS.from_data(X4 + 1j, Y4), TypeError, "X must be real"),
    (lambda: Halfspace.from_data(X4, Y4 + 0j), TypeError, "y must be real"),
    (lambda: OLS.from_moments(S2 + 0j, U2, 1.0), TypeError, "S must be real"),
    (lambda: OLS.from_moments(S2, U2 + 0j, 1.0), TypeError, "u must be real"),
    (lambda: gdnp.gd(OLS.random(2, 10), x0=np.ones(2) + 0j), TypeError, "x0 must be real"),
    # scalars: strings, bools, lists, NaN
    (lambda: OLS.from_data(X4, Y4, ridge="0.1"), TypeError, "ridge must be a real number"),
    (lambda: Halfspace.random(3, 10, separation="0.5"), TypeError, "separation must be a real"),
    (lambda: OLS.random(3, 10, noise=True), TypeError, "noise must be a real number"),
    (lambda: MLP.random(3, 2, 10, 50, teacher_scale=np.nan), ValueError, "teacher_scale"),
    (lambda: MLP.random(3, 2, 10, 50, teacher_scale=[3.0]), TypeError, "teacher_scale"),
    (lambda: OLS.random(3, 10, seed=-1), ValueError, "seed must be a non-negative integer"),
    (lambda: OLS.from_moments(S2, U2, "1"), TypeError, r"yy \(E\[y\^2\]\) must be a real"),
    # float64 range: a condition number no d x d matrix can carry, overflow, underflow
    (lambda: OLS.random(3, 1e300), ValueError, "kappa = 1e\\+300 is beyond float64's reach"),
    (lambda: Halfspace.gaussian(S2 / 2 * 1e308, U2), ValueError, "S has entries as large as"),
    (lambda: OLS.from_data(X4 * 1e200, Y4), ValueError, "X has entries as large as"),
    (lambda: OLS.from_data(_big_entry(X4), Y4), ValueError, "X has entries as large as"),
    (lambda: OLS.from_data(X4 * 1e-308, Y4), ValueError, "X has no entry larger than"),
    # sizes beyond memory: refused at once, before allocating
    (lambda: OLS.random(10**9, 10), ValueError, "GiB of memory"),
    (lambda: OLS.random(2**63, 10), ValueError, "GiB of memory"),
    (lambda: Halfspace.sample(3, 10, n=10**12), ValueError, "GiB of memory"),
    (lambda: MLP.random(3, 10**12, 10, 50), ValueError, "GiB of memory"),
    (lambda: Halfspace.random(3, 10, n_nodes=10**12), ValueError, "n_nodes must be at most"),
    # labels and shapes that teach the fix
    (lambda: Halfspace.from_data(X4, (Y4 + 1) / 2), ValueError, r"2\*y - 1"),
    (lambda: Halfspace.from_data(X4, Y4 > 0), ValueError, r"booleans .* 2\*y - 1"),
    (lambda: Halfspace.from_data(X4, Y4[:, None]), ValueError, r"y.ravel\(\)"),
    (lambda: OLS.from_data(X4, Y4[:, None]), ValueError, r"y.ravel\(\)"),
    # theta_steps is the MLP's; elsewhere it is refused instead of ignored
    (lambda: gdnp.gdnp(OLS.random(3, 10), theta_steps=3), ValueError, "MLP only"),
])
def test_bad_input_names_the_argument(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_memory_limit_is_a_documented_cap(monkeypatch):
    monkeypatch.setenv("GDNP_MAX_BYTES", "1e6")
    with pytest.raises(ValueError, match=r"GiB of memory, more than the cap GDNP_MAX_BYTES=1e6"):
        OLS.random(400, 10)  # 400 x 400 needs ~5 MB
    OLS.random(100, 10)  # ~0.3 MB fits
    monkeypatch.setenv("GDNP_MAX_BYTES", "lots")
    with pytest.raises(ValueError, match="GDNP_MAX_BYTES"):
        OLS.random(3, 10)


def test_ill_conditioned_but_positive_definite_S_is_accepted_with_a_warning():
    from gdnp.problems._validate import ConditioningWarning

    with pytest.warns(ConditioningWarning, match=r"cond\(S\) = 1e\+12"):
        prob = OLS.random(3, 1e12, seed=0)
    assert prob.kappa == pytest.approx(1e12, rel=1e-3)
    # from_data applies the same threshold (10 d eps) as the population constructors
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 3)) * np.array([1.0, 1.0, 1e-6])
    with pytest.warns(ConditioningWarning):
        data_prob = OLS.from_data(X, X[:, 0])
    assert data_prob.kappa > 1e11
    with pytest.warns(ConditioningWarning):
        OLS.from_moments(data_prob.S, data_prob.u, data_prob.yy)
    with pytest.raises(ValueError, match="S must be positive definite"):
        OLS.from_moments(np.diag([1.0, 1e-16]), U2, 1.0)


@pytest.mark.parametrize("make, match", [
    (lambda: gdnp.bngd(OLS.random(3, 10, seed=0), lr=1e300), "diverged"),
    (lambda: gdnp.gdnp(OLS.random(3, 10, seed=0), L=1e-300), "diverged: NonFiniteError"),
    # separable labels: a unit's length has no finite minimiser (its tanh saturates); with
    # every label -1 GDNP now refuses the problem (u = 0 up to rounding, a ValueError)
    (lambda: gdnp.gdnp(MLP.from_data(X3 := np.random.default_rng(0).standard_normal((200, 3)),
                                     np.sign(X3[:, 0]), hidden=2), maxiter=50, reference=False),
     "has no finite minimiser"),
])
def test_breakdown_during_a_run_is_status_2_with_history(make, match):
    res = make()
    assert res.status == 2 and not res.success
    assert match in res.message
    assert res.history["iter"].size >= 1
    assert np.all(np.isfinite(res.x)) and np.isfinite(res.fun)
    assert res.fun == res.history["fun"][-1]


def test_floating_point_errors_are_a_status_too():
    prob = OLS.random(3, 10, seed=0)
    with np.errstate(all="raise"):  # the solver's own errstate governs its run
        res = gdnp.gd(prob, lr=1e200, maxiter=50, tol=0)
    assert res.status == 2 and res.history["iter"].size >= 1


def test_divergence_rule_factor():
    """Status 2 once f - f_0 > 1e6 (1 + |f_0|), with f still finite (the documented rule)."""
    from gdnp.result import DIVERGENCE_FACTOR

    prob = OLS.random(3, 10, seed=0)
    res = gdnp.gd(prob, lr=2.5 / prob.smoothness, maxiter=5000, tol=0)  # grows ~4x per step
    f = res.history["fun"]
    assert res.status == 2 and "exceeds f_0 + 1e+06" in res.message
    assert np.all(f - f[0] <= DIVERGENCE_FACTOR * (1 + abs(f[0])))
    assert np.isfinite(f).all() and f[-1] > 1e4 * (1 + abs(f[0]))


@pytest.mark.parametrize("kw, exc, match", [
    ({"xtol": np.nan}, ValueError, "xtol must be a finite number >= 0"),
    ({"xtol": -1.0}, ValueError, "xtol must be a finite number >= 0"),
    ({"xtol": "0"}, TypeError, "xtol must be a real number"),
    ({"max_expand": np.nan}, TypeError, "max_expand must be an integer"),
    ({"max_expand": -1}, ValueError, "max_expand must be an integer >= 0"),
    ({"max_expand": 1.5}, TypeError, "max_expand must be an integer"),
    ({"max_expand": "3"}, TypeError, "max_expand must be an integer"),
    ({"maxiter": 2.0}, TypeError, "maxiter must be an integer"),
])
def test_bisect_arguments(kw, exc, match):
    with pytest.raises(exc, match=match):
        gdnp.bisect(lambda t: t - 0.3, 0.0, 1.0, **kw)


def test_bisect_accepts_numpy_integers_and_tiny_brackets_say_why():
    root, info = gdnp.bisect(lambda t: t - 0.3, 0.0, 1.0, maxiter=np.int64(10))
    assert info["nit"] == 10 and abs(root - 0.3) <= 2.0**-10
    with pytest.raises(gdnp.NoSignChangeError, match="too narrow") as err:
        gdnp.bisect(lambda t: t - 0.3, 0.0, 1e-300)
    assert "separable" not in str(err.value)
    with pytest.raises(gdnp.NoSignChangeError, match="separable data"):
        gdnp.bisect(lambda t: -1.0, 0.0, 1.0)  # never changes sign: root at infinity


def test_grad_norm2_checks_what_it_is_given():
    """``grad_norm2`` is ``G'S^-1 G`` on its fast path (every solver iterate) and still
    rejects a gradient with NaN or inf entries or of the wrong shape, as ``solve_S`` does."""
    prob = OLS.random(6, 100.0, seed=3)
    G = prob.grad(np.arange(6.0))
    assert np.isclose(prob.grad_norm2(G), G @ np.linalg.solve(prob.S, G), rtol=1e-12)
    assert prob.grad_norm2(list(G)) == prob.grad_norm2(G)
    for bad in (np.full(6, np.nan), np.r_[G[:5], np.inf]):
        with pytest.raises(ValueError, match="infs or NaNs"):
            prob.grad_norm2(bad)
    with pytest.raises(ValueError, match="incompatible dimensions"):
        prob.grad_norm2(np.ones(3))


# ---------------------------------------------------------------- gdnp.rates: theory formulas
W2 = np.array([1.0, 0.5])


@pytest.mark.parametrize("S, w, exc, match", [
    (np.diag([1.0, np.nan]), W2, ValueError, "S contains 1 NaN"),
    (np.diag([1.0, -1.0]), W2, ValueError, "S must be positive definite"),
    (np.array([[1.0, 2.0], [0.0, 1.0]]), W2, ValueError, "S must be symmetric"),
    (np.ones((2, 3)), W2, ValueError, "S must be a non-empty square"),
    ("S", W2, TypeError, "S must be a numeric array"),
    (S2, np.zeros(2), ValueError, "w_star must be a non-zero vector"),
    (S2, np.ones(3), ValueError, r"w_star must have shape \(2,\)"),
    (S2, np.array([1.0, np.inf]), ValueError, "w_star contains 1 NaN"),
    (S2, ["a", "b"], TypeError, "w_star must be a numeric array"),
])
def test_kappa_star_and_c19_hessian_check_S_and_w_star(S, w, exc, match):
    """Each returned nan, 1.0 or a numpy matmul error before."""
    for fun in (gdnp.rates.kappa_star, gdnp.rates.c19_hessian):
        with pytest.raises(exc, match=match):
            fun(S, w)
    assert gdnp.rates.kappa_star(S2, W2) == pytest.approx(1.0)  # d = 2: kappa* = 1


@pytest.mark.parametrize("kw, exc, match", [
    ({"lr": -1.0}, ValueError, "lr must be a finite number > 0"),
    ({"lr": 0.0}, ValueError, "lr must be a finite number > 0"),
    ({"lr": np.nan}, ValueError, "lr must be a finite number > 0"),
    ({"lr": "1"}, TypeError, "lr must be a real number"),
    ({"w_inf": np.zeros(2)}, ValueError, "w_inf must be a non-zero vector"),
    ({"w_inf": np.ones(3)}, ValueError, r"w_inf must have shape \(2,\)"),
    ({"w_inf": np.array([np.nan, 1.0])}, ValueError, "w_inf contains 1 NaN"),
    ({"w_star": np.zeros(2)}, ValueError, "w_star must be a non-zero vector"),
    ({"S": np.diag([1.0, -2.0])}, ValueError, "S must be positive definite"),
])
def test_bngd_rate_checks_every_argument(kw, exc, match):
    args = {"S": S2, "w_star": W2, "w_inf": 2.0 * W2, "lr": 0.5, **kw}
    with pytest.raises(exc, match=match):
        gdnp.rates.bngd_rate(**args)


@pytest.mark.parametrize("bad, exc", [(np.nan, ValueError), (np.inf, ValueError),
                                      (0.5, ValueError), (-3.0, ValueError),
                                      ("3", TypeError), (None, TypeError)])
def test_bngd_best_rate_needs_kappa_star_at_least_1(bad, exc):
    with pytest.raises(exc, match="kstar"):
        gdnp.rates.bngd_best_rate(bad)
    assert gdnp.rates.bngd_best_rate(1) == 0.0


@pytest.mark.parametrize("call, match", [
    (lambda r: r.gd_linear_bound([0, 1], np.nan, 1.0), "kappa"),
    (lambda r: r.gd_linear_bound([0, 1], 0.5, 1.0), "kappa"),
    (lambda r: r.gd_linear_bound([0, 1], 10.0, -1.0), "gap0"),
    (lambda r: r.gd_linear_bound([0, np.nan], 10.0, 1.0), "t contains 1 NaN"),
    (lambda r: r.gd_linear_bound([-1, 1], 10.0, 1.0), "t must hold iteration numbers >= 0"),
    (lambda r: r.gd_sublinear_bound([1, 2], -0.5, 1.0), "zeta"),
    (lambda r: r.gd_sublinear_bound("t", 0.5, 1.0), "t must be a numeric array"),
    (lambda r: r.k19_ols_bound([0, 1], 2.0, 1.0, 1.0), "mu must be <= L"),
    (lambda r: r.k19_ols_bound([0, 1], 0.0, 1.0, 1.0), "mu must be a finite number > 0"),
    (lambda r: r.k19_ols_bound([0, 1], 0.1, np.inf, 1.0), "L must be a finite number > 0"),
    (lambda r: r.k19_ols_bound([0, 1], 0.1, 1.0, np.nan), "rho_gap0"),
    (lambda r: r.k19_direction_bound([0, 1], 0.5, 1.0, 1.0, 1.0, [1.0, 2.0, 3.0]), "g_t"),
    (lambda r: r.k19_direction_bound([0, 1], 0.5, 1.0, 1.0, np.nan, 1.0), "Phi"),
    (lambda r: r.k19_length_bound(10, 0.25, 4.0, 0.0), "mu must be a finite number > 0"),
    (lambda r: r.k19_length_bound(-1, 0.25, 4.0, 0.5), "T_s must be >= 0"),
    (lambda r: r.k19_length_bound(2.5, 0.25, 4.0, 0.5), "T_s must be an integer"),
    (lambda r: r.k19_length_bound(10, 0.25, np.nan, 0.5), "width0"),
    (lambda r: r.k19_combined_bound([0, 1], 10, 1.5, 1.0, 1.0, 1.0, 0.25, 4.0), "mu must be"),
    (lambda r: r.k19_combined_bound([0, -1], 10, 0.5, 1.0, 1.0, 1.0, 0.25, 4.0), "T_d"),
])
def test_rate_bounds_reject_nan_negative_and_out_of_range(call, match):
    """Each returned NaN, a negative or growing "bound", or raised ZeroDivisionError before."""
    with pytest.raises((ValueError, TypeError), match=match):
        call(gdnp.rates)


def test_rate_bounds_keep_scalar_and_array_results():
    r = gdnp.rates
    assert r.gd_linear_bound(2, 10.0, 1.0) == pytest.approx(0.81)
    assert r.gd_linear_bound([0, 1, 2], 1, 1.0).tolist() == [1.0, 0.0, 0.0]  # kappa = 1
    assert r.k19_ols_bound(np.arange(3), 1.0, 1.0, 0.0).tolist() == [0.0, 0.0, 0.0]
    assert r.k19_length_bound(np.int64(3), 1, -4.0, 1.0) == 0.5  # the width's sign is moot


# ---------------------------------------------------------------- bisect, BN coordinates
@pytest.mark.parametrize("args, match", [
    ((lambda t: t, "x", 1.0), "a must be a real number, got str 'x'"),
    ((lambda t: t, -1.0, "1"), "b must be a real number, got str '1'"),
    ((lambda t: t, True, 1.0), "a must be a real number, got bool"),
    ((lambda t: t, -1.0, 1j), "b must be a real number, got complex"),
    ((lambda t: t, None, 1.0), "a must be a real number, got NoneType"),
    ((3, -1.0, 1.0), "fun must be callable, got int 3"),
    ((None, -1.0, 1.0), "fun must be callable"),
])
def test_bisect_names_fun_a_and_b(args, match):
    with pytest.raises(TypeError, match=match):
        gdnp.bisect(*args)


def test_bisect_accepts_ints_and_numpy_ends():
    for a, b in ((-1, 1), (np.float64(-1.0), np.float32(1.0)), (np.int64(-1), 1.0)):
        root, info = gdnp.bisect(lambda t: t - 0.25, a, b, maxiter=20)
        assert root == gdnp.bisect(lambda t: t - 0.25, -1.0, 1.0, maxiter=20)[0]
        assert type(info["a0"]) is float


def test_hessian_spectrum_bn_at_zero_names_x():
    prob = OLS.random(3, 10.0)
    with pytest.raises(ValueError, match="^x: the zero vector has no BN direction"):
        gdnp.hessian_spectrum(prob, np.zeros(3), coords="bn")


def test_gdnp_says_u_is_zero_when_no_start_can_help():
    prob = Halfspace.from_data(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, -1.0, 1.0]))
    assert not np.any(prob.u)
    for seed in (0, 1):
        with pytest.raises(ValueError, match="u = -E\\[yx\\] = 0.*no start can help"):
            gdnp.solve(prob, "gdnp", seed=seed)
    assert gdnp.solve(prob, "bngd", maxiter=50).status in (0, 1)


@pytest.mark.parametrize("call, exc, match", [
    (lambda p: gdnp.solve(p, "gd", maxiter=True), TypeError, "maxiter must be an integer"),
    (lambda p: gdnp.solve(p, "gd", maxiter="10"), TypeError, "maxiter must be an integer"),
    (lambda p: gdnp.solve(p, "gdnp", T_s=True), TypeError, "T_s must be an integer"),
    (lambda p: gdnp.solve(p, "gdnp", T_s=-1), ValueError, "T_s must be an integer >= 1"),
    (lambda p: gdnp.solve(p, "gdnp", T_s=0), ValueError, "with none, every length would be"),
    (lambda p: gdnp.solve(p, "gd", reference="no"), TypeError, "reference must be a bool"),
    (lambda p: gdnp.solve(p, "bngd", statistics="population"), ValueError,
     "applies to mini-batch runs only"),
    (lambda p: gdnp.solve(p, "gdnp", x0=np.ones(3), w0=np.ones(3), g0=1.0), ValueError,
     "give x0 or the BN start"),
    (lambda p: gdnp.bisect(lambda t: np.array([t]), 0.0, 1.0), TypeError,
     "fun must return a real number"),
    (lambda p: gdnp.bisect(lambda t: "x", 0.0, 1.0), TypeError, "fun must return a real"),
])
def test_solver_arguments_are_checked_alike(call, exc, match):
    with pytest.raises(exc, match=match):
        call(OLS.random(3, 10, seed=0))


@pytest.mark.parametrize("loss", ["logistic", "sigmoid", "squared"])
def test_halfspace_f_at_a_huge_finite_x_is_a_number_not_nan(loss):
    # x'Sx and the margins overflow at |x| ~ 1e300: f is then evaluated on x / max|x| and
    # scaled back, huge or inf, never NaN (and no overflow warning escapes)
    for prob in (Halfspace.random(5, 10, seed=0, loss=loss),
                 Halfspace.sample(5, 10, 300, seed=0, loss=loss)):
        for x in (np.full(5, 1e300), np.array([1e300, -1e300, 1.0, 2.0, 3.0])):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                value = prob.f(x)
            assert not np.isnan(value) and value >= 0.0
        assert np.isfinite(prob.f(np.ones(5)))


@pytest.mark.parametrize("method", ["gd", "agd", "bngd", "gdnp"])
def test_a_start_whose_objective_overflows_is_bad_input(method):
    """No iterate would be finite: a ValueError naming the start, not a result with x = None."""
    prob = OLS.random(4, 100, seed=2)
    with pytest.raises(ValueError, match="x0: the objective is not finite at the start"):
        gdnp.solve(prob, method, x0=np.full(4, 1e200), maxiter=5)


def test_a_tiny_start_is_a_direction_and_a_huge_one_is_not_called_zero():
    prob = OLS.random(4, 100, seed=2)
    res = gdnp.solve(prob, "gdnp", x0=np.full(4, 1e-170), maxiter=20)
    ref = gdnp.solve(prob, "gdnp", x0=np.full(4, 1.0), maxiter=20)
    assert res.status == 1
    assert res.fun == pytest.approx(ref.fun, rel=1e-9)
    w, g = prob.to_bn(np.full(4, 1e-170))
    np.testing.assert_allclose(prob.from_bn(w, g), np.full(4, 1e-170), rtol=1e-14)
    with pytest.raises(ValueError, match="zero vector"):
        prob.to_bn(np.zeros(4))
    mlp = MLP.random(3, 2, 10, 200, seed=2)
    with pytest.raises(ValueError, match="not a positive float64 at this scale"):
        gdnp.solve(mlp, "gdnp", x0=np.full(mlp.dim, 1e200), maxiter=2)


def test_bisect_stops_expanding_at_the_float_range_with_a_finite_bracket():
    with pytest.raises(gdnp.NoSignChangeError, match=r"within the float range") as err:
        gdnp.bisect(lambda t: 1.0, -1.0, 1.0, max_expand=10000)
    assert "nan" not in str(err.value)


@pytest.mark.parametrize("fun, root", [(lambda t: t**3 - 27.0, 3.0), (lambda t: t - 3.0, 3.0),
                                       (lambda t: t - 7.0, 7.0), (lambda t: t + 2.0, -2.0)])
def test_bisect_takes_a_root_that_an_expanded_end_lands_on(fun, root):
    """The expansion from [0, 1] lands exactly on these roots: bisect had called each 'not
    finite' (an exact zero met moving outward had been taken for an underflowed tail); a
    function that changes sign one step further out has its root there."""
    found, info = gdnp.bisect(fun, 0.0, 1.0)
    assert found == root and info["expansions"] > 0 and info["nit"] == 0


def test_bisect_still_calls_an_underflowed_tail_no_finite_root():
    def tail(t):  # negative, decaying to an exact 0 (as a logistic derivative underflows)
        return -math.exp(-t) if t < 700.0 else 0.0

    with pytest.raises(gdnp.NoSignChangeError, match="vanishes to rounding at 1023 after 9 "
                                                      "expansion"):
        gdnp.bisect(tail, 0.0, 1.0)


def test_mlp_gdnp_whose_direction_overflows_diverges_like_single_units():
    """A step that overflows w is a breakdown (status 2), as on OLS and halfspaces; it had
    raised 'a unit has ||w_i||_S = 0'."""
    res = gdnp.solve(MLP.random(3, 2, 10, 200, seed=2), "gdnp", L=1e-300, maxiter=5)
    assert res.status == 2 and "overflowed" in res.message
    assert res.x is not None and np.all(np.isfinite(res.x))


# ----------------------------------------------------------------- user losses and constants
def _logistic_fields():
    from gdnp.problems import get_loss

    lg = get_loss("logistic")
    return lg.phi, lg.dphi, lg.d2phi


@pytest.mark.parametrize("bad, exc", [(0.0, ValueError), (-0.25, ValueError),
                                      (float("nan"), ValueError), ("0.25", TypeError)])
def test_a_loss_with_an_unusable_curvature_bound_is_refused_by_name(bad, exc):
    """max_d2phi = 0 had been a ZeroDivisionError inside gd, a negative one gradient ascent
    ending with status 1."""
    from gdnp.problems import Loss

    with pytest.raises(exc, match="max_d2phi"):
        Loss("lg", *_logistic_fields(), True, bad, 1.0)
    with pytest.raises(TypeError, match="dphi must be callable"):
        Loss("lg", np.exp, None, np.exp, True, 1.0, 1.0)
    with pytest.raises(ValueError, match="d3phi_sign"):
        Loss("lg", *_logistic_fields(), True, 0.25, 1.0, d3phi_sign=1)


def test_an_unbounded_curvature_means_an_unknown_smoothness_not_a_zero_step():
    """The exponential loss (phi'' unbounded, max_d2phi = inf): GD and AGD backtrack instead
    of taking lr = 1/inf = 0 and reporting 'maximum number of iterations'; BNGD asks for the
    length rate it cannot derive."""
    from gdnp.problems import Loss

    exp_loss = Loss("exp", np.exp, np.exp, np.exp, convex=True, max_d2phi=np.inf,
                    max_dphi=np.inf)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    y = np.where(X @ [1.0, -1.0, 0.5] + rng.standard_normal(300) > 0, 1.0, -1.0)
    prob = Halfspace.from_data(X, y, loss=exp_loss)
    for method in ("gd", "agd"):
        res = gdnp.solve(prob, method, maxiter=300)
        assert res.history["gap"][-1] < 1e-3 * res.history["gap"][0], method
    with pytest.raises(ValueError, match="lr_g"):
        gdnp.solve(prob, "bngd", maxiter=5)
    res = gdnp.solve(prob, "bngd", maxiter=300, lr_g=0.1)
    assert res.history["gap"][-1] < 1e-3 * res.history["gap"][0]


def test_a_problem_constant_that_is_nan_or_negative_is_named():
    prob = OLS.random(3, 10, seed=0)
    prob.smoothness = -1.0
    with pytest.raises(ValueError, match="problem.smoothness must be > 0"):
        gdnp.solve(prob, "gd", maxiter=5)
    prob = OLS.random(3, 10, seed=0)
    prob.length_smoothness = float("nan")
    with pytest.raises(ValueError, match="problem.length_smoothness"):
        gdnp.solve(prob, "bngd", maxiter=5)


def test_gdnp_on_a_problem_that_is_not_single_unit_says_what_it_needs():
    from gdnp.problems import Problem

    class Quadratic(Problem):
        name = "quadratic"

        def __init__(self):
            self.dim, self.S, self.u, self.smoothness = 3, np.eye(3), None, 2.0

        def value_and_grad(self, x):
            return float(x @ x), 2.0 * x

        def _reference_solution(self):
            return np.zeros(3), 0.0

        to_bn = from_bn = value_and_grad_bn = dg_bn = None

    prob = Quadratic()
    assert gdnp.solve(prob, "gd", tol=1e-8).status == 0
    with pytest.raises(TypeError, match="needs a single-unit gdnp.problems.LinearProblem"):
        gdnp.solve(prob, "gdnp")
    ols = OLS.random(3, 10, seed=0)
    x_star = ols.solution()[0]
    ols.u = None
    for method in ("gdnp", "bngd"):
        with pytest.raises(ValueError, match="u is None, but GDNP, BNGD and BN coordinates"):
            gdnp.solve(ols, method, reference=False)
    with pytest.raises(ValueError, match="u is None"):
        gdnp.hessian_spectrum(ols, x_star, coords="bn")

    from gdnp.problems import LinearProblem

    class Centre(LinearProblem):  # f = ||x - c||^2, no u: GD and AGD do not read it
        name, dim, S, u, smoothness = "centre", 2, np.eye(2), None, 2.0

        def value_and_grad(self, x):
            d = self.check_x(x) - 1.0
            return float(d @ d), 2.0 * d

        def _reference_solution(self):
            return np.ones(2), 0.0

        _eval_scaled = _dg = _c1 = None

    for method in ("gd", "agd"):
        assert gdnp.solve(Centre(), method, tol=1e-8).status == 0


def test_data_constructors_check_memory_before_copying(monkeypatch):
    """GDNP_MAX_BYTES (or the available memory) is checked before the centred copy of X is
    made, for every data constructor (OLS and Halfspace had not checked at all)."""
    from gdnp.problems import MLP

    monkeypatch.setenv("GDNP_MAX_BYTES", "1e6")
    X = np.zeros((2000, 100))
    y = np.where(np.arange(2000) % 2 == 0, 1.0, -1.0)
    for build in (lambda: OLS.from_data(X, y), lambda: Halfspace.from_data(X, y),
                  lambda: MLP.from_data(X, y, hidden=3)):
        with pytest.raises(ValueError, match="GDNP_MAX_BYTES"):
            build()


def test_a_masked_array_with_masked_entries_is_refused_by_name():
    """The values under a mask had been used silently (its f* equal to the unmasked data's)."""
    X = np.random.default_rng(0).standard_normal((50, 3))
    with pytest.raises(TypeError, match=r"X: a masked array \(9 masked entries\)"):
        OLS.from_data(np.ma.masked_greater(X, 1.5), X[:, 0])
    assert OLS.from_data(np.ma.masked_array(X), X[:, 0]).dim == 3  # nothing masked: fine


def test_fewer_samples_than_features_is_named_as_the_cause():
    from gdnp.problems import SingularCovarianceError

    X = np.random.default_rng(0).standard_normal((50, 100))
    with pytest.raises(SingularCovarianceError, match=r"fewer samples than features \(n = 50"):
        OLS.from_data(X, X[:, 0])


def test_single_precision_data_are_centred_into_their_only_float64_copy():
    """float32 features are widened entry by entry while centring: one float64 copy of X (it
    had been two: a conversion, then the centred copy), and the same problem as from the
    widened array, up to the rounding of the column means."""
    import tracemalloc

    from gdnp.problems import prepare_data

    rng = np.random.default_rng(0)
    X32 = (rng.standard_normal((20_000, 50)) + 3.0).astype(np.float32)
    y = np.where(rng.standard_normal(20_000) > 0, 1.0, -1.0)
    wide = prepare_data(X32.astype(np.float64), y, labels=True)
    tracemalloc.start()
    data = prepare_data(X32, y, labels=True)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    copy = 8 * X32.size
    assert data.X.dtype == np.float64 and data.X.flags.f_contiguous
    assert peak < 1.25 * copy, peak / copy  # the centred copy (and small temporaries) only
    np.testing.assert_allclose(data.mean, wide.mean, rtol=1e-15)
    np.testing.assert_allclose(data.X, wide.X, rtol=0, atol=1e-14)
    np.testing.assert_allclose(data.S, wide.S, rtol=1e-13)
    with pytest.raises(ValueError, match=r"X contains 1 NaN"):
        bad = X32.copy()
        bad[3, 4] = np.nan
        prepare_data(bad, y, labels=True)


def test_flags_refuse_strings_that_would_read_as_true():
    """``"False"`` is truthy: ``include_length``, ``expand`` and ``center_y`` had taken it as
    True; like ``centered`` and ``reference`` they now refuse anything but a bool."""
    import gdnp

    o = OLS.random(4, 10.0, seed=0)
    X = np.random.default_rng(0).standard_normal((10, 3))
    for call, name in ((lambda: gdnp.hessian_spectrum(o, o.solution().x, coords="bn",
                                                      include_length="False"), "include_length"),
                       (lambda: gdnp.bisect(lambda t: t - 5.0, 0.0, 1.0, expand="False"),
                        "expand"),
                       (lambda: OLS.from_data(X, np.arange(10.0), center_y="False"), "center_y")):
        with pytest.raises(TypeError, match=rf"{name} must be a bool, got str 'False'"):
            call()


@pytest.mark.parametrize("g", ["a", None, True, 1 + 2j])
def test_a_length_that_is_not_a_real_number_is_named(g):
    o = OLS.random(3, 10.0, seed=0)
    with pytest.raises(TypeError, match="g must be a real number"):
        o.f_bn(np.ones(3), g)


def test_gdnp_names_w0_when_the_start_was_given_in_bn_coordinates():
    import gdnp
    from gdnp.problems import Halfspace

    h = Halfspace.random(4, 10.0, seed=0)
    u = h.u
    with pytest.raises(ValueError,
                       match=r"^w0: the initial direction has u'w0 = 0.*pass another w0$"):
        gdnp.gdnp(h, w0=np.array([u[1], -u[0], 0.0, 0.0]), g0=1.0)


def test_bisect_says_when_the_given_bracket_holds_a_decreasing_root():
    import gdnp
    from gdnp.bisection import NoSignChangeError

    with pytest.raises(NoSignChangeError, match=r"on the given bracket \[0, 1\] fun decreases "
                                                r"through zero .* pass lambda t: -fun\(t\)"):
        gdnp.bisect(lambda t: 0.3 - t, 0.0, 1.0, decreasing="raise")
    with pytest.raises(NoSignChangeError, match="decreasing='root'"):
        gdnp.bisect(np.sin, 2.0, 4.0, decreasing="raise")
    with pytest.raises(ValueError, match="decreasing must be"):
        gdnp.bisect(np.sin, 2.0, 4.0, decreasing="ignore")


def test_bisect_takes_a_decreasing_root_inside_the_bracket_as_scipy_does():
    """sin on [2, 4]: the root inside, pi, as scipy.optimize.bisect finds it (it had returned
    the increasing root 0.0, outside the bracket); decreasing='expand' is GDNP's outward
    search for an increasing crossing."""
    from scipy.optimize import bisect as scipy_bisect

    import gdnp

    root, info = gdnp.bisect(np.sin, 2.0, 4.0)
    assert abs(root - np.pi) < 1e-14 and abs(root - scipy_bisect(np.sin, 2.0, 4.0)) < 1e-11
    assert info["a"] <= np.pi <= info["b"] and np.sin(info["a"]) > 0 > np.sin(info["b"])
    assert info["expansions"] == 0 and info["nfev"] == info["nit"] + 2
    root, info = gdnp.bisect(np.sin, 2.0, 4.0, decreasing="expand")
    assert abs(root) < 1e-12 and info["expansions"] > 0
    # the same halvings as bisecting -fun
    neg = gdnp.bisect(lambda t: -np.sin(t), 2.0, 4.0, maxiter=30)
    assert gdnp.bisect(np.sin, 2.0, 4.0, maxiter=30)[0] == neg[0]


def test_warnings_point_at_the_callers_line(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "user_script.py"
    script.write_text("from gdnp.problems import Halfspace\n"
                      "p = Halfspace.random(d=5, kappa=1e12)\n")
    err = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         check=True).stderr
    assert f"{script}:2: ConditioningWarning" in err


def test_result_repr_lines_up_a_matrix_under_its_name():
    import gdnp
    from gdnp.problems import MLP

    text = repr(gdnp.bngd(MLP.random(3, 2, 5.0, 100), maxiter=2))
    line = next(i for i, s in enumerate(text.splitlines()) if "direction:" in s)
    first, second = text.splitlines()[line:line + 2]
    assert second.index("[") == first.index("[[") + 1


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_population_halfspace_gradient_is_finite_where_xSx_overflows():
    """Beyond |x| ~ 1e154 x'Sx overflows: f rescaled by max|x| and stayed finite, while the
    gradient had been NaN. Far out the logistic loss is linear, so the gradient settles."""
    from gdnp.problems import Halfspace

    h = Halfspace.random(3, 10.0, seed=0)
    g_ref = h.grad(np.full(3, 1e150))
    for scale in (1e155, 1e200):
        x = np.full(3, scale)
        fun, grad = h.value_and_grad(x)
        assert np.all(np.isfinite(grad)) and fun == pytest.approx(h.f(x), rel=1e-12)
        np.testing.assert_allclose(grad, g_ref, rtol=1e-9)


def test_flags_take_bools_numpy_bools_and_0_or_1():
    from gdnp.problems._validate import as_bool

    assert [as_bool(v, "x") for v in (True, np.False_, np.array(True), 0, 1)] == [
        True, False, True, False, True]
    for bad in (2, "True", None, np.array([True])):
        with pytest.raises(TypeError, match="x must be a bool"):
            as_bool(bad, "x")


def test_single_precision_memmap_is_read_in_place(tmp_path):
    """A float32 memmap (the usual container of large data) takes the one-copy path too."""
    import tracemalloc

    from gdnp.problems import prepare_data

    rng = np.random.default_rng(1)
    path = tmp_path / "X.npy"
    np.save(path, rng.standard_normal((20_000, 40)).astype(np.float32))
    X = np.load(path, mmap_mode="r")
    y = np.where(rng.standard_normal(20_000) > 0, 1.0, -1.0)
    tracemalloc.start()
    data = prepare_data(X, y, labels=True)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1.25 * 8 * X.size, peak / (8 * X.size)
    np.testing.assert_allclose(data.X, prepare_data(np.asarray(X, dtype=float), y,
                                                    labels=True).X, rtol=0, atol=1e-14)


@pytest.mark.parametrize("method", ["gd", "bngd"])
@pytest.mark.parametrize("seed, exc", [(None, TypeError), ("3", TypeError), (-2, ValueError),
                                        (1.5, TypeError)])
def test_seed_is_checked_when_x0_is_given(method, seed, exc):
    """With ``x0`` the seed still draws the mini-batches: ``None`` (fresh entropy, two runs
    that differ) and bad values are refused by name as without ``x0``."""
    from gdnp.problems import Halfspace

    h = Halfspace.sample(3, 10.0, 50, seed=0)
    with pytest.raises(exc, match="seed"):
        gdnp.solve(h, method, x0=[1.0, 0.0, 0.0], seed=seed, maxiter=3, batch_size=10)
    with pytest.raises(exc, match="seed"):
        gdnp.solve(h, method, x0=[1.0, 0.0, 0.0], seed=seed, maxiter=3)
    rng = np.random.default_rng(0)  # a Generator is a seed
    gdnp.solve(h, method, x0=[1.0, 0.0, 0.0], seed=rng, maxiter=3, batch_size=10)


def test_minor_error_paths_name_their_argument():
    """Bounds with a huge constant are infinite, not Python's OverflowError; an array where a
    name is expected, a bool returned to bisect and an overflowing teacher are refused by
    name."""
    from gdnp import rates
    from gdnp.problems import MLP, OLS

    assert rates.k19_length_bound(10, zeta=1.0, width0=1.0, mu=1e200) == 0.0
    assert rates.k19_length_bound(10, zeta=1e200, width0=1.0, mu=1e-200,
                                  form="corrected") == np.inf
    with np.errstate(all="raise"):  # neither NaN nor a warning at the other ends
        assert rates.k19_length_bound(10, 1.0, 1.0, 1e-200) == np.inf
        assert rates.k19_length_bound(0, 1e-300, 0.0, 1e-200) == 0.0
    assert np.all(rates.k19_direction_bound([0, 1], mu=0.5, L=1.0, rho_gap0=1.0, Phi=1e200,
                                            g_t=1.0) == np.inf)
    with pytest.raises(ValueError, match="coords must be"):
        gdnp.hessian_spectrum(OLS.random(3, 10.0), np.ones(3),
                              coords=np.array(["original", "bn"]))
    with pytest.raises(TypeError, match="loss must be"):
        rates.stein_c1_bound(np.array(["logistic", "x"]))
    with pytest.raises(TypeError, match="got the bool False"):
        gdnp.bisect(lambda t: t > 0.3, 0.0, 1.0)
    with pytest.raises(ValueError, match="teacher_scale"):
        MLP.random(3, 2, 10.0, 50, seed=0, teacher_scale=1e200)


def test_a_bad_bn_start_names_w0_and_g0_and_the_mlp_layout_is_explained():
    """A BN start's errors name the arguments the user passed (w0, g0), not f_bn's w and g;
    a wrongly shaped MLP x0 is told the flat layout."""
    from gdnp.problems import MLP, OLS

    p = OLS.random(4, 10.0)
    with pytest.raises(ValueError, match=r"^w0 must have shape \(4,\)"):
        gdnp.solve(p, "gdnp", w0=np.ones(5), g0=1.0)
    with pytest.raises(ValueError, match=r"^g0 must be a finite scalar"):
        gdnp.solve(p, "bngd", w0=np.ones(4), g0=np.ones(2))
    with pytest.raises(ValueError, match=r"^w0: \|\|w\|\|_S = 0"):
        gdnp.solve(p, "gdnp", w0=np.zeros(4), g0=1.0)
    m = MLP.random(5, 3, 10.0, 300)
    with pytest.raises(ValueError, match=r"^w0 must be 2-dimensional"):
        gdnp.solve(m, "gdnp", w0=np.ones(15), g0=np.ones(3))
    with pytest.raises(ValueError, match=r"concatenate\(\[W.ravel\(\), theta\]\)"):
        gdnp.solve(m, "gd", x0=np.ones((3, 5)))


def test_a_tensor_that_requires_grad_is_named_with_the_remedy():
    """A PyTorch tensor in an autograd graph (its numpy() raises RuntimeError) is refused
    as a TypeError naming the argument and .detach(), not torch's own RuntimeError."""
    from gdnp.problems import OLS

    class GraphTensor:  # what numpy sees of torch.randn(..., requires_grad=True)
        requires_grad = True

        def detach(self):
            return np.ones((20, 2))

        def __array__(self, dtype=None, copy=None):
            raise RuntimeError("Can't call numpy() on Tensor that requires grad.")

    with pytest.raises(TypeError, match=r"X: a tensor that requires grad; pass X.detach\(\)"):
        OLS.from_data(GraphTensor(), np.ones(20))


def test_a_seed_sequence_seeds_mini_batches_reproducibly():
    """A numpy SeedSequence is a seed for the mini-batches too (it had reached numpy's
    SeedSequence(...) and raised), and the same object gives the same batches twice."""
    from gdnp.problems import Halfspace

    h = Halfspace.sample(3, 10.0, 60, seed=0)
    seq = np.random.SeedSequence(3)
    a = gdnp.solve(h, "bngd", batch_size=16, maxiter=5, seed=seq, reference=False)
    b = gdnp.solve(h, "bngd", batch_size=16, maxiter=5, seed=seq, reference=False)
    c = gdnp.solve(h, "bngd", batch_size=16, maxiter=5, seed=np.random.SeedSequence(3),
                   reference=False)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.x, c.x)


def test_singular_data_name_constant_and_collinear_columns_apart():
    """A constant column and a collinear group in the same data: each named once, the
    collinear group being the columns that are (it had named the constant column twice and
    missed the group)."""
    from gdnp.problems import OLS

    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    Z = np.c_[X, X[:, 0] + X[:, 1], np.ones(300)]
    with pytest.raises(ValueError, match=r"constant feature column\(s\) \[5\] \(the models have "
                                         r"no intercept.*\) and collinear feature columns "
                                         r"\[0, 1, 4\]\."):
        OLS.from_data(Z, Z[:, 0])


def test_bn_hessian_at_huge_points_is_right_or_refused():
    """The BN Hessian-vector product at a direction scaled by 1e140 (N(w)^3 had overflowed:
    a bare OverflowError) follows the scale invariance, the blocks scaling as 1/s^2, 1/s and
    1; at lengths beyond 1e100 (the direction block lost to cancellation: eigenvalues of
    1e288 with the wrong sign) hessian_spectrum refuses, naming x."""
    from gdnp.problems import OLS
    from gdnp.spectrum import bn_hessian_vector

    p = OLS.random(4, 100.0, seed=0)
    x = p.solution()[0] + np.array([0.2, -0.3, 0.1, 0.4])  # away from the optimum
    w, g = p.to_bn(x)
    v, c, s = np.array([0.3, -0.1, 0.2, 0.5]), 0.7, 1e140
    big = bn_hessian_vector(p, s * w, g, v, c)
    ref = bn_hessian_vector(p, w, g, v / s, c)
    assert np.all(np.isfinite(big))
    np.testing.assert_allclose(big[:-1], ref[:-1] / s, rtol=1e-10, atol=1e-300)
    assert big[-1] == pytest.approx(ref[-1], rel=1e-10)
    for scale in (1e152, 1e13):  # (at 1e20 the eigenvalues had been rounding, even negative)
        with pytest.raises(ValueError, match="x: its length g"):
            gdnp.hessian_spectrum(p, scale * x, coords="bn")
    # between 1e6 and 1e100 the direction block can lose digits to cancellation: a warning
    from gdnp.problems import ConditioningWarning

    with pytest.warns(ConditioningWarning, match="may keep only about"):
        gdnp.hessian_spectrum(p, 1e8 * x, coords="bn")


def test_all_labels_equal_is_refused_by_gdnp_as_u_zero():
    """All labels equal on centred data leave u = -E[yx] at rounding level (1e-16), not 0:
    GDNP refuses it as u = 0 (its direction steps had reached 1e56, and the MLP's run ended
    as an overflow)."""
    from gdnp.problems import MLP

    rng = np.random.default_rng(3)
    X = rng.standard_normal((50, 3)) * [1.0, 10.0, 100.0] + 5.0
    hs = Halfspace.from_data(X, np.ones(50))
    assert np.any(hs.u)  # not exactly zero
    with pytest.raises(ValueError, match="up to rounding: are all labels equal"):
        gdnp.solve(hs, "gdnp")
    with pytest.raises(ValueError, match="up to rounding"):
        gdnp.solve(MLP.from_data(X, np.ones(50), hidden=2), "gdnp", maxiter=3)
    assert gdnp.solve(hs, "gd", maxiter=5).status in (0, 1)  # the other methods apply


def test_a_too_narrow_bracket_is_not_reported_as_no_minimiser():
    """A user bracket too narrow for the doublings to reach the root ends the run (status
    2) saying so, not "no finite minimiser of the length" (the problem has one)."""
    res = gdnp.solve(Halfspace.random(5, 100.0, separation=0.9, seed=0), "gdnp",
                     bracket=(0.0, 1e-30))
    assert res.status == 2
    assert "could not be expanded to its root" in res.message
    assert "no finite minimiser" not in res.message


def test_bisect_with_a_model_evaluates_a_decreasing_root_through_it():
    """decreasing="root" with a model: the model's plain values, fun itself not called (as the
    docstring says of every search with a model), the same root as without the model."""
    import gdnp
    from gdnp.problems import Halfspace

    prob = Halfspace.random(4, 10.0, loss="sigmoid", separation=0.9, seed=1)
    w = prob.initial_point(3)
    S = prob.length_derivative(w)
    calls = []

    def counted(t):
        calls.append(t)
        return S(t)

    # a bracket where d_g f decreases through zero (a maximum of f along g), if there is one
    ts = np.linspace(-40.0, 40.0, 801)
    vals = np.array([S(t) for t in ts])
    down = np.flatnonzero((vals[:-1] > 0) & (vals[1:] < 0))
    assert down.size, "the sigmoid length derivative should decrease through zero somewhere"
    a, b = ts[down[0]], ts[down[0] + 1]
    with_model = gdnp.bisect(counted, a, b, maxiter=30, model=prob.length_model(w))
    assert calls == []
    plain = gdnp.bisect(S, a, b, maxiter=30)
    assert with_model[0] == plain[0] and with_model[1]["nit"] == plain[1]["nit"]


def test_mini_batches_of_a_problem_without_the_hooks_say_what_is_missing():
    """A data problem of one's own (population = False, X and y) without the prepared data
    and _assign_samples that mini-batches need: batch_size= and batch() had failed with
    "unsupported operand type(s) for +: 'NoneType' and 'float'"."""
    from gdnp.problems import OLS

    base = OLS.from_data(*[np.random.default_rng(0).standard_normal(s) for s in ((40, 3), 40)])

    class Mine(OLS):  # a user's problem: its own statistics, no prepared data
        def __init__(self):
            super().__init__(base.S, base.u, base.yy, X=base.X, y=base.y, population=False)

    prob = Mine()
    with pytest.raises(TypeError, match="batch_size: Mine does not implement mini-batches"):
        gdnp.solve(prob, "gd", batch_size=8, lr=0.1, maxiter=3)
    with pytest.raises(TypeError, match="batch: Mine does not implement mini-batches"):
        prob.batch(np.arange(10))


def test_a_faulty_problem_of_ones_own_is_named_in_the_error():
    """A value_and_grad returning a gradient of the wrong shape had failed in a linear solve
    ("incompatible dimensions"); a _reference_solution raising a bare NotImplementedError
    printed "()"."""
    from gdnp.problems import OLS

    class BadShape(OLS):
        def value_and_grad(self, x):
            fun, G = super().value_and_grad(x)
            return fun, G[:-1]

    class NoRef(OLS):
        def _reference_solution(self):
            raise NotImplementedError

    args = (np.diag([1.0, 2.0, 3.0]), np.array([1.0, 0.5, -1.0]), 5.0)
    with pytest.raises(ValueError, match=r"BadShape.value_and_grad returned a gradient of "
                                         r"shape \(2,\), expected \(3,\)"):
        gdnp.solve(BadShape(*args), "gd", maxiter=3, reference=False)
    with pytest.raises(NotImplementedError, match=r"NoRef has no reference solution "
                                                  r"\(NotImplementedError\)"):
        gdnp.solve(NoRef(*args), "gd", maxiter=3)


def test_repr_keeps_a_separation_below_one_visible():
    """c must be < 1; a repr rounding 0.99999 to "separation=1" (in the quadrature warnings
    of exactly that regime) showed a value the constructor refuses."""
    assert "separation=0.99999)" in repr(Halfspace.random(3, 10.0, separation=0.99999, seed=0))
    assert "separation=0.9)" in repr(Halfspace.random(3, 10.0, separation=0.9, seed=0))


def test_a_problem_of_ones_own_is_told_what_it_lacks():
    """A plain Problem without ``dim`` had failed as a bare AttributeError, and a
    value_and_grad_bn returning a plain tuple as "'tuple' object has no attribute 'fun'"; a
    4-tuple is now taken as a BNEval, and anything else is named."""
    import gdnp
    from gdnp.problems import BNEval

    class Quadratic(PlainProblem):
        def __init__(self, give_dim=True, bn_result="tuple"):
            if give_dim:
                self.dim = 2
            self.S, self.u = np.eye(2), None
            self.smoothness = 2.0
            self.strong_convexity = self.length_smoothness = None
            self.bn_result = bn_result
            self.tuple_bn = bn_result == "tuple"

        def value_and_grad(self, x):
            x = self.check_x(x)
            return float(x @ x), 2.0 * x

        def _reference_solution(self):
            return np.zeros(2), 0.0

        def value_and_grad_bn(self, w, g):
            out = super().value_and_grad_bn(w, g)
            return list(out) if self.bn_result == "list" else out

    with pytest.raises(TypeError, match="Quadratic must set dim"):
        gdnp.solve(Quadratic(give_dim=False), "gd", x0=[1.0, 2.0])
    indefinite = Quadratic()
    indefinite.S = -np.eye(2)  # (it had failed in the error's own message: no 'info')
    with pytest.raises(ValueError, match="S is not positive definite"):
        gdnp.solve(indefinite, "gd", x0=[1.0, 2.0])
    res = gdnp.solve(Quadratic(), "bngd", x0=[1.0, 2.0], lr_g=0.1, maxiter=5)
    assert res.status in (0, 1) and isinstance(BNEval(1.0, 0, 0, 0), tuple)
    with pytest.raises(TypeError, match=r"Quadratic.value_and_grad_bn returned list, "
                                        r"expected a gdnp.problems.BNEval"):
        gdnp.solve(Quadratic(bn_result="list"), "bngd", x0=[1.0, 2.0], lr_g=0.1, maxiter=5)


def test_a_reference_of_ones_own_must_be_finite_and_of_the_problem_shape():
    """A NaN f* from _reference_solution had made every gap NaN with status 0, and a point of
    the wrong shape was stored as it was."""
    import gdnp
    from gdnp.problems import OLS

    class Bad(OLS):
        answer = (np.zeros(3), float("nan"))

        def _reference_solution(self):
            return self.answer

    base = OLS.random(3, 10.0, seed=0)
    for answer, what in (((np.zeros(3), float("nan")), "f\\* = nan"),
                         ((np.zeros(2), 1.0), "shape \\(2,\\)"),
                         ((None, 1.0), "NoneType")):
        prob = Bad.from_moments(base.S, base.u, base.yy)
        prob.answer = answer
        with pytest.raises(ValueError, match=f"Bad._reference_solution returned .*{what}"):
            prob.solution()
        with pytest.raises(ValueError, match="_reference_solution returned"):
            gdnp.solve(prob, "gd", maxiter=3)


@pytest.mark.parametrize("method", ["gd", "agd"])
def test_a_run_on_an_objective_unbounded_below_says_so(method):
    """f = -sum(x) had ended "maximum number of iterations reached" at f = -6.4e301 with no
    word on why; a bounded quadratic that falls far from a remote start gets no such note."""
    import gdnp

    class Linear(PlainProblem):
        dim, S = 3, np.eye(3)

        def value_and_grad(self, x):
            return float(-np.sum(x)), -np.ones(3)

        def _reference_solution(self):
            raise NotImplementedError

    res = gdnp.solve(Linear(), method, x0=np.array([-1.0, 0.5, 0.2]), reference=False)
    assert res.status == 1 and res.fun < -1e6
    assert "f fell from f_0 = 0.3 to" in res.message
    assert res.message.endswith("the objective may be unbounded below")

    class Shifted(PlainProblem):  # falls 2e8 from f_0 = 0 to f* = -2e8, and converges
        dim, S = 2, np.eye(2)
        smoothness = 2.0

        def value_and_grad(self, x):
            d = x - 1e4
            return float(d @ d - 2e8), 2.0 * d

        def _reference_solution(self):
            return np.full(2, 1e4), -2e8

    res = gdnp.solve(Shifted(), method, x0=np.zeros(2), reference=False)
    assert res.status == 0 and res.fun < -1e8 and "unbounded" not in res.message


@pytest.mark.parametrize("method", ["gd", "agd", "bngd", "gdnp"])
def test_a_start_that_overflows_is_named_alike_by_every_method(method):
    """GDNP's message had quoted Python's "OverflowError: (34, 'Numerical result out of
    range')" where the others say f = inf."""
    import gdnp
    from gdnp.problems import OLS

    rng = np.random.default_rng(0)
    prob = OLS.from_data(rng.standard_normal((50, 3)), rng.standard_normal(50))
    with pytest.raises(ValueError, match=r"x0: the objective is not finite at the start "
                                         r"\((f = inf|a value overflowed float64)") as err:
        gdnp.solve(prob, method, x0=np.full(3, 1e200))
    assert "Numerical result" not in str(err.value)


def test_the_divergence_message_says_when_the_gradient_was_not_finite():
    """A NaN gradient with a finite f had been reported as 'non-finite or exploding objective
    (f = 0.0627 ...)'."""
    import gdnp
    from gdnp.problems import OLS

    class NanGrad(OLS):
        def value_and_grad(self, x):
            f, g = super().value_and_grad(x)
            return f, (g if f > 0.5 else g * np.nan)

    base = OLS.random(3, 10.0, seed=0)
    prob = NanGrad.from_moments(base.S, base.u, base.yy)
    res = gdnp.solve(prob, "gd", maxiter=200, reference=False)
    assert res.status == 2 and "the gradient is not finite at iteration" in res.message


@pytest.mark.parametrize("hook, make, error, message", [
    ("value_and_grad", lambda f, g: f, TypeError,
     r"Own.value_and_grad returned float; a pair \(f, grad f\) is needed"),
    ("value_and_grad", lambda f, g: (np.array([f]), g), TypeError,
     r"Own.value_and_grad returned f = array\(\[.*\]\) \(ndarray\); a real number"),
    ("value_and_grad", lambda f, g: (f, list(g)), TypeError,
     "Own.value_and_grad returned a gradient of type list; a numpy array"),
    ("to_bn", None, TypeError, r"Own.to_bn returned ndarray; a pair \(w, g\) is needed"),
    ("from_bn", None, ValueError, r"Own: the iterate has shape \(3,\), expected \(2,\)"),
    ("dim", None, TypeError, r"Own.dim must be a positive integer, got 2.0"),
    ("grad_w", None, TypeError,
     r"Own.value_and_grad_bn returned grad_w of shape \(3,\), expected \(2,\)"),
    ("grad_x", None, ValueError,
     r"Own.value_and_grad_bn returned grad_x of shape \(3,\), expected \(2,\)"),
    ("bn_value", None, TypeError,
     r"Own.value_and_grad_bn returned f = 'one' \(str\); a real number"),
])
def test_the_hooks_of_a_problem_of_ones_own_are_named(hook, make, error, message):
    """What a problem of one's own returns is checked at its first use, and the error names
    the hook: these had failed as "cannot unpack non-iterable float object", in the solver's
    arithmetic, or not at all (a from_bn of the wrong shape gave an x of the wrong size)."""
    import gdnp

    class Own(PlainProblem):
        def __init__(self):
            self.dim, self.S, self.u = 2, np.eye(2), None
            self.smoothness, self.strong_convexity, self.length_smoothness = 2.0, None, None

        def value_and_grad(self, x):
            x = self.check_x(x)
            f, g = float(x @ x), 2.0 * x
            return make(f, g) if hook == "value_and_grad" else (f, g)

        def _reference_solution(self):
            return np.zeros(2), 0.0

        def to_bn(self, x):
            return np.asarray(x, float) if hook == "to_bn" else super().to_bn(x)

        def from_bn(self, w, g):
            x = super().from_bn(w, g)
            return np.append(x, 0.0) if hook == "from_bn" else x

        def value_and_grad_bn(self, w, g):
            ev = super().value_and_grad_bn(w, g)
            if hook == "grad_w":
                return ev._replace(grad_w=np.append(ev.grad_w, 0.0))
            if hook == "grad_x":
                return ev._replace(grad_x=np.append(ev.grad_x, 0.0))
            return ev._replace(fun="one") if hook == "bn_value" else ev

    prob = Own()
    if hook == "dim":
        prob.dim = 2.0
    method = "bngd" if hook in ("to_bn", "from_bn", "grad_w", "grad_x", "bn_value") else "gd"
    with pytest.raises(error, match=message):
        gdnp.solve(prob, method, x0=np.array([1.0, 2.0]), maxiter=3,
                   **({"lr_g": 0.1} if method == "bngd" else {}))


@pytest.mark.parametrize("scale", [1e155, 1e200, -1e200, 1e300])
def test_ols_f_far_out_is_inf_not_nan(scale):
    """At a finite x far out the quadratic's sums overflowed into inf - inf: OLS.f and
    value_and_grad had returned NaN (outside API check); the value is +inf, as x'Sx > 0."""
    from gdnp.problems import OLS

    prob = OLS.random(4, 10.0, seed=0)
    x = np.full(4, scale)
    with np.errstate(over="ignore", invalid="ignore"):
        assert prob.f(x) == np.inf and prob.value_and_grad(x)[0] == np.inf
        w, g = prob.to_bn(x)
        assert prob.f_bn(w, g) == np.inf


def test_lower_level_exports_name_their_bad_arguments():
    """bisect's model, prepare_data's rtol and Normalizer's kind, eps and centered had been
    taken unchecked (an AttributeError from inside bisect, a misleading "rank 0" singularity,
    a negative epsilon accepted)."""
    from gdnp.problems import Normalizer, prepare_data

    with pytest.raises(TypeError, match="model must be None or provide evaluate"):
        gdnp.bisect(lambda t: t - 0.3, 0.0, 1.0, model=1.0)
    X = np.random.default_rng(0).standard_normal((20, 3))
    y = np.where(X[:, 0] > 0, 1.0, -1.0)
    for rtol, exc in ((np.inf, ValueError), (1.0, ValueError), (-0.1, ValueError),
                      ("3", TypeError)):
        with pytest.raises(exc, match="rtol"):
            prepare_data(X, y, labels=True, rtol=rtol)
    assert prepare_data(X, y, labels=True, rtol=1e-12).X.shape == (20, 3)
    for kw, exc in (({"eps": -1.0}, ValueError), ({"eps": 1j}, TypeError),
                    ({"eps": np.nan}, ValueError), ({"centered": "no"}, TypeError)):
        with pytest.raises(exc, match=next(iter(kw))):
            Normalizer("batch", M=np.eye(3), **kw)
    with pytest.raises(ValueError, match="kind must be one of"):
        Normalizer("bn", M=np.eye(3))


def test_targets_and_ridge_out_of_range_are_named():
    """Targets of 1e80 had overflowed BNGD's first step and targets of 1e-200 made GDNP ask
    whether all labels were equal; a ridge that swamps S (1e100 on features of unit scale)
    had made GD stop "converged" at its start on a halfspace (and OLS's refusal named S)."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.standard_normal(40)
    labels = np.where(X[:, 0] > 0, 1.0, -1.0)
    for scale in (1e80, 1e-200):
        with pytest.raises(ValueError, match="^y: its root mean square"):
            OLS.from_data(X, scale * y)
    assert OLS.from_data(X, 1e-100 * y).dim == 3 and OLS.from_data(X, 0.0 * y).dim == 3
    for make in (lambda r: OLS.from_data(X, y, ridge=r),
                 lambda r: Halfspace.from_data(X, labels, ridge=r),
                 lambda r: MLP.from_data(X, labels, hidden=2, ridge=r)):
        with pytest.raises(ValueError, match="^ridge = 1e"):
            make(1e100)
        make(1e3)  # large but not swamping S


def test_single_unit_helpers_check_their_arguments():
    """rayleigh_grad, u_dot, optimal_length and hessian_vector had skipped the checks f and
    to_bn make: NaN in, NaN out; a zero w a ZeroDivisionError; a wrong length numpy's shape
    error. MLP.join too."""
    p = OLS.random(3, 10, seed=0)
    nan = [np.nan, 1.0, 1.0]
    for call, exc, match in [
            (lambda: p.rayleigh_grad(nan), ValueError, "^w contains"),
            (lambda: p.u_dot(nan), ValueError, "^w contains"),
            (lambda: p.hessian_vector(np.ones(3), nan), ValueError, "^v contains"),
            (lambda: p.hessian_vector(nan, np.ones(3)), ValueError, "^x contains"),
            (lambda: p.rayleigh_grad(np.zeros(3)), ValueError, r"^w: \|\|w\|\|_S\^2 = 0"),
            (lambda: p.rayleigh_grad(np.full(3, 1e-300)), ValueError, r"^w: \|\|w\|\|_S\^2"),
            (lambda: p.optimal_length(np.ones(4)), ValueError, r"^w must have shape \(3,\)"),
            (lambda: p.hessian_vector(np.ones(3), np.ones(4)), ValueError, "^v must have"),
            (lambda: p.u_dot(np.ones((3, 1))), ValueError, "^w must have shape"),
            (lambda: p.rayleigh_grad("abc"), TypeError, "^w must be"),
            (lambda: Halfspace.sample(3, 10, 50, seed=0, normalization="l1").rayleigh(
                np.full(3, 1e-300)), ValueError, r"^w: \|\|w\|\|_S = 0"),
            (lambda: MLP.random(3, 2, 10, 20, seed=0).join(np.full((2, 3), np.nan), np.ones(2)),
             ValueError, "^W contains"),
            (lambda: MLP.random(3, 2, 10, 20, seed=0).join(np.ones((3, 2)), np.ones(2)),
             ValueError, "W and theta must have shapes")]:
        with pytest.raises(exc, match=match):
            call()
    assert p.u_dot([1.0, 0.0, 0.0]) == float(p.u[0])


def test_a_separation_whose_square_underflows_is_refused():
    """At separation 1e-170 rho* read -0.0, and from 1e-180 on GDNP stopped with a misleading
    "w overflowed" (its direction step divides by u'w); the least separation is 1e-150."""
    from gdnp.problems import GaussianHalfspace

    assert gdnp.solve(Halfspace.random(3, 10, separation=1e-150, seed=0), "gdnp",
                      maxiter=50).status == 0
    for sep in (1e-151, 1e-200, 1e-300):
        with pytest.raises(ValueError, match=r"separation must lie in \[1e-150, 1\), got"):
            Halfspace.random(3, 10, separation=sep, seed=0)
    with pytest.raises(ValueError, match="^u: u'S\\^-1 u = "):
        GaussianHalfspace(np.eye(2), [1e-200, 0.0])
    assert GaussianHalfspace(np.eye(2), [0.0, 0.0]).dim == 2  # u = 0 itself is a model


def test_mlp_unit_view_and_optimize_theta_check_their_arguments():
    """unit_view had taken a projection matrix of the wrong shape and returned a wrong d_g f
    silently (an index out of range a bare IndexError); optimize_theta took maxiter <= 0."""
    prob = MLP.random(3, 2, 10.0, 50, seed=0)
    w, g = prob.to_bn(prob.initial_point(0))
    A = prob.unit_projections(w)
    assert prob.unit_view(w, g, 0, A).dg(g[0]) == pytest.approx(float(prob.dg_bn(w, g)[0]))
    for bad in (A[:10], np.ones((7, 2)), A.T):
        with pytest.raises(ValueError, match=r"^A must have shape \(n, hidden\)"):
            prob.unit_view(w, g, 0, bad)
    for i in (5, -1, 1.0, True):
        with pytest.raises(ValueError, match="^i must be a unit index"):
            prob.unit_view(w, g, i, A)
    with pytest.raises(ValueError, match="^H must have shape"):
        prob.unit_view(w, g, 0, A, H=np.ones((50, 3)))
    for maxiter in (0, -1, 1.5):
        with pytest.raises(ValueError, match="^maxiter must be an integer >= 1"):
            prob.optimize_theta(A, g, prob.theta, maxiter=maxiter)
    with pytest.raises(ValueError, match="^A must have shape"):
        prob.optimize_theta(A[:5], g, prob.theta)


@pytest.mark.parametrize("scale", [1e-14, 1e-15, 1e-100])
def test_a_column_that_varies_on_a_tiny_scale_is_not_called_constant(scale):
    """A column of mean ~0 and spread 1e-15 is not constant (it varies; only its scale is
    tiny beside the others'): it had been named "constant" with the column-of-ones hint from
    1e-14 of the largest column's scale down; it gets the standardising hint, and a column
    of 5.0s is still constant."""
    from gdnp.problems import OLS, SingularCovarianceError

    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 3))
    y = X @ np.array([1.0, 2.0, 3.0]) + rng.standard_normal(100)
    with pytest.raises(SingularCovarianceError, match=r"feature column\(s\) \[2\] of scale .*"
                                                      r"standardising X"):
        OLS.from_data(X * np.array([1.0, 1.0, scale]), y)
    X[:, 2] = 5.0
    with pytest.raises(SingularCovarianceError, match=r"constant feature column\(s\) \[2\]"):
        OLS.from_data(X, y)


def test_n_nodes_has_an_upper_bound():
    """A rule of 10^7 nodes had spent 44 s in the constructor, silently, and its reference
    solution did not finish: beyond MAX_NODES the constructors refuse, naming n_nodes."""
    from gdnp.problems import Halfspace
    from gdnp.problems.halfspace import MAX_NODES

    for make in (lambda n: Halfspace.random(3, 10.0, n_nodes=n),
                 lambda n: Halfspace.gaussian(np.eye(2), np.array([0.3, 0.0]), n_nodes=n)):
        with pytest.raises(ValueError, match=r"n_nodes must be at most 100000.*got 10000000"):
            make(10**7)
    assert MAX_NODES == 100_000


def test_names_are_taken_in_any_case_and_k_is_an_integer():
    """Names in any case, as the command line takes them (``gdnp.solve`` took "GDNP"; the
    problems had refused "BATCH" and "Logistic", ``hessian_spectrum`` "BN"); a ``k`` that is
    not an integer is a TypeError, as every other count's; ``include_length=False`` in
    original coordinates (where it meant nothing) is refused; ``claims --from`` a file that
    is not JSON says so and names it."""
    from gdnp.claims import load_claims
    from gdnp.problems import OLS, Halfspace

    p = OLS.random(3, 10.0, normalization="BATCH", seed=0)
    assert p.normalization == "batch"
    h = Halfspace.random(3, 10.0, loss="Logistic", seed=0)
    assert h.loss.name == "logistic"
    x = p.solution()[0]
    assert gdnp.hessian_spectrum(p, x, coords="BN", method="Dense").coords == "bn"
    data = Halfspace.sample(3, 10.0, 200, seed=0)
    runs = [gdnp.solve(data, "bngd", batch_size=20, statistics=s, maxiter=3, reference=False)
            for s in ("Population", "population")]
    assert np.array_equal(runs[0].x, runs[1].x) and runs[0].statistics == "population"
    assert data.batch(np.arange(5), statistics="BATCH").info["statistics"] == "batch"
    for k in ("3", 2.0, True):
        with pytest.raises(TypeError, match="k must be an integer"):
            gdnp.hessian_spectrum(p, x, k=k)
    with pytest.raises(ValueError, match="include_length=False applies to coords='bn'"):
        gdnp.hessian_spectrum(p, x, include_length=False)
    with pytest.raises(ValueError, match=r"README.md: not a claims file: it is not JSON"):
        load_claims(Path(__file__).resolve().parents[1] / "README.md")


@pytest.mark.parametrize("dtype", ["datetime64[D]", "timedelta64[D]"])
def test_dates_and_durations_are_not_numbers(dtype):
    """Labels of dates or of durations are refused alike (durations had passed as their
    counts of days)."""
    X = np.random.default_rng(0).normal(size=(60, 3))
    with pytest.raises(TypeError, match="y must be a numeric array"):
        OLS.from_data(X, np.arange(60).astype(dtype))
