"""Numeric companions of the proved local theory (not proofs): the statements of
:mod:`gdnp.proofs.c19` and :mod:`gdnp.proofs.k19` measured with the numpy code, in dimensions
beyond those proved at fixed size, and the sigmoid ``|c1| <= Phi`` disagreement measured with
the population solver (theory guide §2, §4, §12)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, special

from gdnp.problems import OLS, Halfspace


def _h_star(S: np.ndarray, w: np.ndarray) -> np.ndarray:
    Sw = S @ w
    return S - np.outer(Sw, Sw) / (w @ Sw)


@pytest.mark.parametrize("d", [5, 8])
def test_interlacing_and_kappa_star(d: int) -> None:
    prob = OLS.random(d, kappa=50.0, seed=d)
    w_star = np.linalg.solve(prob.S, prob.u)
    lam = np.linalg.eigvalsh(prob.S)
    mu = np.linalg.eigvalsh(_h_star(prob.S, w_star))
    assert abs(mu[0]) < 1e-10 * lam[-1]  # rank d - 1
    slack = 1e-10 * lam[-1]
    assert np.all(lam[:-1] <= mu[1:] + slack) and np.all(mu[1:] <= lam[1:] + slack)
    assert mu[-1] / mu[1] <= lam[-1] / lam[0] * (1 + 1e-12)


def test_bn_hessian_at_optimum_matches_h_star() -> None:
    d = 4
    prob = OLS.random(d, kappa=20.0, seed=1)
    w = 0.7 * np.linalg.solve(prob.S, prob.u)  # any scale of the optimal direction
    g = prob.optimal_length(w)
    step = 1e-6
    cols = []
    for i in range(d):
        e = np.zeros(d)
        e[i] = step
        cols.append((prob.grad_bn(w + e, g)[0] - prob.grad_bn(w - e, g)[0]) / (2 * step))
    hess = np.array(cols).T
    want = 2 * g**2 / (w @ prob.S @ w) * _h_star(prob.S, w)
    np.testing.assert_allclose(hess, want, rtol=1e-6, atol=1e-7 * np.abs(want).max())


def test_step4_contracts_by_the_proved_factor() -> None:
    prob = OLS.random(10, kappa=30.0, seed=2)
    rng = np.random.default_rng(0)
    w = rng.standard_normal(10)
    L, mu = prob.L, np.linalg.eigvalsh(prob.S)[0]
    gap = prob.rayleigh(w) - prob.rho_star
    for _ in range(20):
        Sw = prob.S @ w
        w = w - Sw / L + (w @ Sw) / (L * (prob.u @ w)) * prob.u
        new_gap = prob.rayleigh(w) - prob.rho_star
        assert new_gap <= (1 - mu / L) ** 2 * gap * (1 + 1e-9) + 1e-15
        gap = new_gap


def test_sigmoid_c1_exceeds_phi_in_the_population_solver() -> None:
    """The documented discrepancy k19.sigmoid_c1_le_phi, measured: |c1| > 1/4."""
    sep = 1.0 - 1e-6
    S = np.diag([1.0, 2.0, 4.0])
    v = np.array([1.0, 0.5, -0.3])
    u = sep * v / np.sqrt(v @ np.linalg.solve(S, v))
    prob = Halfspace.gaussian(S, u, loss="sigmoid")
    w = np.linalg.solve(S, u)  # u'w/||w||_S = sep, so s = |g| sqrt(1 - sep^2) ~ 2e-3
    m_best = 1.3169579168
    c1 = prob.stein_c1(w, -m_best / sep)
    assert c1 > 0.29 > 0.25
    # the supremum of the s -> 0 limit sigma'(m)(1 - m(1 - 2 sigma(m))), the correct constant
    res = optimize.minimize_scalar(
        lambda m: -special.expit(m) * special.expit(-m) * (1 - m * (1 - 2 * special.expit(m))),
        bounds=(-3, 0),
        method="bounded",
        options={"xatol": 1e-12},
    )
    assert abs(-res.fun - 0.2933910) < 1e-6 and abs(abs(res.x) - m_best) < 1e-6
    assert c1 <= -res.fun + 1e-6
