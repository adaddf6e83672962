"""Synthetic second moments with an exact condition number (theory guide §0, §3)."""

from __future__ import annotations

import numpy as np

from ._validate import as_condition_number, as_positive_int, as_seed_rng, check_memory

__all__ = ["random_covariance", "random_direction", "vector_with_separation"]


def random_covariance(d: int, kappa: float, rng) -> np.ndarray:
    """A random SPD matrix with eigenvalues log-spaced in ``[1/kappa, 1]``.

    So ``L = lambda_max = 1``, ``mu = 1/kappa`` and ``cond(S) = kappa`` exactly (to rounding);
    the eigenvectors are a Haar-random rotation drawn from ``rng``.
    """
    d = as_positive_int(d, "d")
    # the rotation, its product with the spectrum and S: a few d x d float64 arrays at once
    check_memory(4.0 * 8.0 * d * d, f"a {d} x {d} covariance (d = {d})")
    kappa = as_condition_number(kappa, d=d)
    if d == 1 and kappa != 1.0:
        raise ValueError(f"kappa must be 1 when d = 1 (a 1x1 matrix), got {kappa}")
    rng = as_seed_rng(rng)
    eig = np.geomspace(1.0 / kappa, 1.0, d) if d > 1 else np.ones(1)
    if d == 1:
        return eig.reshape(1, 1).copy()
    q = _haar_rotation(d, rng)
    S = (q * eig) @ q.T
    return 0.5 * (S + S.T)


def _haar_rotation(d: int, rng) -> np.ndarray:
    """A Haar-random rotation (``SO(d)``), the same draw as
    ``scipy.stats.special_ortho_group.rvs(d, random_state=rng)`` for a ``numpy.random.Generator``
    (tested) without importing ``scipy.stats`` (about 0.5-1.4 s, paid by every worker process
    of a sweep): the QR factors of a standard normal ``d x d`` matrix, the columns of ``Q``
    signed by the diagonal of ``R`` (Haar on ``O(d)``), then the first row divided by the
    determinant."""
    z = as_seed_rng(rng).normal(size=(d, d))
    q, r = np.linalg.qr(z)
    diag = r.diagonal()
    q *= (diag / abs(diag))[np.newaxis, :]
    q[0, :] /= np.linalg.det(q)
    return q


def random_direction(d: int, rng) -> np.ndarray:
    """A uniformly random unit vector in ``R^d``."""
    v = as_seed_rng(rng).standard_normal(d)
    return v / np.linalg.norm(v)


def vector_with_separation(S: np.ndarray, direction: np.ndarray, separation: float) -> np.ndarray:
    """Scale ``direction`` to ``u`` with ``sqrt(u' S^-1 u) = separation`` (theory guide §3)."""
    q = float(direction @ np.linalg.solve(S, direction))
    return direction * (separation / np.sqrt(q))
