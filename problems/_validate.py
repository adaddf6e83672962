"""Argument checks shared by the problem constructors: each error names the argument."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "as_finite_array",
    "as_vector",
    "as_spd_matrix",
    "as_labels",
    "as_positive_int",
    "as_condition_number",
    "as_seed_rng",
]


def as_finite_array(value, name: str, ndim: int | None = None) -> np.ndarray:
    """Convert ``value`` to a float array, rejecting non-numeric, NaN and inf entries."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array: {exc}") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")
    return arr


def as_vector(value, name: str, dim: int | None = None) -> np.ndarray:
    """A finite 1-D float vector, optionally of length ``dim``."""
    arr = as_finite_array(value, name, ndim=1)
    if dim is not None and arr.shape != (dim,):
        raise ValueError(f"{name} must have shape ({dim},), got {arr.shape}")
    return arr


def as_spd_matrix(value, name: str = "S", *, rtol: float = 1e-12) -> np.ndarray:
    """A finite, square, symmetric, positive definite matrix (symmetrized copy)."""
    arr = as_finite_array(value, name, ndim=2)
    n, m = arr.shape
    if n != m or n == 0:
        raise ValueError(f"{name} must be a non-empty square matrix, got shape {arr.shape}")
    scale = max(float(np.max(np.abs(arr))), np.finfo(float).tiny)
    if not np.allclose(arr, arr.T, rtol=0.0, atol=1e-10 * scale):
        raise ValueError(f"{name} must be symmetric")
    arr = 0.5 * (arr + arr.T)
    eig = np.linalg.eigvalsh(arr)
    if eig[0] <= rtol * max(eig[-1], 0.0) or eig[-1] <= 0:
        raise ValueError(
            f"{name} must be positive definite; its eigenvalues range over "
            f"[{eig[0]:.3g}, {eig[-1]:.3g}]"
        )
    return arr


def as_labels(value, name: str = "y", n: int | None = None) -> np.ndarray:
    """Labels in ``{-1, +1}`` as a float vector."""
    arr = as_vector(value, name)
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} must have {n} entries (one per row of X), got {arr.shape[0]}")
    bad = ~np.isin(arr, (-1.0, 1.0))
    if np.any(bad):
        vals = np.unique(arr[bad])[:5]
        raise ValueError(f"{name} must contain only -1 and +1; found {vals.tolist()}")
    return arr


def as_positive_int(value, name: str, minimum: int = 1) -> int:
    """An integer ``>= minimum`` (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def as_condition_number(kappa, name: str = "kappa") -> float:
    """A finite real ``kappa >= 1``."""
    if isinstance(kappa, bool) or not isinstance(kappa, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(kappa).__name__}")
    kappa = float(kappa)
    if not np.isfinite(kappa) or kappa < 1.0:
        raise ValueError(f"{name} must be a finite number >= 1, got {kappa}")
    return kappa


def as_seed_rng(seed) -> np.random.Generator:
    """A ``numpy.random.Generator`` from an int seed, a SeedSequence or a Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        raise TypeError("seed must be an int or a numpy.random.Generator "
                        "(None is not reproducible)")
    if isinstance(seed, bool) or not isinstance(seed, (numbers.Integral, np.random.SeedSequence)):
        raise TypeError(
            f"seed must be an int or a numpy.random.Generator, got {type(seed).__name__}")
    return np.random.default_rng(seed)
