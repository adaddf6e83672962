"""Kohler et al. (AISTATS 2019, "K19"): the rate statements behind GDNP (theory guide §2, §4).

* OLS contraction of step (4): ``rho(w_{t+1}) - rho* <= (1 - mu/L)^2 (rho(w_t) - rho*)``.
  General-d argument, each step checked: with ``v = S^-1 u`` and ``e_t = v - (u'w_t/w_t'Sw_t)
  w_t``, ``rho(w_t) - rho* = ||e_t||_S^2``; step (4) gives ``v - (u'w_t/w_t'Sw_t) w_{t+1} =
  (I - S/L) e_t``; ``||v - tau w||_S^2 - (rho(w) - rho*) = w'Sw (tau - u'w/w'Sw)^2 >= 0``;
  and per eigenvalue ``(1 - mu/L)^2 - (1 - lam/L)^2 = (lam - mu)(2L - lam - mu)/L^2 >= 0``.
  In ``d = 2`` the whole inequality is proved exactly by an explicit certificate.
* Length bisection: ``|g_T - g*| <= 2^-T |b - a|`` and ``(d_g f(g_T))^2 <= (zeta/mu)^2
  4^-T (b - a)^2``; the quoted ``2^-T zeta |b - a| / mu^2`` is refuted at ``T = 0``.
* MLP alternating step: GDNP's direction step for unit ``i`` with the others fixed is step (4)
  plus a cross term ``(||w||_S^2 b_ij/(L a_i u'w))(S w~_j - (w'S w~_j/||w||_S^2) S w)``.
* ``|c1| <= Phi`` for the sigmoid loss (``Phi = 1/4``): false; as ``s -> 0``, ``c1 -> phi'(m)
  - m phi''(m)``, which is ``2e^2/(1 + e)^3 > 1/4`` at ``m = -1``; the supremum over ``(m, s)``
  is ``max_m sigma'(m)(1 - m(1 - 2 sigma(m))) ~ 0.293391`` at ``|m| ~ 1.31696``, ``s -> 0``.
  For the logistic loss (``Phi = 1``) the limit lies in ``(0, 1)``.
"""

from __future__ import annotations

import sympy as sp

from .core import Check, Counterexample, Identity, bound_counterexample
from .symbols import vec
from .vectors import Space, Vec, vec_identity

__all__ = ["CHECKS", "sigmoid_c1_limit"]


def _space() -> tuple[Space, Vec, Vec, sp.Symbol]:
    V = Space(("w", "u", "x"))
    return V, V.v("w"), V.v("u"), sp.Symbol("L", positive=True)


def _contraction_steps() -> list[Identity]:
    V, w, u, L = _space()
    Q, a = w.norm2(1), u.dot(w)
    v = u.S(-1)
    rho = -(a**2) / Q
    rho_star = -u.norm2(-1)
    e = v - w * (a / Q)
    w_next = w - w.S() / L + u * (Q / (L * a))
    tau = sp.Symbol("tau", real=True)
    lam, mu = sp.symbols("lambda mu", positive=True)
    return [
        Identity(rho - rho_star, e.norm2(1), "cancel", label="rho(w) - rho* = ||e||_S^2"),
        vec_identity(
            v - w_next * (a / Q),
            e - e.S() / L,
            "cancel",
            label="v - (u'w_t/w_t'Sw_t) w_{t+1} = (I - S/L) e_t",
        ),
        Identity(
            (v - w * tau).norm2(1) - (rho - rho_star),
            Q * (tau - a / Q) ** 2,
            "cancel",
            label="||v - tau w||_S^2 - (rho - rho*) = w'Sw (tau - u'w/w'Sw)^2 >= 0",
        ),
        Identity(
            (1 - mu / L) ** 2 - (1 - lam / L) ** 2,
            (lam - mu) * (2 * L - lam - mu) / L**2,
            "cancel",
            label="(1 - mu/L)^2 - (1 - lam/L)^2 = (lam - mu)(2L - lam - mu)/L^2 >= 0",
        ),
    ]


def _contraction_d2() -> list[Identity]:
    # S = diag(mu, L) (eigenbasis), u = S v; explicit certificate:
    # (1-mu/L)^2 (rho_t - rho*) - (rho_{t+1} - rho*) = L (1-mu/L)^2 e_2^2 + Q' (tau - a'/Q')^2
    mu, L = sp.symbols("mu L", positive=True)
    w, v = vec("w", 2), vec("v", 2)
    S = sp.diag(mu, L)
    u = S * v

    def q(x):
        return (x.T * S * x)[0, 0]

    def a_of(x):
        return (u.T * x)[0, 0]

    def gap(x):
        return -(a_of(x) ** 2) / q(x) + (v.T * S * v)[0, 0]

    w1 = (sp.eye(2) - S / L) * w + (q(w) / (L * a_of(w))) * u
    e = v - (a_of(w) / q(w)) * w
    tau = a_of(w) / q(w)
    lhs = (1 - mu / L) ** 2 * gap(w) - gap(w1)
    cert = L * e[1] ** 2 * (1 - mu / L) ** 2 + q(w1) * (tau - a_of(w1) / q(w1)) ** 2
    return [
        Identity(
            lhs,
            cert,
            "cancel",
            label="(1-mu/L)^2 (rho_t - rho*) - (rho_{t+1} - rho*) = L(1-mu/L)^2 e_2^2 + "
            "Q_{t+1}(tau_t - tau_{t+1})^2 >= 0",
        )
    ]


def _bisection() -> list[Identity]:
    T = sp.Symbol("T", integer=True, nonnegative=True)
    a, b = sp.symbols("a b", positive=True)
    n = sp.Symbol("n", integer=True, nonnegative=True)
    length = sp.Function("ell")
    sol = sp.rsolve(length(n + 1) - length(n) / 2, length(n), {length(0): b - a})
    from .ols import OLSSetting

    o = OLSSetting()
    dg = sp.diff(o.f_bn(), o.g)
    return [
        Identity(sol.subs(n, T), 2**-T * (b - a), "simplify", label="bracket length 2^-T (b-a)"),
        _length_curvature(),
        Identity(
            dg,
            2 * (o.g - o.g_star()),
            "relation",
            o.rel,
            label="OLS: d_g f = 2 (g - g*), so d_g f is 2-Lipschitz in g (zeta_g = 2, tight)",
        ),
    ]


def _length_curvature() -> Identity:
    """Any twice differentiable ``f`` (d = 3, ``S`` symmetric): along ``w~ = g w/||w||_S``,
    ``d_g^2 f = w'H w/w'Sw`` with ``H`` the Hessian of ``f`` at ``w~``; so ``H <= zeta I``
    and ``w'w <= w'Sw/mu`` make ``d_g f`` ``(zeta/mu)``-Lipschitz in ``g``."""
    from .symbols import replace_derivatives, sym_matrix

    d = 3
    w, S, H = vec("w", d), sym_matrix("S", d), sym_matrix("H", d)
    g, r = sp.Symbol("g", real=True), sp.Symbol("r", positive=True)  # r = ||w||_S
    F = sp.Function("F")
    second = sp.diff(F(*(g * w / r)), g, 2)
    second = replace_derivatives(second, F, {tuple(sorted((i, j))): H[i, j]
                                             for i in range(d) for j in range(d)})
    q = (w.T * S * w)[0, 0]
    return Identity(second, (w.T * H * w)[0, 0] / r**2, "relation", ((r, sp.expand(q)),),
                    label="d_g^2 f = w'H w/w'Sw for any f (H the Hessian at w~), d = 3")


def _quoted_length_bound() -> list[Identity]:
    # OLS with S = I: d_g f = 2 (g - g*), zeta = 2, mu = 1; after T halvings of [a, b] the
    # bracket's lower end a_T lies within 2^-T (b - a) below the root g*
    a, b, gs, aT = sp.symbols("a b gstar a_T", real=True)
    T = sp.Symbol("T", integer=True, nonnegative=True)
    lhs = (2 * (aT - gs)) ** 2
    rhs = 2**-T * 2 * (b - a) / 1
    return [Identity(lhs, rhs, "expand", label="(d_g f(a_T))^2 = 2^-T zeta |b-a|/mu^2 (quoted)")]


def _refute_quoted_length() -> Counterexample:
    (identity,) = _quoted_length_bound()
    syms = {s.name: s for s in identity.lhs.free_symbols | identity.rhs.free_symbols}
    # bracket [-1000, 1000], root 999: one halving keeps [0, 1000], so a_1 = 0
    point = {syms["a"]: -1000, syms["b"]: 1000, syms["gstar"]: 999, syms["T"]: 1,
             syms["a_T"]: 0}
    return bound_counterexample(
        identity.lhs, identity.rhs, point,
        where="OLS, S = I, bracket [-1000, 1000], root 999, after T = 1 halving: [0, 1000]"
    )


def _mlp_alternating() -> list[Identity]:
    V = Space(("w", "u", "q", "G"))
    w, u, wj = V.v("w"), V.v("u"), V.v("q")  # q = w~_j, the other unit (fixed)
    g, L = sp.Symbol("g", real=True), sp.Symbol("L", positive=True)
    ai, bii, bij = sp.symbols("a_i b_ii b_ij", real=True)
    Q, r = V.ip("w", 1, "w"), sp.Symbol("r", positive=True)
    wt = w * (g / sp.sqrt(Q))
    G = V.v("G")
    JtG = V.substitute(V.grad(G.dot(wt), "w"), {"G": u * ai + wt.S() * bii + wj.S() * bij})
    uw = u.dot(w)
    # h = c1 u'w with psi_i in place of phi: c1 = E[psi_i'] - E[psi_i''] u'w~_i
    # = E[d_i Phi] - b_ii u'w~_i = a_i + b_ij u'w~_j (the two-unit Stein form's a_i =
    # E[d_i Phi] - b_ii u'w~_i - b_ij u'w~_j), as gdnp's UnitView.c1 computes it
    c1 = ai + bij * u.dot(wj)
    step = -(r**3) / (L * g * c1 * uw)
    step4 = w - w.S() / L + u * (r**2 / (L * uw))
    cross = (wj.S() - w.S() * (w.dot(wj.S()) / r**2)) * (r**2 * bij / (L * c1 * uw))
    return [
        vec_identity(
            w - JtG * step,
            w + (step4 - w) * (ai / c1) + cross,
            "relation",
            ((r, Q),),
            label="w_{t+1} = w + (a_i/c1)(step (4) - w) + (||w||_S^2 b_ij/(L c1 u'w))(S w~_j - "
            "(w'Sw~_j/||w||_S^2) S w), c1 = a_i + b_ij u'w~_j",
        )
    ]


def sigmoid_c1_limit(m: sp.Expr) -> sp.Expr:
    """``lim_{s -> 0} c1 = phi'(m) - m phi''(m)`` for the sigmoid loss ``phi = sigma``."""
    sig = 1 / (1 + sp.exp(-m))
    return sig * (1 - sig) - m * sig * (1 - sig) * (1 - 2 * sig)


def _sigmoid_c1() -> list[Identity]:
    t, m, x = sp.symbols("t m x", real=True)
    sig = 1 / (1 + sp.exp(-t))
    d1, d2 = sp.diff(sig, t), sp.diff(sig, t, 2)
    E = sp.Symbol("E", positive=True)  # e = exp(1)
    value = sigmoid_c1_limit(sp.Integer(-1)).subs(sp.E, E)
    return [
        Identity(
            (d1 - m * d2).subs(t, m),
            sigmoid_c1_limit(m),
            "simplify",
            label="phi'(m) - m phi''(m) in sigmoid form",
        ),
        Identity(value, 2 * E**2 / (1 + E) ** 3, "cancel", label="value at m = -1: 2e^2/(1+e)^3"),
    ]


def _refute_sigmoid_phi() -> Counterexample:
    """Exact: ``8E^2 - (1 + E)^3 > 0`` on ``[27/10, 28/10]`` (no root there, positive at 27/10)
    and ``e`` lies in that interval, so ``2e^2/(1 + e)^3 > 1/4``."""
    E = sp.Symbol("E", positive=True)
    poly = sp.Poly(8 * E**2 - (1 + E) ** 3, E)
    lo, hi = sp.Rational(27, 10), sp.Rational(28, 10)
    no_root = poly.count_roots(lo, hi) == 0
    positive = poly.eval(lo) > 0
    e_inside = sp.Rational(27, 10) < sp.E < sp.Rational(28, 10)
    refutes = bool(no_root and positive and e_inside)
    return Counterexample(
        {"m": "-1", "s": "0 (limit)", "phi": "sigmoid"},
        "2e^2/(1 + e)^3 ~ " + str(sp.N(2 * sp.E**2 / (1 + sp.E) ** 3, 6)),
        "1/4",
        "<=",
        refutes,
        "|c1| vs Phi = sup|phi'| = 1/4",
    )


def _logistic_c1_limit() -> list[Identity]:
    """Logistic loss (``Phi = 1``): ``k(m) = sigma(m) - m sigma'(m)`` lies in ``(0, 1)``.

    For ``a >= 0``: ``1 - k(-a) = (e^a - a sigma(a))/(1 + e^a) > 0`` (``e^a >= 1 + a > a >=
    a sigma(a)``), ``k(-a) = (1 + a sigma(a))/(1 + e^a) > 0``, ``1 - k(a) = sigma(-a)(1 + a
    sigma(a)) > 0`` and ``k(a) = sigma(a)(1 + e^a - a)/(1 + e^a) > 0``: every right-hand side
    is a ratio of visibly positive terms.
    """
    a = sp.Symbol("a", nonnegative=True)
    t = sp.Symbol("t", real=True)
    sig = 1 / (1 + sp.exp(-t))
    k = sp.Lambda(t, sig - t * sp.diff(sig, t))

    def sigma(x):
        return 1 / (1 + sp.exp(-x))

    ea = sp.exp(a)
    return [
        Identity(1 - k(-a), (ea - a * sigma(a)) / (1 + ea), "simplify", label="1 - k(-a)"),
        Identity(k(-a), (1 + a * sigma(a)) / (1 + ea), "simplify", label="k(-a)"),
        Identity(1 - k(a), sigma(-a) * (1 + a * sigma(a)), "simplify", label="1 - k(a)"),
        Identity(k(a), sigma(a) * (1 + ea - a) / (1 + ea), "simplify", label="k(a)"),
    ]


def _published_sigmoid_bound() -> list[Identity]:
    E = sp.Symbol("E", positive=True)
    return [Identity(2 * E**2 / (1 + E) ** 3, sp.Rational(1, 4), "cancel", label="|c1| = Phi")]


CHECKS = [
    Check(
        "k19.ols_contraction",
        "k19",
        "step (4) contracts: rho_{t+1} - rho* <= ||(I - S/L) e_t||_S^2 <= (1 - mu/L)^2 "
        "(rho_t - rho*), every step an identity (spectral step per eigenvalue)",
        "theory guide §2 (4); K19",
        _contraction_steps,
        generality="general d",
    ),
    Check(
        "k19.ols_contraction_d2",
        "k19",
        "(1-mu/L)^2 (rho_t - rho*) - (rho_{t+1} - rho*) is an explicit sum of non-negative "
        "terms (S = diag(mu, L))",
        "theory guide §2 (4); K19",
        _contraction_d2,
        generality="d = 2",
    ),
    Check(
        "k19.bisection_bound",
        "k19",
        "after T halvings the bracket has length 2^-T (b - a), so |g_T - g*| <= 2^-T |b - a| "
        "and (d_g f)^2 <= (zeta/mu)^2 4^-T (b - a)^2 (d_g^2 f = w'Hw/w'Sw <= zeta/mu for any "
        "f, d = 3); OLS: d_g f = 2(g - g*)",
        "theory guide §4; K19",
        _bisection,
        generality="any T; any f, d = 3",
    ),
    Check(
        "k19.length_bound_as_quoted",
        "k19",
        "quoted (d_g f(a_T))^2 <= 2^-T zeta |b - a| / mu^2 for every T (FALSE after a halving "
        "of a wide bracket; holds only for T large enough)",
        "theory guide §4 (rates, reconstructed); K19",
        _quoted_length_bound,
        expected="fails",
        counterexample=_refute_quoted_length,
        generality="OLS, S = I",
    ),
    Check(
        "k19.mlp_alternating_step",
        "k19",
        "MLP, unit i with the others fixed, psi_i in place of phi in h (c1 = a_i + b_ij "
        "u'w~_j): GDNP's direction step is w + (a_i/c1)(step (4) - w) plus (||w||_S^2 b_ij/"
        "(L c1 u'w))(S w~_j - (w'Sw~_j/||w||_S^2) S w), so step (4) itself where b_ij = 0",
        "theory guide §5; K19",
        _mlp_alternating,
        generality="general d",
    ),
    Check(
        "k19.sigmoid_c1_limit",
        "k19",
        "sigmoid: lim_{s->0} c1 = phi'(m) - m phi''(m) = sigma(1-sigma)(1 - m(1-2 sigma)), "
        "= 2e^2/(1+e)^3 at m = -1",
        "theory guide §4; K19",
        _sigmoid_c1,
        generality="1-D, m = -1",
    ),
    Check(
        "k19.logistic_c1_limit",
        "k19",
        "logistic loss: lim_{s->0} c1 = sigma(m) - m sigma'(m) lies in (0, 1), so |c1| <= Phi "
        "= 1 holds in that limit (numerically for every s)",
        "theory guide §4 (direction rate); K19",
        _logistic_c1_limit,
        generality="logistic, s -> 0",
    ),
    Check(
        "k19.sigmoid_c1_le_phi",
        "k19",
        "|c1| <= Phi = sup|phi'| = 1/4 for the sigmoid loss (FALSE: |c1| -> 2e^2/(1+e)^3 "
        "~ 0.2875 at m = -1, s -> 0; sup ~ 0.29339 at |m| ~ 1.317)",
        "theory guide §4 (direction rate); K19",
        _published_sigmoid_bound,
        expected="fails",
        counterexample=_refute_sigmoid_phi,
        generality="sigmoid",
    ),
]
