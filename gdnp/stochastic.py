"""Mini-batch sampling for the stochastic ``gd`` and ``bngd`` (theory guide §11).

Each epoch draws a fresh permutation of the ``n`` samples from the run's seed and cuts it into
``n // B`` batches of ``B`` samples (the last ``n mod B`` samples of that permutation sit the
epoch out, as ``drop_last=True`` in PyTorch). A step uses the problem of its batch,
``problem.batch(indices, statistics=...)``: with ``"batch"`` statistics it is normalized with
the batch's own centring and moments (BN in training mode), with ``"population"`` with the full
data's. ``B = n`` is the full-batch run itself (one batch holding every sample, whose
statistics are the full data's), so it reproduces the deterministic solver bit for bit.
"""

from __future__ import annotations

import copy
import numbers

import numpy as np

__all__ = ["MiniBatches", "check_batch_size", "batch_size_range_error", "shared_batches",
           "STATISTICS"]

STATISTICS = ("batch", "population")


def batch_size_range_error(batch_size: int, n: int, statistics: str) -> str | None:
    """Why ``batch_size`` does not fit ``n`` samples, or ``None``: a batch holds 2 to ``n``
    samples with batch statistics (a variance needs two), 1 to ``n`` with population ones."""
    low = 2 if statistics == "batch" else 1
    if not low <= batch_size <= n:
        return (f"batch_size must lie in [{low}, n = {n}] with statistics={statistics!r}, "
                f"got {batch_size}")
    return None


def check_batch_size(problem, batch_size, statistics: str) -> int | None:
    """Validate ``batch_size`` and ``statistics``; ``None`` means a full-batch run."""
    if not isinstance(statistics, str) or statistics not in STATISTICS:
        raise ValueError(f"statistics must be one of {list(STATISTICS)}, got {statistics!r}")
    if batch_size is None:
        if statistics != "batch":
            raise ValueError(f"statistics={statistics!r} applies to mini-batch runs only: pass "
                             "batch_size= too")
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batch_size must be an integer or None, got {batch_size!r}")
    X = getattr(problem, "X", None)
    if problem.population or X is None or not hasattr(problem, "batch"):
        raise ValueError(f"batch_size: {problem!r} has no samples to draw batches from "
                         "(a population problem); use a data problem or batch_size=None")
    check = getattr(problem, "_check_batches", None)  # (gdnp.problems.Problem's)
    if check is not None:
        check("batch_size")
    why = batch_size_range_error(batch_size, X.shape[0], statistics)
    if why is not None:
        raise ValueError(why)
    return int(batch_size)


def check_record_every(record_every, batch_size) -> int:
    """Validate ``record_every`` (an integer ``>= 1``; above 1 for mini-batch runs only)."""
    if isinstance(record_every, bool) or not isinstance(record_every, numbers.Integral):
        raise TypeError(f"record_every must be an integer >= 1, got {record_every!r}")
    if record_every < 1:
        raise ValueError(f"record_every must be an integer >= 1, got {record_every!r}")
    if record_every > 1 and batch_size is None:
        raise ValueError(f"record_every={record_every} applies to mini-batch runs only (a "
                         "full-batch step computes the full gradient anyway): pass batch_size= "
                         "too")
    return int(record_every)


class MiniBatches:
    """Seeded epochs of batches of ``B`` sample indices out of ``n``.

    Parameters
    ----------
    n, batch_size : int
    seed : int, SeedSequence or Generator
        An int seeds its own stream (independent of the start drawn from the same seed).
    """

    def __init__(self, n: int, batch_size: int, seed):
        if isinstance(seed, np.random.Generator):
            self.rng = seed
        else:
            # a copy of a given SeedSequence: spawning from the caller's own object would
            # advance it, and the same seed would draw other batches the next time
            sequence = np.random.SeedSequence(
                seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size) if \
                isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
            self.rng = np.random.default_rng(sequence.spawn(1)[0])
        self.n, self.B = int(n), int(batch_size)
        self.per_epoch = self.n // self.B
        self._perm = None
        self._pos = self.per_epoch
        self.steps = 0

    def next(self) -> np.ndarray:
        """The indices of the next batch (sorted, so each batch's sums run in data order)."""
        if self._pos == self.per_epoch:
            self._perm = self.rng.permutation(self.n)
            self._pos = 0
        lo = self._pos * self.B
        self._pos += 1
        self.steps += 1
        return np.sort(self._perm[lo:lo + self.B])

    def epoch(self, step: int) -> float:
        """Epochs completed after ``step`` steps."""
        return step / self.per_epoch


def shared_batches(problem):
    """A copy of ``problem`` whose ``batch`` builds each distinct batch problem once.

    Mini-batch runs with the same seed and batch size draw the same batches
    (:class:`MiniBatches`), e.g. SGD and BNGD side by side: on the returned copy they share
    one ``problem.batch(indices, statistics=...)`` per distinct ``(indices, statistics)``
    instead of building (centring, second moment, spectrum) each again. A batch problem's
    values depend on nothing else, and its caches are keyed by value, so every run is the
    same as on ``problem`` itself. The copy keeps every batch it built: use one per group of
    runs, then drop it.

    Parameters
    ----------
    problem : Problem
        A data problem (one with ``batch``).

    Returns
    -------
    Problem
        A shallow copy of ``problem`` (its arrays shared) with the caching ``batch``.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems import OLS
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((40, 3))
    >>> prob = shared_batches(OLS.from_data(X, X @ [1.0, -1.0, 0.5]))
    >>> prob.batch(np.arange(8)) is prob.batch(np.arange(8))
    True
    """
    built: dict = {}
    make = problem.batch

    def batch(indices, *, statistics: str = "batch"):
        idx = np.asarray(indices)
        key = (statistics, idx.dtype.str, idx.tobytes())
        part = built.get(key)
        if part is None:
            part = built[key] = make(indices, statistics=statistics)
        return part

    batch.__doc__ = make.__doc__
    shared = copy.copy(problem)
    shared.batch = batch
    return shared
