"""Santurkar et al. (NeurIPS 2018): BN's effect on the gradient, exactly (theory guide §8).

For one unit over a batch of size ``m``: ``y_hat = (y - mu 1)/sigma`` (biased ``sigma``),
``z = gamma y_hat + beta``, upstream gradient ``g = dL/dz``. Proved for every batch size ``m``
(:mod:`gdnp.proofs.vectors` with ``S = I``; ``1'1 = m``):

* ``dL/dy = (gamma/sigma)(g - 1 <1, g>/m - y_hat <y_hat, g>/m)``: ``gamma/sigma`` times the
  orthogonal projector removing the ``1`` and ``y_hat`` directions (``<1, y_hat> = 0``,
  ``||y_hat||^2 = m``), so
  ``||dL/dy||^2 = (gamma^2/sigma^2)(||g||^2 - <1, g>^2/m - <y_hat, g>^2/m)``.
* The published gradient-norm bound (their Theorem 4.1) has ``1/sqrt(m)`` on the last term;
  it is refuted at ``m = 4``, ``g = y_hat`` (documented discrepancy).
* The quadratic form of the Hessian along directions orthogonal to ``1`` and ``y_hat`` (their
  Theorem 4.2) as an identity.
* Their initialization statement: for the best rescaling ``W^* = (<W*, W0>/||W*||^2) W*`` of an
  optimum (BN is scale invariant), ``||W0 - W^*||^2 = ||W0 - W*||^2 - (||W*||^2 -
  <W*, W0>)^2/||W*||^2`` (an identity, so their inequality holds with equality there).
"""

from __future__ import annotations

import sympy as sp

from .core import Check, Counterexample, Identity, bound_counterexample
from .vectors import Space, vec_identity

__all__ = ["CHECKS", "bn_input_gradient"]


def _batch() -> tuple:
    V = Space(("one", "y", "g"), matrix="I")
    one, y, g = V.v("one"), V.v("y"), V.v("g")
    m = sp.Symbol("m", positive=True)
    gamma = sp.Symbol("gamma", real=True)
    sig = sp.Symbol("sigma", positive=True)
    mean = y.dot(one) / m
    centred = y - one * mean
    var = centred.dot(centred) / m
    return V, one, y, g, m, gamma, sig, var, centred


def _fix_m(expr, V, m):
    return expr.xreplace({V.ip("one", 0, "one"): m})


def bn_input_gradient(V, one, y, g, m, gamma, var):
    """``dL/dy`` as the gradient of ``<g, gamma y_hat(y)>`` with ``g`` held fixed.

    ``sigma = sqrt(m^2 var)/m`` with ``1'1 = m`` substituted first (``1'1`` does not depend
    on ``y``), so the square root has the polynomial radicand ``m <y,y> - <1,y>^2``.
    """
    radicand = sp.expand(_fix_m(m**2 * var, V, m))
    y_hat = (y - one * (y.dot(one) / m)) * (m / sp.sqrt(radicand))
    return V.grad(g.dot(y_hat * gamma), "y"), y_hat


def _projector_parts(sqrt_m_published: bool = False):
    V, one, y, g, m, gamma, _sig, var, centred = _batch()
    grad, _ = bn_input_gradient(V, one, y, g, m, gamma, var)
    grad = grad.map(lambda c: _fix_m(c, V, m))
    tau = sp.Symbol("tau", positive=True)  # tau = m sigma = sqrt(m <y,y> - <1,y>^2)
    rel = ((tau, sp.expand(_fix_m(m**2 * var, V, m))),)
    sig = tau / m
    y_hat = centred / sig
    rhs = (g - one * (one.dot(g) / m) - y_hat * (y_hat.dot(g) / m)) * (gamma / sig)
    rhs = rhs.map(lambda c: _fix_m(c, V, m))
    norm2 = _fix_m(rhs.dot(rhs), V, m)
    last = sp.sqrt(m) if sqrt_m_published else m
    target = (gamma**2 / sig**2) * (
        g.dot(g) - one.dot(g) ** 2 / m - _fix_m(y_hat.dot(g), V, m) ** 2 / last
    )
    return V, one, y, g, m, sig, y_hat, grad, rhs, norm2, _fix_m(target, V, m), rel


def _projector() -> list[Identity]:
    V, one, y, g, m, sig, y_hat, grad, rhs, norm2, target, rel = _projector_parts()
    return [
        vec_identity(grad, rhs, "relation", rel, label="dL/dy = (gamma/sigma) P g"),
        Identity(_fix_m(y_hat.dot(one), V, m), sp.S.Zero, "cancel", label="<1, y_hat> = 0"),
        Identity(_fix_m(y_hat.dot(y_hat), V, m), m, "relation", rel, label="||y_hat||^2 = m"),
        Identity(norm2, target, "relation", rel, label="||dL/dy||^2 formula"),
    ]


def _published(m: int = 4) -> tuple[sp.Expr, sp.Expr, dict]:
    """Exact ``||dL/dy||^2`` and the published right-hand side for a concrete batch."""
    y = sp.Matrix(sp.symbols(f"y1:{m + 1}", real=True))
    gam = sp.Symbol("gamma", positive=True)
    mean = sum(y) / m
    sigma = sp.sqrt(sum((yi - mean) ** 2 for yi in y) / m)
    y_hat = (y - mean * sp.ones(m, 1)) / sigma
    g = sp.Matrix(sp.symbols(f"g1:{m + 1}", real=True))
    loss_grad = sp.Matrix([sp.diff((g.T * (gam * y_hat))[0, 0], yi) for yi in y])
    lhs = (loss_grad.T * loss_grad)[0, 0]
    one = sp.ones(m, 1)
    rhs = (gam**2 / sigma**2) * (
        (g.T * g)[0, 0] - (one.T * g)[0, 0] ** 2 / m - (y_hat.T * g)[0, 0] ** 2 / sp.sqrt(m)
    )
    point = {**dict(zip(y, [0, 2, 0, 2], strict=True)), gam: 1}
    point.update(dict(zip(g, [-1, 1, -1, 1], strict=True)))  # g = y_hat at this batch
    return lhs, rhs, point


def _published_identity() -> list[Identity]:
    parts = _projector_parts(sqrt_m_published=True)
    norm2, target, rel = parts[-3], parts[-2], parts[-1]
    return [Identity(norm2, target, "relation", rel, label="exact norm vs published 1/sqrt(m)")]


def _refute_published() -> Counterexample:
    lhs, rhs, point = _published()
    return bound_counterexample(
        lhs, rhs, point, where="m = 4, y = (0,2,0,2) (sigma = 1), g = y_hat, gamma = 1"
    )


def _hessian_form() -> list[Identity]:
    """Second-order term of ``L(gamma y_hat(y) + beta)`` along ``x`` with ``x'1 = x'y_hat = 0``.

    ``d^2/dt^2 L(gamma y_hat(y + t x)) = gamma^2 (D y_hat[x])' H (D y_hat[x]) + gamma g'
    D^2 y_hat[x, x]``; for such ``x`` (e.g. ``x = dL/dy``, which is orthogonal to ``1`` and
    ``y_hat``) ``D y_hat[x] = x/sigma`` and ``g' D^2 y_hat[x, x] = -(<g, y_hat>/(m sigma^2))
    ||x||^2``: the identity behind Santurkar et al.'s Theorem 4.2,
    ``x' grad^2 L_hat x = (gamma^2/sigma^2) x'Hx - (gamma/(m sigma^2)) <g, y_hat> ||x||^2``.
    """
    V = Space(("one", "y", "g", "x"), matrix="I")
    one, y, g, x = (V.v(n) for n in ("one", "y", "g", "x"))
    m = sp.Symbol("m", positive=True)

    def fix(e):
        return _fix_m(e, V, m)

    centred = y - one * (y.dot(one) / m)
    radicand = sp.expand(fix(m * centred.dot(centred)))
    y_hat = centred * (m / sp.sqrt(radicand))
    tangent = {V.ip("one", 0, "x"): 0, V.ip("x", 0, "y"): 0}  # x'1 = 0, x'y = 0
    first = V.directional(y_hat.map(fix), "y", x).map(lambda c: fix(c).xreplace(tangent))
    second = V.directional(fix(V.directional(fix(g.dot(y_hat)), "y", x)), "y", x)
    second = fix(second).xreplace(tangent)
    tau = sp.Symbol("tau", positive=True)  # m sigma
    rel = ((tau, radicand),)
    sig = tau / m
    g_yhat = fix(g.dot(centred)) / sig
    return [
        vec_identity(first, x / sig, "relation", rel, label="D y_hat[x] = x/sigma"),
        Identity(
            second,
            -(g_yhat / (m * sig**2)) * V.ip("x", 0, "x"),
            "relation",
            rel,
            label="g' D^2 y_hat[x, x] = -(<g, y_hat>/(m sigma^2)) ||x||^2",
        ),
    ]


def _initialization() -> list[Identity]:
    V = Space(("W0", "Ws"), matrix="I")
    W0, Ws = V.v("W0"), V.v("Ws")
    k = Ws.dot(W0) / Ws.dot(Ws)
    best = W0 - Ws * k
    lhs = best.dot(best)
    diff = W0 - Ws
    rhs = diff.dot(diff) - (Ws.dot(Ws) - Ws.dot(W0)) ** 2 / Ws.dot(Ws)
    return [Identity(lhs, rhs, "cancel", label="best rescaling of W* meets the bound")]


CHECKS = [
    Check(
        "landscape.bn_gradient_projector",
        "landscape",
        "dL/dy = (gamma/sigma)(g - 1<1,g>/m - y_hat<y_hat,g>/m), ||y_hat||^2 = m, so "
        "||dL/dy||^2 = (gamma^2/sigma^2)(||g||^2 - <1,g>^2/m - <y_hat,g>^2/m)",
        "Santurkar et al. 2018 Thm 4.1 (exact form); theory guide §8",
        _projector,
        generality="general m",
    ),
    Check(
        "landscape.santurkar_gradient_bound",
        "landscape",
        "published ||dL/dy||^2 <= (gamma^2/sigma^2)(||g||^2 - <1,g>^2/m - <y_hat,g>^2/sqrt(m)) "
        "(FALSE for m > 1: the projector gives 1/m)",
        "Santurkar et al. 2018 Thm 4.1 (as published)",
        _published_identity,
        expected="fails",
        counterexample=_refute_published,
        generality="general m; m = 4",
    ),
    Check(
        "landscape.hessian_quadratic_form",
        "landscape",
        "for x orthogonal to 1 and y_hat (e.g. x = dL/dy): x' grad^2_y L_hat x = "
        "(gamma^2/sigma^2) x'Hx - (gamma/(m sigma^2)) <g, y_hat> ||x||^2",
        "Santurkar et al. 2018 Thm 4.2 (exact form)",
        _hessian_form,
        generality="general m",
    ),
    Check(
        "landscape.initialization",
        "landscape",
        "||W0 - k W*||^2 = ||W0 - W*||^2 - (||W*||^2 - <W*,W0>)^2/||W*||^2 for k = "
        "<W*,W0>/||W*||^2 (the scale-invariant optimum closest to W0)",
        "Santurkar et al. 2018 (initialization lemma)",
        _initialization,
        generality="general d",
    ),
]
