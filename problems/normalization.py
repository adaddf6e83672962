"""Normalizations as a choice of norm: ``w~ = g w / N(w)`` (theory guide §10).

Every normalization the toolkit offers maps a direction ``w`` and a length ``g`` to the
original parameter ``w~ = g w / N(w)``; only the norm ``N`` changes. A :class:`Normalizer`
gives ``N(w)``, its gradient ``grad N(w)`` and the Hessian-vector product ``hess N(w) v``
(for the spectra of theory guide §12), for one of

========== ======================================================= ==========================
name       ``N(w)``                                                ``grad N(w)``
========== ======================================================= ==========================
``batch``  ``sqrt(w'Mw + eps)``, ``M = S`` (centred) or ``E[xx']``  ``Mw / N``
``weight`` ``||w||_2`` (Salimans & Kingma 2016)                     ``w / N``
``l1``     ``sqrt(pi/2) mean_i |a_i|``                              ``sqrt(pi/2) P' sign(a)/n``
``l3``     ``c3 (mean_i |a_i|^3)^(1/3)``, ``c3 = (pi/8)^(1/6)``     ``c3^3 N^-2 P'(a|a|)/n``
``linf``   ``c_inf(n) mean of the k largest |a_i|``                 through the selected ``k``
========== ======================================================= ==========================

with ``a = P w`` the projections of the samples: ``P`` the centred data (``centered=True``,
``a_i = x_i'w - mean x'w``) or the raw data (``centered=False``). ``eps`` is BN's epsilon
(``bn_eps``): ``batch`` with ``eps > 0`` is exactly PyTorch's ``BatchNorm1d`` in training
mode (biased variance plus ``eps`` under the square root). It is not ridge regression
(``ridge=``, which adds ``lam I`` to the data's second moment, i.e. changes the objective).

The constants make every norm equal ``||w||_S`` when ``x'w`` is Gaussian: ``E|t| =
sigma sqrt(2/pi)``, ``E|t|^3 = 2 sqrt(2/pi) sigma^3`` for ``t ~ N(0, sigma^2)`` (checked
symbolically in the proofs). ``linf`` is Hoffer et al. (2018)'s "Top10" L-infinity batch
norm: the mean of the ``k = min(10, n)`` largest ``|a_i|`` times their constant
``c_inf(n) = (1 + sqrt(pi ln 4)) / (2 sqrt(2 ln n))`` (from the expected maximum of ``n``
Gaussians). With the top-10 mean it is *not* Gaussian-consistent: for Gaussian ``x'w`` it gives
about ``0.98 ||w||_S`` at ``n = 64``, ``1.16`` at ``n = 512`` and ``1.33`` at ``n = 2e5``
(:func:`linf_constant`). A constant factor in ``N`` only rescales ``g``; its dependence on
``n`` does matter between batches of different sizes. ``l1`` and ``linf`` are piecewise linear
in ``w``: their Hessian is zero almost everywhere.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._validate import as_bool, as_real
from .data import weighted_gram

__all__ = ["NORMALIZATIONS", "Normalizer", "check_normalization", "linf_constant"]

#: The valid ``normalization=`` values of every constructor (theory guide §10).
NORMALIZATIONS = ("batch", "weight", "l1", "l3", "linf")

_C1 = float(np.sqrt(np.pi / 2.0))
_C3 = float((np.pi / 8.0) ** (1.0 / 6.0))
LINF_TOP_K = 10


def linf_constant(n: int) -> float:
    """Hoffer et al. (2018)'s ``c_inf(n) = (1 + sqrt(pi ln 4)) / (2 sqrt(2 ln n))``, ``n >= 2``."""
    return float(0.5 * (1.0 + np.sqrt(np.pi * np.log(4.0))) / np.sqrt(2.0 * np.log(n)))


def check_normalization(normalization, centered, bn_eps) -> tuple[str, bool, float]:
    """Validate the three constructor options; errors name the argument."""
    if not isinstance(normalization, str):
        raise TypeError(f"normalization must be a str, got {type(normalization).__name__}")
    normalization = normalization.lower()  # names in any case, as the command line's
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {list(NORMALIZATIONS)}, "
                         f"got {normalization!r}")
    as_bool(centered, "centered")
    if isinstance(bn_eps, bool) or not isinstance(bn_eps, numbers.Real):
        raise TypeError(f"bn_eps must be a real number, got {type(bn_eps).__name__}")
    bn_eps = float(bn_eps)
    if not np.isfinite(bn_eps) or bn_eps < 0.0:
        raise ValueError(f"bn_eps must be a finite number >= 0, got {bn_eps}")
    if bn_eps > 0.0 and normalization != "batch":
        raise ValueError(f"bn_eps applies to normalization='batch' only, got "
                         f"normalization={normalization!r} with bn_eps={bn_eps}")
    return normalization, bool(centered), bn_eps


def is_default(normalization: str, centered: bool, bn_eps: float) -> bool:
    """Whether the options give the idealised BN ``N(w) = ||w||_S`` (the fast path)."""
    return normalization == "batch" and centered and bn_eps == 0.0


class Normalizer:
    """The norm ``N`` of ``w~ = g w / N(w)`` (theory guide §10).

    Parameters
    ----------
    kind : {"batch", "weight", "l1", "l3", "linf"}
    M : ndarray (d, d), optional
        ``batch``: the second moment in ``sqrt(w'Mw + eps)`` (a mini-batch's is its samples'
        ``SampleMoment``, whose ``M @ w`` costs ``O(Bd)``, theory guide §11).
    P : ndarray (n, d), optional
        ``l1``, ``l3``, ``linf``: the samples whose projections ``a = P w`` are normalized.
    eps : float
        BN's epsilon (``batch`` only).
    centered : bool
        Recorded for descriptions; the caller passes the matching ``M`` or ``P``.

    Raises
    ------
    ValueError
        ``batch`` without ``M``, or a sample-based norm without ``P``.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import Normalizer
    >>> Normalizer("weight").value(np.array([3.0, 4.0]))
    5.0
    """

    def __init__(self, kind: str, *, M=None, P=None, eps: float = 0.0, centered: bool = True):
        if kind not in NORMALIZATIONS:
            raise ValueError(f"kind must be one of {list(NORMALIZATIONS)}, got {kind!r}")
        self.kind, self.centered = kind, as_bool(centered, "centered")
        self.eps = as_real(eps, "eps", minimum=0.0)
        self.M, self.P = M, P
        if kind == "batch" and M is None:
            raise ValueError("normalization='batch' needs the second moment M")
        if kind in ("l1", "l3", "linf"):
            if P is None:
                raise ValueError(f"normalization={kind!r} needs samples (a data problem)")
            self.n = P.shape[0]
            self.k = min(LINF_TOP_K, self.n)
            self.c_inf = linf_constant(max(self.n, 2))

    def __repr__(self) -> str:
        return (f"Normalizer({self.kind!r}, centered={self.centered}, eps={self.eps:g})")

    def value_and_grad(self, w: np.ndarray) -> tuple[float, np.ndarray]:
        """``(N(w), grad N(w))`` (theory guide §10).

        Parameters
        ----------
        w : ndarray, shape (d,)
            The direction.

        Returns
        -------
        N : float
            ``N(w) > 0``.
        dN : ndarray, shape (d,)
            ``grad N(w)`` (a subgradient for ``l1`` and ``linf``).

        Raises
        ------
        ValueError
            When ``N(w) = 0`` (no direction).

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import Normalizer
        >>> norm = Normalizer("batch", M=np.diag([1.0, 4.0]))
        >>> N, dN = norm.value_and_grad(np.array([1.0, 1.0]))
        >>> round(N, 6), dN.round(6)
        (2.236068, array([0.447214, 1.788854]))
        """
        kind = self.kind
        if kind == "batch":
            Mw = self.M @ w
            N = float(np.sqrt(w @ Mw + self.eps))
            dN = Mw / N if N > 0 else Mw
        elif kind == "weight":
            N = float(np.sqrt(w @ w))
            dN = w / N if N > 0 else w
        else:
            a = self.P @ w
            n = self.n
            if kind == "l1":
                N = _C1 * float(np.sum(np.abs(a))) / n
                dN = (_C1 / n) * (self.P.T @ np.sign(a))
            elif kind == "l3":
                m, sc, Ns = _l3_scaled(a, n)
                N = m * Ns
                # c3^3 P'(a|a|) / (n N^2), degree 0 in w: from the scaled projections
                dN = (_C3**3 / (n * Ns * Ns)) * (self.P.T @ (sc * np.abs(sc))) if N > 0 \
                    else 0 * w
            else:  # linf: top-k mean of |a|
                top = np.argpartition(np.abs(a), n - self.k)[n - self.k:]
                N = self.c_inf * float(np.sum(np.abs(a[top]))) / self.k
                dN = (self.c_inf / self.k) * (self.P[top].T @ np.sign(a[top]))
        if not N > 0:
            raise ValueError(f"w: N(w) = 0 under normalization={kind!r} (w = 0 or every "
                             "projection vanishes); the direction is undefined")
        return N, dN

    def value(self, w: np.ndarray) -> float:
        """``N(w)`` (theory guide §10).

        Parameters
        ----------
        w : ndarray, shape (d,)
            The direction.

        Returns
        -------
        float
            ``N(w) > 0``.

        Raises
        ------
        ValueError
            When ``N(w) = 0``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import Normalizer
        >>> norm = Normalizer("batch", M=np.diag([1.0, 4.0]))
        >>> norm.value(np.array([1.0, 0.0]))
        1.0
        """
        return self.value_and_grad(w)[0]

    def hess_vec(self, w: np.ndarray, v: np.ndarray) -> np.ndarray:
        """``hess N(w) v``: ``(Mv - grad N (grad N'v)) / N`` for ``batch`` (``M = I`` for
        ``weight``), ``0`` for the piecewise-linear ``l1`` and ``linf``, and for ``l3``
        ``c3^3 (P'(2|a| Pv)/n - 2 grad N'v P'(a|a|)/(n N)) / N^2`` (theory guide §10, §12).

        Parameters
        ----------
        w : ndarray, shape (d,)
            The direction.
        v : ndarray, shape (d,)
            The vector.

        Returns
        -------
        ndarray, shape (d,)
            ``hess N(w) v``.

        Examples
        --------
        >>> import numpy as np
        >>> from gdnp.problems import Normalizer
        >>> norm = Normalizer("batch", M=np.diag([1.0, 4.0]))
        >>> norm.hess_vec(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
        array([0., 4.])
        """
        N, dN = self.value_and_grad(w)
        if self.kind == "batch":
            return (self.M @ v - dN * float(dN @ v)) / N
        if self.kind == "weight":
            return (v - dN * float(dN @ v)) / N
        if self.kind == "l3":  # in the scaled projections a / max|a| (see _l3_scaled)
            n = self.n
            m, sc, Ns = _l3_scaled(self.P @ w, n)
            t1 = self.P.T @ (2.0 * np.abs(sc) * (self.P @ v)) / n
            t2 = self.P.T @ (sc * np.abs(sc)) * (2.0 * float(dN @ v) / (n * Ns))
            return (_C3**3 / (m * Ns * Ns)) * (t1 - t2)
        return np.zeros_like(w)

    def _hess_matrix(self, w: np.ndarray) -> np.ndarray:
        """``hess N(w)`` as a ``d x d`` matrix: :meth:`hess_vec` for every vector at once
        (theory guide §10, §12), for the BN Hessian's dense matrix; ``l3``'s
        ``P' diag(2|a|) P / n`` in one pass over the samples."""
        N, dN = self.value_and_grad(w)
        if self.kind in ("batch", "weight"):
            if self.kind == "weight":
                H = np.eye(w.size)
            else:  # (a mini-batch's SampleMoment: its S, formed here)
                H = np.array(self.M if isinstance(self.M, np.ndarray) else self.M.matrix())
            H -= np.outer(dN, dN)
            H /= N
            return H
        if self.kind == "l3":
            n = self.n
            m, sc, Ns = _l3_scaled(self.P @ w, n)
            H = weighted_gram(self.P, (2.0 / n) * np.abs(sc))
            H -= np.outer(self.P.T @ (sc * np.abs(sc)), dN * (2.0 / (n * Ns)))
            H *= _C3**3 / (m * Ns * Ns)
            return H
        return np.zeros((w.size, w.size))


def _l3_scaled(a: np.ndarray, n: int) -> tuple[float, np.ndarray, float]:
    """``(m, a / m, N / m)`` for the l3 norm ``N = c3 (sum |a|^3 / n)^(1/3)`` of the
    projections ``a``, with ``m = max |a|`` (theory guide §10): the cubes of ``a / m`` lie in
    ``[0, 1]``, where those of ``a`` had overflowed from ``|a| ~ 6e102`` (``N = inf`` at a
    representable length) and underflowed below ``1e-103``. ``m = 0`` gives ``N = 0``."""
    m = float(np.max(np.abs(a))) if a.size else 0.0
    if not (m > 0.0 and math.isfinite(m)):
        return m, a, (0.0 if m == 0.0 else m)
    sc = a / m
    return m, sc, _C3 * (float(np.sum(np.abs(sc) ** 3)) / n) ** (1.0 / 3.0)


def make_normalizer(kind: str, centered: bool, eps: float, *, S, X: np.ndarray | None,
                    mean: np.ndarray | None) -> Normalizer | None:
    """The normalizer of a problem with data second moment ``S`` (an array, or a mini-batch's
    :class:`~gdnp.problems.data.SampleMoment`), centred samples ``X`` and column means
    ``mean`` (``X = None``: a population problem); ``None`` for the idealised ``||w||_S``
    (whose fast path lives in the problems)."""
    if is_default(kind, centered, eps):
        return None
    if kind == "batch":
        if centered or mean is None:
            M = S
        elif isinstance(S, np.ndarray):
            M = S + np.outer(mean, mean)
        else:  # a mini-batch's S + mean mean' by its samples (theory guide §11)
            M = S.plus_outer(mean)
        return Normalizer("batch", M=M, eps=eps, centered=centered)
    if kind == "weight":
        return Normalizer("weight", centered=centered)
    if X is None:
        raise ValueError(f"normalization={kind!r} needs samples; a population problem supports "
                         "'batch' and 'weight' only")
    P = X if centered else X + mean
    return Normalizer(kind, P=P, centered=centered)
