"""The compiled kernels of :mod:`gdnp._jit` (imported only where numba is installed).

Top-level functions, so that numba's on-disk cache keeps them between processes.
"""

from __future__ import annotations

import math

import numba
import numpy as np

U = 2.0 ** -53
njit = numba.njit(cache=True, nogil=True, error_model="numpy")


@njit
def _block_sum(x, lo, n):
    """NumPy's sum of at most 128 contiguous values: eight accumulators, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += x[i]
        return res
    r0, r1, r2, r3 = x[lo], x[lo + 1], x[lo + 2], x[lo + 3]
    r4, r5, r6, r7 = x[lo + 4], x[lo + 5], x[lo + 6], x[lo + 7]
    i = 8
    m = n - n % 8
    while i < m:
        r0 += x[lo + i]
        r1 += x[lo + i + 1]
        r2 += x[lo + i + 2]
        r3 += x[lo + i + 3]
        r4 += x[lo + i + 4]
        r5 += x[lo + i + 5]
        r6 += x[lo + i + 6]
        r7 += x[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += x[lo + i]
        i += 1
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
    n = x.size
    if n <= 128:
        return 0.0 + _block_sum(x, 0, n)  # NumPy adds the sum to an output of +0.0
    s_lo, s_n, s_done = stack[0], stack[1], stack[2]
    sp = 1
    s_lo[0], s_n[0], s_done[0] = 0, n, 0
    vp = 0
    while sp > 0:
        sp -= 1
        lo, m, done = s_lo[sp], s_n[sp], s_done[sp]
        if m <= 128:
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
def probe_bounds(t, scale, slope, growth0, k_sum, max_abs, max_abs_all, n_terms, tiny,
                 mass_small, slope_small):
    """MassRatioLocator.probe_bounds (fused_slope False)."""
    ax = abs(t) if growth0 == 1.0 else abs(t) + math.log(growth0) / max_abs
    spread = ax * max_abs_all
    eta = (n_terms + 9.0 + spread) * U
    scale_hi = scale * (1.0 + eta) + tiny
    scale_lo = scale * (1.0 - eta) - tiny
    slope_err = (5.0 * U * max_abs_all * scale_hi
                 + (n_terms + 12.0 + 2.0 * spread) * U * abs(slope) + tiny)
    slope_hi = slope + slope_err
    slope_lo = slope - slope_err
    if growth0 != 1.0:
        scale_hi = growth0 * scale_hi + mass_small
        scale_lo = scale_lo / growth0 - mass_small
        slope_hi = growth0 * slope_hi + slope_small
        slope_lo = slope_lo / growth0 - slope_small
    err = (k_sum + 9.0) * U * scale_hi + 1.001 * U * abs(t) * slope_hi + tiny
    return err, scale_lo, scale_hi, slope_lo, slope_hi

@njit
def certifies_beyond(t, s_lo, scale_lo, scale_hi, slope_lo, slope_hi, reach, k_sum,
                     max_abs, tiny, mass_small, slope_small):
    """MassRatioLocator._certifies_beyond."""
    at = abs(t)
    plain = (k_sum + 9.0) * U
    if not s_lo > 0.0:
        return False
    growth = 1.01
    pn_hi = growth * scale_hi + mass_small
    pn_lo = (scale_lo - mass_small) / growth
    if not pn_lo > 0.0:
        return False
    rel_reach = (k_sum + 9.0 + abs(reach) * max_abs) * U
    need = (rel_reach + 2.0 * tiny / pn_lo) * pn_hi * 1.001
    if s_lo > need:
        distance = 0.0
    else:
        min_slope = (slope_lo - slope_small) / growth
        if not min_slope > 0.0:
            return False
        distance = (need - s_lo) / min_slope
        if distance * max_abs > 0.00995:
            return False
    return s_lo > (plain * pn_hi + 1.001 * U * (at + distance)
                   * (growth * slope_hi + slope_small) + tiny)

@njit
def certifies_probe(t, v, scale, slope, reach, growth0, k_sum, max_abs, max_abs_all,
                    n_terms, tiny, mass_small, slope_small):
    err, scale_lo, scale_hi, slope_lo, slope_hi = probe_bounds(
        t, scale, slope, growth0, k_sum, max_abs, max_abs_all, n_terms, tiny, mass_small,
        slope_small)
    return certifies_beyond(t, abs(v) - err, scale_lo, scale_hi, slope_lo, slope_hi,
                            reach, k_sum, max_abs, tiny, mass_small, slope_small)

@njit
def certifies_virtual(t, v, scale, slope, x, reach, side, k_sum, max_abs, max_abs_all,
                      n_terms, tiny, mass_small, slope_small):
    """MassRatioLocator.certifies_virtual without a curvature envelope."""
    distance = abs(x - t)
    if not (distance > 0.0 and distance * max_abs <= 0.00995 and slope > 0.0):
        return False
    err, _, _, _, _ = probe_bounds(t, scale, slope, 1.0, k_sum, max_abs, max_abs_all,
                                   n_terms, tiny, mass_small, slope_small)
    growth = math.exp(distance * max_abs)
    _, scale_lo, scale_hi, slope_lo, slope_hi = probe_bounds(
        x, scale, slope, growth, k_sum, max_abs, max_abs_all, n_terms, tiny, mass_small,
        slope_small)
    if not slope_lo > 0.0:
        return False
    if side < 0:
        s_lo = -(v + err + (x - t) * (slope_hi if x > t else slope_lo))
    else:
        s_lo = v - err + (x - t) * (slope_lo if x > t else slope_hi)
    return certifies_beyond(x, s_lo, scale_lo, scale_hi, slope_lo, slope_hi, reach, k_sum,
                            max_abs, tiny, mass_small, slope_small)

@njit
def search(xi, omega, ma, sa, a, b, maxiter, xtol, start, k_sum, max_abs, max_abs_all,
           n_terms, tiny, mass_small, slope_small):
    """Status 0 and ``(a, b, halvings, evaluations, certified signs, band values)``, or
    status 1 (the Python search must run)."""
    n = xi.size
    a0 = sa * xi
    for k in range(n):
        a0[k] = ma + a0[k]  # ma + sa * xi, as NumPy forms it
    c = omega * a0
    buf = np.empty(n)
    sig = np.empty(n)
    stack = np.empty((3, 192), np.int64)  # pairwise_into's work arrays
    vals = np.empty(96)
    reach = max(abs(a), abs(b))
    inf = math.inf
    fail = (1, a, b, 0, 0, 0, 0)
    # probes: t, S, P + N, S', growth of the last two (1.0: computed at t)
    cap = 40
    pt = [0.0] * cap
    pv = [0.0] * cap
    psc = [0.0] * cap
    psp = [0.0] * cap
    pg = [1.0] * cap
    npr = 0
    edge_lo, edge_hi = -inf, inf
    best_step, best = inf, -1
    nfev = 0

    m = 0.5 * (a + b)
    if not (maxiter > 0 and a < m < b and b - a > xtol):
        return fail
    t0 = start if (start == start and a < start < b) else m
    # the first probe
    v, sc, sp = probe(t0, a0, c, buf, sig, stack, vals)
    nfev += 1
    if not math.isfinite(v):
        return fail
    pt[0], pv[0], psc[0], psp[0], pg[0] = t0, v, sc, sp, 1.0
    npr = 1
    # take(entry)
    if v < 0.0:
        if t0 > edge_lo and certifies_probe(t0, v, sc, sp, reach, 1.0, k_sum, max_abs,
                                            max_abs_all, n_terms, tiny, mass_small,
                                            slope_small):
            edge_lo = t0
    elif v > 0.0 and t0 < edge_hi and certifies_probe(
            t0, v, sc, sp, reach, 1.0, k_sum, max_abs, max_abs_all, n_terms, tiny,
            mass_small, slope_small):
        edge_hi = t0
    if sp > 0.0 and abs(v) < best_step * sp:
        best_step, best = abs(v) / sp, 0
    widen = 1.15
    final = max(math.ldexp(b - a, -maxiter), xtol)
    for _ in range(16):
        lo, hi = edge_lo, edge_hi
        if best < 0:
            break
        x, v, sc, sp, g0 = pt[best], pv[best], psc[best], psp[best], pg[best]
        if not math.isfinite(sp):
            break
        if not sp > 0.0:
            delta = inf
        else:
            delta = ((2.0 * k_sum + 18.0) * U * sc / sp + 2.0 * U * abs(x)) * 1.02
        step = -v / sp
        allowed = max(2.5 * delta, final)
        newton_err = step * step * max_abs
        if g0 == 1.0 and newton_err <= 0.1 * allowed:
            half = 1.05 * delta + newton_err
            x_l, x_r = x + step - half, x + step + half
            if lo < x_l and certifies_virtual(x, v, sc, sp, x_l, reach, -1, k_sum,
                                              max_abs, max_abs_all, n_terms, tiny,
                                              mass_small, slope_small):
                edge_lo = lo = x_l
            if x_r < hi and certifies_virtual(x, v, sc, sp, x_r, reach, 1, k_sum,
                                              max_abs, max_abs_all, n_terms, tiny,
                                              mass_small, slope_small):
                edge_hi = hi = x_r
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
            ta, sa_ = pt[npr - 2], psp[npr - 2]
            tb, sb = pt[npr - 1], psp[npr - 1]
            newton = 2.0 * abs(sb - sa_) / abs(tb - ta) * step * step / sp \
                if tb != ta else inf
        if npr + 2 > cap:
            return fail
        if newton > widen * delta:
            if not lo < r < hi:
                break
            targets = (r, inf)
            near = -1
        else:
            half = widen * delta
            widen *= 4.0
            left = r - half if (r - lo > 4.0 * half and lo < r - half) else inf
            right = r + half if (hi - r > 4.0 * half and r + half < hi) else inf
            if left == inf and right == inf:
                break
            first = right if left == inf else left
            near = best if (g0 == 1.0 and abs(first - x) * max_abs <= 1e-3) else -1
            targets = (left, right)
        for tt in targets:
            if tt == inf:
                continue
            if near < 0:
                tv, tsc, tsp = probe(tt, a0, c, buf, sig, stack, vals)
                tg = 1.0
            else:
                tv = value(tt, a0, c, buf, sig, stack, vals)
                tsc, tsp = psc[near], psp[near]
                tg = pg[near] * math.exp(abs(tt - pt[near]) * max_abs)
            nfev += 1
            if not math.isfinite(tv):
                return fail
            pt[npr], pv[npr], psc[npr], psp[npr], pg[npr] = tt, tv, tsc, tsp, tg
            if tv < 0.0:
                if tt > edge_lo and certifies_probe(tt, tv, tsc, tsp, reach, tg, k_sum,
                                                    max_abs, max_abs_all, n_terms, tiny,
                                                    mass_small, slope_small):
                    edge_lo = tt
            elif tv > 0.0 and tt < edge_hi and certifies_probe(
                    tt, tv, tsc, tsp, reach, tg, k_sum, max_abs, max_abs_all, n_terms,
                    tiny, mass_small, slope_small):
                edge_hi = tt
            if tsp > 0.0 and abs(tv) < best_step * tsp:
                best_step, best = abs(tv) / tsp, npr
            npr += 1
    # the bracket ends: certified (else the Python search evaluates them)
    if not (a <= edge_lo and b >= edge_hi):
        return fail
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
            fm = value(m, a0, c, buf, sig, stack, vals)
            nfev += 1
            if not math.isfinite(fm):
                return fail
        if fm < 0.0:
            lo = m
        elif fm > 0.0:
            hi = m
        else:
            lo = hi = m
            break
    return 0, lo, hi, nit, nfev, ncert + decided, nit - decided

