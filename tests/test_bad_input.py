"""Bad input: each case raises ValueError/TypeError whose message names the problem."""

from __future__ import annotations

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

from conftest import halfspace_data

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
    with pytest.raises(ValueError, match=r"separation must lie in \(0, 1\)"):
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
