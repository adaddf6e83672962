"""``gdnp verify --bridge``: the proved formulas against the numpy code (theory guide §1-§5).

The symbolic expressions that :mod:`gdnp.proofs` proves (in the dimension-free algebra of
:mod:`gdnp.proofs.vectors`) are evaluated numerically at random points -- each inner-product
symbol ``a' S^k b`` by numpy -- and compared with what ``gdnp.problems`` and ``gdnp`` compute:
``f_bn``, ``grad_bn``, ``dg_bn``, ``optimal_length``, ``stein_c1``, ``rayleigh``,
``rayleigh_grad``, ``rho_star`` and GDNP's ``h`` and direction step, for OLS, the population
(Gauss-Hermite) halfspace, the empirical halfspace and the MLP. The Gaussian expectations
``E[phi^(k)(t)]``, ``t ~ N(m, s^2)``, that the proved formulas take as inputs are computed
independently by adaptive quadrature (``scipy.integrate.quad``), never by the code under test.

This is a numeric comparison (tolerances below), not a proof; it catches drift between the
proved formulas and the implementation on either side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

import numpy as np
import sympy as sp

from .vectors import Space, Vec

__all__ = ["FORMS", "BridgeResult", "evaluate", "format_bridge", "run_bridge"]

#: tolerance of a comparison, relative to ``max(1, |value|)`` (so absolute below 1; the
#: quadrature and the 601-node rule agree to ~1e-12)
RTOL = 1e-7


@dataclass
class BridgeResult:
    """One comparison: the proved formula ``formula`` against the numpy ``target``."""

    problem: str
    target: str
    formula: str
    error: float
    ok: bool

    def to_dict(self) -> dict:
        """The record as a plain ``dict``."""
        return asdict(self)


def evaluate(
    x: sp.Expr | Vec,
    space: Space,
    vectors: Mapping[str, np.ndarray],
    S: np.ndarray,
    scalars: Mapping[sp.Symbol, float] | None = None,
) -> float | np.ndarray:
    """Numeric value of a scalar or vector of the dimension-free algebra.

    Parameters
    ----------
    x : sympy expression or Vec
    space : Space
        The space whose inner-product symbols occur in ``x``.
    vectors : mapping of str to ndarray
        Values of the primitive vectors.
    S : ndarray
        The symmetric positive definite matrix.
    scalars : mapping, optional
        Values of the other scalar symbols.
    """

    def power(k: int, v: np.ndarray) -> np.ndarray:
        for _ in range(abs(k)):
            v = S @ v if k > 0 else np.linalg.solve(S, v)
        return v

    values = {sym: float(val) for sym, val in (scalars or {}).items()}

    def scalar(expr: sp.Expr) -> float:
        expr = sp.sympify(expr)
        subs = dict(values)
        for sym in space.ips(expr):
            a, k, b = space._where[sym]
            subs[sym] = float(vectors[a] @ power(k, vectors[b]))
        return float(expr.xreplace(subs).evalf())

    if isinstance(x, Vec):
        out = np.zeros_like(next(iter(vectors.values())), dtype=float)
        for (a, k), c in x.terms.items():
            out = out + scalar(c) * power(k, vectors[a])
        return out
    return scalar(x)


def _err(got, want) -> float:
    got, want = np.atleast_1d(np.asarray(got, float)), np.atleast_1d(np.asarray(want, float))
    if got.shape != want.shape:
        return float("inf")
    scale = max(1.0, float(np.max(np.abs(want))))
    return float(np.max(np.abs(got - want)) / scale)


def _spd(rng: np.random.Generator, d: int) -> np.ndarray:
    A = rng.standard_normal((d, d))
    return A @ A.T / d + 0.5 * np.eye(d)


def _gaussian_moments(phi: Callable, m: float, s: float, k_max: int = 2) -> list[float]:
    """``E[phi^(k)(t)]``, ``k = 0..k_max``, ``t ~ N(m, s^2)``, by adaptive quadrature."""
    from scipy import integrate

    def density(t: float) -> float:
        return np.exp(-0.5 * ((t - m) / s) ** 2) / (s * np.sqrt(2.0 * np.pi))

    return [
        integrate.quad(
            lambda t, k=k: phi(k, t) * density(t),
            m - 40 * s,
            m + 40 * s,
            epsabs=1e-14,
            epsrel=1e-12,
            limit=200,
        )[0]
        for k in range(k_max + 1)
    ]


def _loss_derivative(name: str) -> Callable[[int, float], float]:
    t = sp.Symbol("t", real=True)
    exprs = {
        "logistic": sp.log(1 + sp.exp(t)),
        "sigmoid": 1 / (1 + sp.exp(-t)),
        "squared": (1 + t) ** 2 / 2,
    }[name]
    fns = [sp.lambdify(t, sp.diff(exprs, t, k), "math") for k in range(3)]

    def phi(k: int, x: float) -> float:
        try:
            return float(fns[k](x))
        except OverflowError:  # logistic at large t: log(1 + e^t) ~ t, sigma ~ 1
            return float(fns[k](np.clip(x, -700, 700)))

    return phi


# --------------------------------------------------------------------------- problems
def _ols(rng: np.random.Generator, d: int) -> list[BridgeResult]:
    from gdnp import gdnp as run_gdnp
    from gdnp.decoupled import rayleigh_step_size
    from gdnp.problems import OLS

    from .ols import OLSSetting, grad_rho_formula, step4_map

    S, u, yy = _spd(rng, d), rng.standard_normal(d), 2.5
    prob = OLS.from_moments(S, u, yy)
    s = OLSSetting()
    out: list[BridgeResult] = []
    for _ in range(3):
        w, g = rng.standard_normal(d), float(rng.standard_normal())
        vecs = {"w": w, "u": u}
        sc = {s.g: g, s.yy: yy, s.r: float(np.sqrt(w @ S @ w)), s.L: prob.L}

        def ev(x, vecs=vecs, sc=sc):
            return evaluate(x, s.V, vecs, S, sc)

        ev_bn = prob.value_and_grad_bn(w, g)
        h = prob.stein_c1(w, g) * prob.u_dot(w)
        step = rayleigh_step_size(w, g, h, prob.norm_S(w), prob.L)
        rows = [
            ("f_bn", prob.f_bn(w, g), "ols.bn_form", ev(s.f_bn())),
            ("grad_bn[w]", ev_bn.grad_w, "grad_w of ols.bn_form", ev(s.V.grad(s.f_bn(), "w"))),
            ("dg_bn", prob.dg_bn(w, g), "d_g of ols.bn_form", ev(sp.diff(s.f_bn(), s.g))),
            ("optimal_length", prob.optimal_length(w), "ols.g_star", ev(s.g_star())),
            ("rayleigh", prob.rayleigh(w), "ols.profile (rho)", ev(s.rho())),
            (
                "rayleigh_grad",
                prob.rayleigh_grad(w),
                "ols.grad_rho",
                ev(grad_rho_formula(s.u, s.w)),
            ),
            ("rho_star", prob.rho_star, "ols.rho_star_value", ev(s.rho_star)),
            ("stein_c1", prob.stein_c1(w, g), "grad f = 2u + 2Sw~: c1 = 2", 2.0),
            (
                "GDNP direction step",
                w - step * ev_bn.grad_w,
                "gdnp.step_is_eq4 / ols.step4",
                ev(step4_map(s)),
            ),
        ]
        out += [BridgeResult("OLS", a, c, _err(b, dd), _err(b, dd) < RTOL) for a, b, c, dd in rows]
    # one GDNP iteration end to end (closed-form length): w_1 and g_1
    w0 = rng.standard_normal(d)
    res = run_gdnp(prob, w0=w0, g0=1.0, maxiter=1, length="closed_form")
    vecs = {"w": w0, "u": u}
    sc = {s.g: 1.0, s.yy: yy, s.r: float(np.sqrt(w0 @ S @ w0)), s.L: prob.L}
    w1 = evaluate(step4_map(s), s.V, vecs, S, sc)
    err = _err(res.direction, w1)
    out.append(BridgeResult("OLS", "gdnp() direction w_1", "ols.step4", err, err < RTOL))
    g1 = -(u @ w1) / np.sqrt(w1 @ S @ w1)
    err = _err(res.length, g1)
    out.append(BridgeResult("OLS", "gdnp() length g_1", "ols.g_star at w_1", err, err < RTOL))
    return out


def _halfspace_population(rng: np.random.Generator, d: int, loss: str) -> list[BridgeResult]:
    from gdnp.decoupled import rayleigh_step_size
    from gdnp.problems import Halfspace

    from .halfspace import _BNHalfspace
    from .ols import OLSSetting, step4_map

    S = _spd(rng, d)
    v = rng.standard_normal(d)
    u = 0.8 * v / np.sqrt(v @ np.linalg.solve(S, v))  # separation 0.8
    prob = Halfspace.gaussian(S, u, loss=loss)
    phi = _loss_derivative(loss)
    s = _BNHalfspace()
    o = OLSSetting()
    out: list[BridgeResult] = []
    for _ in range(2):
        w, g = rng.standard_normal(d), float(1.0 + rng.random())
        r = float(np.sqrt(w @ S @ w))
        wt = g * w / r
        m = float(u @ wt)
        sd = float(np.sqrt(wt @ S @ wt - m * m))  # halfspace.gauss_hermite_reduction
        E0, E1, E2 = _gaussian_moments(phi, m, sd)
        c1, c2 = E1 - E2 * m, E2  # (6)
        vecs = {"w": w, "u": u, "G": c1 * u + c2 * (S @ wt), "h": w}
        sc = {s.g: g, s.r: r, s.c1: c1, s.c2: c2, o.L: prob.L}

        def ev(x, vecs=vecs, sc=sc):
            return evaluate(x, s.V, vecs, S, sc)

        ev_bn = prob.value_and_grad_bn(w, g)
        h = prob.stein_c1(w, g) * prob.u_dot(w)
        step = rayleigh_step_size(w, g, h, prob.norm_S(w), prob.L)
        grad7 = (s.u - s.w.S() * (s.u.dot(s.w) / s.r**2)) * (s.g * s.c1 / s.r)
        rows = [
            ("f_bn", prob.f_bn(w, g), "E[phi(t)], t ~ N(m, s^2) (GH reduction)", E0),
            (
                "grad (original)",
                prob.grad(wt),
                "halfspace.gradient_structure (6)",
                c1 * u + c2 * (S @ wt),
            ),
            ("grad_bn[w]", ev_bn.grad_w, "halfspace.bn_gradient (7)", ev(grad7)),
            ("dg_bn", prob.dg_bn(w, g), "bn.chain_rule d_g f = w'G/||w||_S", ev(s.dg())),
            ("stein_c1", prob.stein_c1(w, g), "c1 = E[phi'] - E[phi''] u'w~", c1),
            ("GDNP h", h, "h = c1 u'w", c1 * float(u @ w)),
            (
                "GDNP direction step",
                w - step * ev_bn.grad_w,
                "gdnp.step_is_eq4",
                evaluate(step4_map(o), o.V, {"w": w, "u": u}, S, {o.L: prob.L}),
            ),
        ]
        name = f"halfspace (Gauss-Hermite, {loss})"
        out += [BridgeResult(name, a, c, _err(b, dd), _err(b, dd) < RTOL) for a, b, c, dd in rows]
    return out


def _halfspace_empirical(rng: np.random.Generator, d: int, loss: str) -> list[BridgeResult]:
    from gdnp.problems import Halfspace

    from .bn import GeneralSetting

    n = 200
    X = rng.standard_normal((n, d)) * np.linspace(0.5, 2.0, d)
    y = np.where(X @ rng.standard_normal(d) + rng.standard_normal(n) > 0, 1.0, -1.0)
    prob = Halfspace.from_data(X, y, loss=loss)
    Z = -prob.y[:, None] * prob.X
    S = prob.S
    phi = _loss_derivative(loss)
    s = GeneralSetting("u")
    out: list[BridgeResult] = []
    for _ in range(2):
        w, g = rng.standard_normal(d), float(rng.standard_normal())
        r = float(np.sqrt(w @ S @ w))
        wt = g * w / r
        t = Z @ wt
        d1 = np.array([phi(1, ti) for ti in t])
        d2 = np.array([phi(2, ti) for ti in t])
        G = Z.T @ d1 / n  # grad f(w~) = mean z phi'(z'w~), independent of the code
        u = Z.mean(axis=0)
        c1 = d1.mean() - d2.mean() * float(u @ wt)
        vecs = {"w": w, "G": G, "u": u, "h": w}
        sc = {s.g: g, s.r: r}
        ev_bn = prob.value_and_grad_bn(w, g)
        rows = [
            ("f_bn", prob.f_bn(w, g), "mean phi(z'w~)", np.mean([phi(0, ti) for ti in t])),
            ("grad_bn[w]", ev_bn.grad_w, "bn.chain_rule J'G", evaluate(s.JtG(), s.V, vecs, S, sc)),
            (
                "dg_bn",
                prob.dg_bn(w, g),
                "bn.chain_rule w'G/||w||_S",
                evaluate(s.dg(), s.V, vecs, S, sc),
            ),
            ("stein_c1", prob.stein_c1(w, g), "c1 = mean phi' - mean phi'' u'w~", c1),
        ]
        name = f"halfspace (empirical, {loss})"
        out += [BridgeResult(name, a, c, _err(b, dd), _err(b, dd) < RTOL) for a, b, c, dd in rows]
    return out


def _mlp(rng: np.random.Generator, d: int) -> list[BridgeResult]:
    from gdnp.problems import MLP
    from gdnp.problems.mlp import UnitView

    from .bn import GeneralSetting

    n, hidden = 120, 2
    X = rng.standard_normal((n, d))
    y = np.where(X @ rng.standard_normal(d) > 0, 1.0, -1.0)
    prob = MLP.from_data(X, y, hidden=hidden, loss="logistic", seed=0)
    Z = -prob.y[:, None] * prob.X
    S = prob.S
    phi = _loss_derivative("logistic")
    theta = np.asarray(prob.theta, dtype=float)
    s = GeneralSetting()
    W, gs = rng.standard_normal((hidden, d)), 0.5 + rng.random(hidden)
    ev_bn = prob.value_and_grad_bn(W, gs)
    nS = np.sqrt(np.einsum("ij,jk,ik->i", W, S, W))
    T = Z @ (W * (gs / nS)[:, None]).T  # z'w~_i per sample
    out_arg = np.tanh(T) @ theta
    dl = np.array([phi(1, a) for a in out_arg])
    d2l = np.array([phi(2, a) for a in out_arg])
    out: list[BridgeResult] = []
    err = _err(prob.f_bn(W, gs), np.mean([phi(0, a) for a in out_arg]))
    out.append(BridgeResult("MLP", "f_bn", "mean l(sum_i theta_i tanh(z'w~_i))", err, err < RTOL))
    dg_all = np.asarray(prob.dg_bn(W, gs))
    for i in range(hidden):
        sech2 = 1.0 - np.tanh(T[:, i]) ** 2
        G = Z.T @ (dl * theta[i] * sech2) / n  # grad_{w~_i} f, per-sample chain rule
        vecs = {"w": W[i], "G": G, "h": W[i]}
        sc = {s.g: gs[i], s.r: nS[i]}
        jtg = evaluate(s.JtG(), s.V, vecs, S, sc)
        err = _err(np.asarray(ev_bn.grad_w)[i], jtg)
        out.append(
            BridgeResult("MLP", f"grad_bn[w] unit {i}", "bn.chain_rule J'G", err, err < RTOL)
        )
        dg = evaluate(s.dg(), s.V, vecs, S, sc)
        err = _err(np.asarray(ev_bn.grad_g)[i], dg)
        out.append(
            BridgeResult("MLP", f"grad_bn[g] unit {i}", "bn.chain_rule d_g f", err, err < RTOL)
        )
        err = _err(dg_all[i], dg)
        out.append(BridgeResult("MLP", f"dg_bn unit {i}", "bn.chain_rule d_g f", err, err < RTOL))
        # UnitView.c1 against mlp.psi_derivatives: psi' = th sech^2 l', psi'' = th^2 sech^4 l''
        # - 2 th tanh sech^2 l'
        others = out_arg - theta[i] * np.tanh(T[:, i])
        a0 = Z @ W[i] / nS[i]
        view = UnitView(prob, W[i], a0, others, theta[i])
        th = np.tanh(T[:, i])
        psi1 = theta[i] * sech2 * dl
        psi2 = theta[i] ** 2 * sech2**2 * d2l - 2 * theta[i] * th * sech2 * dl
        u = Z.mean(axis=0)
        c1 = psi1.mean() - psi2.mean() * gs[i] * float(u @ W[i]) / nS[i]
        err = _err(view.c1(gs[i]), c1)
        out.append(
            BridgeResult("MLP", f"UnitView.c1 unit {i}", "mlp.psi_derivatives", err, err < RTOL)
        )
        err = _err(view.grad_w(gs[i]), jtg)
        out.append(
            BridgeResult("MLP", f"UnitView.grad_w unit {i}", "bn.chain_rule J'G", err, err < RTOL)
        )
    return out


#: the problem forms the bridge covers
FORMS = ("ols", "population", "empirical", "mlp")


def run_bridge(seed: int = 0, d: int = 4, forms: tuple[str, ...] = FORMS) -> list[BridgeResult]:
    """Evaluate the proved formulas against the numpy code for every problem form.

    Parameters
    ----------
    seed : int
        Seed of the random points (``numpy.random.default_rng``).
    d : int
        Dimension of the random problems.
    forms : tuple of str
        Subset of :data:`FORMS`: OLS, the population (Gauss-Hermite) halfspace, the empirical
        halfspace and the MLP.

    Returns
    -------
    list of BridgeResult
        One record per comparison; ``ok`` when the relative error is below :data:`RTOL`.
    """
    unknown = set(forms) - set(FORMS)
    if unknown:
        raise ValueError(f"forms: unknown {sorted(unknown)}; choose from {FORMS}")
    rng = np.random.default_rng(seed)
    out: list[BridgeResult] = []
    if "ols" in forms:
        out += _ols(rng, d)
    for loss in ("logistic", "sigmoid", "squared"):
        if "population" in forms:
            out += _halfspace_population(rng, d, loss)
        if "empirical" in forms:
            out += _halfspace_empirical(rng, d, loss)
    if "mlp" in forms:
        out += _mlp(rng, d)
    return out


def format_bridge(results: list[BridgeResult]) -> str:
    """Table of the bridge comparisons, worst error per (problem, target), and a count."""
    worst: dict[tuple[str, str, str], float] = {}
    for r in results:
        key = (r.problem, r.target, r.formula)
        worst[key] = max(worst.get(key, 0.0), r.error)
    rows = [("problem", "numpy", "proved formula", "max rel err", "")]
    rows += [
        (p, t, f, f"{e:.1e}", "ok" if e < RTOL else "MISMATCH") for (p, t, f), e in worst.items()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    bad = sum(not r.ok for r in results)
    lines.append(
        f"bridge: {len(results) - bad} of {len(results)} comparisons agree (rtol {RTOL:g})"
    )
    return "\n".join(lines)
