"""The compiled kernels of :mod:`gdnp._jit` (imported only where numba is installed).

Top-level functions, so that numba's on-disk cache keeps them between processes.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba.extending import register_jitable

from gdnp.problems import taylor

U = 2.0 ** -53
njit = numba.njit(cache=True, nogil=True, error_model="numpy")

# the certificates are the locator's own functions (gdnp.problems.taylor), compiled as they are
for _fn in (taylor.probe_bounds, taylor.curvature_bound, taylor.certifies_beyond,
            taylor.certifies_probe, taylor.certifies_virtual):
    register_jitable(_fn)


@njit
def _block_sum(x, lo, n):
    """NumPy's sum of at most 128 contiguous values: eight accumulators, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += x[i]
        return res
    y = x[lo:lo + n]
    r0, r1, r2, r3, r4, r5, r6, r7 = y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7]
    # unsigned indices: no wraparound test, so the eight chains compile to vector adds
    k, m = np.uint64(8), np.uint64(n - n % 8)
    u1, u2, u3, u4 = np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4)
    u5, u6, u7 = np.uint64(5), np.uint64(6), np.uint64(7)
    while k < m:
        r0 += y[k]
        r1 += y[k + u1]
        r2 += y[k + u2]
        r3 += y[k + u3]
        r4 += y[k + u4]
        r5 += y[k + u5]
        r6 += y[k + u6]
        r7 += y[k + u7]
        k += np.uint64(8)
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    for i in range(n - n % 8, n):
        res += y[i]
    return res


@njit
def pairwise(x):
    """:func:`pairwise_into` with its own work arrays."""
    return pairwise_into(x, np.empty((3, 192), np.int64), np.empty(96))


@njit
def pairwise_into(x, stack, vals):
    """NumPy's pairwise sum of the contiguous ``x`` (``np.add.reduce``), operation for
    operation: halves of ``n // 2`` rounded down to a multiple of 8 until a block has at most
    128 values (:func:`_block_sum`). Written with an explicit stack, not recursion (numba's
    cache does not reload recursive functions safely); ``stack`` (3 x 192 integers: the
    pending nodes' start, length and whether their halves are done) and ``vals`` (96: the
    sums of finished subtrees, left before right) are work arrays."""
    return _pairwise(x, stack, vals, x, 0, x, np.empty((3, 1)), 1.0)


@njit
def _data_leaf(zw, norm, buf, lo, m, leaf):
    """The terms of :meth:`gdnp.problems.EmpiricalHalfspace._logistic_sum` on ``[lo, lo +
    m)`` from ``buf = exp(-t a)``, with its operations: ``leaf[2] = a = zw / norm`` (NumPy's
    division: the same numbers as the margins ``a``), ``leaf[1] = buf + 1`` and ``leaf[0] =
    a / leaf[1]`` (a block's worth, kept in cache; nothing is written back)."""
    zz, bb = zw[lo:lo + m], buf[lo:lo + m]  # (views: vectorised loops)
    xs, bs, aa = leaf[0], leaf[1], leaf[2]
    for i in range(m):
        a = zz[i] / norm
        aa[i] = a
        b = bb[i] + 1.0
        bs[i] = b
        xs[i] = a / b


@numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def _tail_leaf(m, leaf, acc):
    """The empirical probe's sums over a block of ``m`` terms, added to ``acc``: ``sum t_i a_i``,
    ``sum t_i^2``, ``sum |t_i|`` and the curvature envelope's ``sum a_i |a_i| t_i (1 -
    1/b_i)`` (``t_i = leaf[0] = a_i s_i``, ``b_i = leaf[1] = 1 + exp(-t a_i)``). Only their
    rounding bounds matter (any summation order is within ``n u`` of the sum of magnitudes),
    so the sums may be reassociated (vectorised); each term takes the roundings of
    :meth:`gdnp.problems.EmpiricalHalfspace._logistic_probe` and ``_logistic_curvature``
    (``a_i = leaf[2]``, as :func:`_data_leaf` formed them)."""
    xs, bs, aa = leaf[0], leaf[1], leaf[2]
    ta = 0.0
    tt = 0.0
    at = 0.0
    cv = 0.0
    for i in range(m):
        a = aa[i]
        t = xs[i]
        ta += t * a
        tt += t * t
        at += abs(t)
        cv += (a * abs(a)) * (t * (1.0 - 1.0 / bs[i]))
    acc[0] += ta
    acc[1] += tt
    acc[2] += at
    acc[3] += cv


@njit
def _pairwise(x, stack, vals, buf, mode, acc, leaf, norm):
    """:func:`pairwise_into`; with ``mode`` 1 or 2, ``x / norm`` is the margins ``a`` and each
    block sums the terms :func:`_data_leaf` forms from ``a`` and ``buf = exp(-t a)`` just
    before (in ``leaf``, 3 x 128), and with ``mode`` 2 the probe's sums are added to ``acc``
    (:func:`_tail_leaf`)."""
    n = x.size
    if n <= 128:
        if not mode:
            return 0.0 + _block_sum(x, 0, n)  # NumPy adds the sum to an output of +0.0
        _data_leaf(x, norm, buf, 0, n, leaf)
        if mode == 2:
            _tail_leaf(n, leaf, acc)
        return 0.0 + _block_sum(leaf[0], 0, n)
    s_lo, s_n, s_done = stack[0], stack[1], stack[2]
    sp = 1
    s_lo[0], s_n[0], s_done[0] = 0, n, 0
    vp = 0
    while sp > 0:
        sp -= 1
        lo, m, done = s_lo[sp], s_n[sp], s_done[sp]
        if m <= 128:
            if mode:
                _data_leaf(x, norm, buf, lo, m, leaf)
                if mode == 2:
                    _tail_leaf(m, leaf, acc)
                vals[vp] = _block_sum(leaf[0], 0, m)
            else:
                vals[vp] = _block_sum(x, lo, m)
            vp += 1
        elif done == 0:
            n2 = m // 2
            n2 -= n2 % 8
            s_lo[sp], s_n[sp], s_done[sp] = lo, m, 1  # add the halves once both are done
            s_lo[sp + 1], s_n[sp + 1], s_done[sp + 1] = lo + n2, m - n2, 0
            s_lo[sp + 2], s_n[sp + 2], s_done[sp + 2] = lo, n2, 0  # the left half first
            sp += 3
        else:
            vals[vp - 2] = vals[vp - 2] + vals[vp - 1]
            vp -= 1
    return 0.0 + vals[0]  # (a sum of -0.0 terms is +0.0 in NumPy, as here)


@njit
def data_value(zw, norm, buf, stack, vals, mode, acc, leaf):
    """``sum_i a_i / (1 + exp(-t a_i))`` with ``a = zw / norm`` from ``buf = exp(-t a)``
    (NumPy's ``exp``), as :meth:`gdnp.problems.EmpiricalHalfspace._logistic_sum` computes
    it: ``buf + 1``, the terms ``a / (buf + 1)``, NumPy's pairwise sum; the same operations
    in the same order, in one pass that writes nothing back (each block's margins and terms
    are formed in ``leaf``, 3 x 128, just before they are summed; the margins are never
    stored). ``mode`` 2 also adds the probe's sums to ``acc`` (:func:`_tail_leaf`)."""
    return _pairwise(zw, stack, vals, buf, mode, acc, leaf, norm)


@njit
def _block_sum_and_spread(x, lo, n):
    """:func:`_block_sum` of ``x[lo:lo + n]`` and of ``(1 - x) x`` there, the second's terms
    formed as they are added (``np.multiply(np.subtract(1.0, x), x)``'s numbers): two sets
    of eight accumulators in one loop, whose chains interleave."""
    if n < 8:
        res = 0.0
        res2 = 0.0
        for i in range(lo, lo + n):
            v = x[i]
            res += v
            res2 += (1.0 - v) * v
        return res, res2
    y = x[lo:lo + n]
    r0, r1, r2, r3, r4, r5, r6, r7 = y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7]
    q0, q1, q2, q3 = (1.0 - r0) * r0, (1.0 - r1) * r1, (1.0 - r2) * r2, (1.0 - r3) * r3
    q4, q5, q6, q7 = (1.0 - r4) * r4, (1.0 - r5) * r5, (1.0 - r6) * r6, (1.0 - r7) * r7
    k, m = np.uint64(8), np.uint64(n - n % 8)
    u1, u2, u3, u4 = np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4)
    u5, u6, u7 = np.uint64(5), np.uint64(6), np.uint64(7)
    while k < m:
        v0, v1, v2, v3 = y[k], y[k + u1], y[k + u2], y[k + u3]
        v4, v5, v6, v7 = y[k + u4], y[k + u5], y[k + u6], y[k + u7]
        r0 += v0
        r1 += v1
        r2 += v2
        r3 += v3
        r4 += v4
        r5 += v5
        r6 += v6
        r7 += v7
        q0 += (1.0 - v0) * v0
        q1 += (1.0 - v1) * v1
        q2 += (1.0 - v2) * v2
        q3 += (1.0 - v3) * v3
        q4 += (1.0 - v4) * v4
        q5 += (1.0 - v5) * v5
        q6 += (1.0 - v6) * v6
        q7 += (1.0 - v7) * v7
        k += np.uint64(8)
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    res2 = ((q0 + q1) + (q2 + q3)) + ((q4 + q5) + (q6 + q7))
    for i in range(n - n % 8, n):
        v = y[i]
        res += v
        res2 += (1.0 - v) * v
    return res, res2


@njit
def sum_and_spread(x, stack, vals, vals2):
    """``(sum x, sum (1 - x) x)``, each NumPy's pairwise sum (``np.add.reduce``) operation
    for operation, in one pass over ``x`` (the second's terms never stored): the logistic
    ``c1``'s two sums from ``sigma`` (theory guide §4). ``stack``, ``vals``: as
    :func:`pairwise_into`; ``vals2`` the second sum's. (The walk over the tree is
    :func:`_pairwise`'s, written out again: as a mode of that function it had made the data
    search's value twice as slow, 11 to 22 us at ``n = 3e4``, its blocks no longer
    compiled as tightly.)"""
    n = x.size
    if n <= 128:
        a, b = _block_sum_and_spread(x, 0, n)
        return 0.0 + a, 0.0 + b
    s_lo, s_n, s_done = stack[0], stack[1], stack[2]
    sp = 1
    s_lo[0], s_n[0], s_done[0] = 0, n, 0
    vp = 0
    while sp > 0:
        sp -= 1
        lo, m, done = s_lo[sp], s_n[sp], s_done[sp]
        if m <= 128:
            vals[vp], vals2[vp] = _block_sum_and_spread(x, lo, m)
            vp += 1
        elif done == 0:
            n2 = m // 2
            n2 -= n2 % 8
            s_lo[sp], s_n[sp], s_done[sp] = lo, m, 1
            s_lo[sp + 1], s_n[sp + 1], s_done[sp + 1] = lo + n2, m - n2, 0
            s_lo[sp + 2], s_n[sp + 2], s_done[sp + 2] = lo, n2, 0
            sp += 3
        else:
            vals[vp - 2] = vals[vp - 2] + vals[vp - 1]
            vals2[vp - 2] = vals2[vp - 2] + vals2[vp - 1]
            vp -= 1
    return 0.0 + vals[0], 0.0 + vals2[0]


@numba.njit(cache=True, error_model="numpy")
def _numpy_exp(buf):
    """``buf = exp(buf)`` in place by NumPy's own ``exp`` (an object-mode block: NumPy's
    vectorised ``exp``, which the Python search uses, differs from compiled code's in the
    last bit of some values)."""
    with numba.objmode():
        np.exp(buf, out=buf)


@njit
def scaled_margins(zw, norm, t, buf):
    """For a new direction: ``buf = a * (-t)`` with its margins ``a = zw / norm`` (NumPy's
    division, the same numbers; :func:`_scaled_times`, for a first probe at ``t``) and ``max
    |a|`` (NaN if a value is NaN, as ``max(max(a), -min(a))`` is) in two vectorised passes:
    the maximum of ``|zw|`` is taken over the bit patterns with the sign cleared, which order
    as the magnitudes do, a NaN's above infinity's, and divided by ``norm > 0`` after (a
    correctly rounded division is monotone: ``fl(max |zw| / norm) = max fl(|zw_i| /
    norm)``)."""
    _scaled_times(zw, norm, t, buf)
    bits = zw.view(np.int64)
    mask = np.int64(0x7FFFFFFFFFFFFFFF)
    top = np.int64(0)
    for i in range(bits.size):
        top = max(top, bits[i] & mask)
    if top > np.int64(0x7FF0000000000000):
        return math.nan
    return np.array([top]).view(np.float64)[0] / norm


@njit
def _scaled_times(zw, norm, t, buf):
    """``buf = (zw / norm) * (-t)``, as ``np.multiply(zw / norm, -t, out=buf)``."""
    m = -t
    for i in range(zw.size):
        buf[i] = (zw[i] / norm) * m


@njit
def terms(t, a0, c, buf, sig):
    """``buf = c_k expit(t a_k)`` as the NumPy kernel computes them (``sig`` the
    ``expit`` values). The nodes are sorted, so for ``t > 0`` those with ``t a_k >= 37``
    (where ``expit`` is exactly 1.0) form a tail, set without ``exp``; ``expit`` of the
    others is ``1 / (1 + exp(-t a_k))``, scipy's formula."""
    n = a0.size
    head = n
    if t > 0.0:
        while head > 0 and t * a0[head - 1] >= 37.0:
            head -= 1
    for k in range(head):
        s = 1.0 / (1.0 + math.exp(-(t * a0[k])))
        sig[k] = s
        buf[k] = s * c[k]
    for k in range(head, n):
        sig[k] = 1.0
        buf[k] = c[k]  # 1.0 * c_k


@njit
def value(t, a0, c, buf, sig, stack, vals):
    terms(t, a0, c, buf, sig)
    return pairwise_into(buf, stack, vals)

@njit
def probe(t, a0, c, buf, sig, stack, vals):
    """``(S(t), (P + N)(t), S'(t))``: the plain value, then the two sums of the locator's
    probe (``sum |c_k s_k|`` and ``sum a_k (1 - s_k) c_k s_k``)."""
    terms(t, a0, c, buf, sig)
    v = pairwise_into(buf, stack, vals)
    scale = 0.0
    slope = 0.0
    for k in range(a0.size):
        tk = buf[k]
        scale += abs(tk)
        slope += a0[k] * ((1.0 - sig[k]) * tk)
    return v, scale, slope

@njit
def take(t, v, sc, sp, g0, index, edge_lo, edge_hi, best_step, best, reach, k_sum, max_abs,
         max_abs_all, n_terms, tiny, mass_small, slope_small, fused):
    """``take`` of :func:`gdnp.bisection._bisect_located`: a probe ``index`` at ``t`` (value
    ``v``, ``P + N = sc``, ``S' = sp``, carried over the growth ``g0``) moves the edge on its
    side where it certifies, and becomes the best probe where its Newton step is shortest."""
    if v < 0.0:
        if t > edge_lo and taylor.certifies_probe(t, v, sc, sp, reach, g0, k_sum, max_abs,
                                                  max_abs_all, n_terms, tiny, mass_small,
                                                  slope_small, fused):
            edge_lo = t
    elif v > 0.0 and t < edge_hi and taylor.certifies_probe(
            t, v, sc, sp, reach, g0, k_sum, max_abs, max_abs_all, n_terms, tiny, mass_small,
            slope_small, fused):
        edge_hi = t
    if sp > 0.0 and abs(v) < best_step * sp:
        best_step, best = abs(v) / sp, index
    return edge_lo, edge_hi, best_step, best


@njit
def _newton_error(step, slope, curv, read, max_abs):
    """:func:`gdnp.bisection._newton_error` (``read``: whether the curvature envelope
    ``curv`` has been read for this probe)."""
    if not read:
        return step * step * max_abs
    if not slope > 0.0:
        return math.inf
    grow = math.exp(min(abs(step) * max_abs, 50.0))
    return 0.5 * step * step * abs(curv) * grow * grow / slope


# not nogil: on data it calls NumPy (_numpy_exp, an object-mode block), which needs the GIL
@numba.njit(cache=True, error_model="numpy")
def located(a0, c, acc, buf, work, stack, vals, table, leaf, data, prefilled, a, b, maxiter,
            xtol, start, k_sum, max_abs, max_abs_all, n_terms, tiny, mass_small, slope_small,
            out, norm):
    """:func:`gdnp.bisection._bisect_located` with a :class:`MassRatioLocator`, compiled. On
    the Gaussian nodes (``data`` false: ``a0`` the nodes, ``c`` their weights times ``a0``)
    it evaluates ``S`` itself. On data (``data`` true: ``a0 / norm`` the margins ``a_i``, the sum
    divided by ``n``, the probe's ``S'`` fused and its curvature envelope read), at each
    length ``t`` where it needs ``S`` it writes ``buf = -t a``, calls NumPy's ``exp`` on
    ``buf`` in place (an object-mode block: NumPy's vectorised ``exp``, which plain bisection
    uses, cannot be reproduced bit for bit in compiled code), and :func:`data_value`
    finishes the plain value as the Python search does, with the probe's sums in ``acc``
    (four floats) in the same pass (``leaf``: its 3 x 128 work array; ``work``, of the size
    of ``a0``, is the population's). ``prefilled``: a length ``t`` whose ``-t a`` ``buf``
    already holds for the first probe (:func:`scaled_margins`), else NaN. ``table`` (7 x 40)
    holds the probes. ``out`` receives status 0 and ``(a, b, halvings, evaluations, certified
    signs, band values)``, or status 1: the Python search must run."""
    n = a0.size
    fused = data
    out[0] = 1.0
    reach = max(abs(a), abs(b))
    inf = math.inf
    # probes: t, S, P + N, S', growth of the last two (1.0: computed at t), the curvature
    # envelope and whether it has been read
    cap = table.shape[1]
    pt, pv, psc, psp, pg, pcv, pread = table[0], table[1], table[2], table[3], table[4], \
        table[5], table[6]  # (pread: 1.0 once the curvature envelope is read)
    pread[:] = 0.0
    npr = 0
    edge_lo, edge_hi = -inf, inf
    best_step, best = inf, -1
    nfev = 0
    fresh = False  # the last evaluation was a full probe (its curvature can be read)

    m = 0.5 * (a + b)
    if not (maxiter > 0 and a < m < b and b - a > xtol):
        return
    widen = 1.15
    final = max(math.ldexp(b - a, -maxiter), xtol)
    t_first, t_second = start if (start == start and a < start < b) else m, inf
    near = -1
    for rounds in range(17):
        # the probes of the last step (the first: at the start); then at most 16 steps
        for which in range(2):
            tt = t_first if which == 0 else t_second
            if tt == inf:
                continue
            if npr + 1 > cap:
                return
            tcv = math.nan
            if data:
                if not (npr == 0 and tt == prefilled):
                    _scaled_times(a0, norm, tt, buf)
                _numpy_exp(buf)
                acc[:] = 0.0
                s = data_value(a0, norm, buf, stack, vals, 2 if near < 0 else 1, acc, leaf)
                if s == 0.0:  # an exact 0 may be underflow: the Python search's fallback
                    return
                tv = s / n
                if near < 0:
                    tsc, tsp, tcv = acc[2] / n, (acc[0] - acc[1]) / n, acc[3] / n
            elif near < 0:
                tv, tsc, tsp = probe(tt, a0, c, buf, work, stack, vals)
            else:
                tv = value(tt, a0, c, buf, work, stack, vals)
            if near < 0:
                tg = 1.0
            else:
                tsc, tsp = psc[near], psp[near]
                tg = pg[near] * math.exp(abs(tt - pt[near]) * max_abs)
            nfev += 1
            fresh = near < 0
            if not math.isfinite(tv):
                return
            pt[npr], pv[npr], psc[npr], psp[npr], pg[npr] = tt, tv, tsc, tsp, tg
            pcv[npr], pread[npr] = tcv, 0.0
            edge_lo, edge_hi, best_step, best = take(
                tt, tv, tsc, tsp, tg, npr, edge_lo, edge_hi, best_step, best, reach, k_sum,
                max_abs, max_abs_all, n_terms, tiny, mass_small, slope_small, fused)
            npr += 1
            if edge_lo >= b or edge_hi <= a:  # a sign certified on the whole bracket: no
                return  # root in it (the Python search expands it, as plain bisection does)
        # the next step
        lo, hi = edge_lo, edge_hi
        if rounds == 16:
            break
        if best < 0:
            break
        x, v, sc, sp, g0 = pt[best], pv[best], psc[best], psp[best], pg[best]
        if not math.isfinite(sp):
            break
        if not sp > 0.0:
            delta = inf
        else:  # MassRatioLocator.band
            delta = ((2.0 * k_sum + 18.0) * U * sc / sp + 2.0 * U * abs(x)) * 1.02
        step = -v / sp
        allowed = max(2.5 * delta, final)
        newton_err = _newton_error(step, sp, pcv[best], pread[best] != 0.0, max_abs)
        # the curvature envelope of the last probe, read only where the slope bound alone
        # falls short (as the Python search, which computes it only then)
        readable = data and pread[best] == 0.0 and best == npr - 1 and fresh
        if readable and newton_err > 0.1 * allowed:
            pread[best] = 1.0
            newton_err = _newton_error(step, sp, pcv[best], True, max_abs)
            readable = False
        if g0 == 1.0 and newton_err <= 0.1 * allowed:
            for _attempt in range(2):
                curv = pcv[best] if pread[best] != 0.0 else math.nan
                half = 1.05 * delta + newton_err
                x_l, x_r = x + step - half, x + step + half
                if lo < x_l and taylor.certifies_virtual(
                        x, v, sc, sp, x_l, reach, -1, curv, k_sum, max_abs, max_abs_all,
                        n_terms, tiny, mass_small, slope_small, fused):
                    edge_lo = lo = x_l
                if x_r < hi and taylor.certifies_virtual(
                        x, v, sc, sp, x_r, reach, 1, curv, k_sum, max_abs, max_abs_all,
                        n_terms, tiny, mass_small, slope_small, fused):
                    edge_hi = hi = x_r
                if hi - lo <= allowed or not readable:
                    break
                pread[best] = 1.0
                newton_err = _newton_error(step, sp, pcv[best], True, max_abs)
                readable = False
            if hi - lo <= allowed:
                break
        r = x + step
        if not lo < r < hi:
            if not (math.isfinite(lo) and math.isfinite(hi)):
                break
            r = 0.5 * (lo + hi)
        if npr < 2:
            newton = inf
        else:
            t0, s0 = pt[npr - 2], psp[npr - 2]
            t1, s1 = pt[npr - 1], psp[npr - 1]
            newton = 2.0 * abs(s1 - s0) / abs(t1 - t0) * step * step / sp \
                if t1 != t0 else inf
        if newton > widen * delta:  # still far: a Newton step
            if not lo < r < hi:
                break
            t_first, t_second = r, inf
            near = -1
            continue
        # Newton's point is within the band's scale: straddle the root
        half = widen * delta
        widen *= 4.0
        left = r - half if (r - lo > 4.0 * half and lo < r - half) else inf
        right = r + half if (hi - r > 4.0 * half and r + half < hi) else inf
        if left == inf and right == inf:
            break
        first = right if left == inf else left
        near = best if (g0 == 1.0 and abs(first - x) * max_abs <= 1e-3) else -1
        t_first, t_second = left, right
    # the bracket ends: certified (else the Python search evaluates them)
    if not (a <= edge_lo and b >= edge_hi):
        return
    ncert = 2
    # plain bisection's halvings (gdnp.bisection._walk)
    lo, hi = a, b
    nit = 0
    decided = 0
    while nit < maxiter and hi - lo > xtol:
        m = 0.5 * (lo + hi)
        if m <= lo or m >= hi:
            break
        nit += 1
        if m <= edge_lo:
            lo = m
            decided += 1
            continue
        if m >= edge_hi:
            hi = m
            decided += 1
            continue
        # inside the rounding band: the plain value (a probe's, if one was made at m)
        fm = math.nan
        for j in range(npr):
            if pt[j] == m:
                fm = pv[j]
        if fm != fm:
            if data:
                _scaled_times(a0, norm, m, buf)
                _numpy_exp(buf)
                s = data_value(a0, norm, buf, stack, vals, 1, acc, leaf)
                if s == 0.0:
                    return
                fm = s / n
            else:
                fm = value(m, a0, c, buf, work, stack, vals)
            nfev += 1
            if not math.isfinite(fm):
                return
            if npr < cap:  # (a later midpoint is never this one; kept for completeness)
                pt[npr], pv[npr] = m, fm
                npr += 1
        if fm < 0.0:
            lo = m
        elif fm > 0.0:
            hi = m
        else:
            lo = hi = m
            break
    out[0], out[1], out[2], out[3] = 0.0, lo, hi, nit
    out[4], out[5], out[6] = nfev, ncert + decided, nit - decided


@njit
def search(xi, omega, ma, sa, a, b, maxiter, xtol, start, k_sum, max_abs, max_abs_all,
           n_terms, tiny, mass_small, slope_small):
    """:func:`located` on the Gaussian nodes ``a_k = ma + sa xi_k``: status 0 and ``(a, b,
    halvings, evaluations, certified signs, band values)``, or status 1 (the Python search
    must run)."""
    n = xi.size
    a0 = sa * xi
    for k in range(n):
        a0[k] = ma + a0[k]  # ma + sa * xi, as NumPy forms it
    c = omega * a0
    out = np.empty(7)
    located(a0, c, c, np.empty(n), np.empty(n), np.empty((3, 192), np.int64), np.empty(96),
            np.empty((7, 40)), np.empty((3, 1)), False, math.nan, a, b, maxiter, xtol, start,
            k_sum, max_abs, max_abs_all, n_terms, tiny, mass_small, slope_small, out, 1.0)
    return (int(out[0]), out[1], out[2], int(out[3]), int(out[4]), int(out[5]), int(out[6]))
