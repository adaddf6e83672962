"""Scalar losses ``phi`` of MATH.md §3 with their first two derivatives in closed form.

Every function is evaluated in overflow-safe form (``logaddexp``, ``expit``), so margins of
any size give finite values (MATH.md §9).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

__all__ = ["Loss", "LOSSES", "get_loss"]

ArrayFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Loss:
    """A twice differentiable scalar loss ``phi`` with closed-form derivatives.

    Attributes
    ----------
    name : str
        Registry name.
    phi, dphi, d2phi : callable
        ``phi(t)``, ``phi'(t)``, ``phi''(t)``, vectorized over numpy arrays.
    convex : bool
        Whether ``phi`` is convex (then ``d_g f`` is non-decreasing in ``g``, MATH.md §4).
    max_d2phi : float
        ``sup_t |phi''(t)|``: the smoothness of ``f`` is ``max_d2phi * L`` (MATH.md §6).
    max_dphi : float
        ``Phi = sup_t |phi'(t)|`` used by K19's direction bound (MATH.md §4); ``inf`` if
        unbounded.
    limits : tuple of float
        ``(phi(-inf), phi(+inf))``; both finite only for bounded losses (sigmoid), whose
        infimum may be approached at infinity.
    """

    name: str
    phi: ArrayFn
    dphi: ArrayFn
    d2phi: ArrayFn
    convex: bool
    max_d2phi: float
    max_dphi: float
    limits: tuple[float, float] = (np.inf, np.inf)


def _logistic(t):
    return np.logaddexp(0.0, t)


def _logistic_d1(t):
    return expit(t)


def _logistic_d2(t):
    s = expit(t)
    return s * expit(-np.asarray(t))  # sigma(1 - sigma) without cancellation


def _sigmoid_d2(t):
    s = expit(t)
    return s * expit(-np.asarray(t)) * (1.0 - 2.0 * s)


def _squared(t):
    return 0.5 * (1.0 + np.asarray(t)) ** 2


def _squared_d1(t):
    return 1.0 + np.asarray(t)


def _squared_d2(t):
    return np.ones_like(np.asarray(t, dtype=float))


LOSSES: dict[str, Loss] = {
    "logistic": Loss("logistic", _logistic, _logistic_d1, _logistic_d2, True, 0.25, 1.0,
                     (0.0, np.inf)),
    "sigmoid": Loss(
        "sigmoid", expit, _logistic_d2, _sigmoid_d2, False, 1.0 / (6.0 * np.sqrt(3.0)), 0.25,
        (0.0, 1.0)
    ),
    "squared": Loss("squared", _squared, _squared_d1, _squared_d2, True, 1.0, np.inf),
}


def get_loss(loss: str | Loss) -> Loss:
    """Return the :class:`Loss` named ``loss`` (or ``loss`` itself if it is one).

    Raises
    ------
    ValueError
        If the name is unknown; the message lists the known names.
    TypeError
        If ``loss`` is neither a string nor a :class:`Loss`.
    """
    if isinstance(loss, Loss):
        return loss
    if not isinstance(loss, str):
        raise TypeError(f"loss must be a str or Loss, got {type(loss).__name__}")
    try:
        return LOSSES[loss]
    except KeyError:
        raise ValueError(f"loss {loss!r} is unknown; choose one of {sorted(LOSSES)}") from None
