"""Learning halfspaces: Stein's lemma and the gradient structure (theory guide §3).

The Gaussian model ``z ~ N(u, S - u u')`` is written ``z = u + A xi`` with ``xi`` standard
normal and ``Sigma = A A'`` a general covariance; then ``S = E[z z'] = A A' + u u'``.
Stein's lemma is proved for any differentiable ``psi`` and every dimension by conditioning on
``z'w`` (regression decomposition plus the 1-D integration by parts), and, as a cross-check,
by exact integration in ``d = 2`` for a generic polynomial and ``exp(a t)``
(:mod:`gdnp.proofs.gaussian`); the 1-D Gauss-Hermite reduction used by the population
solvers is proved with the exactness of the K-node rule. The algebraic consequences -- the
line of critical points, equation (7) and the two norm identities of §3 -- are proved for
every dimension (:mod:`gdnp.proofs.vectors`).
"""

from __future__ import annotations

import sympy as sp

from .bn import GeneralSetting
from .core import Check, Identity
from .gaussian import expect
from .symbols import dot, gradient, vec
from .vectors import Space, Vec, vec_identity

__all__ = ["CHECKS", "GaussianModel", "probe_losses"]

D_GAUSS = 2


class GaussianModel:
    """``z = u + A xi`` in dimension ``d`` with general ``A``, ``u`` and ``S = AA' + uu'``."""

    def __init__(self, d: int = D_GAUSS) -> None:
        self.d = d
        self.xi = vec("xi", d)
        self.A = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"A{i + 1}{j + 1}", real=True))
        self.u = vec("u", d)
        self.z = self.u + self.A * self.xi
        self.Sigma = self.A * self.A.T
        self.S = self.Sigma + self.u * self.u.T

    def E(self, expr: sp.Expr | sp.Matrix) -> sp.Expr | sp.Matrix:
        """Exact expectation over ``xi``."""
        if isinstance(expr, sp.MatrixBase):
            return expr.applyfunc(lambda e: expect(e, self.xi))
        return expect(expr, self.xi)


def probe_losses(degree: int = 4) -> list[tuple[str, sp.Lambda]]:
    """Test functions ``phi``: a generic polynomial of ``degree`` and ``exp(a t)``."""
    t = sp.Symbol("t", real=True)
    p = sp.symbols(f"p0:{degree + 1}", real=True)
    a = sp.Symbol("a", real=True)
    poly = sum(p[k] * t**k for k in range(degree + 1))
    return [
        (f"generic degree-{degree} polynomial", sp.Lambda(t, poly)),
        ("exp(a t)", sp.Lambda(t, sp.exp(a * t))),
    ]


def _derivative(phi: sp.Lambda, k: int = 1) -> sp.Lambda:
    t = phi.variables[0]
    return sp.Lambda(t, sp.diff(phi.expr, t, k))


def _stein_density() -> list[Identity]:
    t, m = sp.symbols("t m", real=True)
    s = sp.Symbol("s", positive=True)
    p = sp.exp(-((t - m) ** 2) / (2 * s**2)) / (s * sp.sqrt(2 * sp.pi))
    return [Identity((t - m) * p, -(s**2) * sp.diff(p, t), "cancel")]


def _stein_lemma() -> list[Identity]:
    g = GaussianModel()
    w = vec("w", g.d)
    tw = dot(g.z, w)
    out = []
    for label, psi in probe_losses(3):
        dpsi = _derivative(psi)
        lhs = g.E(g.z * psi(tw))
        rhs = g.E(dpsi(tw)) * g.Sigma * w + g.E(psi(tw)) * g.u
        out.append(Identity(lhs, rhs, "expand", label=label))
    return out


def _gradient_structure() -> list[Identity]:
    g = GaussianModel()
    wt = vec("w", g.d)
    tw = dot(g.z, wt)
    out = [
        Identity(g.E(g.z), g.u, "expand", label="E[z] = u"),
        Identity(g.E(g.z * g.z.T), g.S, "expand", label="E[zz'] = S"),
    ]
    for label, phi in probe_losses(4):
        f = g.E(phi(tw))
        e1, e2 = g.E(_derivative(phi)(tw)), g.E(_derivative(phi, 2)(tw))
        c1 = e1 - e2 * dot(g.u, wt)
        rhs = c1 * g.u + e2 * g.S * wt
        out.append(Identity(gradient(f, wt), rhs, "expand", label=label))
    return out


class _BNHalfspace(GeneralSetting):
    """§1 objects plus ``u``, ``c1``, ``c2`` and ``grad f(w~) = c1 u + c2 S w~`` (6), any d."""

    def __init__(self, *extra: str) -> None:
        super().__init__("u", *extra)
        self.u = self.V.v("u")
        self.c1, self.c2 = sp.symbols("c1 c2", real=True)

    def grad6(self) -> Vec:
        return self.u * self.c1 + self.wt.S() * self.c2

    def rho(self) -> sp.Expr:
        return -(self.u.dot(self.w) ** 2) / self.Q


def _critical_line() -> list[Identity]:
    s = _BNHalfspace("x")
    x = s.V.v("x")
    c2 = sp.Symbol("c2", real=True, nonzero=True)
    grad = s.u * s.c1 + x.S() * c2
    # S^-1 (c1 u + c2 S x) / c2 = x + (c1/c2) S^-1 u: zero iff x = -(c1/c2) S^-1 u
    return [
        vec_identity(
            grad.S(-1) / c2,
            x + s.u.S(-1) * (s.c1 / c2),
            "cancel",
            label="S^-1 (c1 u + c2 S x)/c2 = x + (c1/c2) S^-1 u",
        )
    ]


def _bn_gradient() -> list[Identity]:
    s = _BNHalfspace()
    grad_w = s.JtG(s.grad6())
    uw = s.u.dot(s.w)
    middle = (s.u - s.w.S() * (uw / s.r**2)) * (s.g * s.c1 / s.r)
    right = s.V.grad(s.rho(), "w") * (-(s.g * s.c1 * s.r) / (2 * uw))
    return [
        vec_identity(grad_w, middle, "relation", s.rel, label="J' (c1 u + c2 S w~)"),
        vec_identity(middle, right, "relation", s.rel, label="= -(g c1 ||w||_S/(2u'w)) grad rho"),
    ]


def _norm_split() -> list[Identity]:
    s = _BNHalfspace()
    grad_w, d_g = s.JtG(), s.dg()
    lhs = s.G.norm2(-1)
    rhs = d_g**2 + (s.r**2 / s.g**2) * grad_w.norm2(-1)
    return [Identity(lhs, rhs, "relation", s.rel)]


def _norm_rayleigh() -> list[Identity]:
    s = _BNHalfspace()
    grad_w = s.JtG(s.grad6())
    rho_star = -s.u.norm2(-1)
    lhs = s.r**2 * grad_w.norm2(-1)
    rhs = s.g**2 * s.c1**2 * (s.rho() - rho_star)
    return [Identity(lhs, rhs, "relation", s.rel)]


def _stein_general() -> list[Identity]:
    """Stein's lemma for any differentiable psi, by conditioning on t = z'w (any d).

    ``z ~ N(u, Sigma)``, ``Sigma = S - uu'``; ``t = z'w ~ N(m, s^2)``, ``m = u'w``,
    ``s^2 = w'Sigma w``. (a) ``z = u + Sigma w (t - m)/s^2 + e`` with ``Cov(a'e, t) = 0`` for
    every ``a``, so the Gaussian ``e`` (mean 0) is independent of ``t``; (b) 1-D Stein:
    ``(t - m) psi p + s^2 (psi p)' = s^2 psi' p`` pointwise, whose integral (``psi p -> 0`` at
    infinity) is ``E[(t - m) psi(t)] = s^2 E[psi'(t)]``; (c) hence
    ``E[z psi(t)] = u E[psi] + Sigma w E[psi']``, and with ``psi = phi'``:
    ``E[z phi'(z'w)] = c1 u + c2 S w`` (6).

    Checked: the 1-D Stein step (b) pointwise, and the rearrangement of (c) into (6) in any
    ``d``. Argued, not checked: the conditioning (a), which is the regression of ``z`` on
    ``t`` (``Cov(a'e, t) = a'Sigma w - a'Sigma w Var(t)/s^2 = 0`` holds by the definition of
    ``s^2``, so no sympy identity adds to it), and the integration of (b). ``d = 2`` is
    proved by exact integration in ``halfspace.stein_lemma`` and
    ``halfspace.gradient_structure``.
    """
    V = Space(("w", "u"))
    w, u = V.v("w"), V.v("u")
    t, m = sp.symbols("t m", real=True)
    sd = sp.Symbol("s", positive=True)
    psi = sp.Function("psi")
    p = sp.exp(-((t - m) ** 2) / (2 * sd**2)) / (sd * sp.sqrt(2 * sp.pi))
    sigma_w = w.S() - u * u.dot(w)
    c2 = sp.Symbol("Ephi2", real=True)  # E[phi''], psi = phi'
    c1 = sp.Symbol("Ephi1", real=True) - c2 * u.dot(w)
    return [
        Identity(
            (t - m) * psi(t) * p + sd**2 * sp.diff(psi(t) * p, t),
            sd**2 * sp.diff(psi(t), t) * p,
            "cancel",
            label="1-D Stein, pointwise: (t - m) psi p + s^2 (psi p)' = s^2 psi' p",
        ),
        vec_identity(
            u * sp.Symbol("Ephi1", real=True) + sigma_w * c2,
            u * c1 + w.S() * c2,
            "expand",
            label="psi = phi': E[z phi'] = c1 u + c2 S w (6)",
        ),
    ]


def _gauss_hermite_reduction() -> list[Identity]:
    """``z'w~`` is 1-D normal with ``m = u'w~``, ``s^2 = w~'Sw~ - m^2``; the GH change of
    variables ``t = m + sqrt(2) s x`` and exactness of the K-node rule (K = 3, 4)."""
    V = Space(("w", "u"))
    w, u = V.v("w"), V.v("u")
    m = u.dot(w)
    var = w.dot(w.S()) - u.dot(w) * u.dot(w)  # w' (S - uu') w
    t, x, mu = sp.symbols("t x m", real=True)
    sd = sp.Symbol("s", positive=True)
    p = sp.exp(-((t - mu) ** 2) / (2 * sd**2)) / (sd * sp.sqrt(2 * sp.pi))
    jac = sp.sqrt(2) * sd
    out = [
        Identity(var, w.norm2(1) - m**2, "expand", label="Var[z'w~] = w~'Sw~ - (u'w~)^2"),
        Identity(
            p.subs(t, mu + sp.sqrt(2) * sd * x) * jac,
            sp.exp(-(x**2)) / sp.sqrt(sp.pi),
            "simplify",
            label="p(m + sqrt(2) s x) sqrt(2) s = exp(-x^2)/sqrt(pi)",
        ),
    ]
    for K in (3, 4):
        nodes = list(sp.roots(sp.hermite(K, x), x))
        weights = [
            2 ** (K - 1) * sp.factorial(K) * sp.sqrt(sp.pi) / (K**2 * sp.hermite(K - 1, xk) ** 2)
            for xk in nodes
        ]
        quad = sp.Matrix(
            [
                sp.radsimp(
                    sp.expand(sum(wk * xk**j for wk, xk in zip(weights, nodes, strict=True)))
                )
                for j in range(2 * K)
            ]
        )
        # int x^j exp(-x^2) dx = Gamma((j + 1)/2) for even j, 0 for odd j
        exact = sp.Matrix(
            [sp.gamma(sp.Rational(j + 1, 2)) if j % 2 == 0 else 0 for j in range(2 * K)]
        )
        out.append(
            Identity(quad, exact, "simplify", label=f"K={K} nodes integrate x^j, j < 2K, exactly")
        )
    return out


CHECKS = [
    Check(
        "halfspace.stein_density",
        "halfspace",
        "Gaussian density: (t - m) p(t) = -s^2 p'(t), the integration-by-parts step of Stein's "
        "lemma E[(t - m) psi(t)] = s^2 E[psi'(t)]",
        "theory guide §3 (6)",
        _stein_density,
        generality="1-D, any psi",
    ),
    Check(
        "halfspace.stein_lemma",
        "halfspace",
        "E[z psi(z'w)] = E[psi'(z'w)] Sigma w + E[psi(z'w)] u, z ~ N(u, Sigma), by exact "
        "integration; psi generic cubic and exp(a t)",
        "theory guide §3 (6); K19",
        _stein_lemma,
        generality="d = 2, psi poly/exp",
    ),
    Check(
        "halfspace.stein_general",
        "halfspace",
        "Stein's lemma for any differentiable psi by conditioning on t = z'w (z = u + "
        "Sigma w (t-m)/s^2 + e, e independent of t), and (6) E[z phi'] = c1 u + c2 S w; an "
        "outline: the algebraic steps are checked, the Gaussian ones (zero covariance gives "
        "independence, E[a'e] = 0, vanishing boundary terms) are argued, not checked; exact "
        "in d = 2 by halfspace.stein_lemma and halfspace.gradient_structure",
        "theory guide §3 (6); Stein 1981",
        _stein_general,
        generality="general d (outline), any phi",
    ),
    Check(
        "halfspace.gauss_hermite_reduction",
        "halfspace",
        "z'w~ ~ N(m, s^2), m = u'w~, s^2 = w~'Sw~ - m^2; t = m + sqrt(2) s x turns E[psi(t)] "
        "into a Gauss-Hermite integral; K-node rule exact for degree < 2K",
        "theory guide §3",
        _gauss_hermite_reduction,
        generality="general d; K = 3, 4",
    ),
    Check(
        "halfspace.gradient_structure",
        "halfspace",
        "grad E[phi(z'w~)] = c1 u + c2 S w~, c1 = E[phi'] - E[phi''] u'w~, c2 = E[phi''], "
        "z ~ N(u, S - uu'); phi generic quartic and exp(a t), by exact integration",
        "theory guide §3 (6); K19",
        _gradient_structure,
        generality="d = 2, phi poly/exp",
    ),
    Check(
        "halfspace.critical_line",
        "halfspace",
        "c1 u + c2 S w~ = 0 with c2 != 0 forces w~ = -(c1/c2) S^-1 u (critical points lie on "
        "the line S^-1 u)",
        "theory guide §3; K19",
        _critical_line,
        generality="general d",
    ),
    Check(
        "halfspace.bn_gradient",
        "halfspace",
        "(7): grad_w f = (g c1/||w||_S)(u - (u'w/||w||_S^2) S w) = -(g c1 ||w||_S/(2u'w)) "
        "grad rho under (6)",
        "theory guide §3 (7); K19",
        _bn_gradient,
        generality="general d",
    ),
    Check(
        "halfspace.norm_split",
        "halfspace",
        "||grad f(w~)||^2_{S^-1} = (d_g f)^2 + (||w||_S^2/g^2) ||grad_w f||^2_{S^-1} for any f",
        "theory guide §3; K19",
        _norm_split,
        generality="general d",
    ),
    Check(
        "halfspace.norm_rayleigh",
        "halfspace",
        "||w||_S^2 ||grad_w f||^2_{S^-1} = g^2 c1^2 (rho(w) - rho*) under (6)",
        "theory guide §3; K19",
        _norm_rayleigh,
        generality="general d",
    ),
]
