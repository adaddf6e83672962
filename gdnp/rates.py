"""Theoretical rates and bounds (theory guide §2, §4) and the empirical order of a history (§7).

Every function is a plain, vectorised formula, to draw beside measured curves or to test
against them; the tests compare each against measured runs. ``t`` arguments may be scalars or
arrays (e.g. ``res.history["iter"]``).
"""

from __future__ import annotations

import math

import numpy as np

from gdnp._common import check_positive, power_of_two_scaled
from gdnp.problems._validate import (
    _as_float_array,
    as_condition_number,
    as_finite_array,
    as_positive_int,
    as_real,
    as_spd_matrix,
    as_vector,
)

__all__ = [
    "gd_linear_bound",
    "gd_sublinear_bound",
    "k19_ols_bound",
    "k19_direction_bound",
    "stein_c1_bound",
    "k19_length_bound",
    "k19_combined_bound",
    "c19_hessian",
    "kappa_star",
    "bngd_rate",
    "bngd_best_rate",
    "gdnp_rate",
    "fit_order",
    "fit_rate",
    "fit_window",
]


def _t(t, name: str = "t") -> np.ndarray:
    """Iteration number(s): finite and non-negative, as a float array (0-d for a scalar)."""
    arr = as_finite_array(t, name)
    if np.any(arr < 0.0):
        raise ValueError(f"{name} must hold iteration numbers >= 0, got {float(arr.min())!r}")
    return arr


def _complement_power(num: float, den: float, t: np.ndarray) -> np.ndarray:
    """``(1 - num/den)^t`` for ``0 < num <= den`` and ``t >= 0``, as ``exp(t log(1 -
    num/den))``: the power of the rounded base ``1 - num/den`` had carried its relative
    rounding times ``t`` (4e-5 at ``kappa = t = 1e12``). The logarithm is ``log1p(-num/den)``
    where ``num/den <= 1/2``, else ``log((den - num)/den)`` with ``den - num`` exact (Sterbenz),
    so that a ratio near 1 (``kappa = 1 + 1e-9``) does not cancel either. ``num = den`` gives
    ``0^t`` (1 at ``t = 0``)."""
    if num >= den:
        return np.where(t == 0.0, 1.0, 0.0)[()]
    return np.exp(t * _log_complement(num, den))


def _log_complement(num: float, den: float) -> float:
    """``log(1 - num/den)`` without cancellation (see :func:`_complement_power`); ``-inf`` for
    ``num >= den``."""
    if num >= den:
        return -math.inf
    if num <= 0.5 * den:
        return math.log1p(-num / den)
    return math.log((den - num) / den)


def _direction_term(t: np.ndarray, mu: float, L: float, Phi: float, g_t, rho_gap0: float):
    """``(1 - mu/L)^{2t} Phi^2 g_t^2 rho_gap0``: the product in float64, and where factors
    beyond the floats meet (``inf * 0``: ``g_t = 1e200`` against ``(1/2)^4000``) the same
    product in logarithms, so that the bound is a number, ``inf`` or 0, never NaN."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        out = np.asarray(_complement_power(mu, L, 2.0 * t) * _square(Phi) * g_t ** 2
                         * rho_gap0, dtype=float)
        bad = np.isnan(out)
        if np.any(bad):
            if Phi == 0.0 or rho_gap0 == 0.0:
                logs = np.full(out.shape, -np.inf)
            else:
                # (t = 0: the power is 1 even for mu = L, whose logarithm is -inf; g_t = 0:
                # log 0 = -inf, a bound of 0)
                power = np.where(t == 0.0, 0.0, 2.0 * t * _log_complement(mu, L))
                with np.errstate(divide="ignore"):
                    logs = (power + 2.0 * math.log(Phi) + 2.0 * np.log(np.abs(g_t))
                            + math.log(rho_gap0))
            out = np.where(bad, np.exp(np.broadcast_to(logs, out.shape)), out)
    return out[()]


def _mu_L(mu, L) -> tuple[float, float]:
    """The extreme eigenvalues ``0 < mu <= L`` (``1 - mu/L`` in ``[0, 1)``)."""
    mu, L = check_positive(mu, "mu"), check_positive(L, "L")
    if mu > L:
        raise ValueError(f"mu must be <= L (the smallest and largest eigenvalues of S), got "
                         f"mu = {mu!r} > L = {L!r}")
    return mu, L


def _S_w(S, w_star) -> tuple[np.ndarray, np.ndarray, float, int]:
    """``S`` (finite, square, symmetric positive definite), a non-zero ``w_star`` of matching
    length brought to the scale of :func:`gdnp._common.power_of_two_scaled` (``H*`` depends on its
    direction only; ``k`` returns the power of two, for the functions that read its norm),
    its ``w' S w > 0`` and ``k``: ``(S, w, w'Sw, k)``.

    ``S`` is checked as every problem constructor checks it (:func:`as_spd_matrix`): symmetric
    to ``1e-10 max|S|`` (far above the rounding of a computed ``E[xx']``, far below a genuine
    asymmetry), positive definite when ``lambda_min > 10 d eps lambda_max``, the rounding level
    of a computed eigenvalue, below which ``H*``'s smallest non-zero eigenvalue (at least
    ``lambda_min(S)`` by interlacing) is indistinguishable from its zero one.
    """
    S = as_spd_matrix(S, "S")
    w = as_vector(w_star, "w_star", dim=S.shape[0])
    if not np.any(w):
        raise ValueError("w_star must be a non-zero vector")
    # the direction at a scale where w'Sw neither underflows (w_star of 1e-200 had read as
    # zero) nor overflows (1e155: a LinAlgError)
    w, k = power_of_two_scaled(w)
    wSw = float(w @ (S @ w))
    if not wSw > 0.0:  # S positive definite, w of order 1: only a subnormal S gets here
        raise ValueError(f"w_star' S w_star = {wSw!r} is not positive at w_star's scale "
                         "(S too small to represent the quadratic form)")
    return S, w, wSw, k


def gd_linear_bound(t, kappa: float, gap0: float, *, form: str = "classical"):
    """Gradient descent's linear bound on least squares (theory guide §2).

    With step ``1/(2L)``, ``form="classical"`` (default): ``f_t - f* <= (1 - 1/kappa)^t
    (f_0 - f*)``, the strongly convex bound as usually stated. ``form="least_squares"``:
    ``f_t - f* <= (1 - 1/kappa)^{2t} (f_0 - f*)``, tight on least squares, where each step
    multiplies the error by ``I - S/L`` and the gap therefore by at most ``(1 - 1/kappa)^2``
    (K19's rate; the rate the runs show). Both hold; the classical one is looser by a square.

    Parameters
    ----------
    t : int or array_like
        Iteration(s).
    kappa : float
        Condition number ``L/mu`` of ``S``.
    gap0 : float
        Initial gap ``f_0 - f*``.
    form : {"classical", "least_squares"}, default "classical"
        Which of the two bounds.

    Returns
    -------
    float or numpy.ndarray
        The bound at ``t``.

    Raises
    ------
    TypeError
        For a non-numeric argument.
    ValueError
        For ``t`` negative or not finite, ``kappa < 1``, ``gap0 < 0``, NaN/inf, or an unknown
        ``form``.

    Examples
    --------
    >>> from gdnp.rates import gd_linear_bound
    >>> gd_linear_bound([0, 1, 2], kappa=10.0, gap0=1.0)
    array([1.  , 0.9 , 0.81])
    >>> gd_linear_bound([0, 1, 2], kappa=10.0, gap0=1.0, form="least_squares")
    array([1.    , 0.81  , 0.6561])
    """
    t = _t(t)
    kappa = as_condition_number(kappa, "kappa")
    gap0 = check_positive(gap0, "gap0", allow_zero=True)
    if form == "classical":
        return gap0 * _complement_power(1.0, kappa, t)
    if form == "least_squares":
        return gap0 * _complement_power(1.0, kappa, 2.0 * t)
    raise ValueError(f"form must be 'classical' or 'least_squares', got {form!r}")


def gd_sublinear_bound(t, zeta: float, gap0: float):
    """Gradient descent's sublinear bound on a smooth non-convex objective (theory guide §4).

    ``min_{k<=t} ||grad f(x_k)||^2 <= 2 zeta (f_0 - f*) / t`` for step ``1/zeta``, stated for
    the Euclidean gradient norm (divide by ``mu`` to compare with ``||.||^2_{S^-1}``).

    Parameters
    ----------
    t : int or array_like
        Iteration(s); the bound is ``inf`` at ``t = 0``.
    zeta : float
        Smoothness constant of ``f``.
    gap0 : float
        Initial gap ``f_0 - f*``.

    Returns
    -------
    float or numpy.ndarray
        The bound at ``t``.

    Raises
    ------
    TypeError
        For a non-numeric argument.
    ValueError
        For ``t`` negative or not finite, ``zeta <= 0``, ``gap0 < 0``, or NaN/inf.

    Examples
    --------
    >>> from gdnp.rates import gd_sublinear_bound
    >>> gd_sublinear_bound([0, 1, 10], zeta=0.5, gap0=2.0)
    array([inf, 2. , 0.2])
    """
    t = _t(t)
    zeta, gap0 = check_positive(zeta, "zeta"), check_positive(gap0, "gap0", allow_zero=True)
    with np.errstate(divide="ignore"):
        return np.where(t > 0, 2.0 * zeta * gap0 / np.maximum(t, 1e-300), np.inf)


def k19_ols_bound(t, mu: float, L: float, rho_gap0: float):
    """K19's least-squares theorem for the Rayleigh step (theory guide §2, equation 4).

    ``rho(w_t) - rho* <= (1 - mu/L)^{2t} (rho(w_0) - rho*)``, the excess loss after an optimal
    length.

    Parameters
    ----------
    t : int or array_like
        Direction step(s).
    mu, L : float
        Smallest and largest eigenvalues of ``S``.
    rho_gap0 : float
        ``rho(w_0) - rho*``.

    Returns
    -------
    float or numpy.ndarray
        The bound at ``t``.

    Raises
    ------
    TypeError
        For a non-numeric argument.
    ValueError
        For ``t`` negative or not finite, unless ``0 < mu <= L``, for ``rho_gap0 < 0``, or
        NaN/inf.

    Examples
    --------
    >>> from gdnp.rates import k19_ols_bound
    >>> k19_ols_bound([0, 1, 2], mu=0.1, L=1.0, rho_gap0=1.0)
    array([1.    , 0.81  , 0.6561])
    """
    t = _t(t)
    mu, L = _mu_L(mu, L)
    rho_gap0 = check_positive(rho_gap0, "rho_gap0", allow_zero=True)
    return rho_gap0 * _complement_power(mu, L, 2.0 * t)


def k19_direction_bound(t, mu: float, L: float, rho_gap0: float, Phi: float, g_t):
    """K19's direction bound for GDNP on a Gaussian halfspace (theory guide §4).

    ``||w_t||_S^2 ||grad_w f(w_t, g_t)||^2_{S^-1} <= (1 - mu/L)^{2t} Phi^2 g_t^2 (rho_0 - rho*)``
    (constants as reconstructed in the theory guide).

    Parameters
    ----------
    t : int or array_like
        Direction step(s).
    mu, L : float
        Smallest and largest eigenvalues of ``S``.
    rho_gap0 : float
        ``rho(w_0) - rho*``.
    Phi : float
        A bound on ``|c1|`` (theory guide §3, equation (6)), which the bound's derivation takes to
        be ``sup |phi'|``. That is 1 for the logistic loss, where it does bound ``|c1|``; for
        the squared loss ``sup |phi'|`` is infinite while ``|c1| = 1``, and for the sigmoid
        ``sup |phi'| = 1/4 < sup |c1|``: pass :func:`stein_c1_bound`, ``sup |c1|``, for
        every loss.
    g_t : float or array_like
        The length(s) ``g_t`` at ``t``.

    Returns
    -------
    float or numpy.ndarray
        The bound at ``t``.

    Raises
    ------
    TypeError
        For a non-numeric argument.
    ValueError
        For ``t`` negative or not finite, unless ``0 < mu <= L``, for ``rho_gap0 < 0``,
        ``Phi < 0``, NaN/inf, or a ``g_t`` whose shape does not broadcast with ``t``'s.

    Examples
    --------
    >>> from gdnp.rates import k19_direction_bound
    >>> k19_direction_bound([0, 1], mu=0.5, L=1.0, rho_gap0=1.0, Phi=1.0, g_t=[2.0, 2.0])
    array([4., 1.])
    """
    t = _t(t)
    mu, L = _mu_L(mu, L)
    rho_gap0 = check_positive(rho_gap0, "rho_gap0", allow_zero=True)
    Phi = check_positive(Phi, "Phi", allow_zero=True)
    g_t = as_finite_array(g_t, "g_t")
    try:
        np.broadcast_shapes(t.shape, g_t.shape)
    except ValueError:
        raise ValueError(f"g_t must be a scalar or match t's shape {t.shape}, got shape "
                         f"{g_t.shape}") from None
    return _direction_term(t, mu, L, Phi, g_t, rho_gap0)


def stein_c1_bound(loss: str) -> float:
    """The constant ``Phi`` that K19's direction bound needs: ``sup |c1(w~)|`` (theory guide §4).

    K19's bound takes ``|c1| <= Phi = sup |phi'|``. With ``t = z'w~ ~ N(m, s^2)``,
    ``c1 = E[phi'(t)] - m E[phi''(t)]`` (theory guide §3, equation (6)):

    * ``"logistic"``: ``|c1| <= 1 = sup |phi'|`` (the quoted constant holds);
    * ``"squared"``: ``c1 = 1`` exactly;
    * ``"sigmoid"``: ``sup |c1| = max_m sigma'(m) (1 - m (1 - 2 sigma(m))) = 0.29339...``,
      approached as ``s -> 0`` at ``|m| = 1.31696...``. It exceeds ``sup |phi'| = 1/4``: the
      quoted constant is false for the sigmoid (``gdnp verify`` shows an exact counterexample,
      check ``k19.sigmoid_c1_le_phi``), and this is the constant the bound needs.

    Parameters
    ----------
    loss : {"logistic", "sigmoid", "squared"}

    Returns
    -------
    float

    Examples
    --------
    >>> from gdnp.rates import stein_c1_bound
    >>> stein_c1_bound("logistic"), round(stein_c1_bound("sigmoid"), 6)
    (1.0, 0.293391)
    """
    if not isinstance(loss, str):
        raise TypeError(f"loss must be 'logistic', 'sigmoid' or 'squared', got "
                        f"{type(loss).__name__} {loss!r}")
    if loss in ("logistic", "squared"):
        return 1.0
    if loss != "sigmoid":
        raise ValueError(f"loss must be 'logistic', 'sigmoid' or 'squared', got {loss!r}")
    from scipy.optimize import minimize_scalar
    from scipy.special import expit

    def neg_c1(m: float) -> float:  # the s -> 0 limit, where the supremum is approached
        sg = expit(m)
        return -sg * (1.0 - sg) * (1.0 - m * (1.0 - 2.0 * sg))

    best = minimize_scalar(neg_c1, bounds=(0.5, 2.5), method="bounded",
                           options={"xatol": 1e-12})
    return float(-best.fun)



def _square(x) -> float:
    """``x^2`` in float64 arithmetic: ``inf`` (or 0) where it leaves the floats, never
    Python's ``OverflowError`` (a bound with a huge constant is an infinite bound)."""
    with np.errstate(over="ignore", under="ignore"):
        return float(np.square(np.float64(x)))


def k19_length_bound(T_s: int, zeta: float, width0: float, mu: float, *,
                     form: str = "quoted"):
    """K19's length bound after ``T_s`` bisection halvings (theory guide §4).

    ``form="quoted"`` (default): ``(d_g f(w_t, a^{(T_s)}))^2 <= 2^{-T_s} zeta |b^{(0)} -
    a^{(0)}| / mu^2``, the bound as published. ``form="corrected"``: ``(zeta/mu)^2 4^{-T_s}
    |b^{(0)} - a^{(0)}|^2``, what bisection itself guarantees (the bracket keeps the root
    and shrinks to ``2^{-T_s}`` of its width, and ``d_g f`` is ``zeta/mu``-Lipschitz in
    ``g``; ``gdnp verify`` proves it, check ``k19.bisection_bound``).

    Parameters
    ----------
    T_s : int
        Halvings per length update.
    zeta : float
        Smoothness constant of ``f``.
    width0 : float
        Width ``b^{(0)} - a^{(0)}`` of the initial (expanded) bracket; the bound reads its
        absolute value, so a bracket given as ``a - b`` gives the same bound.
    mu : float
        Smallest eigenvalue of ``S``.
    form : {"quoted", "corrected"}, default "quoted"
        Which bound.

    Returns
    -------
    float
        The bound.

    Raises
    ------
    TypeError
        If ``T_s`` is not an integer, or another argument is not a real number.
    ValueError
        For ``T_s < 0``, ``zeta <= 0``, ``mu <= 0``, NaN/inf, or an unknown ``form``.

    Warnings
    --------
    The quoted bound is **false** in general: it is linear in the bracket's width, which the
    squared derivative is not. ``gdnp verify`` refutes it (check
    ``k19.length_bound_as_quoted``: OLS with ``S = I`` at ``T_s = 0``), and so do GDNP runs
    with few halvings on a wide bracket, e.g. ``OLS.random(4, 1.0, seed=0)`` with ``T_s = 2``
    and the bracket ``[-60, 60]`` (the claims' row ``k19.length_bound`` shows the same on a
    halfspace with scaled inputs). The corrected bound implies it when ``2^{T_s} >= zeta
    |b - a|``, which depends on the problem's scale (no fixed ``T_s`` suffices for every
    input); the corrected bound holds for every ``T_s``.

    Examples
    --------
    >>> from gdnp.rates import k19_length_bound
    >>> k19_length_bound(10, zeta=0.25, width0=4.0, mu=0.5)
    0.00390625
    >>> k19_length_bound(10, zeta=0.25, width0=4.0, mu=0.5, form="corrected")
    3.814697265625e-06
    """
    T_s = as_positive_int(T_s, "T_s", minimum=0)
    zeta, mu = check_positive(zeta, "zeta"), check_positive(mu, "mu")
    width0 = abs(as_real(width0, "width0"))  # the bound reads |b - a|: either order
    if form not in ("quoted", "corrected"):
        raise ValueError(f"form must be 'quoted' or 'corrected', got {form!r}")
    if width0 == 0.0:  # a bracket of width 0: the bound is 0 whatever zeta and mu
        return 0.0
    # a bound beyond the floats is inf or 0, never NaN, and an intermediate beyond them
    # (zeta / mu = 1e600 against 2^-2000) does not decide it: the factors' mantissas and
    # exponents are multiplied apart (the same roundings where nothing leaves the floats)
    (mz, ez), (mw, ew), (mm, em) = math.frexp(zeta), math.frexp(width0), math.frexp(mu)
    if form == "quoted":
        mantissa, exponent = mz * mw / mm / mm, ez + ew - 2 * em - T_s
    else:
        base = mz / mm * mw
        mantissa, exponent = base * base, 2 * (ez - em + ew - T_s)
    with np.errstate(over="ignore", under="ignore"):
        return float(np.ldexp(mantissa, max(min(exponent, 1 << 20), -(1 << 20))))


def k19_combined_bound(T_d, T_s: int, mu: float, L: float, rho_gap0: float, Phi: float,
                       zeta: float, width0: float, *, form: str = "quoted"):
    """K19's combined bound on GDNP's gradient norm (theory guide §4).

    ``||grad f(w~_{T_d})||^2_{S^-1} <= (1 - mu/L)^{2 T_d} Phi^2 (rho_0 - rho*)
    + 2^{-T_s} zeta |b^{(0)} - a^{(0)}| / mu^2``: the direction term of
    :func:`k19_direction_bound` plus :func:`k19_length_bound` (constants as reconstructed in
    the theory guide; a measurement above it is reported as a finding). The length term is
    the quoted one by default, which is false for few halvings on a wide bracket (see
    :func:`k19_length_bound`); ``form="corrected"`` uses the one bisection guarantees.

    Parameters
    ----------
    T_d : int or array_like
        Direction step(s).
    T_s : int
        Halvings per length update.
    mu, L : float
        Smallest and largest eigenvalues of ``S``.
    rho_gap0 : float
        ``rho(w_0) - rho*``.
    Phi : float
        A bound on ``|c1|`` (:func:`k19_direction_bound`): :func:`stein_c1_bound`, which is
        1 for the logistic and squared losses (``sup |phi'|`` only for the logistic).
    zeta : float
        Smoothness constant of ``f``.
    width0 : float
        Width of the initial bracket (its absolute value is read).
    form : {"quoted", "corrected"}, default "quoted"
        The length term's form (:func:`k19_length_bound`).

    Returns
    -------
    float or numpy.ndarray
        The bound at ``T_d``.

    Raises
    ------
    TypeError
        For a non-numeric argument, or a ``T_s`` that is not an integer.
    ValueError
        As :func:`k19_ols_bound` and :func:`k19_length_bound` (``T_d`` as their ``t``).

    Examples
    --------
    >>> from gdnp.rates import k19_combined_bound
    >>> k19_combined_bound([0, 1], 10, mu=0.5, L=1.0, rho_gap0=1.0, Phi=1.0, zeta=0.25,
    ...                    width0=4.0)
    array([1.00390625, 0.25390625])
    """
    T_d = _t(T_d, "T_d")
    mu, L = _mu_L(mu, L)
    rho_gap0 = check_positive(rho_gap0, "rho_gap0", allow_zero=True)
    Phi = check_positive(Phi, "Phi", allow_zero=True)
    return _direction_term(T_d, mu, L, Phi, 1.0, rho_gap0) + k19_length_bound(
        T_s, zeta, width0, mu, form=form)


def c19_hessian(S: np.ndarray, w_star: np.ndarray) -> np.ndarray:
    """C19's matrix ``H*`` at the least-squares optimum (theory guide §2, §12).

    ``H* = S - (S w~*)(S w~*)' / (w~*' S w~*)``: positive semidefinite of rank ``d - 1``, with
    ``H* w~* = 0``. Its non-zero eigenvalues set BNGD's asymptotic rate.

    Parameters
    ----------
    S : numpy.ndarray, shape (d, d)
        ``E[xx']``.
    w_star : numpy.ndarray, shape (d,)
        The optimum ``w~*`` (any non-zero multiple gives the same ``H*``).

    Returns
    -------
    numpy.ndarray, shape (d, d)
        ``H*``.

    Raises
    ------
    TypeError
        For non-numeric ``S`` or ``w_star``.
    ValueError
        If ``S`` is not a finite, square, symmetric positive definite matrix, or ``w_star``
        is not a finite non-zero vector of length ``d``.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.rates import c19_hessian
    >>> S = np.diag([1.0, 4.0])
    >>> H = c19_hessian(S, np.array([1.0, 0.0]))
    >>> H
    array([[0., 0.],
           [0., 4.]])
    >>> H @ np.array([1.0, 0.0])
    array([0., 0.])
    """
    return _h_star(*_S_w(S, w_star)[:3])


def _h_star(S: np.ndarray, w_star: np.ndarray, wSw: float) -> np.ndarray:
    """:func:`c19_hessian` on checked arguments."""
    Sw = S @ w_star
    return S - np.outer(Sw, Sw) / wSw


def _nonzero_eigs(H: np.ndarray) -> np.ndarray:
    eig = np.linalg.eigvalsh(H)
    return np.sort(eig)[1:]  # H* has exactly one zero eigenvalue (along w~*)


def kappa_star(S: np.ndarray, w_star: np.ndarray) -> float:
    """C19's pseudo-condition number ``kappa*`` of least squares (theory guide §2).

    ``kappa* = lambda_max(H*) / lambda_min^+(H*)``, the ratio of the largest to the smallest
    *non-zero* eigenvalue of :func:`c19_hessian`; ``kappa* <= kappa`` by interlacing, and
    ``kappa* = 1`` in ``d = 2``.

    Parameters
    ----------
    S : numpy.ndarray, shape (d, d)
        ``E[xx']``.
    w_star : numpy.ndarray, shape (d,)
        The optimum ``w~*``.

    Returns
    -------
    float
        ``kappa*`` (1 when ``d <= 2``). From float64 eigenvalues of ``H*``: the smallest
        non-zero one carries an absolute error of about ``eps lambda_max``, so ``kappa*``
        has a relative error of about ``eps kappa*`` (1.7e-7 at ``kappa* = 1e10`` against 50
        digits on the same matrices), as any float64 condition number does.

    Raises
    ------
    TypeError, ValueError
        As :func:`c19_hessian`.

    Examples
    --------
    >>> from gdnp.problems import OLS
    >>> from gdnp.rates import kappa_star
    >>> ols = OLS.random(d=2, kappa=1000, seed=0)
    >>> round(kappa_star(ols.S, ols.solution()[0]), 12)
    1.0
    >>> ols = OLS.random(d=10, kappa=1000, seed=0)
    >>> 1.0 < kappa_star(ols.S, ols.solution()[0]) <= 1000
    True
    """
    eig = _nonzero_eigs(c19_hessian(S, w_star))  # c19_hessian checks S and w_star
    if eig.size == 0:
        return 1.0
    return float(eig[-1] / eig[0])


def bngd_rate(S: np.ndarray, w_star: np.ndarray, w_inf: np.ndarray, lr: float) -> float:
    """BNGD's asymptotic direction rate on least squares (theory guide §2).

    ``r = max_i |1 - eps_hat lambda*_i|`` over the non-zero eigenvalues ``lambda*_i`` of
    ``H*`` (:func:`c19_hessian`), with the effective step
    ``eps_hat = 2 lr ||w~*||_2^2 / ||w_inf||_2^2``; the excess loss then decays like
    ``r^{2k}``.

    Parameters
    ----------
    S : numpy.ndarray, shape (d, d)
        ``E[xx']``.
    w_star : numpy.ndarray, shape (d,)
        The optimum ``w~*``.
    w_inf : numpy.ndarray, shape (d,)
        The limit of BNGD's direction iterates ``w_k`` (e.g. ``res.direction`` of a long
        run); its norm never decreases along the run (theory guide §1).
    lr : float
        BNGD's direction rate ``epsilon``.

    Returns
    -------
    float
        ``r`` (0 when ``d == 1``).

    Raises
    ------
    TypeError
        For a non-numeric argument.
    ValueError
        As :func:`c19_hessian` for ``S`` and ``w_star``; if ``w_inf`` is not a finite
        non-zero vector of length ``d``, or ``lr`` is not a finite number ``> 0``.

    Examples
    --------
    >>> import numpy as np
    >>> import gdnp
    >>> from gdnp.problems import OLS
    >>> ols = OLS.random(d=5, kappa=10, seed=1)
    >>> res = gdnp.bngd(ols, lr=20.0, maxiter=600, tol=0.0)   # 20x GD's limit 1/L
    >>> r = gdnp.rates.bngd_rate(ols.S, ols.solution()[0], res.direction, lr=20.0)
    >>> round(r, 5)
    0.98468
    >>> gaps = res.history["rho_gap"]          # excess loss, decaying like r^(2k)
    >>> measured = (gaps[400] / gaps[200]) ** (1 / 200)
    >>> bool(abs(measured - r**2) < 1e-4)
    True
    """
    S, w_star, wSw, k_star = _S_w(S, w_star)
    w_inf = as_vector(w_inf, "w_inf", dim=S.shape[0])
    lr = check_positive(lr, "lr")
    if not np.any(w_inf):
        raise ValueError("w_inf must be a non-zero vector (BNGD's direction is never zero)")
    # ||w_star||^2 / ||w_inf||^2 from both at the scale of _power_of_two_scaled, times the
    # power of two 4^(k_star - k_inf): no overflow or underflow from the vectors' own scales
    w_inf, k_inf = power_of_two_scaled(w_inf)
    with np.errstate(over="ignore", under="ignore"):
        eps_hat = float(np.ldexp(2.0 * lr * float(w_star @ w_star) / float(w_inf @ w_inf),
                                 2 * (k_star - k_inf)))
    if not np.isfinite(eps_hat):
        raise ValueError(f"lr = {lr!r} with these w_star, w_inf makes the effective step "
                         "2 lr ||w_star||^2 / ||w_inf||^2 overflow; rescale them")
    eig = _nonzero_eigs(_h_star(S, w_star, wSw))
    if eig.size == 0:
        return 0.0
    return float(np.max(np.abs(1.0 - eps_hat * eig)))


def gdnp_rate(S: np.ndarray, w_star: np.ndarray, L: float | None = None) -> float:
    """GDNP's asymptotic direction rate ``r = max |1 - lambda_i(H*)/L|`` over the non-zero
    eigenvalues of :func:`c19_hessian` (theory guide §4).

    GDNP's direction step is the least-squares step (4) of theory guide §2 on OLS and on every
    Gaussian halfspace. Linearised at the optimum it is ``delta -> (I - H*/L) delta``; its
    eigenvalue 1 along ``w~*`` only rescales the direction, which leaves ``rho`` unchanged, and
    ``rho(w_t) - rho*``, quadratic in the direction's error, decays like ``r^(2t)`` (the excess
    loss of OLS too, at the optimal length). With the default ``L = lambda_max(S)`` every
    factor lies in ``[0, 1)`` and ``r = 1 - lambda_min^+(H*)/L``; by interlacing
    ``lambda_min^+(H*) >= mu``, so ``r^2`` never exceeds K19's ``(1 - mu/L)^2``
    (:func:`k19_ols_bound`) and equals it only where ``lambda_min^+(H*) = mu``.

    Parameters
    ----------
    S : numpy.ndarray, shape (d, d)
        ``E[xx']``.
    w_star : numpy.ndarray, shape (d,)
        The optimum ``w~*`` (any non-zero multiple).
    L : float, optional
        GDNP's ``L`` (its option of that name); ``lambda_max(S)`` by default.

    Returns
    -------
    float
        ``r``, the asymptotic factor of the direction's error per step (0 when ``d = 1``);
        ``rho - rho*`` contracts by ``r^2``. Near 1 (large ``kappa``) the rounding of ``r``
        and of ``H*``'s smallest eigenvalue leave ``1 - r`` with a relative error of about
        ``eps kappa`` (2.7e-4 at ``kappa = 1e13``).

    Raises
    ------
    TypeError, ValueError
        As :func:`c19_hessian`; a ``L`` that is not a finite positive number.

    Examples
    --------
    >>> import gdnp
    >>> from gdnp.problems import OLS
    >>> from gdnp.rates import gdnp_rate, k19_ols_bound
    >>> ols = OLS.random(d=8, kappa=100, seed=3)
    >>> r = gdnp_rate(ols.S, ols.solution()[0])
    >>> round(r**2, 5), round(float(k19_ols_bound(1, ols.mu, ols.L, 1.0)), 5)   # vs K19
    (0.97802, 0.9801)
    >>> res = gdnp.gdnp(ols, maxiter=1000, tol=0.0, length="closed_form")
    >>> gaps = res.history["rho_gap"]
    >>> measured = (gaps[600] / gaps[300]) ** (1 / 300)
    >>> bool(abs(measured - r**2) < 1e-4)
    True
    """
    S, w_star, wSw, _ = _S_w(S, w_star)
    L = float(np.linalg.eigvalsh(S)[-1]) if L is None else check_positive(L, "L")
    eig = _nonzero_eigs(_h_star(S, w_star, wSw))
    if eig.size == 0:
        return 0.0
    return float(np.max(np.abs(1.0 - eig / L)))


def bngd_best_rate(kstar: float) -> float:
    """The best BNGD direction rate over all learning rates (theory guide §2).

    ``(kappa* - 1) / (kappa* + 1)``, attained when ``eps_hat`` balances the extreme non-zero
    eigenvalues of ``H*``.

    Parameters
    ----------
    kstar : float
        C19's pseudo-condition number (:func:`kappa_star`).

    Returns
    -------
    float
        The rate.

    Raises
    ------
    TypeError
        If ``kstar`` is not a real number.
    ValueError
        If ``kstar`` is not finite or is below 1.

    Examples
    --------
    >>> from gdnp.rates import bngd_best_rate
    >>> bngd_best_rate(3.0)
    0.5
    """
    kstar = as_real(kstar, "kstar", minimum=1.0)  # kappa* >= 1: a ratio of eigenvalues
    return (kstar - 1.0) / (kstar + 1.0)


def _lstsq_fit(A: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Least squares ``y ~ A c``: coefficients, residual sum of squares, ``(A'A)^-1`` diagonal."""
    c, *_ = np.linalg.lstsq(A, y, rcond=None)
    rss = float(np.sum((A @ c - y) ** 2))
    cov = np.linalg.pinv(A.T @ A)
    return c, rss, np.diag(cov)


def fit_window(iters, gaps, floor: float = 0.0) -> tuple[int, int]:
    """Indices ``[start, stop)`` of the part of a history a rate may be fitted to.

    The window ends before the first gap at or below ``floor`` (the rounding floor: what lies
    under it is noise) and at the last record that sets a new running minimum (what follows is
    a non-monotone tail: a bounce or a plateau). It starts at the first iterate with ``t > 0``.
    Non-finite or non-positive gaps end the window too (a run that blew up records them).
    Returned as positions in the arrays.

    Parameters
    ----------
    iters : array_like, shape (n,)
        Iteration numbers ``t``: finite, ascending.
    gaps : array_like, shape (n,)
        The recorded gaps (``f - f*``, ``rho - rho*``, ``||grad f||^2``...). A history may be
        empty (``n = 0``): nothing to fit.
    floor : float, default 0.0
        The rounding floor (finite, ``>= 0``); gaps at or below it end the window.

    Returns
    -------
    start, stop : int
        The window is ``iters[start:stop]``; ``stop - start < 2`` means nothing to fit.

    Raises
    ------
    TypeError
        If ``iters``, ``gaps`` or ``floor`` is not numeric.
    ValueError
        If ``iters`` and ``gaps`` are not 1-D arrays of one length, ``iters`` holds NaN or
        inf or is not ascending, or ``floor`` is negative or not finite.

    Examples
    --------
    The window ends at the last new running minimum above the floor (theory guide §7):

    >>> from gdnp.rates import fit_window
    >>> fit_window(range(8), [1.0, 0.5, 0.25, 0.125, 0.2, 0.06, 1e-17, 1e-18], floor=1e-16)
    (1, 6)
    """
    t, y, floor = _history(iters, gaps, floor)
    return _window(t, y, floor)


def _history(iters, gaps, floor) -> tuple[np.ndarray, np.ndarray, float]:
    """``iters`` (finite, ascending), ``gaps`` (numeric; NaN and inf allowed: they end the
    window, as a run that blew up records them) as float arrays of one length, and ``floor``
    (finite, ``>= 0``)."""
    t = as_finite_array(iters, "iters")
    y = _as_float_array(gaps, "gaps")
    if t.shape != y.shape or t.ndim != 1:
        raise ValueError(f"iters and gaps must be 1-D arrays of one length, got shapes "
                         f"{t.shape} and {y.shape}")
    if t.size > 1 and np.any(t[1:] < t[:-1]):
        i = int(np.argmax(t[1:] < t[:-1]))
        raise ValueError(f"iters must be in ascending order, got {t[i]:g} before {t[i + 1]:g} "
                         f"at position {i}")
    return t, y, check_positive(floor, "floor", allow_zero=True)


def _bad_gap_note(t: np.ndarray, y: np.ndarray, stop: int) -> str:
    """``"; ..."`` naming the gap at ``stop`` when it is what ended the window
    (:func:`fit_window`): non-finite or non-positive; else ``""`` (the floor or the running
    minimum ended it)."""
    if not stop < y.size or (np.isfinite(y[stop]) and y[stop] > 0.0):
        return ""
    return (f"; the window ends at position {stop} (t = {t[stop]:g}), where the gap is "
            f"{float(y[stop])!r}: non-finite or non-positive gaps end it")


def _window(t: np.ndarray, y: np.ndarray, floor: float) -> tuple[int, int]:
    """:func:`fit_window` on checked arrays."""
    # the window starts at the first t > 0: a gap before it (an unknown or exact 0 gap at a
    # start on the optimum) does not end it
    start = int(np.searchsorted(t, 0.0, side="right"))
    bad = ~np.isfinite(y[start:]) | (y[start:] <= floor)
    stop = start + int(np.argmax(bad)) if bad.any() else y.size
    if stop - start < 2:
        return start, stop
    seg = y[start:stop]
    runmin = np.minimum.accumulate(seg)
    new_min = np.flatnonzero(np.r_[True, seg[1:] < runmin[:-1]])
    return start, start + int(new_min[-1]) + 1


_KINDS = ("linear", "sublinear", "undetermined")


def fit_rate(iters, gaps, *, floor: float = 0.0, tail: float = 0.5, level: float = 0.99,
             dominance: float = 4.0, min_points: int = 6, min_decades: float = 1.0) -> dict:
    """Honest empirical order of a convergence history (theory guide §7).

    The window (:func:`fit_window`) is the part of the history above the rounding ``floor``
    and before any non-monotone tail; the fit uses its last ``tail`` fraction of iterations.
    Three least-squares models of ``y = log(gap)`` are fitted there:

    * linear:    ``y = a + t log r``               (rate ``r``, reported as ``1 - r``)
    * sublinear: ``y = a - p log t``               (order ``p``)
    * both:      ``y = a + b t + c log t``         (the nesting model)

    With ``s^2 = RSS_both / (n - 3)`` (at least ``(1e-9)^2``, the rounding of ``log``), the
    statistic ``F_m = (RSS_m - RSS_both) / s^2`` tests whether model ``m`` lacks the other's
    term, against the ``level`` quantile of ``F(1, n - 3)``. **Classification rule:**

    1. fewer than ``min_points`` points in the window, or a slope not significantly
       negative (``log r + 2 se >= 0``): ``"undetermined"`` (stalled or too short);
    2. exactly one model not rejected: that model, the power law only where its local order
       is constant too (below: noise can keep the F-test from rejecting a power law);
    3. both not rejected: ``"undetermined"`` (the window cannot tell them apart);
    4. both rejected (systematic wiggles, e.g. AGD's momentum ripples, or a law with an
       offset, ``(t + t_0)^-p``): where the gap fell at least ``min_decades`` over the fitted
       window, the model whose RSS is ``dominance`` times smaller, else ``"undetermined"``;
       the power law only where its local order is constant too (below), and the geometric
       law only where its local rate ``-d log gap / dt`` does not grow over the window beyond
       the same band (a superlinear sequence such as ``exp(-t^2/10)`` fits a line better
       than a power law without being either; a rate that shrinks, geometric modes slowing
       down, is linear convergence and is named). Over a smaller
       fall (a power law falls only ``p log10(t_2/t_1)`` decades, 0.3 ``p`` over the last
       half of a run) the RSS is no evidence: a mixture of geometric modes slowing down fits a
       power law better than a line without being one (a linearly converging GDNP run read
       ``"sublinear"`` over 0.6 decade). There the local order ``p(t) = -d log gap / d log t``
       of the nesting model decides: its ratio ``rho = p(t_2) / p(t_1)`` between the window's
       ends is 1 for a power law and ``t_2 / t_1`` for a geometric law. The power law is
       named where ``|log rho|`` with two standard errors is at most ``0.1 log(t_2/t_1)``, its
       RSS is the smaller and the order fitted on each quarter of the window (in ``log t``)
       stays within the same band of the window's; otherwise ``"undetermined"`` (that GDNP
       run: ``rho = 0.74``). A geometric law is not named over such a fall even where
       ``rho`` matches it: its fall over a window grows with the run, a power law's does
       not.

    Parameters
    ----------
    iters, gaps : array_like
        Iteration numbers (finite, ascending) and gaps ``f - f*`` (or any positive error),
        same length (as :func:`fit_window`). A history too short to fit, empty included, is
        ``"undetermined"``.
    floor : float
        Rounding floor: gaps at or below it end the window.
    tail : float in (0, 1]
        Fraction of the window (in iterations, counted back from its end) that is fitted.
    level : float in (0, 1)
        Confidence level of the F tests.
    dominance : float > 1
        RSS ratio that decides between two rejected models.
    min_points : int >= 4
        Fewest points a classification is made from.
    min_decades : float >= 0
        Least fall of the gap over the fitted window (``log10`` of the first over the last)
        for rule 4 to decide between two rejected models by their RSS; over less, the local
        order's ratio decides.

    Returns
    -------
    dict
        ``kind`` in {"linear", "sublinear", "undetermined"}; ``rate`` ``r`` and its standard
        error ``rate_se``; ``one_minus_rate`` (``-expm1(log r)``, exact for ``r`` near 1) and
        ``one_minus_rate_se``; ``order`` ``p`` and ``order_se``; ``window`` = (first, last)
        iteration fitted; ``n`` points; ``decades``, how far the gap fell over the fitted
        points (``log10`` of the first over the last: a rate over less than one decade is
        weak evidence of the asymptotic rate); ``rss_linear``, ``rss_sublinear``,
        ``rss_both``; ``F_linear``, ``F_sublinear`` and the critical value ``F_crit``;
        ``order_ratio`` ``rho`` and ``order_ratio_se`` where rule 4 read them (else NaN);
        ``reason``.

    Raises
    ------
    TypeError
        A non-numeric argument (``min_points`` not an integer).
    ValueError
        ``tail``, ``level``, ``dominance``, ``min_points`` or ``floor`` out of range, or
        ``iters`` and ``gaps`` as :func:`fit_window` rejects them.

    Notes
    -----
    Pass the ``floor`` of the run. The window ends at the last new running minimum, which
    cuts a bounce or an exact plateau but not a *noisy* plateau: there noise keeps setting
    new minima, the window runs on into it, and the bend from convergence to plateau can fit
    the power law best (a geometric run with ``r = 0.9`` onto a plateau at ``1e-8`` with
    ``1e-3`` relative noise: ``"sublinear"`` on one seed in five, ``"undetermined"`` on the
    others, without a floor; ``"linear"`` with the plateau's level as ``floor``, tested). A
    plateau that *adds* to the gap, as rounding does (``0.9^t + 1e-8``), bends the window's end
    above its level too: a floor of ``1.01e-8`` or ``2e-8`` leaves it ``"undetermined"``, one
    several times the plateau's level names the geometric law (``5e-8``: ``1 - r = 0.0986``
    for 0.1, tested), so pass a floor a few times the plateau's level.
    The figures, the sweep and ``gdnp solve`` pass the float64 rounding floor of ``f*``.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.rates import fit_rate
    >>> t = np.arange(100)
    >>> fit = fit_rate(t, 0.9**t)
    >>> fit["kind"], round(fit["one_minus_rate"], 9), fit["n"]
    ('linear', 0.1, 50)
    >>> fit_rate(t[:3], 0.9 ** t[:3])["kind"]
    'undetermined'
    """
    from scipy.special import fdtri  # the F quantile (what scipy.stats.f.ppf calls), without
    # importing scipy.stats: about a second, paid by every process that fits a rate

    tail = as_real(tail, "tail", minimum=0.0, open_min=True, maximum=1.0)
    level = as_real(level, "level", minimum=0.0, open_min=True, maximum=1.0, open_max=True)
    dominance = as_real(dominance, "dominance", minimum=1.0, open_min=True)
    min_points = as_positive_int(min_points, "min_points", minimum=4)
    min_decades = as_real(min_decades, "min_decades", minimum=0.0)
    t_all, y_all, floor = _history(iters, gaps, floor)
    start, stop = _window(t_all, y_all, floor)
    out = {"kind": "undetermined", "rate": np.nan, "rate_se": np.nan,
           "one_minus_rate": np.nan, "one_minus_rate_se": np.nan, "order": np.nan,
           "order_se": np.nan, "window": (np.nan, np.nan), "n": 0, "decades": np.nan,
           "rss_linear": np.nan,
           "rss_sublinear": np.nan, "rss_both": np.nan, "F_linear": np.nan,
           "F_sublinear": np.nan, "F_crit": np.nan, "order_ratio": np.nan,
           "order_ratio_se": np.nan, "reason": ""}
    # a non-finite or non-positive gap that ended the window (a NaN from a log, an exact 0):
    # named in the reason, which would otherwise blame the floor or the history's shape
    ended = _bad_gap_note(t_all, y_all, stop)
    if stop - start < 2:
        out["reason"] = ("fewer than 2 points in the window (above the floor, from t > 0 to "
                         "the gap's last new minimum: a history that never decreases has one)"
                         + ended)
        return out
    t, y = t_all[start:stop], y_all[start:stop]
    t_lo = t[-1] - float(tail) * (t[-1] - t[0])
    keep = t >= t_lo
    t, y = t[keep], np.log(y[keep])
    n = t.size
    out["n"], out["window"] = int(n), (float(t[0]), float(t[-1]))
    out["decades"] = float((y[0] - y[-1]) / np.log(10.0))
    if n < 3:
        out["reason"] = f"{n} points in the window" + ended
        return out
    one = np.ones_like(t)
    c_lin, rss_lin, v_lin = _lstsq_fit(np.column_stack([one, t]), y)
    c_sub, rss_sub, v_sub = _lstsq_fit(np.column_stack([one, np.log(t)]), y)
    s2_lin = max(rss_lin / max(n - 2, 1), 1e-18)
    s2_sub = max(rss_sub / max(n - 2, 1), 1e-18)
    b, b_se = float(c_lin[1]), float(np.sqrt(s2_lin * v_lin[1]))
    r = float(np.exp(b))
    out.update(rate=r, rate_se=r * b_se, one_minus_rate=float(-np.expm1(b)),
               one_minus_rate_se=r * b_se, order=float(-c_sub[1]),
               order_se=float(np.sqrt(s2_sub * v_sub[1])), rss_linear=rss_lin,
               rss_sublinear=rss_sub)
    if n < int(min_points):
        out["reason"] = f"{n} < {int(min_points)} points in the window" + ended
        return out
    # the nesting model, its columns scaled by the window's end (rule 4 reads its coefficients)
    nest = np.column_stack([one, t / t[-1], np.log(t / t[-1])])
    c_both, rss_both, _ = _lstsq_fit(nest, y)
    s2 = max(rss_both / (n - 3), 1e-18)
    F_lin = max(rss_lin - rss_both, 0.0) / s2
    F_sub = max(rss_sub - rss_both, 0.0) / s2
    F_crit = float(fdtri(1, n - 3, level))
    out.update(rss_both=rss_both, F_linear=F_lin, F_sublinear=F_sub, F_crit=F_crit)
    if b + 2.0 * b_se >= 0.0:
        out["reason"] = "no significant decrease in the window"
        return out
    lin_ok, sub_ok = F_lin <= F_crit, F_sub <= F_crit
    if lin_ok and not sub_ok:
        kind, reason = "linear", "the power law is rejected, the geometric law is not"
    elif sub_ok and not lin_ok:
        # the power law named only where its local order is constant too: noise (restarted
        # AGD's stalls) can keep the F-test from rejecting a power law that a geometric law
        # seen over t2/t1 = 2 resembles, with an order of 11.4
        kind, reason = _unless_order_moves(
            out, t, y, nest, c_both, s2, "the geometric law is rejected, the power law is not")
    elif lin_ok and sub_ok:
        kind, reason = "undetermined", "both laws fit the window equally well"
    elif not out["decades"] >= min_decades:
        kind, reason = _by_local_order(
            out, t, y, nest, c_both, s2,
            f"both laws rejected over a fall of {out['decades']:.2g} decade(s), less than "
            f"{min_decades:g}", short_fall=True)
    elif rss_lin * dominance <= rss_sub:
        # the geometric law unless its local rate visibly grows (a superlinear sequence, such
        # as exp(-t^2/10), fits a line better than a power law without being either)
        kind, reason = _unless_rate_grows(
            out, t, nest, c_both, s2, f"both rejected; geometric RSS {dominance:g}x smaller")
    elif rss_sub * dominance <= rss_lin:
        # a power law only where its local order is constant too (a mixture of geometric
        # modes, whose local order moves, can fit it better than a line over a decade or two)
        kind, reason = _by_local_order(
            out, t, y, nest, c_both, s2,
            f"both rejected; power-law RSS {dominance:g}x smaller", short_fall=False)
    else:
        kind, reason = "undetermined", "both laws rejected, neither dominates"
    out["kind"], out["reason"] = kind, reason
    return out


#: How close the local order's ratio over a window must be to a law's (a fraction of the
#: distance ``q - 1`` between the two laws' ratios ``1`` and ``q``, with two standard errors)
#: for :func:`fit_rate` to name the law from it.
LOCAL_ORDER_BAND = 0.1


def _by_local_order(out: dict, t: np.ndarray, y: np.ndarray, nest: np.ndarray,
                    c: np.ndarray, s2: float, lead: str, short_fall: bool):
    """Rule 4 where the RSS is no evidence alone (``lead`` opens the reason): over a fall of
    less than ``min_decades`` (``short_fall``), and for the power law over any fall.

    The ratio ``rho = p(t_2) / p(t_1)`` of the local order ``p(t) = -d log gap / d log t`` at
    the window's ends, from the nesting model ``y = a + b t + c log t`` (``p = -(b t + c)``),
    tells the laws apart where a short fall cannot: ``rho = 1`` for a power law (also
    ``(t + t_0)^-p`` with ``t_0`` small against the window), ``rho = q = t_2 / t_1`` for a
    geometric law. The power law is named where ``|log rho|`` (two standard errors added) is
    at most :data:`LOCAL_ORDER_BAND` ``log q`` (on the log scale: the band does not widen with
    ``q``, where a linear band had taken a ratio of 0.19 for constant over ``q = 1000``), its
    RSS is the smaller, and the order fitted on each quarter of the window (in ``log t``) is
    within the same band of the window's (the ends alone had missed a dip of the local order
    inside the window, from 2.06 to 1.46 and back to 1.91, in a BNGD transient). A power law
    falls only ``p log10 q`` decades over the window, however long the run; a geometric law,
    whose fall grows with the run, is not named over a short one. Else ``"undetermined"`` (a
    mixture of geometric modes slowing down whose local order shrinks fits neither: a
    linearly converging GDNP run over 0.6 decade had ``rho = 0.74``; a dense mixture can keep
    it constant, and then reads as the power law it resembles over the window). ``nest`` is
    the model's design matrix (columns ``1, t/t_2, log(t/t_2)``), ``c`` its coefficients and
    ``s2`` the residual variance. Sets ``order_ratio`` and ``order_ratio_se`` in ``out``."""
    short = lead
    ratio = _order_ratio(out, t, nest, c, s2)
    if ratio is None:
        return "undetermined", short + "; the local order is not positive at both ends"
    rho, se, q, band, what = ratio
    if abs(math.log(rho)) + 2.0 * se / rho <= band and \
            out["rss_sublinear"] < out["rss_linear"]:
        order = out["order"]
        pieces = _part_orders(t, y)
        if pieces is None or all(abs(math.log(p / order)) + 2.0 * se_log <= band
                                 for p, se_log in pieces):
            return "sublinear", short + what + (": within the band of a constant one (+-"
                                             f"{100 * (math.exp(band) - 1):.2g}%), a power "
                                             "law's")
        return "undetermined", short + what + (
            ", but the orders fitted on the window's quarters ("
            + ", ".join(f"{p:.3g}" for p, _ in pieces)
            + f") stray from its {order:.3g}: the local order moves inside the window")
    if short_fall and abs(math.log(rho / q)) + 2.0 * se / rho <= band and \
            out["rss_linear"] < out["rss_sublinear"]:
        # not named: a geometric law's fall over a window grows with the run (a power law's
        # is p log10(t2/t1) however long), so a short fall is a short run: run longer
        return "undetermined", short + what + (": in proportion to t, a geometric law's, "
                                               "over too short a fall to name it")
    if not short_fall:
        return "undetermined", short + what + ": not constant, not a power law's"
    return "undetermined", short + what + ": neither law's (1 or t2/t1), the bend of a " \
        "window that short does not tell the order"


def _order_ratio(out: dict, t: np.ndarray, nest: np.ndarray, c: np.ndarray, s2: float):
    """``(rho, se, q, band, what)``: the ratio ``rho = p(t_2) / p(t_1)`` of the nesting
    model's local order at the window's ends, its standard error (delta method), ``q = t_2 /
    t_1``, the band :data:`LOCAL_ORDER_BAND` ``log q`` and the reason's clause; ``None`` where
    the local order is not positive at both ends. Sets ``order_ratio`` and ``order_ratio_se``
    in ``out``."""
    t1, t2 = float(t[0]), float(t[-1])
    q = t2 / t1
    p1, p2 = -(c[1] * t1 / t2 + c[2]), -(c[1] + c[2])
    if not (p1 > 0.0 and p2 > 0.0):
        return None
    cov = s2 * np.linalg.pinv(nest.T @ nest)
    rho = p2 / p1
    grad = np.array([0.0, (t1 / t2 * p2 - p1) / p1**2, (p2 - p1) / p1**2])
    se = float(np.sqrt(max(grad @ cov @ grad, 0.0)))
    out["order_ratio"], out["order_ratio_se"] = float(rho), se
    what = (f"; the local order -dlog(gap)/dlog(t) changes by {rho:.3g} +- {se:.2g} over "
            f"the window (t2/t1 = {q:.3g})")
    return rho, se, q, LOCAL_ORDER_BAND * math.log(q), what


def _unless_order_moves(out: dict, t: np.ndarray, y: np.ndarray, nest: np.ndarray,
                        c: np.ndarray, s2: float, lead: str):
    """Rule 2's power law (the F-test rejects the geometric law, not the power law): named
    unless the data show its local order moving, beyond :data:`LOCAL_ORDER_BAND` ``log q``
    plus two standard errors, between the window's ends or on one of its quarters (in
    ``log t``). Here the F-test has found the power law adequate, so the test asks for
    evidence against a constant order (noise widens the allowance: 5% noise on ``t^-p``
    still reads sublinear), where rule 4 asks for evidence for it. Restarted AGD on Beale's
    function, a geometric law with stalls, had been named a power law of order 11.4 over
    ``t2/t1 = 2``: its quarters' orders are 9.7, 10.1, 7.3 and 15.5."""
    ratio = _order_ratio(out, t, nest, c, s2)
    if ratio is None:
        return "undetermined", lead + "; the local order is not positive at both ends"
    rho, se, q, band, what = ratio
    if abs(math.log(rho)) > band + 2.0 * se / rho:
        return "undetermined", lead + what + ": not constant, as a power law's is"
    order = out["order"]
    pieces = _part_orders(t, y)
    if pieces is not None and any(abs(math.log(p / order)) > band + 2.0 * se_log
                                  for p, se_log in pieces):
        return "undetermined", lead + what + (
            "; the orders fitted on the window's quarters ("
            + ", ".join(f"{p:.3g}" for p, _ in pieces)
            + f") stray from its {order:.3g}: the local order moves inside the window")
    return "sublinear", lead


def _unless_rate_grows(out: dict, t: np.ndarray, nest: np.ndarray, c: np.ndarray,
                       s2: float, lead: str):
    """Rule 4's geometric law (its RSS the smaller by ``dominance``): named unless its local
    rate ``lambda(t) = -d log gap / dt = p(t) / t`` of the nesting model grows over the window
    beyond :data:`LOCAL_ORDER_BAND` ``log q`` plus two standard errors, that is unless
    ``lambda(t_2) / lambda(t_1) = rho / q`` exceeds the band (``rho`` the local order's ratio,
    ``q = t_2 / t_1``). A geometric law's local rate is constant; a superlinear sequence's
    grows (``exp(-t^2/10)``: ``lambda = t/5``, the ratio ``q``), and its average over the
    window is no rate. A local rate that shrinks (geometric modes slowing down, the slowest
    taking over) still names the geometric law: that is linear convergence, at a rate between
    the modes'."""
    ratio = _order_ratio(out, t, nest, c, s2)
    if ratio is None:
        return "linear", lead
    rho, se, q, band, what = ratio
    if math.log(rho / q) > band + 2.0 * se / rho:
        return "undetermined", lead + what + (
            f", so the local rate -dlog(gap)/dt grows {rho / q:.3g}-fold over it: not a "
            "geometric law's constant rate (a run speeding up, as superlinear convergence "
            "does; the fitted rate would be its average)")
    return "linear", lead


def _part_orders(t: np.ndarray, y: np.ndarray, parts: int = 4):
    """The power law's order ``p`` fitted on each of ``parts`` equal pieces of ``log t`` over
    the window, with the standard error of each ``log p``; ``None`` where a piece has fewer
    than 3 points or an order that is not positive."""
    s = np.log(t)
    edges = np.linspace(float(s[0]), float(s[-1]), parts + 1)
    out = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        piece = (s >= a) & (s <= b)
        m = int(piece.sum())
        if m < 3:
            return None
        coef, rss, var = _lstsq_fit(np.column_stack([np.ones(m), s[piece]]), y[piece])
        p = -float(coef[1])
        if not p > 0.0:
            return None
        out.append((p, math.sqrt(max(rss / max(m - 2, 1), 1e-18) * var[1]) / p))
    return out


def fit_order(iters, gaps, tail: float = 0.5, floor: float = 0.0, **options) -> dict:
    """Classify a history as linear, sublinear or undetermined convergence (theory guide §7).

    The same fit as :func:`fit_rate`, with ``tail`` and ``floor`` also taken by position
    (the signature of earlier versions; either gives the CLI's ``order`` column). The work is
    done by :func:`fit_rate` (see its docstring for the window and the classification rule),
    whose keys it returns: ``kind``,
    ``rate`` (``r``), ``order`` (``p``), ``n`` and the uncertainties, window and statistics.
    ``options`` are passed on (``level``, ``dominance``, ``min_points``, ``min_decades``).

    Parameters
    ----------
    iters : array_like, shape (n,)
        Iteration numbers, ascending.
    gaps : array_like, shape (n,)
        The recorded gaps.
    tail : float, default 0.5
        The fraction of the window (its last iterations) the models are fitted to.
    floor : float, default 0.0
        The rounding floor (see :func:`fit_window`).
    **options
        ``level``, ``dominance``, ``min_points`` and ``min_decades`` of :func:`fit_rate`.

    Returns
    -------
    dict
        :func:`fit_rate`'s result: ``kind`` (``"linear"``, ``"sublinear"`` or
        ``"undetermined"``), ``rate``, ``order``, ``n``, uncertainties, window and
        statistics.

    Raises
    ------
    TypeError, ValueError
        As :func:`fit_rate`: non-numeric or invalid histories or options.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.rates import fit_order
    >>> t = np.arange(100)
    >>> fit = fit_order(t, 0.9**t)
    >>> fit["kind"], round(fit["rate"], 12)
    ('linear', 0.9)
    >>> fit = fit_order(t + 1, 1.0 / (t + 1.0) ** 2)
    >>> fit["kind"], round(fit["order"], 1)
    ('sublinear', 2.0)
    """
    return fit_rate(iters, gaps, floor=floor, tail=tail, **options)
