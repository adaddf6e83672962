"""Empirical data: validation, centring and the singular-``S`` check (theory guide §9)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._validate import (
    as_bool,
    as_finite_array,
    as_labels,
    as_real,
    check_memory,
    check_scale,
    spd_rtol,
)

__all__ = ["PreparedData", "BatchData", "SampleMoment", "prepare_data",
           "SingularCovarianceError"]

# iterative-refinement steps of a least-squares solution on the samples
# (refine_least_squares): each costs one pass over X
REFINEMENTS = 3

#: Rows of ``X`` per block of :func:`weighted_gram` (``32768 x d`` floats at a time).
GRAM_BLOCK = 32768


class SingularCovarianceError(ValueError):
    """The empirical second moment ``S = X'X/n`` of the centred data is singular.

    The message names the constant or collinear columns and both remedies (``ridge=`` and
    ``null_space="drop"``, theory guide §9).

    Examples
    --------
    >>> from gdnp.problems import SingularCovarianceError, prepare_data
    >>> try:
    ...     prepare_data([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]], [1.0, 2.0, 3.0], labels=False)
    ... except SingularCovarianceError as exc:
    ...     print(str(exc)[:60])
    the empirical second moment S = X'X/n of the centred data is
    """


@dataclass(frozen=True)
class PreparedData:
    """Centred data and its second moment.

    Attributes
    ----------
    X : ndarray (n, k)
        Centred features (``k = d`` unless ``null_space="drop"`` removed directions), stored
        column-major (Fortran order): the two products of a pass over the data, ``X w`` and
        ``X' r``, are then long column operations, 1.8 to 4 times faster than on row-major
        rows of ``d`` entries (measured at ``n = 3e4 - 1e5``, ``d = 10 - 100``).
    y : ndarray (n,)
        Targets (labels in ``{-1, +1}`` for classification).
    S : ndarray (k, k)
        ``X'X/n + ridge * I`` (the BN metric).
    mean : ndarray (d,)
        The column means removed from the raw ``X``.
    basis : ndarray (d, k) or None
        Orthonormal basis of the kept subspace when directions were dropped:
        ``X = (X_raw - mean) @ basis``.
    ridge : float
        The ridge added to ``S``.
    """

    X: np.ndarray
    y: np.ndarray
    S: np.ndarray
    mean: np.ndarray
    basis: np.ndarray | None
    ridge: float


class SampleMoment:
    """The second moment ``S = X'X/n + ridge I`` of a mini-batch, by its samples (theory guide
    §11).

    A mini-batch problem is built at every stochastic step and mostly needs ``S`` only in
    products ``S v``: from the ``n`` samples they cost ``O(nd)`` (``X'(Xv)/n + ridge v``), where
    forming ``S`` costs ``O(nd^2)`` (a step of ``B = 100`` samples in ``d = 1000`` had spent 3.5 ms
    of its 6 there, against 0.03 ms for its gradient). :meth:`matrix` forms ``S`` on demand,
    the same numbers as :func:`prepare_data`'s and kept; the products never use it, so their
    rounding does not depend on whether ``S`` was read.

    Parameters
    ----------
    X : ndarray (n, d)
        The samples (already centred as wanted).
    ridge : float
        ``ridge >= 0`` added to the diagonal.
    outer : ndarray (d,), optional
        A vector ``m`` whose ``m m'`` is added (the raw second moment ``S + m m'`` of BN without
        centring, theory guide §10); not part of :meth:`matrix` unless given.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.problems.data import SampleMoment
    >>> X = np.array([[1.0, 0.0], [-1.0, 2.0], [0.0, -2.0]])
    >>> M = SampleMoment(X, 0.5)
    >>> M.dot(np.array([1.0, 1.0]))
    array([0.5, 2.5])
    >>> M.matrix() @ np.array([1.0, 1.0])
    array([0.5, 2.5])
    """

    def __init__(self, X: np.ndarray, ridge: float, outer: np.ndarray | None = None):
        self.X, self.ridge, self.outer = X, float(ridge), outer
        self.n = X.shape[0]
        self._matrix: np.ndarray | None = None

    def __repr__(self) -> str:
        formed = "formed" if self._matrix is not None else "not formed"
        return f"SampleMoment(n={self.n}, d={self.X.shape[1]}, ridge={self.ridge:g}, {formed})"

    @property
    def shape(self) -> tuple[int, int]:
        """``(d, d)``, the shape of :meth:`matrix`."""
        d = self.X.shape[1]
        return (d, d)

    def matrix(self) -> np.ndarray:
        """``S`` itself, formed on the first call and kept: ``X'X/n`` symmetrised, plus
        ``ridge I`` (and ``m m'`` when ``outer`` is given), as the constructors form it.

        Returns
        -------
        ndarray (d, d)
            ``S``.
        """
        if self._matrix is None:
            X = self.X
            S = X.T @ X / self.n
            S = 0.5 * (S + S.T) + self.ridge * np.eye(X.shape[1])
            if self.outer is not None:
                S = S + np.outer(self.outer, self.outer)
            self._matrix = S
        return self._matrix

    def project(self, v: np.ndarray, Xv: np.ndarray) -> np.ndarray:
        """``S v`` from the samples' projections ``Xv = X v`` (already computed): ``X'(Xv)/n +
        ridge v (+ m m'v)``, ``O(nd)``."""
        out = self.X.T.dot(Xv)
        out /= self.n
        if self.ridge:
            out += self.ridge * v
        if self.outer is not None:
            out += np.multiply.outer(self.outer, self.outer.dot(v))
        return out

    def dot(self, v: np.ndarray) -> np.ndarray:
        """``S v`` from the samples, ``O(nd)`` (``v`` a vector, or a matrix of ``d`` rows).

        Parameters
        ----------
        v : ndarray (d,) or (d, k)

        Returns
        -------
        ndarray
            ``S v``, the product with :meth:`matrix` to rounding.
        """
        return self.project(v, self.X.dot(v))

    __matmul__ = dot

    def plus_outer(self, m: np.ndarray) -> SampleMoment:
        """``S + m m'`` by the same samples (BN without centring, theory guide §10)."""
        return SampleMoment(self.X, self.ridge, m)


@dataclass(frozen=True, init=False, repr=False)
class BatchData(PreparedData):
    """The :class:`PreparedData` of a mini-batch: its ``S`` is formed when first read (theory
    guide §11), by the batch's :class:`SampleMoment` (the array its problem's ``S`` is)."""

    def __init__(self, X, y, moment: SampleMoment, mean, basis, ridge):
        for name, value in (("X", X), ("y", y), ("mean", mean), ("basis", basis),
                            ("ridge", ridge), ("moment", moment)):
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        # (without reading S: a repr does not form it)
        return (f"BatchData(X=<{self.X.shape[0]} x {self.X.shape[1]}>, ridge={self.ridge:g}, "
                f"S={'formed' if 'S' in self.__dict__ else 'formed when read'})")

    def __getattr__(self, name: str):
        # (read through __dict__ only: unpickling looks up __setstate__ before any field is set)
        moment = self.__dict__.get("moment") if name == "S" else None
        if moment is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}",
                                 name=name, obj=self)
        S = moment.matrix()
        object.__setattr__(self, "S", S)
        return S


_EPS = float(np.finfo(float).eps)


def _describe_singularity(Xc: np.ndarray, eig: np.ndarray, vecs: np.ndarray, tol: float,
                          mean: np.ndarray | None = None) -> str:
    col_scale = np.sqrt(np.mean(Xc**2, axis=0))
    const = np.flatnonzero(col_scale <= tol ** 0.5 * max(col_scale.max(), 1e-300))
    parts = []
    if const.size:
        top = max(col_scale.max(), 1e-300)
        # constant up to the rounding of the centring: a spread within 1e3 eps of the
        # column's own mean (a column of 5.0s centres to values of ~1e-15), or exactly none;
        # a column that varies on a tiny scale of its own (mean ~ 0, spread 1e-15) is not
        # constant, only small beside the others
        level = np.zeros(Xc.shape[1]) if mean is None else np.abs(mean)
        flat = [int(j) for j in const
                if col_scale[j] == 0.0 or col_scale[j] <= 1e3 * _EPS * level[j]]
        tiny = [int(j) for j in const if int(j) not in flat]
        if flat:
            parts.append(f"constant feature column(s) {flat} (the models have no intercept "
                         "and centre the features: a column of ones cannot add one)")
        if tiny:
            ratios = ", ".join(f"{col_scale[j] / top:.1e}" for j in tiny[:10])
            parts.append(f"feature column(s) {tiny} of scale {ratios} times the largest "
                         "column's, below the precision of S (standardising X, e.g. "
                         "X / X.std(axis=0), removes the disparity)")
    null = vecs[:, eig <= tol * eig[-1]]
    if null.shape[1] > const.size:
        # the null space left once the constant columns' own directions are removed: a
        # vector of it supported on several columns means those columns are collinear (the
        # first null vector can be a constant column's e_j, which named it twice)
        rest = null.copy()
        rest[const, :] = 0.0
        u, sv, _ = np.linalg.svd(rest, full_matrices=False)
        rest = u[:, sv > 1e-8 * max(sv.max(initial=0.0), 1e-300)]
        if rest.shape[1]:
            support = np.abs(rest).max(axis=1)
            cols = np.flatnonzero(support > 1e-6 * support.max())
            parts.append(f"collinear feature columns {cols.tolist()[:10]}")
    n, d = Xc.shape
    if n <= d:  # the cause, before the columns it makes look collinear
        parts.insert(0, f"fewer samples than features (n = {n} <= d = {d}: centred, S has "
                        f"rank at most n - 1 = {n - 1})")
    what = " and ".join(parts) if parts else "rank deficiency"
    return (
        f"the empirical second moment S = X'X/n of the centred data is singular "
        f"(rank {int(np.sum(eig > tol * eig[-1]))} of {eig.size}): {what}. "
        "Pass ridge=lam > 0 to use S + lam*I (ridge regression for OLS, only the BN metric "
        "for halfspaces and the MLP; not BN's epsilon), or null_space='drop' to work in the "
        "range of S"
    )


def prepare_data(
    X,
    y,
    *,
    labels: bool,
    ridge: float = 0.0,
    null_space: str = "raise",
    center_y: bool = False,
    rtol: float | None = None,
) -> PreparedData:
    """Validate ``(X, y)``, centre ``X`` and form ``S``; detect a singular ``S``.

    Parameters
    ----------
    X : array_like (n, d)
        Features.
    y : array_like (n,)
        Targets; with ``labels=True`` they must lie in ``{-1, +1}``.
    labels : bool
        Whether ``y`` are classification labels.
    ridge : float
        ``lam >= 0`` added to the diagonal of ``S`` (theory guide §9): ridge regression, which
        changes the objective; BN's epsilon is the problems' ``bn_eps`` (theory guide §10).
    null_space : {"raise", "drop"}
        What to do with a singular ``S`` when ``ridge == 0``: raise
        :class:`SingularCovarianceError` naming the constant or collinear columns, or project
        the data onto the range of ``S``.
    center_y : bool
        Also centre ``y`` (OLS: the BN bias absorbs the mean).
    rtol : float, optional
        Eigenvalues below ``rtol * lambda_max`` count as zero; default ``10 d eps``, the
        rounding level of a computed eigenvalue of ``S`` (as ``numpy.linalg.matrix_rank``), so
        badly scaled but full-rank data (``cond(S) ~ 1e12``) are accepted.

    Returns
    -------
    PreparedData
        The centred features ``X``, the targets ``y``, ``S = X'X/n + ridge * I``, the removed
        column ``mean``, the ``basis`` of the kept subspace (``None`` unless directions were
        dropped) and the ``ridge`` (theory guide §9).

    Raises
    ------
    ValueError
        Shapes that do not match, fewer than 2 rows, non-finite entries, labels other than
        ``-1``/``+1``, a negative ``ridge``, an unknown ``null_space`` or a badly scaled ``X``.
    SingularCovarianceError
        ``S`` is singular, ``ridge == 0`` and ``null_space == "raise"``.

    Examples
    --------
    >>> from gdnp.problems import prepare_data
    >>> data = prepare_data([[1.0, 2.0], [3.0, 0.0], [2.0, 1.0], [2.0, 3.0]],
    ...                     [1.0, -1.0, 1.0, -1.0], labels=True)
    >>> data.mean, data.S
    (array([2. , 1.5]), array([[ 0.5 , -0.5 ],
           [-0.5 ,  1.25]]))

    Collinear columns: an error, or the range of ``S``:

    >>> prepare_data([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]], [1.0, 2.0, 3.0], labels=False)
    Traceback (most recent call last):
    ...
    gdnp.problems.SingularCovarianceError: the empirical second moment ... [0, 1]. ...
    >>> prepare_data([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]], [1.0, 2.0, 3.0], labels=False,
    ...              null_space="drop").X.shape
    (3, 1)
    """
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) == 2:  # before any copy: the centred float64 one,
        # and a conversion unless X is a float64 or single-precision ndarray (centred directly)
        direct = (isinstance(X, np.ndarray) and not isinstance(X, np.ma.MaskedArray)
                  and X.dtype in (np.float64, np.float32, np.float16))  # memmaps too
        copies = 1 if direct else 2
        check_memory(8.0 * copies * float(shape[0]) * float(shape[1]),
                     f"X: data of shape {tuple(shape)} (its centred float64 copy)")
    X = as_finite_array(X, "X", ndim=2, keep_single=True)
    n, d = X.shape
    if n < 2 or d < 1:
        raise ValueError(f"X must have at least 2 rows and 1 column, got shape {X.shape}")
    y = as_labels(y, "y", n) if labels else as_finite_array(y, "y", ndim=1)
    if y.shape[0] != n:
        raise ValueError(f"y must have {n} entries (one per row of X), got {y.shape[0]}")
    ridge = as_real(ridge, "ridge", minimum=0.0)
    center_y = as_bool(center_y, "center_y")
    if null_space not in ("raise", "drop"):
        raise ValueError(f"null_space must be 'raise' or 'drop', got {null_space!r}")
    if rtol is None:
        rtol = spd_rtol(d)
    else:  # a fraction of the largest eigenvalue: 1 or more would call every direction null
        rtol = as_real(rtol, "rtol", minimum=0.0, maximum=1.0, open_max=True)
    check_scale(X, "X")
    mean = X.mean(axis=0, dtype=np.float64)
    # float64 and column-major (see PreparedData.X); single precision is widened entry by
    # entry here, exactly, so the centred copy is the only copy of X
    Xc = np.subtract(X, mean, order="F", dtype=np.float64)
    if center_y:
        y = y - y.mean()
    with np.errstate(over="ignore", under="ignore"):
        S = (Xc.T @ Xc) / n
        # the corrected two-pass algorithm: the computed mean of columns with a large offset
        # (1e14 on values of order 1) is off by the offset's rounding, which the subtraction
        # leaves in every centred value and S takes as shift shift' (S had been off by 3e-4
        # at an offset of 1e14, by 0.035 at 1e15); where that is above S's own rounding, the
        # centred columns' mean, that error, is removed and S formed again
        shift = Xc.mean(axis=0)
        if np.any(np.square(shift) > 2.0**-52 * np.abs(np.diag(S))):
            Xc -= shift
            mean = mean + shift
            S = (Xc.T @ Xc) / n
    S = 0.5 * (S + S.T)
    try:
        check_scale(S, "S")
    except ValueError:
        big = float(np.max(np.abs(S)))
        raise ValueError(f"X: its second moment X'X/n has largest entry {big:.3g}, outside "
                         "float64's safe range [1e-150, 1e150]; rescale X") from None
    if not labels:  # the targets' second moment in float64's safe range, as X's (above)
        big = float(np.max(np.abs(y))) if y.size else 0.0
        rms = big * math.sqrt(float(np.mean(np.square(y / big)))) if big > 0.0 else 0.0
        if rms != 0.0 and not 1e-150 <= rms <= 1e75:
            # (targets of 1e80 had overflowed BNGD's first step, f ~ mean(y^2) squared; of
            # 1e-200, mean(y^2) underflowed to 0 and GDNP asked whether all labels were equal;
            # 1e-100 works, the lengths' bracket following sqrt(mean(y^2)))
            raise ValueError(f"y: its root mean square is {rms:.3g}, so mean(y^2) is outside "
                             "[1e-300, 1e150], where f and its square stay in float64's "
                             "range; rescale y")
    basis = None
    if ridge == 0.0:
        eig, vecs = np.linalg.eigh(S)
        if eig[-1] <= 0.0:
            raise SingularCovarianceError("X: every feature is constant, so S = 0")
        if eig[0] <= rtol * eig[-1]:
            if null_space == "raise":
                raise SingularCovarianceError(_describe_singularity(Xc, eig, vecs, rtol, mean))
            keep = eig > rtol * eig[-1]
            basis = vecs[:, keep]
            Xc = np.asfortranarray(Xc @ basis)
            S = (Xc.T @ Xc) / n
            S = 0.5 * (S + S.T)
    else:
        top = float(np.linalg.eigvalsh(S)[-1])
        if ridge * np.finfo(float).eps > max(top, 0.0):
            # S + ridge I would be ridge I to rounding: S lost, and every gradient norm in
            # S^-1 divided by sqrt(ridge) (GD had stopped "converged" at its start)
            raise ValueError(f"ridge = {ridge:.3g} exceeds S's largest eigenvalue ({top:.3g}) "
                             "divided by the rounding unit: S + ridge I would be ridge I to "
                             f"rounding; use ridge below {top / np.finfo(float).eps:.3g}")
        S = S + float(ridge) * np.eye(d)
    return PreparedData(X=Xc, y=y, S=S, mean=mean, basis=basis, ridge=float(ridge))


def refine_least_squares(X: np.ndarray, y: np.ndarray, c: np.ndarray, solve, ridge: float = 0.0,
                         steps: int = REFINEMENTS):
    """Iterative refinement of a least-squares solution ``c`` of ``min mean((y - Xc)^2) +
    ridge ||c||^2`` from the normal equations (theory guide §2).

    The normal equations leave ``c`` off by about ``cond(X)^2 eps`` (6.6e-5 at ``cond(X) =
    1e6`` on a near-exact fit); each step, one pass over ``X`` for the residuals' gradient
    ``r = ridge c - X'(y - Xc)/n``, shrinks that by ``cond(S) eps``, down to what the
    residuals resolve. A step is kept only where it halves ``||r||``.

    Parameters
    ----------
    X, y : ndarray
        The samples, ``(n, d)`` and ``(n,)``.
    c : ndarray
        The normal equations' solution.
    solve : callable
        ``v -> (X'X/n + ridge I)^-1 v`` (a factorization's solve).
    ridge : float
        The objective's ridge.
    steps : int
        At most this many refinement steps.

    Returns
    -------
    c : ndarray
        The refined solution.
    resid : ndarray
        ``y - X c``.
    r : ndarray
        ``ridge c - X'(y - Xc)/n``: half the gradient of the objective at ``c``.
    """
    n = y.size
    resid = y - X.dot(c)
    r = ridge * c - X.T.dot(resid) / n
    for _ in range(steps):
        c_new = c - solve(r)
        resid_new = y - X.dot(c_new)
        r_new = ridge * c_new - X.T.dot(resid_new) / n
        if not np.linalg.norm(r_new) < 0.5 * np.linalg.norm(r):
            break
        c, resid, r = c_new, resid_new, r_new
    return c, resid, r


def weighted_gram(X: np.ndarray, h: np.ndarray, block: int = GRAM_BLOCK) -> np.ndarray:
    """``X' diag(h) X`` (symmetric, ``d x d``) in row blocks of ``X``: no ``n x d`` temporary
    (theory guide §12).

    Each block's rows scaled by ``sqrt(|h|)`` go to BLAS ``syrk`` (half the flops of a
    product), on one BLAS thread: a block's ``syrk`` took 12 ms on one thread and 1 s on two
    when the other core was busy (OpenBLAS threads waiting on each other). Rows of negative
    weight (a non-convex loss's ``phi''``) are subtracted by a second ``syrk``.

    Parameters
    ----------
    X : ndarray, shape (n, d)
        The rows.
    h : ndarray, shape (n,)
        The weights.
    block : int
        Rows per block.

    Returns
    -------
    ndarray, shape (d, d)
        ``sum_i h_i x_i x_i'``.
    """
    from scipy.linalg.blas import dsyrk
    from threadpoolctl import threadpool_limits

    root = np.sqrt(np.abs(h))
    neg = h < 0.0
    signed = bool(np.any(neg))
    H = np.zeros((X.shape[1], X.shape[1]), order="F")
    with threadpool_limits(limits=1, user_api="blas"):
        for i in range(0, X.shape[0], block):
            B = X[i:i + block] * root[i:i + block, None]
            if not signed:
                # B.T is Fortran-ordered: syrk reads it in place (B'B = B.T B.T')
                H = dsyrk(1.0, B.T, beta=1.0, c=H, trans=0, overwrite_c=True)
                continue
            below = neg[i:i + block]
            for alpha, rows in ((1.0, B[~below]), (-1.0, B[below])):
                if rows.shape[0]:
                    H = dsyrk(alpha, rows.T, beta=1.0, c=H, trans=0, overwrite_c=True)
    return np.triu(H) + np.triu(H, 1).T
