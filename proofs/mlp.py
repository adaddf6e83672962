"""One-hidden-layer tanh MLP: reduction to halfspaces and the Stein form (theory guide §5).

* ``-y F(x) = sum_i theta_i tanh(z'w~_i)`` for ``y = +-1`` (``tanh`` is odd), so ``m = 1`` is the
  halfspace problem with ``phi(t) = l(theta tanh t)``; the derivatives of
  ``psi_i(t) = l(theta_i tanh t + r_i)`` used by GDNP for the MLP.
* Two-unit Stein form, by exact Gaussian integration in ``d = 2`` for generic test functions
  ``Phi(t1, t2)`` (a generic cubic and ``exp(a1 t1 + a2 t2)``):
  ``grad_{w~_1} E[Phi(z'w~_1, z'w~_2)] = a_1 u + b_11 S w~_1 + b_12 S w~_2`` with
  ``b_1j = E[d_1 d_j Phi]``, ``a_1 = E[d_1 Phi] - b_11 u'w~_1 - b_12 u'w~_2``; for the MLP
  ``b_12 = theta_1 theta_2 E[sech^2 sech^2 l'']``.
* Alignment (every ``d``; the cross-product form in ``d = 3``): at a critical point of unit 1
  with ``b_11 != 0``, ``w~_1 = -(a_1/b_11) S^-1 u - (b_12/b_11) w~_2``, i.e.
  ``w~_1 x S^-1 u = -(b_12/b_11) w~_2 x S^-1 u``: ``w~_1`` is on the line ``S^-1 u`` iff
  ``b_12 = 0`` or ``w~_2`` is. Read unit by unit (the other unit anywhere), K19's lemma is
  a documented discrepancy.
* K19's lemma at a critical point of the whole hidden layer (every unit's gradient 0, theta
  fixed; any ``d``, ``m = 2``): ``S W~ B' = -u a'``, so with ``det B != 0`` every unit lies on
  the line ``S^-1 u``. With ``det B = 0`` it need not: the unit-wise counterexample is such a
  critical point when ``a_2 = b_22 = 1``.
"""

from __future__ import annotations

import sympy as sp

from .core import Check, Counterexample, Identity, counterexample
from .halfspace import GaussianModel
from .symbols import dot, gradient, replace_derivatives, sym_matrix, vec

__all__ = ["CHECKS", "alignment_identity"]

D = 3


def _sign_symmetry() -> list[Identity]:
    ell = sp.Function("l")
    x, w1, w2 = vec("x", 2), vec("w", 2), vec("v", 2)
    th1, th2 = sp.symbols("theta1 theta2", real=True)
    out = []
    for y in (1, -1):
        z = -y * x
        F = th1 * sp.tanh(dot(x, w1)) + th2 * sp.tanh(dot(x, w2))
        out.append(
            Identity(
                ell(-y * F),
                ell(th1 * sp.tanh(dot(z, w1)) + th2 * sp.tanh(dot(z, w2))),
                "expand",
                label=f"m=2, y={y:+d}",
            )
        )
        phi = sp.Lambda(sp.Symbol("t"), ell(th1 * sp.tanh(sp.Symbol("t"))))
        out.append(
            Identity(
                ell(-y * th1 * sp.tanh(dot(x, w1))),
                phi(dot(z, w1)),
                "expand",
                label=f"m=1 is a halfspace with phi(t) = l(theta tanh t), y={y:+d}",
            )
        )
    return out


def _psi_derivatives() -> list[Identity]:
    ell = sp.Function("l")
    t, th, r = sp.symbols("t theta r", real=True)
    l1, l2 = sp.symbols("l1 l2", real=True)  # l'(.) and l''(.) at theta tanh t + r
    names = {(0,): l1, (0, 0): l2}
    psi = ell(th * sp.tanh(t) + r)
    sech2 = 1 - sp.tanh(t) ** 2
    d1 = replace_derivatives(sp.diff(psi, t), ell, names)
    d2 = replace_derivatives(sp.diff(psi, t, 2), ell, names)
    return [
        Identity(d1, th * sech2 * l1, "expand", label="psi'"),
        Identity(
            d2, th**2 * sech2**2 * l2 - 2 * th * sp.tanh(t) * sech2 * l1, "expand", label="psi''"
        ),
    ]


def _probe_functions() -> list[tuple[str, sp.Lambda]]:
    t1, t2 = sp.symbols("t1 t2", real=True)
    monomials = [t1**i * t2**j for i in range(4) for j in range(4 - i)]
    coeffs = sp.symbols(f"p0:{len(monomials)}", real=True)
    a1, a2 = sp.symbols("a1 a2", real=True)
    return [
        (
            "generic cubic Phi(t1, t2)",
            sp.Lambda((t1, t2), sum(c * m for c, m in zip(coeffs, monomials, strict=True))),
        ),
        ("Phi = exp(a1 t1 + a2 t2)", sp.Lambda((t1, t2), sp.exp(a1 * t1 + a2 * t2))),
    ]


def _stein_two_units() -> list[Identity]:
    g = GaussianModel(2)
    w1, w2 = vec("w", 2), vec("v", 2)
    s1, s2 = dot(g.z, w1), dot(g.z, w2)
    out = []
    for label, Phi in _probe_functions():
        t1, t2 = Phi.variables

        def mean_of(expr: sp.Expr, t1=t1, t2=t2) -> sp.Expr:
            return g.E(expr.subs({t1: s1, t2: s2}, simultaneous=True))

        f = mean_of(Phi.expr)
        b11 = mean_of(sp.diff(Phi.expr, t1, 2))
        b12 = mean_of(sp.diff(Phi.expr, t1, t2))
        a1 = mean_of(sp.diff(Phi.expr, t1)) - b11 * dot(g.u, w1) - b12 * dot(g.u, w2)
        rhs = a1 * g.u + b11 * g.S * w1 + b12 * g.S * w2
        out.append(Identity(gradient(f, w1), rhs, "expand", label=label))
    return out


def _cross_term() -> list[Identity]:
    ell = sp.Function("l")
    t1, t2 = sp.symbols("t1 t2", real=True)
    th1, th2 = sp.symbols("theta1 theta2", real=True)
    l1, l2 = sp.symbols("l1 l2", real=True)
    Phi = ell(th1 * sp.tanh(t1) + th2 * sp.tanh(t2))
    cross = replace_derivatives(sp.diff(Phi, t1, t2), ell, {(0,): l1, (0, 0): l2})
    rhs = th1 * th2 * (1 - sp.tanh(t1) ** 2) * (1 - sp.tanh(t2) ** 2) * l2
    return [Identity(cross, rhs, "expand")]


def _cross(a: sp.Matrix, b: sp.Matrix) -> sp.Matrix:
    return a.cross(b)


def _alignment_general_d() -> Identity:
    """Any ``d``: ``S^-1 (a1 u + b11 S w~_1 + b12 S w~_2)/b11 = w~_1 + (a1/b11) S^-1 u +
    (b12/b11) w~_2``, so at a critical point ``w~_1 = -(a1/b11) S^-1 u - (b12/b11) w~_2``."""
    from .vectors import Space, vec_identity

    V = Space(("u", "w1", "w2"))
    u, w1, w2 = V.v("u"), V.v("w1"), V.v("w2")
    a1, b12 = sp.symbols("a1 b12", real=True)
    b11 = sp.Symbol("b11", real=True, nonzero=True)
    grad = u * a1 + w1.S() * b11 + w2.S() * b12
    return vec_identity(
        grad.S(-1) / b11,
        w1 + u.S(-1) * (a1 / b11) + w2 * (b12 / b11),
        "cancel",
        label="general d: critical point w~_1 = -(a1/b11) S^-1 u - (b12/b11) w~_2",
    )


def _layer_alignment() -> list[Identity]:
    """Any ``d``, ``m = 2``: with ``G_i = a_i u + b_i1 S w~_1 + b_i2 S w~_2`` (``b_12 = b_21``,
    ``det B = b11 b22 - b12^2 != 0``), ``S^-1 (b22 G_1 - b12 G_2)/det B = w~_1 + ((b22 a1 -
    b12 a2)/det B) S^-1 u`` and ``S^-1 (b11 G_2 - b12 G_1)/det B = w~_2 + ((b11 a2 - b12
    a1)/det B) S^-1 u``: where both gradients vanish (a critical point of the hidden layer,
    theta fixed), both units lie on the line ``S^-1 u``."""
    from .vectors import Space, vec_identity

    V = Space(("u", "w1", "w2"))
    u, w1, w2 = V.v("u"), V.v("w1"), V.v("w2")
    a1, a2, b11, b12, b22 = sp.symbols("a1 a2 b11 b12 b22", real=True)
    det = b11 * b22 - b12**2
    g1 = u * a1 + w1.S() * b11 + w2.S() * b12
    g2 = u * a2 + w1.S() * b12 + w2.S() * b22
    return [
        vec_identity((g1 * b22 + g2 * (-b12)).S(-1) / det,
                     w1 + u.S(-1) * ((b22 * a1 - b12 * a2) / det), "cancel",
                     label="unit 1: w~_1 = -((b22 a1 - b12 a2)/det B) S^-1 u where G = 0"),
        vec_identity((g2 * b11 + g1 * (-b12)).S(-1) / det,
                     w2 + u.S(-1) * ((b11 * a2 - b12 * a1) / det), "cancel",
                     label="unit 2: w~_2 = -((b11 a2 - b12 a1)/det B) S^-1 u where G = 0"),
    ]


def alignment_identity(kind: str) -> Identity:
    """Unit-1 critical point ``a1 u + b11 S w~_1 + b12 S w~_2 = 0`` solved for ``w~_1`` (d=3).

    Parameters
    ----------
    kind : {"general", "b12=0", "w2 on line", "k19"}
        ``"general"``: ``w~_1 x S^-1 u = -(b12/b11) w~_2 x S^-1 u``; ``"b12=0"`` and
        ``"w2 on line"``: ``w~_1 x S^-1 u = 0`` under that condition; ``"k19"``:
        ``w~_1 x S^-1 u = 0`` with no condition (false in general).
    """
    S = sym_matrix("S", D)
    v = vec("v", D)  # v = S^-1 u, so u = S v (exact reparametrization, S invertible)
    u = S * v
    a1, b12, c = sp.symbols("a1 b12 c", real=True)
    b11 = sp.Symbol("b11", real=True, nonzero=True)
    w2 = vec("q", D)
    if kind == "b12=0":
        b12 = sp.S.Zero
    elif kind == "w2 on line":
        w2 = c * v
    x = vec("x", D)
    (point,) = sp.linsolve(list(a1 * u + b11 * S * x + b12 * S * w2), list(x)).args
    w1 = sp.Matrix(point)
    lhs = _cross(w1, v)
    rhs = -(b12 / b11) * _cross(w2, v) if kind == "general" else sp.zeros(D, 1)
    return Identity(lhs, rhs, "cancel", label=kind)


def _refute_k19() -> Counterexample:
    identity = alignment_identity("k19")
    values = {"a1": 1, "b11": 1, "b12": 1, "v1": 1, "q2": 1}  # S = I, S^-1 u = e1, w~_2 = e2
    values.update({f"S{i}{i}": 1 for i in range(1, D + 1)})
    symbols = identity.lhs.free_symbols
    return counterexample(identity, {s: values.get(s.name, 0) for s in symbols})


CHECKS = [
    Check(
        "mlp.sign_symmetry",
        "mlp",
        "-y F(x) = sum_i theta_i tanh(z'w~_i) for y = +-1 (m = 2), and m = 1 is the halfspace "
        "with phi(t) = l(theta tanh t); generic l",
        "theory guide §5 (8)",
        _sign_symmetry,
        generality="d = 2, any l",
    ),
    Check(
        "mlp.psi_derivatives",
        "mlp",
        "psi(t) = l(theta tanh t + r): psi' = theta sech^2 l', psi'' = theta^2 sech^4 l'' - "
        "2 theta tanh sech^2 l'; generic l",
        "theory guide §5 (GDNP for the MLP)",
        _psi_derivatives,
        generality="any l",
    ),
    Check(
        "mlp.stein_two_units",
        "mlp",
        "grad_{w~_1} E[Phi(z'w~_1, z'w~_2)] = a_1 u + b_11 S w~_1 + b_12 S w~_2 (b_1j = "
        "E[d_1 d_j Phi]); Phi generic cubic and exp, z ~ N(u, S - uu')",
        "theory guide §5; K19",
        _stein_two_units,
        generality="d = 2, Phi poly/exp",
    ),
    Check(
        "mlp.cross_term",
        "mlp",
        "for Phi = l(theta_1 tanh t1 + theta_2 tanh t2): d1 d2 Phi = theta_1 theta_2 sech^2 t1 "
        "sech^2 t2 l'', so b_12 != 0 for l'' > 0 and theta_1 theta_2 != 0",
        "theory guide §5",
        _cross_term,
        generality="any l",
    ),
    Check(
        "mlp.alignment_conditions",
        "mlp",
        "unit-1 critical point: w~_1 = -(a1/b11) S^-1 u - (b12/b11) w~_2 (any d; in d = 3 "
        "also w~_1 x S^-1 u = -(b12/b11) w~_2 x S^-1 u), so w~_1 || S^-1 u iff b12 = 0 or "
        "w~_2 || S^-1 u",
        "theory guide §5; K19 lemma",
        lambda: [_alignment_general_d()]
        + [alignment_identity(k) for k in ("general", "b12=0", "w2 on line")],
        generality="general d",
    ),
    Check(
        "mlp.k19_lemma_layer",
        "mlp",
        "K19 lemma at a critical point of the hidden layer (theta fixed, m = 2, all units' "
        "gradients 0): every w~_i lies on the line S^-1 u when det B = b11 b22 - b12^2 != 0",
        "theory guide §5; K19 lemma",
        _layer_alignment,
        generality="general d, m = 2",
    ),
    Check(
        "mlp.k19_lemma_unconditional",
        "mlp",
        "unit-wise reading of K19's lemma: every critical point of one unit (theta and the "
        "other unit fixed, m = 2) lies on the line S^-1 u (FALSE in general: needs b12 = 0 or "
        "w~_2 || S^-1 u)",
        "K19 lemma (read unit by unit, m > 1); theory guide §5",
        lambda: [alignment_identity("k19")],
        expected="fails",
        counterexample=_refute_k19,
        generality="d = 3",
    ),
]
