"""Bridge between the symbolic checks and the numerics (not part of the proofs).

For each problem of ``gdnp.problems`` a gradient is derived symbolically with sympy,
``lambdify``-ed, and compared at random points with the hand-written numpy gradient, both in
original coordinates and in BN coordinates ``(w, g)`` (theory guide §1-§3, §5).
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from gdnp.problems import MLP, OLS, Halfspace
from gdnp.problems.losses import get_loss

D = 3
RTOL, ATOL = 1e-7, 1e-9
T = sp.Symbol("t", real=True)

#: the losses of theory guide §3 as sympy expressions in t
SYMBOLIC_LOSSES = {
    "logistic": sp.log(1 + sp.exp(T)),
    "sigmoid": 1 / (1 + sp.exp(-T)),
    "squared": (1 + T) ** 2 / 2,
}


def _spd(rng: np.random.Generator, d: int) -> np.ndarray:
    A = rng.standard_normal((d, d))
    return A @ A.T + d * np.eye(d)


def _data(rng: np.random.Generator, n: int = 40, d: int = D) -> tuple[np.ndarray, np.ndarray]:
    X = rng.standard_normal((n, d)) @ np.diag([1.0, 2.0, 0.5])[:d, :d]
    y = np.where(X @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    return X, y


def _bn_symbols(d: int) -> tuple[sp.Matrix, sp.Symbol, sp.Matrix]:
    w = sp.Matrix(sp.symbols(f"w1:{d + 1}", real=True))
    g = sp.Symbol("g", real=True)
    S = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"S{min(i, j)}{max(i, j)}", real=True))
    return w, g, S


def _s_syms(S: sp.Matrix) -> list[sp.Symbol]:
    d = S.shape[0]
    return [S[i, j] for i in range(d) for j in range(i, d)]


def _s_args(S_num: np.ndarray) -> list[float]:
    d = S_num.shape[0]
    return [S_num[i, j] for i in range(d) for j in range(i, d)]


# --- losses ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SYMBOLIC_LOSSES))
def test_loss_derivatives_match_sympy(name: str) -> None:
    phi = SYMBOLIC_LOSSES[name]
    loss = get_loss(name)
    t = np.linspace(-30.0, 30.0, 121)
    for k, fn in enumerate((loss.phi, loss.dphi, loss.d2phi)):
        expected = sp.lambdify(T, sp.diff(phi, T, k), "numpy")(t) * np.ones_like(t)
        np.testing.assert_allclose(fn(t), expected, rtol=1e-9, atol=1e-12, err_msg=f"{name} d{k}")


# --- OLS ------------------------------------------------------------------------------------


def test_ols_gradients_match_sympy() -> None:
    rng = np.random.default_rng(0)
    S_num, u_num, yy = _spd(rng, D), rng.standard_normal(D), 2.5
    prob = OLS.from_moments(S_num, u_num, yy)
    x = sp.Matrix(sp.symbols(f"x1:{D + 1}", real=True))
    w, g, S = _bn_symbols(D)
    u = sp.Matrix(sp.symbols(f"u1:{D + 1}", real=True))
    yy_s = sp.Symbol("yy", real=True)

    def f_sym(v: sp.Matrix) -> sp.Expr:
        return yy_s + 2 * (u.T * v)[0, 0] + (v.T * S * v)[0, 0]

    params = [*_s_syms(S), *u, yy_s]
    p_num = [*_s_args(S_num), *u_num, yy]
    grad_x = sp.lambdify([*x, *params], [sp.diff(f_sym(x), xi) for xi in x], "numpy")
    wt = g * w / sp.sqrt((w.T * S * w)[0, 0])
    f_bn = f_sym(wt)
    bn = sp.lambdify(
        [*w, g, *params], [f_bn, [sp.diff(f_bn, wi) for wi in w], sp.diff(f_bn, g)], "numpy"
    )
    for _ in range(5):
        xv = rng.standard_normal(D)
        np.testing.assert_allclose(prob.grad(xv), grad_x(*xv, *p_num), rtol=RTOL, atol=ATOL)
        wv, gv = rng.standard_normal(D), rng.standard_normal()
        f_val, gw, gg = bn(*wv, gv, *p_num)
        got_w, got_g = prob.grad_bn(wv, gv)
        np.testing.assert_allclose(prob.f_bn(wv, gv), f_val, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(got_w, gw, rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(got_g, gg, rtol=RTOL, atol=ATOL)


# --- halfspaces -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SYMBOLIC_LOSSES))
def test_halfspace_gradients_match_sympy(name: str) -> None:
    rng = np.random.default_rng(1)
    X, y = _data(rng)
    prob = Halfspace.from_data(X, y, loss=name)
    Z = -prob.y[:, None] * prob.X  # per-sample z = -y x (centred data)
    S_num = prob.X.T @ prob.X / prob.X.shape[0]
    np.testing.assert_allclose(prob.S, S_num, rtol=1e-10, atol=1e-12)
    phi = sp.Lambda(T, SYMBOLIC_LOSSES[name])
    z = sp.Matrix(sp.symbols(f"z1:{D + 1}", real=True))
    x = sp.Matrix(sp.symbols(f"x1:{D + 1}", real=True))
    w, g, S = _bn_symbols(D)
    per_sample = phi((z.T * x)[0, 0])
    grad_x = sp.lambdify([*z, *x], [sp.diff(per_sample, xi) for xi in x], "numpy")
    wt = g * w / sp.sqrt((w.T * S * w)[0, 0])
    per_bn = phi((z.T * wt)[0, 0])
    bn = sp.lambdify(
        [*z, *w, g, *_s_syms(S)],
        [per_bn, [sp.diff(per_bn, wi) for wi in w], sp.diff(per_bn, g)],
        "numpy",
    )
    zs = list(Z.T)
    for _ in range(4):
        xv = rng.standard_normal(D)
        expected = np.array([np.mean(c) for c in grad_x(*zs, *xv)])
        np.testing.assert_allclose(prob.grad(xv), expected, rtol=RTOL, atol=ATOL)
        wv, gv = rng.standard_normal(D), rng.standard_normal()
        f_val, gw, gg = bn(*zs, *wv, gv, *_s_args(S_num))
        got_w, got_g = prob.grad_bn(wv, gv)
        np.testing.assert_allclose(prob.f_bn(wv, gv), np.mean(f_val), rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(got_w, [np.mean(c) for c in gw], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(got_g, np.mean(gg), rtol=RTOL, atol=ATOL)


# --- MLP ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["logistic", "squared"])
def test_mlp_gradients_match_sympy(name: str) -> None:
    rng = np.random.default_rng(2)
    X, y = _data(rng)
    m = 2
    prob = MLP.from_data(X, y, hidden=m, loss=name, seed=0)
    Z = -prob.y[:, None] * prob.X
    S_num = prob.X.T @ prob.X / prob.X.shape[0]
    ell = sp.Lambda(T, SYMBOLIC_LOSSES[name])
    z = sp.Matrix(sp.symbols(f"z1:{D + 1}", real=True))
    Wm = sp.Matrix(m, D, lambda i, j: sp.Symbol(f"W{i}{j}", real=True))
    th = sp.Matrix(sp.symbols(f"theta1:{m + 1}", real=True))
    flat = [*Wm, *th]  # row-major W, then theta: x = concatenate([W.ravel(), theta])
    per_sample = ell(sum(th[i] * sp.tanh((Wm[i, :] * z)[0, 0]) for i in range(m)))
    grad_x = sp.lambdify([*z, *flat], [sp.diff(per_sample, v) for v in flat], "numpy")
    _, _, S = _bn_symbols(D)
    gs = sp.Matrix(sp.symbols(f"g1:{m + 1}", real=True))
    Wb = sp.Matrix(m, D, lambda i, j: sp.Symbol(f"V{i}{j}", real=True))
    wts = [gs[i] * Wb[i, :] / sp.sqrt((Wb[i, :] * S * Wb[i, :].T)[0, 0]) for i in range(m)]
    per_bn = ell(sum(th[i] * sp.tanh((wts[i] * z)[0, 0]) for i in range(m)))
    bn = sp.lambdify(
        [*z, *Wb, *gs, *th, *_s_syms(S)],
        [per_bn, [sp.diff(per_bn, v) for v in Wb], [sp.diff(per_bn, v) for v in gs]],
        "numpy",
    )
    zs = list(Z.T)
    for _ in range(3):
        xv = 0.7 * rng.standard_normal(m * D + m)
        expected = np.array([np.mean(c) for c in grad_x(*zs, *xv)])
        np.testing.assert_allclose(prob.grad(xv), expected, rtol=RTOL, atol=ATOL)
        w_num, g_num = rng.standard_normal((m, D)), rng.standard_normal(m)
        theta = np.asarray(prob.theta, dtype=float)
        f_val, gw, gg = bn(*zs, *w_num.ravel(), *g_num, *theta, *_s_args(S_num))
        got_w, got_g = prob.grad_bn(w_num, g_num)
        np.testing.assert_allclose(prob.f_bn(w_num, g_num), np.mean(f_val), rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(
            np.asarray(got_w).ravel(), [np.mean(c) for c in gw], rtol=RTOL, atol=ATOL
        )
        np.testing.assert_allclose(got_g, [np.mean(c) for c in gg], rtol=RTOL, atol=ATOL)


# --- gdnp verify --bridge -------------------------------------------------------------------


def test_verify_bridge_cli(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from gdnp.proofs.bridge import FORMS, run_bridge
    from gdnp.proofs.report import verify_main

    assert verify_main(["--only", "gdnp", "--bridge"]) == 0
    out = capsys.readouterr().out
    assert "bridge:" in out and "MISMATCH" not in out
    for name in ("OLS", "Gauss-Hermite", "empirical", "MLP"):
        assert name in out
    assert verify_main(["--json", "--only", "ols.step4", "--bridge"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["bridge"] and all(b["ok"] for b in payload["bridge"])
    targets = {b["target"] for b in payload["bridge"]}
    for t in ("f_bn", "grad_bn[w]", "dg_bn", "optimal_length", "stein_c1", "GDNP h",
              "GDNP direction step", "rayleigh_grad"):
        assert t in targets
    assert len(run_bridge(forms=FORMS[:1])) < len(payload["bridge"])


def test_verify_exit_status_on_unrefuted_discrepancy(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import gdnp.proofs as proofs
    from gdnp.proofs import runner
    from gdnp.proofs.core import Check, Identity, counterexample
    from gdnp.proofs.report import verify_main

    if runner._context().get_start_method() != "fork":
        pytest.skip("the monkeypatched registry is only visible to forked workers")
    x = sp.Symbol("x", real=True)
    wrong = Identity(x**2, x, "expand")
    check = Check("bn.claimed", "bn", "x^2 = x", "test", lambda: [wrong], expected="fails",
                  counterexample=lambda: counterexample(wrong, {x: 0}), generality="any x")
    monkeypatch.setattr(proofs, "CHECKS", [check])
    monkeypatch.setattr(proofs, "_BY_NAME", {check.name: check})
    from gdnp.proofs import report

    monkeypatch.setattr(report, "CHECKS", [check])
    assert verify_main(["--only", "bn"]) == 1
    out = capsys.readouterr().out
    assert "unrefuted" in out and "NOT refuted" in out
    assert "0 proved, 0 failed, 0 discrepancies refuted, 1 unrefuted" in out
