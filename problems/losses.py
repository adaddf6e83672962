"""Scalar losses ``phi`` of theory guide §3 with their first two derivatives in closed form.

Every function is evaluated in overflow-safe form (``logaddexp``, ``expit``), so margins of
any size give finite values (theory guide §9).
"""

from __future__ import annotations

import numbers
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
        Whether ``phi`` is convex (then ``d_g f`` is non-decreasing in ``g``, theory guide §4).
    max_d2phi : float
        ``sup_t |phi''(t)|`` (``> 0``; ``inf`` if unbounded): the smoothness of ``f`` is
        ``max_d2phi * L`` (theory guide §6). With ``inf`` the smoothness is unknown, and GD
        and AGD take Armijo backtracking steps unless given ``lr``.
    max_dphi : float
        ``sup_t |phi'(t)|``, the ``Phi`` K19's direction bound quotes (theory guide §4); ``inf``
        if unbounded. It bounds ``|c1|`` for the logistic loss, not for the sigmoid: see
        :func:`gdnp.rates.stein_c1_bound`.
    limits : tuple of float
        ``(phi(-inf), phi(+inf))``; both finite only for bounded losses (sigmoid), whose
        infimum may be approached at infinity.
    max_d3phi : float
        ``sup_t |phi'''(t)|`` (``inf`` if unknown): bounds the curvature of ``g -> d_g f``
        for the certified bisection (``gdnp.problems.taylor``).
    d3phi_envelope : callable, optional
        ``e(t)``, even, non-increasing in ``|t|`` and with ``|log e(t) - log e(s)| <= |t - s|``,
        such that ``|phi'''(s)| <= e(t)`` whenever ``|s| >= |t|``; ``None`` if none is known.
        A loss with an envelope and a bounded ``phi'`` must also have a 1-Lipschitz
        ``log|phi'|`` (the certificates' rounding allowances rely on it).
    mean_and_dphi : callable, optional
        ``t -> (mean phi(t), phi'(t))`` fused for speed (the same numbers to rounding);
        ``None`` uses ``phi`` and ``dphi``.
    d3phi_sign : int
        ``-1`` if ``t phi'''(t) <= 0`` for every ``t`` (then ``g -> d_g f`` is concave for
        ``g > 0`` and convex for ``g < 0``), ``0`` if no such sign is known.

    Notes
    -----
    The registered losses (theory guide §3's table): logistic ``phi(t) = log(1 + e^t)``,
    sigmoid ``phi(t) = 1/(1 + e^-t)`` and squared ``phi(t) = (1 + t)^2 / 2``.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import get_loss
    >>> loss = get_loss("logistic")
    >>> loss.convex, loss.max_d2phi, loss.dphi(np.array([0.0]))
    (True, 0.25, array([0.5]))

    A loss of one's own needs ``phi`` and its two derivatives, ``convex``, ``max_d2phi`` and
    ``max_dphi``; the other fields are optional (without ``max_d3phi`` and the envelope GDNP's
    length search evaluates every midpoint, the same halvings). The logistic loss of slope 2,
    halved, ``phi(t) = log(1 + e^(2t)) / 2``:

    >>> import gdnp
    >>> from scipy.special import expit
    >>> from gdnp.problems import Halfspace, Loss
    >>> softplus2 = Loss("softplus2", phi=lambda t: 0.5 * np.logaddexp(0.0, 2.0 * t),
    ...                  dphi=lambda t: expit(2.0 * t),
    ...                  d2phi=lambda t: 2.0 * expit(2.0 * t) * expit(-2.0 * t),
    ...                  convex=True, max_d2phi=0.5, max_dphi=1.0)
    >>> prob = Halfspace.random(d=5, kappa=10.0, separation=0.8, seed=0, loss=softplus2)
    >>> res = gdnp.solve(prob, "gdnp", maxiter=300)
    >>> res.status, bool(res.history["gap"][-1] < 1e-12)
    (0, True)
    """

    name: str
    phi: ArrayFn
    dphi: ArrayFn
    d2phi: ArrayFn
    convex: bool
    max_d2phi: float
    max_dphi: float
    limits: tuple[float, float] = (np.inf, np.inf)
    max_d3phi: float = np.inf
    d3phi_envelope: ArrayFn | None = None
    d3phi_sign: int = 0
    mean_and_dphi: Callable[[np.ndarray], tuple[float, np.ndarray]] | None = None

    def __post_init__(self) -> None:
        """Refuse fields no solver can use: a step ``1 / (max_d2phi L)`` from a zero,
        negative or NaN bound had been a division by zero, gradient ascent or a NaN run."""
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty str, got {self.name!r}")
        for field in ("phi", "dphi", "d2phi"):
            if not callable(getattr(self, field)):
                raise TypeError(f"{field} must be callable, got "
                                f"{type(getattr(self, field)).__name__}")
        for field in ("d3phi_envelope", "mean_and_dphi"):
            value = getattr(self, field)
            if value is not None and not callable(value):
                raise TypeError(f"{field} must be callable or None, got "
                                f"{type(value).__name__}")
        for field, strict in (("max_d2phi", True), ("max_dphi", True), ("max_d3phi", False)):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{field} must be a real number (inf if unbounded), got "
                                f"{type(value).__name__}")
            if not (value > 0 if strict else value >= 0):  # NaN fails both
                bound = "> 0" if strict else ">= 0"
                raise ValueError(f"{field} must be {bound} (inf if unbounded or unknown), "
                                 f"got {value!r}")
        if self.d3phi_sign not in (-1, 0):
            raise ValueError("d3phi_sign must be -1 (phi's third derivative has the sign of "
                             f"-t) or 0 (unknown), got {self.d3phi_sign!r}")

    def __reduce__(self):
        """A registered loss pickles (and copies) as its name, so that a problem that travels
        to a worker process keeps the registry's object, which the fast paths recognise."""
        if LOSSES.get(self.name) is self:
            return get_loss, (self.name,)
        return type(self), tuple(getattr(self, f) for f in self.__dataclass_fields__)

    def value_and_dphi(self, t: np.ndarray) -> tuple[float, np.ndarray]:
        """``(mean phi(t), phi'(t))`` for an array of margins ``t`` (theory guide §3).

        Parameters
        ----------
        t : ndarray
            The margins ``z_i'w~``.

        Returns
        -------
        mean : float
            ``mean(phi(t))``, the empirical objective.
        dphi : ndarray
            ``phi'(t)``, elementwise.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import get_loss
        >>> fun, d1 = get_loss("logistic").value_and_dphi(np.array([0.0, 0.0]))
        >>> round(fun, 6), d1
        (0.693147, array([0.5, 0.5]))
        """
        if self.mean_and_dphi is not None:
            return self.mean_and_dphi(t)
        return float(np.mean(self.phi(t))), self.dphi(t)


def _logistic(t):
    return np.logaddexp(0.0, t)


def _logistic_d1(t):
    return expit(t)


def _logistic_mean_and_d1(t):
    """``(mean log(1 + e^t), sigma(t))`` in a few in-place passes, about 2x faster than
    ``logaddexp`` and ``expit``: with ``E = exp(-|t|)`` and ``r = 1/(1 + E)``,
    ``phi = max(t, 0) + log1p(E)`` and ``sigma(t) = r`` for ``t >= 0``, ``E r`` for
    ``t < 0``: no overflow, and both sums are of non-negative terms, so no cancellation
    (``sum max(t, 0)`` formed as ``(sum t + sum|t|)/2`` had cancelled on nearly separable
    data, margins of |t| ~ 800 summing to 8e7: f off by 4e-12 of itself). The factor ``1``
    or ``E`` is ``max(E, [t >= 0])`` (``E <= 1``): exactly ``r`` or ``E r``, without a masked
    multiply (a random mask costs about 7 ns per sample, the blend 1)."""
    t = np.asarray(t, dtype=float)
    total = np.add.reduce  # np.sum's own reduction, without its Python layers (~1.5 us)
    # two arrays of n floats at most: max(t, 0), then log1p(E), then sigma in d1's buffer
    d1 = np.maximum(t, 0.0)
    s_pos = float(total(d1, axis=None))
    work = np.abs(t)
    E = np.exp(np.negative(work, out=work), out=work)
    np.log1p(E, out=d1)
    s_log = float(total(d1, axis=None))
    np.add(E, 1.0, out=d1)
    np.divide(1.0, d1, out=d1)  # (np.reciprocal: the same numbers, 2x slower)
    np.multiply(d1, np.maximum(E, t >= 0.0, out=E), out=d1)
    return (s_pos + s_log) / max(t.size, 1), d1


def _logistic_d2(t):
    s = expit(t)
    return s * expit(-np.asarray(t))  # sigma(1 - sigma) without cancellation


def _sigmoid_d2(t):
    t = np.asarray(t)
    # sigma'' = sigma (1 - sigma)(1 - 2 sigma), with 1 - 2 sigma(t) = -tanh(t/2): the
    # difference had cancelled near t = 0 (relative error 9e-5 at t = 1e-12)
    return expit(t) * expit(-t) * -np.tanh(0.5 * t)


def _zeros(t):
    return np.zeros_like(np.asarray(t, dtype=float))


def _squared(t):
    return 0.5 * (1.0 + np.asarray(t)) ** 2


def _squared_d1(t):
    return 1.0 + np.asarray(t)


def _squared_d2(t):
    return np.ones_like(np.asarray(t, dtype=float))


# Third derivatives (tested against finite differences): with p = sigma (1 - sigma) in
# (0, 1/4], logistic phi''' = p (1 - 2 sigma), so |phi'''| <= p = phi'' and its sup is
# sqrt(3)/18 (at 1 - 2 sigma = 1/sqrt(3)); sigmoid phi''' = p (1 - 6p), |1 - 6p| <= 1 so
# |phi'''| <= p, sup 1/8 at t = 0; squared phi''' = 0. p = 1 / (4 cosh^2(t/2)) is even,
# decreasing in |t|, and (log p)' = -tanh(t/2) lies in (-1, 1). t phi''' <= 0 for the logistic
# loss (1 - 2 sigma(t) has the sign of -t) and trivially for the squared loss.
#: The registered losses by name (``"logistic"``, ``"sigmoid"``, ``"squared"``; theory guide
#: §3), each a :class:`Loss`; :func:`get_loss` looks them up.
LOSSES: dict[str, Loss] = {
    "logistic": Loss("logistic", _logistic, _logistic_d1, _logistic_d2, True, 0.25, 1.0,
                     (0.0, np.inf), np.sqrt(3.0) / 18.0, _logistic_d2, -1,
                     _logistic_mean_and_d1),
    "sigmoid": Loss(
        "sigmoid", expit, _logistic_d2, _sigmoid_d2, False, 1.0 / (6.0 * np.sqrt(3.0)), 0.25,
        (0.0, 1.0), 0.125, _logistic_d2
    ),
    "squared": Loss("squared", _squared, _squared_d1, _squared_d2, True, 1.0, np.inf,
                    (np.inf, np.inf), 0.0, _zeros, -1),
}
#: The names of the losses gdnp ships (a user may add others to ``LOSSES`` at run time).
BUILTIN_LOSSES = tuple(LOSSES)


def get_loss(loss: str | Loss) -> Loss:
    """Return the :class:`Loss` named ``loss`` (or ``loss`` itself if it is one).

    The losses ``phi`` of the margin of theory guide §3: ``"logistic"``, ``"sigmoid"``,
    ``"squared"`` (the keys of ``LOSSES``).

    Parameters
    ----------
    loss : str or Loss
        A registry name or a :class:`Loss`.

    Returns
    -------
    Loss
        The registered loss, or ``loss`` unchanged.

    Raises
    ------
    ValueError
        If the name is unknown; the message lists the known names.
    TypeError
        If ``loss`` is neither a string nor a :class:`Loss`.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import get_loss
    >>> get_loss("squared").phi(np.array([1.0]))
    array([2.])
    >>> get_loss("hinge")
    Traceback (most recent call last):
    ...
    ValueError: loss 'hinge' is unknown; choose one of ['logistic', 'sigmoid', 'squared']
    """
    if isinstance(loss, Loss):
        return loss
    if not isinstance(loss, str):
        raise TypeError(f"loss must be a str or Loss, got {type(loss).__name__}")
    try:
        return LOSSES[loss.lower()]  # names in any case, as the command line's
    except KeyError:
        raise ValueError(f"loss {loss!r} is unknown; choose one of {sorted(LOSSES)}") from None
