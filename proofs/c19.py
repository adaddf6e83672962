"""Cai et al. (ICML 2019, "C19"): the local theory of BNGD on OLS (theory guide §2, §12).

``H* = S - (S w*)(S w*)'/(w*'S w*)``: ``H* w* = 0``; ``x'H*x = ||x - t w*||_S^2`` (so ``H*`` is
positive semidefinite with null space exactly ``span(w*)``, rank ``d - 1``); its non-zero
eigenvalues interlace those of ``S`` (secular equation, ``d = 3, 4``), hence ``kappa* <= kappa``;
in ``d = 2``, ``H* = det(S)/||w||_S^2 (Rw)(Rw)'`` is rank one, so ``kappa* = 1``; the Hessian of
the BN objective in ``w`` at the optimum is ``(2 g*^2/||w||_S^2) H*``; the scaling law of BNGD.
"""

from __future__ import annotations

import sympy as sp

from .bn import GeneralSetting
from .core import Check, Identity
from .symbols import sym_matrix, vec
from .vectors import Space, Vec, vec_identity

__all__ = ["CHECKS", "h_star"]


def h_star(x: Vec, w: Vec) -> Vec:
    """``H* x = S x - S w (w'S x)/(w'S w)``."""
    return x.S() - w.S() * (w.dot(x.S()) / w.norm2(1))


def _null_vector() -> list[Identity]:
    V = Space(("w", "x"))
    w = V.v("w")
    return [vec_identity(h_star(w, w), Vec({}, V), "cancel", label="H* w* = 0")]


def _psd() -> list[Identity]:
    V = Space(("w", "x", "y"))
    w, x, y = V.v("w"), V.v("x"), V.v("y")
    t = w.dot(x.S()) / w.norm2(1)
    return [
        Identity(
            x.dot(h_star(y, w)), y.dot(h_star(x, w)), "cancel", label="H* symmetric: x'H*y = y'H*x"
        ),
        Identity(
            x.dot(h_star(x, w)),
            (x - w * t).norm2(1),
            "cancel",
            label="x'H*x = ||x - (w'Sx/w'Sw) w||_S^2 >= 0, = 0 iff x in span(w)",
        ),
    ]


def _interlacing_identities(d: int) -> list[Identity]:
    # eigenbasis of S: S = diag(s), v = S w*; c = w*'S w* = sum v_i^2 / s_i
    s = list(sp.symbols(f"s1:{d + 1}", positive=True))
    v = vec("v", d)
    lam = sp.Symbol("lambda", real=True)
    c = sp.Symbol("c", positive=True)  # w*'S w* = sum v_i^2 / s_i, substituted where needed
    H = sp.diag(*s) - v * v.T / c
    p = sp.expand((lam * sp.eye(d) - H).det(method="berkowitz"))
    secular = sp.prod([lam - si for si in s]) * (
        1 + sum(v[i] ** 2 / (c * (lam - s[i])) for i in range(d))
    )
    out = [
        Identity(p, secular, "cancel", label=f"d={d}: det(lam - H*) secular form"),
        Identity(
            p.subs(lam, 0).subs(c, sum(v[i] ** 2 / s[i] for i in range(d))),
            sp.S.Zero,
            "cancel",
            label=f"d={d}: 0 is an eigenvalue (c = w*'Sw* = sum v_i^2/s_i)",
        ),
    ]
    for j in range(d):
        value = (v[j] ** 2 / c) * sp.prod([s[j] - s[i] for i in range(d) if i != j])
        out.append(
            Identity(
                p.subs(lam, s[j]),
                value,
                "cancel",
                label=f"d={d}: det(s_{j + 1} - H*) = (v_{j + 1}^2/c) prod_(i!=j)(s_j - s_i)",
            )
        )
    return out


def _interlacing() -> list[Identity]:
    """Sign changes of the characteristic polynomial at the ordered eigenvalues of ``S``.

    With ``s_1 < ... < s_d`` and ``v_j != 0`` the values ``det(s_j - H*)`` alternate in sign
    (``prod_(i!=j)(s_j - s_i)`` has sign ``(-1)^(d-j)``), so each ``[s_j, s_(j+1)]`` holds an
    eigenvalue of ``H*``; with the eigenvalue ``0 < s_1`` that accounts for all ``d``:
    ``s_1 <= mu_2 <= s_2 <= ... <= mu_d <= s_d``, hence ``kappa* = mu_d/mu_2 <= s_d/s_1``.
    (Ties or ``v_j = 0`` follow by continuity.)
    """
    return _interlacing_identities(3) + _interlacing_identities(4)


def _kappa_star_d2() -> list[Identity]:
    S = sym_matrix("S", 2)
    w = vec("w", 2)
    q = (w.T * S * w)[0, 0]
    H = S - S * w * w.T * S / q
    R = sp.Matrix([[0, -1], [1, 0]])
    return [
        Identity(
            H,
            S.det() / q * (R * w) * (R * w).T,
            "cancel",
            label="H* = det(S)/||w||_S^2 (Rw)(Rw)': rank one, one non-zero eigenvalue",
        ),
        Identity(H.trace() * q, S.det() * (w.T * w)[0, 0], "cancel", label="lambda* = tr H*"),
    ]


def _hessian_at_optimum() -> list[Identity]:
    # OLS f(w, g) = E[y^2] + 2 g u'w/||w||_S + g^2; optimum w ∝ S^-1 u, i.e. u = S w / c
    V = Space(("w", "u", "h", "k"))
    w, u, h, k = V.v("w"), V.v("u"), V.v("h"), V.v("k")
    g = sp.Symbol("g", real=True)
    Q = V.ip("w", 1, "w")
    r = sp.Symbol("r", positive=True)
    f = 2 * g * u.dot(w) / sp.sqrt(Q) + g**2
    hess_hk = V.directional(V.directional(f, "w", h), "w", k)
    c = sp.Symbol("c", nonzero=True, real=True)
    at_opt = V.substitute(hess_hk, {"u": w.S() / c})
    g_star = -(Q / c) / r  # -u'w/||w||_S with u = S w / c
    lhs = at_opt.subs(g, g_star)
    rhs = (2 * g_star**2 / r**2) * h.dot(h_star(k, w))
    return [
        Identity(
            lhs,
            rhs,
            "relation",
            ((r, Q),),
            label="h' grad^2_w f k = (2 g*^2/||w||_S^2) h'H*k at (w*, g*)",
        )
    ]


def _scaling_law() -> list[Identity]:
    s = GeneralSetting()
    c = sp.Symbol("c", positive=True)
    eps, eps_g = sp.symbols("epsilon epsilon_g", positive=True)
    # any f: the gradient at w~ is G (w~ is the same for (c w, g) and (w, g))
    grad_c = s.V.substitute(s.JtG(), {"w": s.w * c})
    dg_c = s.V.substitute(s.dg(), {"w": s.w * c})
    w1 = s.w - s.JtG() * eps
    w1_c = s.w * c - grad_c * (c**2 * eps)
    return [
        vec_identity(w1_c, w1 * c, "cancel", label="w_1 of (c^2 eps, c w_0) = c w_1 of (eps, w_0)"),
        Identity(
            s.g - eps_g * dg_c, s.g - eps_g * s.dg(), "cancel", label="same g_1 (d_g f invariant)"
        ),
    ]


CHECKS = [
    Check(
        "c19.h_star_null",
        "c19",
        "H* w* = 0 for H* = S - (S w*)(S w*)'/(w*'S w*)",
        "theory guide §2 (BNGD); C19",
        _null_vector,
        generality="general d",
    ),
    Check(
        "c19.h_star_psd_rank",
        "c19",
        "H* symmetric and x'H*x = ||x - (w*'Sx/w*'Sw*) w*||_S^2: PSD, null space span(w*), "
        "rank d - 1 (S positive definite)",
        "theory guide §2 (BNGD); C19",
        _psd,
        generality="general d",
    ),
    Check(
        "c19.interlacing",
        "c19",
        "det(lam - H*) = prod(lam - s_i)(1 + sum v_i^2/(c(lam - s_i))), 0 a root, signs "
        "alternate at s_1 < ... < s_d: s_1 <= mu_2 <= ... <= mu_d <= s_d, so kappa* <= kappa",
        "theory guide §2 (BNGD); C19",
        _interlacing,
        generality="d = 3, 4",
    ),
    Check(
        "c19.kappa_star_d2",
        "c19",
        "in d = 2, H* = det(S)/||w||_S^2 (Rw)(Rw)' (R a quarter turn): one non-zero "
        "eigenvalue, so kappa* = 1 whatever kappa is",
        "theory guide §2 (BNGD); C19",
        _kappa_star_d2,
        generality="d = 2",
    ),
    Check(
        "c19.hessian_at_optimum",
        "c19",
        "Hessian in w of the OLS BN objective at (w*, g*) equals (2 g*^2/||w*||_S^2) H* "
        "(as a bilinear form), so its condition number on the tangent space is kappa*",
        "theory guide §12; C19",
        _hessian_at_optimum,
        generality="general d",
    ),
    Check(
        "c19.scaling_law",
        "c19",
        "BNGD from (c^2 eps, c w_0) gives c w_1 and the same g_1 as (eps, w_0) (so c w_k, g_k "
        "by induction), for any f",
        "theory guide §2 (BNGD); C19 scaling law",
        _scaling_law,
        generality="general d",
    ),
]
