"""Measured Hessian spectra in original and BN coordinates (theory guide §12).

``hessian_spectrum(problem, x, coords="original")`` gives the eigenvalues of ``hess f(x)``;
``coords="bn"`` those of the Hessian of ``f_bn(w, g) = f(g w / N(w))`` at ``(w, g) =
problem.to_bn(x)`` restricted to the tangent space ``{(v, c): v'w = 0}``, with the curvature
along ``w`` itself (``e'He`` for ``e = (w/||w||_2, 0)``; theory guide §10) reported apart as
``.radial``: zero at every point for a scale-invariant ``N`` (``f_bn`` is constant along
``w``), so a check of the norm's homogeneity, not of stationarity, and non-zero only with
``bn_eps > 0``.

Both come from the problem's Hessian. The dense method (``numpy.linalg.eigvalsh``, every
eigenvalue) builds it as a matrix in one computation where the problem has a matrix form
(``_hessian_matrix``: OLS's ``2S``, the Gaussian halfspace's closed form, the empirical halfspace's
``X' diag(phi'') X / n`` in one blocked pass over the data, the MLP's Gauss-Newton term plus its
units' curvature), else from ``dim`` Hessian-vector products (central differences of ``grad`` where
the problem has no ``hessian_vector``, a user's own :class:`~gdnp.problems.Problem`, marked in
``.method``). In BN coordinates the point's ``N``, ``grad N`` and ``grad f(w~)`` are computed once
and the BN Hessian follows from ``hess f(w~)`` by the second-order chain rule through ``w~ = g w /
N(w)`` (:func:`bn_hessian_vector`'s formulas, as a matrix with the normalizer's ``hess N``).
Lanczos (``scipy.sparse.linalg.eigsh`` on a ``LinearOperator`` of those products) returns the ``k``
largest and ``k`` smallest eigenvalues. ``method="auto"`` takes the dense method up to
``DENSE_FALLBACK_MAX = 8000`` dimensions where the Hessian has a matrix form (memory permitting),
up to ``DENSE_MAX = 2000`` with products only, and Lanczos beyond.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from gdnp.problems import MLP, LinearProblem, Problem
from gdnp.problems._validate import (
    ConditioningWarning,
    as_bool,
    check_memory,
    warn_external,
)

__all__ = ["hessian_spectrum", "Eigenvalues", "bn_hessian_vector"]

# "auto" runs the dense method up to this size on a problem with Hessian-vector products only
# (measured on the MLP when its products were central differences), building its matrix from n
# products: measured 5-8x faster than Lanczos at n = 500-1500 (2.9 s against 13.7 s at n = 1500 in
# BN coordinates), whose two runs for the extreme eigenvalues take thousands of products, and it
# returns every eigenvalue. Where the problem has its Hessian as a matrix (OLS, halfspaces, the
# MLP) "auto" is dense up to DENSE_FALLBACK_MAX: one matrix and an eigvalsh, 0.74 s at n = 3000 and
# 27 s at n = 8000 (OLS, 2 cores), where Lanczos's smallest end had not converged on gdnp's own
# random problems (log-spaced spectra) within its ~2n products and fell back to the dense method
# after them (46 s at n = 3000; 51 s in BN coordinates, against 0.82 s)
DENSE_MAX = 2000
#: Largest dimension at which a Lanczos run that does not converge falls back to the dense
#: method (with a warning); beyond it the run raises ``RuntimeError``. Up to it
#: ``method="auto"`` is the dense method on problems with a matrix form of the Hessian
#: (memory permitting).
DENSE_FALLBACK_MAX = 8000


class Eigenvalues(np.ndarray):
    """Ascending eigenvalues, as :func:`hessian_spectrum` returns them: an ``ndarray`` with
    three attributes (theory guide §12).

    Attributes
    ----------
    coords : {"original", "bn"}
        The coordinates of the Hessian.
    method : str
        How the eigenvalues were computed: ``"dense"`` (every eigenvalue) or ``"lanczos"``
        (the ``k`` extreme ones).
    radial : float, ndarray or None
        In BN coordinates, the curvature along ``w`` itself (the direction the BN
        parametrization cannot see: 0 up to rounding at every point for a scale-invariant
        ``N``, non-zero only with ``bn_eps > 0``), on the MLP one per hidden unit along its
        ``w_i``; ``None`` in original coordinates.

    Examples
    --------
    >>> from gdnp import hessian_spectrum
    >>> from gdnp.problems import OLS
    >>> prob = OLS.random(3, 10.0, seed=0)
    >>> ev = hessian_spectrum(prob, prob.solution()[0])
    >>> ev.coords, ev.method, ev.radial is None, bool(ev[0] > 0)
    ('original', 'dense', True, True)
    """

    coords: str = "original"
    method: str = "dense"
    radial: float | np.ndarray | None = None

    def __new__(cls, values, coords: str = "original", method: str = "dense",
                radial: float | np.ndarray | None = None):
        """The eigenvalues ``values`` (a 1-D array, sorted ascending here) with their
        attributes."""
        out = np.sort(np.asarray(values, dtype=float).ravel()).view(cls)
        out.coords, out.method, out.radial = coords, method, radial
        return out

    def __reduce__(self):  # the attributes travel with the values (pickle, multiprocessing)
        rebuild, args, state = super().__reduce__()
        return rebuild, args, (state, (self.coords, self.method, self.radial))

    def __setstate__(self, state):
        array_state, (self.coords, self.method, self.radial) = state
        super().__setstate__(array_state)

    def __array_finalize__(self, obj):
        if obj is not None:
            self.coords = getattr(obj, "coords", "original")
            self.method = getattr(obj, "method", "dense")
            self.radial = getattr(obj, "radial", None)


def _original_hvp(problem: Problem, x: np.ndarray):
    hv = getattr(problem, "hessian_vector", None)
    if hv is not None:
        return (lambda v: hv(x, v)), "closed form"
    ax = np.abs(x)

    def fd(v):  # central differences of the gradient, O(h^2)
        nv = float(np.linalg.norm(v))
        if nv == 0.0:
            return np.zeros_like(x)
        e = v / nv
        # the step on the scale of x along e, sum |e_i x_i| (|x_i| for a coordinate): a step
        # on ||x|| had been far too long for the small coordinates of a point with one large
        # one (an MLP optimum with |x| = 3.7e4, median |x_i| = 24: eigenvalues -67..2688
        # instead of 0..29984)
        h = 1e-5 * max(1.0, float(np.abs(e) @ ax))
        return (problem.grad(x + h * e) - problem.grad(x - h * e)) * (nv / (2.0 * h))

    return fd, "finite differences"


def bn_hessian_vector(problem: LinearProblem, w, g: float, v, c: float) -> np.ndarray:
    """``hess f_bn(w, g) (v, c)`` as ``concatenate([d grad_w, [d d_g f]])`` (theory guide §12).

    With ``q = w/N``, ``G = grad f(w~)``, ``r = (G - grad N (w'G)/N)/N`` (so ``grad_w f_bn =
    g r``) and ``J v = (v - w grad N'v/N)/N`` (the Jacobian of ``q``):
    ``d w~ = c q + g J v``, ``d G = hess f(w~) d w~``,
    ``d grad_w = c r + g (J' dG - (G grad N'v + hess N v (w'G) + grad N G'v)/N^2
    + 2 grad N (w'G)(grad N'v)/N^3)`` and ``d d_g f = (J v)'G + q'dG``.
    """
    return _BNPoint(problem, w, g).product(v, c)


class _BNPoint:
    """The point ``(w, g)`` of :func:`bn_hessian_vector` with what every product there reads,
    computed once: ``N``, ``grad N``, ``w~``, ``G = grad f(w~)``, ``w'G``, ``q`` and ``r``
    (theory guide §12). :meth:`product` is one Hessian-vector product, :meth:`matrix` the
    whole BN Hessian from the matrix ``hess f(w~)`` by the same chain rule."""

    def __init__(self, problem: LinearProblem, w, g: float):
        w = np.asarray(w, dtype=float)
        norm = problem.normalizer
        N, dN = norm.value_and_grad(w)
        self.scale = 1.0
        if not 1e-100 < N < 1e100 and norm.eps == 0.0:
            # f_bn(s w, g) = f_bn(w, g) for a scale-invariant N: the blocks scale as 1/s^2 (ww),
            # 1/s (wg) and 1 (gg), so the product at w is D hess(w/s) D (v, c), D = diag(I/s, 1);
            # at w itself N^2 and N^3 below would overflow (|x| ~ 1e150) or lose the result
            self.scale = N
            w = w / N
            N, dN = norm.value_and_grad(w)
        self.problem, self.norm, self.w, self.g, self.N, self.dN = problem, norm, w, g, N, dN
        self.xt = (g / N) * w
        self.G = problem.grad(self.xt)
        self.wG = float(w @ self.G)
        self.q = w / N
        self.r = (self.G - dN * (self.wG / N)) / N
        self._hvp = None

    @property
    def hvp(self):
        """``v -> hess f(w~) v`` (:func:`_original_hvp` at ``w~``)."""
        if self._hvp is None:
            self._hvp = _original_hvp(self.problem, self.xt)[0]
        return self._hvp

    def product(self, v, c: float) -> np.ndarray:
        """``hess f_bn(w, g) (v, c)`` (the formulas of :func:`bn_hessian_vector`)."""
        v = np.asarray(v, dtype=float)
        if self.scale != 1.0:
            v = v / self.scale
        w, g, N, dN, G, wG, q = self.w, self.g, self.N, self.dN, self.G, self.wG, self.q
        dNv = float(dN @ v)
        Jv = (v - w * (dNv / N)) / N
        dG = self.hvp(c * q + g * Jv)
        dr = -(G * dNv + self.norm.hess_vec(w, v) * wG + dN * float(v @ G)) / N**2 \
            + dN * (2.0 * wG * dNv / N**3)
        JdG = (dG - dN * (float(w @ dG) / N)) / N
        out = np.concatenate([c * self.r + g * (dr + JdG), [float(Jv @ G) + float(q @ dG)]])
        if self.scale != 1.0:
            out[:-1] /= self.scale
        return out

    def matrix(self, Hf: np.ndarray) -> np.ndarray:
        """The ``(d+1) x (d+1)`` BN Hessian in ``(w, g)`` from the symmetric matrix ``Hf =
        hess f(w~)``: with ``B = [g J, q]`` (``d w~ = B (v, c)``), ``B' Hf B`` plus ``g dr``
        in the ``ww`` block and ``r`` in the ``wg`` blocks, where ``J' Hf J = (Hf - a s' -
        s a')/N^2`` (``a = grad N``, ``s = Hf w/N - a w'Hf w/(2N^2)``) and ``dr = -(G a' +
        a G' + (w'G) hess N)/N^2 + 2 (w'G) a a'/N^3``: O(d^2) besides ``hess N``."""
        w, g, N, a, G, wG = self.w, self.g, self.N, self.dN, self.G, self.wG
        d = w.size
        Hw = Hf @ w
        wHw = float(w @ Hw)
        out = np.empty((d + 1, d + 1))
        A = out[:d, :d]
        A[...] = Hf
        s = Hw / N - a * (0.5 * wHw / N**2)
        A -= np.outer(a, s)
        A -= np.outer(s, a)
        A *= (g / N) ** 2
        A -= (g * wG / N**2) * self.norm._hess_matrix(w)
        t = (g / N**2) * G - a * (g * wG / N**3)
        A -= np.outer(a, t)
        A -= np.outer(t, a)
        col = self.r + (g / N**2) * (Hw - a * (wHw / N))
        out[:d, d] = col
        out[d, :d] = col
        out[d, d] = wHw / N**2
        if self.scale != 1.0:
            A /= self.scale**2
            out[:d, d] /= self.scale
            out[d, :d] /= self.scale
        return out


#: The BN Hessian's direction block is ``g`` times the curvature of ``w/N(w)`` along f's
#: gradient, a difference of terms of size ``g^2 ||hess f||``: its relative error grows like
#: ``eps g`` (on least squares, where they cancel exactly, 4e-6 measured at ``g = 1e8``, 1e-4
#: at ``1e10``, every digit gone at ``1e16``). A warning above ``_BN_LENGTH_WARN``, an
#: error above ``_BN_LENGTH_MAX`` (fewer than about three digits left).
_BN_LENGTH_WARN, _BN_LENGTH_MAX = 1e6, 1e12


def _check_bn_length(g: float) -> None:
    """The warning or error of a BN length ``g = |N(x)|`` whose Hessian loses digits."""
    if not g <= _BN_LENGTH_MAX:
        raise ValueError(f"x: its length g = N(x) = {g:.3g} is beyond {_BN_LENGTH_MAX:g}, where "
                         "the BN Hessian's direction block keeps fewer than about "
                         f"{-math.log10(2.2e-16 * _BN_LENGTH_MAX):.0f} digits (cancellation "
                         "between terms of size g^2); pass a point of a smaller scale")
    if g > _BN_LENGTH_WARN:
        warn_external(f"x: at the length g = N(x) = {g:.3g} the BN Hessian's direction "
                      f"block may keep only about {-math.log10(2.2e-16 * g):.0f} digits (its "
                      "terms of size g^2 can cancel, as on least squares); a point of a "
                      "smaller scale is computed more accurately", ConditioningWarning)


def _reflector_matrix(e: np.ndarray) -> np.ndarray:
    """:func:`_householder`'s ``R`` as a matrix: its columns after the first are an
    orthonormal basis of the unit vector ``e``'s complement."""
    _, h, hh = _householder(e)
    R = np.eye(e.size)
    if hh != 0.0:
        R -= np.outer(h, h * (2.0 / hh))
    return R


def _mlp_bn_matrix(problem, x: np.ndarray, include_length: bool):
    """The MLP's BN Hessian on the units' tangent spaces (theory guide §12), as a matrix, and
    each unit's radial curvature.

    In ``(w_1, g_1, ..., w_h, g_h, theta)`` with ``W_i = g_i w_i / N(w_i)``, the Hessian is
    ``B' hess f B`` (``B = d x / d(w, g, theta)``, per unit ``[g_i J_i, w_i / N_i]``) plus,
    per unit, the curvature of ``W_i(w_i, g_i)`` along ``G_i = grad_{W_i} f``: ``g_i dr_i`` in
    the ``ww`` block and ``r_i`` in the ``wg`` blocks, as for a single unit
    (:meth:`_BNPoint.matrix`). Each ``w_i`` is then restricted to its complement (``d - 1``
    coordinates, :func:`_householder`), which leaves ``dim`` coordinates in all;
    ``include_length=False`` keeps the directions' ``hidden (d - 1)`` only."""
    hid, d = problem.hidden, problem.d
    w, g = problem.to_bn(x)
    norm = problem.normalizer
    Hf = problem._hessian_matrix(x)
    Hf += Hf.T
    Hf *= 0.5
    GW = problem.grad(x)[: hid * d].reshape(hid, d)
    nb = hid * (d + 1) + hid
    B = np.zeros((problem.dim, nb))
    C = np.zeros((nb, nb))
    for i in range(hid):
        wi, gi, Gi = w[i], float(g[i]), GW[i]
        N, a = norm.value_and_grad(wi)
        cw, cg = slice(i * (d + 1), i * (d + 1) + d), i * (d + 1) + d
        rows = slice(i * d, (i + 1) * d)
        B[rows, cw] = np.eye(d) - np.outer(wi, a / N)
        B[rows, cw] *= gi / N
        B[rows, cg] = wi / N
        wG = float(wi @ Gi)
        t = (gi / N**2) * Gi - a * (gi * wG / N**3)
        A = C[cw, cw]
        A -= (gi * wG / N**2) * norm._hess_matrix(wi)
        A -= np.outer(a, t)
        A -= np.outer(t, a)
        r = (Gi - a * (wG / N)) / N
        C[cw, cg] = r
        C[cg, cw] = r
    B[hid * d:, hid * (d + 1):] = np.eye(hid)
    H = B.T @ Hf @ B
    H += C
    # each w_i on its complement: T = blockdiag(R_i[:, 1:], 1 (g_i), ..., I (theta))
    keep = hid * (d - 1) if not include_length else problem.dim
    T = np.zeros((nb, keep))
    radial = np.empty(hid)
    col = 0
    for i in range(hid):
        e = w[i] / np.linalg.norm(w[i])
        cw = slice(i * (d + 1), i * (d + 1) + d)
        radial[i] = float(e @ H[cw, cw] @ e)
        T[cw, col:col + d - 1] = _reflector_matrix(e)[:, 1:]
        col += d - 1
    if include_length:
        for i in range(hid):
            T[i * (d + 1) + d, col] = 1.0
            col += 1
        T[hid * (d + 1):, col:] = np.eye(hid)
    return T.T @ H @ T, radial


def _householder(e: np.ndarray):
    """The reflector ``R = I - 2 h h'/h'h`` (symmetric, orthogonal, ``R e_1 = -+e``) whose
    last columns are an orthonormal basis of ``e``'s complement, as a function ``y -> R y``,
    with its ``h`` and ``h'h``."""
    h = e.copy()
    sign = 1.0 if e[0] <= 0 else -1.0  # reflect e to sign * e_1, no cancellation
    h[0] -= sign
    hh = float(h @ h)

    def R(y):
        if hh == 0.0:
            return y.copy()
        return y - h * (2.0 * float(h @ y) / hh)

    return R, h, hh


def _tangent_matrix(H: np.ndarray, h: np.ndarray, hh: float) -> np.ndarray:
    """The BN Hessian ``H`` (symmetric, ``(d+1) x (d+1)``) on the tangent space, as the
    products of :func:`hessian_spectrum` see it: ``T' H T`` with ``T = diag(R[:, 1:], 1)``
    (``R`` of :func:`_householder`). ``R A R = A - h s' - s h'`` with ``s = b A h -
    (b^2/2)(h'A h) h``, ``b = 2/h'h``: O(d^2). Overwrites ``H``."""
    d = H.shape[0] - 1
    A, col = H[:d, :d], H[:d, d].copy()
    if hh != 0.0:
        b = 2.0 / hh
        p = A @ h
        s = b * p - (0.5 * b * b * float(h @ p)) * h
        A -= np.outer(h, s)
        A -= np.outer(s, h)
        col -= h * (b * float(h @ col))
    out = np.empty((d, d))
    out[:-1, :-1] = A[1:, 1:]
    out[:-1, -1] = col[1:]
    out[-1, :-1] = col[1:]
    out[-1, -1] = H[d, d]
    return out


_NOT_FINITE = ("{name}: the Hessian is not finite there (a Hessian-vector product overflowed "
               "or is NaN: a point of extreme scale); pass a point of a smaller scale")


def _finite_products(matvec, name: str):
    """``matvec`` whose non-finite products raise a ``ValueError`` naming ``name`` (numpy's
    eigensolver had answered a NaN Hessian with "Eigenvalues did not converge")."""
    def checked(v):
        out = matvec(v)
        if not np.all(np.isfinite(out)):
            raise ValueError(_NOT_FINITE.format(name=name))
        return out

    return checked


def _finite_matrix(build, name: str):
    """``build`` (a function of no argument returning a matrix) whose non-finite matrix
    raises the ``ValueError`` of :func:`_finite_products`."""
    def checked():
        out = build()
        if not np.all(np.isfinite(out)):
            raise ValueError(_NOT_FINITE.format(name=name))
        return out

    return checked


def _matrix_form(problem: Problem):
    """The problem's ``_hessian_matrix(x)``, ``hess f(x)`` as a matrix in one blocked
    computation (OLS's ``2S``, the halfspaces' closed forms; theory guide §12), or ``None``
    where it has products only, or where a subclass overrides ``hessian_vector`` but not the
    matrix (its own products are then the Hessian)."""
    mro = type(problem).__mro__
    matrix = next((c for c in mro if "_hessian_matrix" in vars(c)), None)
    product = next((c for c in mro if "hessian_vector" in vars(c)), None)
    if matrix is None or product is None or not issubclass(matrix, product):
        return None
    return problem._hessian_matrix


def _by_columns(matvec, n: int) -> np.ndarray:
    """The ``n x n`` matrix of ``matvec`` from ``n`` products, one column each."""
    return np.column_stack([matvec(col) for col in np.eye(n)])


def _dense_bytes(n: int) -> float:
    """Peak memory of the dense method at size ``n``, about: the Hessian in original and BN
    coordinates, the rank-two updates' temporaries and ``eigvalsh``'s copy and workspace."""
    return 6.0 * 8.0 * (n + 1) ** 2


def _dense_fits(n: int) -> bool:
    """Whether the dense method at size ``n`` fits the memory limit of
    :func:`~gdnp.problems._validate.check_memory`."""
    try:
        check_memory(_dense_bytes(n), "the dense method")
    except ValueError:
        return False
    return True


def _eig(matvec, n: int, method: str, k: int, matrix=None,
         one_pass: bool = False) -> tuple[np.ndarray, str]:
    """Eigenvalues of the symmetric ``n x n`` operator ``matvec``, ascending: all of them
    (dense), or its ``k`` largest and ``k`` smallest (Lanczos). Where those ``2k`` cover the
    whole spectrum (``2k >= n``) the dense eigenvalues are returned, every one of them.

    ``matrix`` (a function of no argument), if given, builds the operator's matrix for the
    dense method (else ``n`` products, one column each); ``one_pass`` says it does so without
    ``n`` products (a closed form), and ``method="auto"`` then runs the dense method up to
    ``DENSE_FALLBACK_MAX`` (memory permitting) instead of ``DENSE_MAX``."""
    if n == 0:
        return np.empty(0), "dense"
    auto_dense = n <= DENSE_MAX or (one_pass and n <= DENSE_FALLBACK_MAX and _dense_fits(n))
    if method == "dense" or (method == "auto" and auto_dense) or 2 * k >= n:
        check_memory(_dense_bytes(n), f"hessian_spectrum's dense method (an {n} x {n} "
                     "Hessian and its eigendecomposition)")
        H = matrix() if matrix is not None else _by_columns(matvec, n)
        H += H.T
        H *= 0.5
        return np.linalg.eigvalsh(H), "dense"
    op = LinearOperator((n, n), matvec=matvec, dtype=float)
    # a fixed start vector: ARPACK's own is random, and two identical calls had differed
    # by 1e-12 relatively
    v0 = np.random.default_rng(0).standard_normal(n)
    # a subspace of 40 vectors or more, and restarts for about 2n products at each end: more
    # than the n products of the dense method, which is then the cheaper one
    ncv = min(n, max(2 * k + 1, 40))
    maxiter = max(2 * n // max(ncv - k, 1), 20)
    try:
        top = eigsh(op, k=k, which="LA", return_eigenvectors=False, v0=v0, ncv=ncv,
                    maxiter=maxiter)
        bottom = eigsh(op, k=k, which="SA", return_eigenvectors=False, v0=v0, ncv=ncv,
                       maxiter=maxiter)
    except ArpackNoConvergence as exc:
        # eigenvalues clustered at one end against the spread (a Hessian of condition number
        # 1e4 on features of scales 1x to 100x: ARPACK had run 291 s at n = 2010 and failed)
        what = (f"Lanczos did not converge to the {k} largest and {k} smallest eigenvalues "
                f"within about {2 * n} Hessian-vector products at each end (an end's "
                "eigenvalues are clustered against the spectrum's spread)")
        dense = "one Hessian matrix" if one_pass else f"{n} products"
        if n > DENSE_FALLBACK_MAX:
            raise RuntimeError(f"{what}; the dense method ({dense} and an {n} x {n} "
                               "eigendecomposition) is beyond DENSE_FALLBACK_MAX = "
                               f"{DENSE_FALLBACK_MAX}: pass method='dense' to run it "
                               "anyway") from exc
        warn_external(f"{what}: computed by the dense method instead ({dense} and an "
                      f"{n} x {n} eigendecomposition; every eigenvalue)", ConditioningWarning)
        return _eig(matvec, n, "dense", k, matrix, one_pass)
    # 2k < n: two disjoint sets of eigenvalues (repeated values are kept)
    return np.sort(np.concatenate([bottom, top])), "lanczos"


def hessian_spectrum(problem: Problem, x, coords: str = "original", *, method: str = "auto",
                     k: int = 6, include_length: bool = True) -> Eigenvalues:
    """Eigenvalues of the Hessian at ``x`` (theory guide §12).

    Parameters
    ----------
    problem : Problem
        A single-unit problem or an MLP for ``coords="bn"``; any problem in original
        coordinates.
    x : array_like
        The point, in original coordinates (BN: ``(w, g) = problem.to_bn(x)``, ``w = x``;
        the MLP's ``w_i`` its rows ``W_i`` and its ``theta`` kept).
    coords : {"original", "bn"}
        ``hess f(x)`` (``dim`` eigenvalues), or the Hessian of ``f_bn`` on the tangent space of
        the direction (``dim`` eigenvalues: ``dim - 1`` for ``w`` orthogonal to itself and
        one for ``g``, coupled), with the curvature along ``w`` in ``.radial``. On the MLP,
        ``f_bn(w_1, g_1, ..., w_h, g_h, theta)`` on every unit's tangent space (``hidden (d -
        1)`` direction coordinates, the ``hidden`` lengths and ``theta``: ``dim`` in all), as
        a dense matrix from the exact Hessian by the chain rule; ``.radial`` holds each
        unit's curvature along its ``w_i``.
    method : {"auto", "dense", "lanczos"}
        ``dense``: every eigenvalue, by ``numpy.linalg.eigvalsh`` on the Hessian as a matrix
        (one computation where the problem has it in closed form: OLS and halfspaces, the
        empirical one in a pass over the data; else ``dim`` Hessian-vector products).
        ``lanczos``: the ``k`` largest and ``k`` smallest, from Hessian-vector products. ``auto``:
        dense up to ``DENSE_FALLBACK_MAX = 8000`` dimensions where the Hessian has a matrix form
        and the dense method's arrays fit in memory (measured on OLS, 2 cores: 0.74 s at 3000
        dimensions, 7 s at 5000, 27 s at 8000, where Lanczos's smallest end had not converged
        on the package's own random problems and fell back to the dense method: 46 s at 3000),
        and up to ``DENSE_MAX = 2000`` with products only; Lanczos beyond. A Lanczos
        run that does not converge within about ``2n`` products per end is answered by the
        dense method up to ``DENSE_FALLBACK_MAX``, with a
        :class:`~gdnp.problems.ConditioningWarning`, and raises ``RuntimeError`` beyond.
    k : int
        Lanczos: how many of the largest and of the smallest eigenvalues (all of them, by the
        dense method, when ``2k`` is at least their number).
    include_length : bool
        BN coordinates: ``False`` restricts to the direction block ``{(v, 0): v'w = 0}``
        (``dim - 1`` eigenvalues; C19's ``(2 g^2/||w||_S^2) H*`` at an OLS optimum; on the
        MLP the units' directions, ``hidden (d - 1)`` eigenvalues, without the lengths and
        ``theta``).

    Returns
    -------
    Eigenvalues
        Ascending; ``.method`` says ``dense`` or ``lanczos`` and, for problems without a
        closed-form Hessian-vector product, ``finite differences``.

    Raises
    ------
    TypeError
        If ``problem`` is not a :class:`~gdnp.problems.Problem`, for ``coords="bn"`` on a
        problem that is neither single-unit (OLS or a halfspace) nor an MLP, or a ``k`` that
        is not an integer.
    ValueError
        For an unknown ``coords`` or ``method``, a ``k`` below 1, ``include_length=False``
        with ``coords="original"`` (it applies to BN coordinates), ``coords="bn"`` at a zero
        ``x`` or an MLP unit of zero weights (no direction), ``coords="bn"`` at a length
        ``g = N(x)`` beyond ``1e12`` (its direction block keeps fewer than about four digits;
        a :class:`~gdnp.problems.ConditioningWarning` from ``1e6``), a Hessian that is not finite
        at ``x`` (a point of extreme scale), or a dense method whose ``n x n`` arrays (about
        ``48 n^2`` bytes) exceed the memory limit (``GDNP_MAX_BYTES``, else the memory
        available), checked before allocating.
    RuntimeError
        Lanczos did not converge within about ``2n`` Hessian-vector products at an end of the
        spectrum and ``n`` exceeds ``gdnp.spectrum.DENSE_FALLBACK_MAX`` (up to it the dense method
        answers instead, with a :class:`~gdnp.problems.ConditioningWarning`).

    Notes
    -----
    Every problem of the package has its Hessian in closed form (the MLP's too: it agrees with
    PyTorch's autograd Hessian to ``1e-13`` of its largest entry, where central differences had
    been off by up to ``3.5e-7`` of the largest eigenvalue on features scaled 1x to 100x). A
    problem without a ``hessian_vector`` (a user's own) uses central differences of the gradient,
    with a step ``1e-5 max(1, sum_i |e_i x_i|)`` along each unit direction ``e``.

    Examples
    --------
    On OLS with ``S = diag(1, 4)``: ``hess f = 2 S`` in original coordinates, and C19's
    direction block ``(2 g^2/||w||_S^2) H*`` at the optimum ``x = (1, 1)``:

    >>> import numpy as np
    >>> import gdnp
    >>> from gdnp.problems import OLS
    >>> prob = OLS.from_moments(np.diag([1.0, 4.0]), np.array([-1.0, -4.0]), yy=6.0)
    >>> ev = gdnp.hessian_spectrum(prob, [1.0, 1.0])
    >>> ev, ev.method
    (Eigenvalues([2., 8.]), 'dense')
    >>> gdnp.hessian_spectrum(prob, [1.0, 1.0], coords="bn", include_length=False)
    Eigenvalues([3.2])
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a gdnp.problems.Problem, got {type(problem).__name__}")
    include_length = as_bool(include_length, "include_length")
    coords = coords.lower() if isinstance(coords, str) else coords  # names in any case
    method = method.lower() if isinstance(method, str) else method
    if not isinstance(coords, str) or coords not in ("original", "bn"):
        raise ValueError(f"coords must be 'original' or 'bn', got {coords!r}")
    if method not in ("auto", "dense", "lanczos"):
        raise ValueError(f"method must be 'auto', 'dense' or 'lanczos', got {method!r}")
    if not include_length and coords == "original":
        raise ValueError("include_length=False applies to coords='bn' (the length block of "
                         "the BN Hessian); the original coordinates have no length")
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an integer >= 1, got {type(k).__name__} {k!r}")
    if k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    x = problem.check_x(x)
    radial = None
    if coords == "original":
        hvp, how = _original_hvp(problem, x)
        form = _matrix_form(problem)
        matrix = None if form is None else _finite_matrix(lambda: form(x), "x")
        vals, used = _eig(_finite_products(hvp, "x"), problem.dim, method, int(k), matrix,
                          one_pass=form is not None)
    elif isinstance(problem, MLP):
        try:
            _check_bn_length(float(np.max(np.abs(problem.to_bn(x)[1]))))
        except ValueError as exc:
            if str(exc).startswith("x: its length"):
                raise
            raise ValueError("x: a hidden unit with zero weights has no BN direction; "
                             "coords='bn' needs every unit non-zero") from None
        n = problem.dim if include_length else problem.hidden * (problem.d - 1)
        check_memory(3 * _dense_bytes(n), "hessian_spectrum's BN Hessian of the MLP (dense)")
        how = _original_hvp(problem, x)[1]
        M, radial = _mlp_bn_matrix(problem, x, include_length)
        if not (np.all(np.isfinite(M)) and np.all(np.isfinite(radial))):
            raise ValueError(_NOT_FINITE.format(name="x"))
        vals, used = _eig(_finite_products(lambda v: M @ v, "x"), n, method, int(k),
                          lambda: M.copy(), one_pass=True)
    else:
        if not isinstance(problem, LinearProblem):
            raise TypeError("coords='bn' needs a single-unit gdnp.problems.LinearProblem (OLS, "
                            f"Halfspace or a subclass) or an MLP, got {type(problem).__name__}")
        from ._common import require_u

        require_u(problem)
        try:
            w, g = problem.to_bn(x)
        except ValueError:  # x is checked: only N(x) = 0 is left (named as this argument)
            raise ValueError("x: the zero vector has no BN direction; coords='bn' needs a "
                             "non-zero x") from None
        _check_bn_length(abs(g))
        d = problem.dim
        e = w / np.linalg.norm(w)
        R, h, hh = _householder(e)
        how = _original_hvp(problem, x)[1]
        point = _BNPoint(problem, w, g)  # N, grad N, grad f(w~)...: once, not per product
        form = _matrix_form(problem)

        def tangent(y):  # y = (coefficients on e's complement, c)
            v = R(np.concatenate([[0.0], y[:-1]]))
            Hv = point.product(v, float(y[-1]))
            return np.concatenate([R(Hv[:-1])[1:], Hv[-1:]])

        def direction_block(y):
            return tangent(np.concatenate([y, [0.0]]))[:-1]

        def matrix():  # hess f(w~) as a matrix (else from d products), then the chain rule
            Hf = form(point.xt) if form is not None else _by_columns(point.hvp, d)
            Hf += Hf.T
            Hf *= 0.5
            T = _tangent_matrix(point.matrix(Hf), h, hh)
            return T if include_length else T[:-1, :-1]

        matrix = _finite_matrix(matrix, "x")
        if include_length:
            vals, used = _eig(_finite_products(tangent, "x"), d, method, int(k), matrix,
                              one_pass=form is not None)
        else:
            vals, used = _eig(_finite_products(direction_block, "x"), d - 1, method, int(k),
                              matrix, one_pass=form is not None)
        He = point.product(e, 0.0)
        radial = float(e @ He[:-1])
    return Eigenvalues(vals, coords, used if how == "closed form" else f"{used}, {how}", radial)
