"""Theoretical rates of MATH.md §2, §4 and the empirical order of a convergence history (§7).

Every function is a plain formula; the tests compare each against measured runs.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "gd_linear_bound",
    "gd_sublinear_bound",
    "k19_ols_bound",
    "k19_direction_bound",
    "k19_length_bound",
    "k19_combined_bound",
    "c19_hessian",
    "kappa_star",
    "bngd_rate",
    "bngd_best_rate",
    "fit_order",
]


def _t(t):
    return np.asarray(t, dtype=float)


def gd_linear_bound(t, kappa: float, gap0: float):
    """GD with step ``1/(2L)`` on OLS: ``f_t - f* <= (1 - 1/kappa)^t (f_0 - f*)`` (§2)."""
    return gap0 * (1.0 - 1.0 / kappa) ** _t(t)


def gd_sublinear_bound(t, zeta: float, gap0: float):
    """Non-convex GD: ``min_{k<=t} ||grad f(x_k)||^2 <= 2 zeta (f_0 - f*) / t`` (§4)."""
    t = _t(t)
    with np.errstate(divide="ignore"):
        return np.where(t > 0, 2.0 * zeta * gap0 / np.maximum(t, 1e-300), np.inf)


def k19_ols_bound(t, mu: float, L: float, rho_gap0: float):
    """K19 OLS theorem: ``rho(w_t) - rho* <= (1 - mu/L)^{2t} (rho(w_0) - rho*)`` (eq. 4)."""
    return rho_gap0 * (1.0 - mu / L) ** (2.0 * _t(t))


def k19_direction_bound(t, mu: float, L: float, rho_gap0: float, Phi: float, g_t):
    """``||w_t||_S^2 ||grad_w f||^2_{S^-1} <= (1 - mu/L)^{2t} Phi^2 g_t^2 (rho_0 - rho*)`` (§4)."""
    return (1.0 - mu / L) ** (2.0 * _t(t)) * Phi**2 * np.asarray(g_t) ** 2 * rho_gap0


def k19_length_bound(T_s: int, zeta: float, width0: float, mu: float):
    """``(d_g f(w_t, a^{(T_s)}))^2 <= 2^{-T_s} zeta |b^{(0)} - a^{(0)}| / mu^2`` (§4)."""
    return 2.0 ** (-float(T_s)) * zeta * abs(width0) / mu**2


def k19_combined_bound(T_d, T_s: int, mu: float, L: float, rho_gap0: float, Phi: float,
                       zeta: float, width0: float):
    """``||grad f(w~_{T_d})||^2_{S^-1} <= (1-mu/L)^{2T_d} Phi^2 (rho_0 - rho*)
    + 2^{-T_s} zeta |b^{(0)} - a^{(0)}| / mu^2`` (§4, constants as reconstructed there)."""
    return (1.0 - mu / L) ** (2.0 * _t(T_d)) * Phi**2 * rho_gap0 + k19_length_bound(
        T_s, zeta, width0, mu)


def c19_hessian(S: np.ndarray, w_star: np.ndarray) -> np.ndarray:
    """``H* = S - (S w~*)(S w~*)' / (w~*' S w~*)``: PSD, rank ``d - 1``, ``H* w~* = 0`` (§2)."""
    Sw = S @ w_star
    return S - np.outer(Sw, Sw) / float(w_star @ Sw)


def _nonzero_eigs(H: np.ndarray) -> np.ndarray:
    eig = np.linalg.eigvalsh(H)
    return np.sort(eig)[1:]  # H* has exactly one zero eigenvalue (along w~*)


def kappa_star(S: np.ndarray, w_star: np.ndarray) -> float:
    """C19's pseudo-condition number ``lambda_max(H*) / lambda_min^+(H*)``; ``<= kappa``."""
    eig = _nonzero_eigs(c19_hessian(S, w_star))
    if eig.size == 0:
        return 1.0
    return float(eig[-1] / eig[0])


def bngd_rate(S: np.ndarray, w_star: np.ndarray, w_inf: np.ndarray, lr: float) -> float:
    """Asymptotic BNGD direction rate ``r = max_i |1 - eps_hat lambda*_i|`` (§2).

    ``eps_hat = 2 lr ||w~*||_2^2 / ||w_inf||_2^2``; the excess loss decays like ``r^{2k}``.
    """
    eps_hat = 2.0 * lr * float(w_star @ w_star) / float(w_inf @ w_inf)
    eig = _nonzero_eigs(c19_hessian(S, w_star))
    if eig.size == 0:
        return 0.0
    return float(np.max(np.abs(1.0 - eps_hat * eig)))


def bngd_best_rate(kstar: float) -> float:
    """The best BNGD direction rate ``(kappa* - 1) / (kappa* + 1)`` (§2)."""
    return (kstar - 1.0) / (kstar + 1.0)


def fit_order(iters, gaps, tail: float = 0.5, floor: float = 0.0) -> dict:
    """Classify the tail of a history as linear or sublinear convergence (MATH.md §7).

    Fits ``log(gap) = a + t log r`` (linear, rate ``r``) and ``log(gap) = a - p log t``
    (sublinear, order ``p``) by least squares to the last ``tail`` fraction of the positive
    gaps above ``floor`` and reports the better fit.

    Returns
    -------
    dict
        ``kind`` ("linear" or "sublinear"), ``rate`` (``r``), ``order`` (``p``), the residual
        sums of squares ``rss_linear`` and ``rss_sublinear``, and ``n`` points used.
    """
    t = np.asarray(iters, dtype=float)
    y = np.asarray(gaps, dtype=float)
    keep = np.isfinite(y) & (y > floor) & (y > 0) & (t > 0)
    t, y = t[keep], y[keep]
    start = int(np.floor(t.size * (1.0 - tail)))
    t, y = t[start:], np.log(y[start:])
    if t.size < 3:
        return {"kind": "undetermined", "rate": np.nan, "order": np.nan,
                "rss_linear": np.nan, "rss_sublinear": np.nan, "n": int(t.size)}
    A_lin = np.column_stack([np.ones_like(t), t])
    A_sub = np.column_stack([np.ones_like(t), np.log(t)])
    c_lin, *_ = np.linalg.lstsq(A_lin, y, rcond=None)
    c_sub, *_ = np.linalg.lstsq(A_sub, y, rcond=None)
    rss_lin = float(np.sum((A_lin @ c_lin - y) ** 2))
    rss_sub = float(np.sum((A_sub @ c_sub - y) ** 2))
    return {"kind": "linear" if rss_lin <= rss_sub else "sublinear",
            "rate": float(np.exp(c_lin[1])), "order": float(-c_sub[1]),
            "rss_linear": rss_lin, "rss_sublinear": rss_sub, "n": int(t.size)}
