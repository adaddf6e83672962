"""The honest rate fitter (gdnp.rates.fit_rate / fit_order): window, uncertainty, labels."""

from __future__ import annotations

import numpy as np
import pytest

import gdnp
from gdnp import rates
from gdnp.problems import Halfspace

from conftest import PlainProblem

EPS = np.finfo(float).eps


def _noisy(y, sigma, seed):
    """Multiplicative log-normal noise of relative size ``sigma``."""
    return y * np.exp(sigma * np.random.default_rng(seed).standard_normal(y.size))


@pytest.mark.parametrize("r", [0.5, 0.97, 0.999])
@pytest.mark.parametrize("sigma", [0.0, 0.05])
def test_geometric_is_linear_with_its_rate(r, sigma):
    n = int(min(40 / (1 - r), 20000))
    t = np.arange(n + 1)
    y = _noisy(3.0 * r**t, sigma, seed=1)
    fit = rates.fit_rate(t, y)
    assert fit["kind"] == "linear", fit
    # the true 1 - r lies within 4 standard errors (plus rounding for sigma = 0)
    assert abs(fit["one_minus_rate"] - (1 - r)) <= 4 * fit["one_minus_rate_se"] + 1e-9 * (1 - r)
    assert fit["window"][1] >= 0.99 * n  # noise: the last new minimum may come a bit early


@pytest.mark.parametrize("p", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("sigma", [0.0, 0.05])
def test_power_law_is_sublinear_with_its_order(p, sigma):
    t = np.arange(1, 4001)
    fit = rates.fit_rate(t, _noisy(5.0 / t**p, sigma, seed=2))
    assert fit["kind"] == "sublinear", fit
    assert abs(fit["order"] - p) <= 4 * fit["order_se"] + 1e-9


def test_rounding_floor_ends_the_window():
    """Geometric to 1e-14, then noise around a floor: the window stops at the floor."""
    t = np.arange(3000)
    y = 0.98**t
    rng = np.random.default_rng(3)
    noise = 1e-15 * (1 + rng.random(t.size))
    y = np.where(y > 1e-15, y, noise)
    floor = 1e3 * EPS * 1e-2  # the floor a gap of f* = 1e-2 would get
    fit = rates.fit_rate(t, y, floor=floor)
    assert fit["kind"] == "linear"
    assert fit["rate"] == pytest.approx(0.98, rel=1e-9)
    assert fit["window"][1] < np.log(floor) / np.log(0.98) + 1
    # without the floor the noisy tail is fitted and the label is no longer "linear"
    assert rates.fit_order(t, y)["kind"] != "linear"


def test_bounce_at_the_end_is_cut():
    """A geometric run whose gap bounces up over its last iterations (the AGD pattern)."""
    t = np.arange(1000)
    y = 0.97**t
    y[900:] = y[899] * (1 + 50 * np.sin(np.linspace(0, 3, 100)) ** 2)
    fit = rates.fit_rate(t, y)
    assert fit["kind"] == "linear" and fit["window"][1] <= 900
    assert fit["rate"] == pytest.approx(0.97, rel=1e-9)


def test_undetermined_when_laws_indistinguishable():
    """Over a short, noisy window both laws fit: the fitter says so instead of guessing."""
    t = np.arange(1000, 1041)
    fit = rates.fit_rate(t, _noisy(1.0 / t, 0.2, seed=4), tail=1.0)
    assert fit["kind"] == "undetermined", fit
    # too few points, a flat history, or nothing above the floor: undetermined as well
    assert rates.fit_rate(np.arange(4), 0.5 ** np.arange(4))["kind"] == "undetermined"
    assert rates.fit_rate(np.arange(100), np.ones(100))["kind"] == "undetermined"
    assert rates.fit_rate(np.arange(10), np.zeros(10))["kind"] == "undetermined"


@pytest.mark.parametrize("kind,seq", [("linear", lambda t: 0.99**t),
                                      ("sublinear", lambda t: 1.0 / (1 + t) ** 1.5)])
def test_label_stable_when_window_doubles(kind, seq):
    for n in (2000, 4000, 8000):
        t = np.arange(n)
        y = _noisy(seq(t), 0.02, seed=n)
        y = np.where(y > 1e-300, y, 1e-300)
        assert rates.fit_rate(t, y, floor=1e-280)["kind"] == kind


def test_fit_order_keeps_its_signature_and_keys():
    t = np.arange(1, 400)
    fit = rates.fit_order(t, 3.0 * 0.97**t, 0.5, 0.0)
    assert {"kind", "rate", "order", "n", "rss_linear", "rss_sublinear"} <= set(fit)
    assert fit["kind"] == "linear" and fit["rate"] == pytest.approx(0.97, rel=1e-10)


def test_bad_arguments():
    t = np.arange(10.0)
    with pytest.raises(ValueError, match="tail"):
        rates.fit_rate(t, t, tail=0.0)
    with pytest.raises(ValueError, match="level"):
        rates.fit_rate(t, t, level=1.0)
    with pytest.raises(ValueError, match="dominance"):
        rates.fit_rate(t, t, dominance=1.0)
    with pytest.raises(ValueError, match="min_points"):
        rates.fit_rate(t, t, min_points=2)
    with pytest.raises(ValueError, match="iters and gaps"):
        rates.fit_rate(t, t[:5])


@pytest.mark.slow
def test_gdnp_run_label_stable_when_window_doubles():
    """A real GDNP run on the Gaussian halfspace: linear over 300 and over 600 steps (the
    600-step run reaches the rounding floor, so its window ends there); the fitted rate moves
    by ~1e-4 between the windows (the transient still fading at 150-300)."""
    prob = Halfspace.random(10, 100, separation=0.9, seed=0)
    f_star = prob.solution()[1]
    floor = 1e3 * EPS * abs(f_star)
    fits = []
    for n in (300, 600):
        h = gdnp.solve(prob, "gdnp", maxiter=n, tol=0.0).history
        fits.append(rates.fit_rate(h["iter"], h["gap"], floor=floor))
    assert [f["kind"] for f in fits] == ["linear", "linear"]
    assert fits[0]["rate"] == pytest.approx(fits[1]["rate"], abs=5e-4)


def test_f_quantile_is_scipy_stats_without_importing_it():
    """The F test's critical value is ``scipy.stats.f.ppf`` bit for bit, and fitting a rate
    (every figure, claim and sweep does) leaves ``scipy.stats`` unimported (about a second)."""
    import subprocess
    import sys

    from scipy import stats

    t = np.arange(1, 200)
    for level in (0.9, 0.99, 0.999):
        fit = gdnp.rates.fit_rate(t, t ** -1.5 * (1 + 0.01 * np.sin(t)), level=level)
        assert fit["n"] > 6
        assert fit["F_crit"] == stats.f.ppf(level, 1, fit["n"] - 3)
    code = ("import sys, numpy as np, gdnp; t = np.arange(100); "
            "gdnp.rates.fit_rate(t, 0.9 ** t); print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("iters, gaps, exc, match", [
    ("abc", "def", TypeError, "iters must be a numeric array"),
    (np.arange(5), ["a"] * 5, TypeError, "gaps must be a numeric array"),
    (np.arange(5), np.ones(5) + 1j, TypeError, "gaps must be real"),
    ([0.0, np.nan, 2.0, 3.0], 0.5 ** np.arange(4), ValueError, "iters contains 1 NaN"),
    ([0.0, 1.0, np.inf], [1.0, 0.5, 0.25], ValueError, "iters contains 1 NaN or infinite"),
    ([], [1.0], ValueError, "iters and gaps must be 1-D arrays of one length"),
    ([3.0, 2.0, 1.0, 0.0], 0.5 ** np.arange(4), ValueError, "iters must be in ascending order"),
])
def test_bad_histories_name_the_argument(iters, gaps, exc, match):
    """Non-numeric, non-finite, mismatched or descending iteration numbers raise (they gave
    "could not convert string to float", an IndexError or a silent nonsense fit before)."""
    for fit in (rates.fit_rate, rates.fit_order):
        with pytest.raises(exc, match=match):
            fit(iters, gaps)
    with pytest.raises(exc, match=match):
        rates.fit_window(iters, gaps)


@pytest.mark.parametrize("kw, exc, match", [
    ({"floor": np.nan}, ValueError, "floor must be a finite number >= 0"),
    ({"floor": -1.0}, ValueError, "floor must be a finite number >= 0"),
    ({"floor": "0"}, TypeError, "floor must be a real number"),
    ({"tail": np.nan}, ValueError, "tail"),
    ({"tail": "half"}, TypeError, "tail must be a real number"),
    ({"level": "0.99"}, TypeError, "level must be a real number"),
    ({"dominance": None}, TypeError, "dominance must be a real number"),
    ({"min_points": 6.5}, TypeError, "min_points must be an integer"),
])
def test_bad_options_name_the_argument(kw, exc, match):
    t = np.arange(20)
    with pytest.raises(exc, match=match):
        rates.fit_rate(t, 0.9**t, **kw)


def test_empty_and_short_histories_are_undetermined():
    """An empty history is a valid one with nothing to fit (a run that recorded nothing): the
    documented "undetermined", as for any history too short to classify; a run that blew up
    (NaN or inf gaps) ends the window there instead of raising."""
    for iters, gaps in (([], []), (np.array([]), np.array([])), ([0], [1.0])):
        fit = rates.fit_rate(iters, gaps)
        assert fit["kind"] == "undetermined" and fit["n"] == 0
        assert fit["reason"].startswith("fewer than 2 points in the window")
        start, stop = rates.fit_window(iters, gaps)
        assert stop - start < 2  # nothing to fit
    t = np.arange(100)
    y = 0.9**t
    y[60:] = np.nan
    fit = rates.fit_rate(t, y)
    assert fit["kind"] == "linear" and fit["window"][1] == 59


def test_rule_two_names_a_noisy_power_law_but_not_a_geometric_law_with_stalls():
    """Where the F-test rejects the geometric law and not the power law, the power law is
    named unless its local order visibly moves: 5% noise on t^-p still reads sublinear at its
    order, while a geometric law whose stalls hide it from the F-test (restarted AGD on Beale's
    function had read "order 11.4" over t2/t1 = 2) reads undetermined."""
    t = np.arange(1, 4001)
    for p in (0.5, 1.0, 2.0):
        fit = rates.fit_rate(t, _noisy(5.0 / t**p, 0.05, seed=2))
        assert fit["kind"] == "sublinear" and abs(fit["order"] - p) <= 4 * fit["order_se"]
        assert fit["reason"] == "the geometric law is rejected, the power law is not"

    class Beale(PlainProblem):  # a non-degenerate minimum at (3, 1/2): locally linear
        def __init__(self):
            self.dim, self.S, self.u = 2, np.eye(2), None
            self.smoothness = self.strong_convexity = self.length_smoothness = None

        def value_and_grad(self, x):
            x, y = self.check_x(x)
            r = [c - x + x * y ** (i + 1) for i, c in enumerate((1.5, 2.25, 2.625))]
            return (float(sum(ri ** 2 for ri in r)),
                    np.array([sum(2 * r[i] * (y ** (i + 1) - 1) for i in range(3)),
                              sum(2 * r[i] * x * (i + 1) * y ** i for i in range(3))]))

        def _reference_solution(self):
            return np.array([3.0, 0.5]), 0.0

    res = gdnp.solve(Beale(), "agd", x0=np.array([1.0, 1.0]), maxiter=20000, tol=1e-6)
    fit = rates.fit_rate(res.history["iter"], res.history["gap"])
    assert fit["F_sublinear"] <= fit["F_crit"] < fit["F_linear"]  # rule 2's case
    assert fit["kind"] == "undetermined" and "the local order moves" in fit["reason"]


def test_a_noisy_plateau_needs_the_floor():
    """As the docstring says: noise on a plateau keeps setting new running minima, so without
    a floor the window runs into it (one seed of five had then named the bend a power law of
    order 13.5, until rule 2 checked the local order: its quarters read 11.1, 13.3, 15.7 and
    6.63); with the plateau's level as the floor every seed is linear at the true rate."""
    t = np.arange(300.0)
    kinds = []
    for seed in range(5):
        noise = 1.0 + 1e-3 * np.random.default_rng(seed).standard_normal(t.size)
        gaps = np.maximum(0.9**t, 1e-8) * noise
        kinds.append(rates.fit_rate(t, gaps)["kind"])
        fit = rates.fit_rate(t, gaps, floor=1.01e-8)
        assert fit["kind"] == "linear"
        assert fit["one_minus_rate"] == pytest.approx(0.1, rel=1e-3)  # 1e-3 noise
    assert kinds == ["undetermined"] * 5


def test_fit_reports_the_decades_of_its_window_and_figures_mark_short_ones():
    """``decades`` is log10 of the gap's fall over the fitted points; a linear fit over less
    than one decade is marked in the figures (weak evidence of an asymptotic rate)."""
    from gdnp.plots.style import fit_text, short_window

    t = np.arange(100)
    fit = rates.fit_rate(t, 0.9 ** t)
    lo, hi = fit["window"]
    assert fit["decades"] == pytest.approx((hi - lo) * np.log10(1 / 0.9), rel=1e-12)
    assert short_window(fit) == ""
    slow = rates.fit_rate(t, 0.999 ** t)
    assert slow["kind"] == "linear" and slow["decades"] < 1
    assert fit_text(slow).endswith(f"(over {np.floor(slow['decades'] * 100) / 100:g} decades)")
    # rounded down: short of a decade never reads as one; a gap that rose is said so
    assert short_window({"decades": 0.999}) == " (over 0.99 decades)"
    assert short_window({"decades": 0.004}) == " (over less than 0.01 decades)"
    assert short_window({"decades": -0.3}) == " (the gap did not fall)"


def test_rate_summaries_fill_only_fits_linear_over_a_decade():
    from gdnp.plots.style import linear_over_a_decade

    filled = linear_over_a_decade(["linear", "linear", "sublinear", "undetermined"],
                                  [2.0, 0.5, 3.0, 3.0])
    assert filled.tolist() == [True, False, False, False]


def test_a_bad_gap_that_ends_the_window_is_named():
    """A NaN (a log of 0) or an exact 0 at the first record of a geometric history: the
    reason names it instead of blaming the floor or the history's shape."""
    from gdnp import rates

    t = np.arange(1, 41)
    g = 0.9 ** t
    for bad in (np.nan, 0.0, -1.0):
        out = rates.fit_rate(t, np.r_[bad, g[1:]])
        assert out["kind"] == "undetermined"
        assert f"position 0 (t = 1), where the gap is {bad!r}" in out["reason"]
    out = rates.fit_rate(t, np.r_[g[:3], np.nan, g[4:]])
    assert "position 3 (t = 4), where the gap is nan" in out["reason"]
    assert "where the gap" not in rates.fit_rate(t, g)["reason"]
    # a bad gap after a window that the running minimum or the floor ended is not named
    tail = rates.fit_rate(range(8), [1, .5, .25, .3, .4, .5, .6, np.nan])
    assert tail["kind"] == "undetermined" and "where the gap" not in tail["reason"]
    floor = rates.fit_rate(range(6), [1, .5, 1e-17, 1e-18, 0, 0], floor=1e-16)
    assert floor["kind"] == "undetermined" and "where the gap" not in floor["reason"]


def test_a_short_pre_asymptotic_window_is_undetermined_not_sublinear():
    """A sum of geometric modes slowing down (the fast ones dying out) bends like a power law
    over a short window: both laws are rejected, the power law less badly. Over less than a
    decade of decrease that bend does not tell the order (rule 4 needs ``min_decades``); a
    pure power law, which is not rejected, stays sublinear over as little."""
    t = np.arange(1, 301, dtype=float)
    modes = 0.97**t + 0.3 * 0.995**t + 0.05 * 0.999**t
    fit = rates.fit_rate(t, modes)
    assert fit["decades"] < 1.0
    assert fit["kind"] == "undetermined" and "decade" in fit["reason"]
    power = rates.fit_rate(t, 1.0 / t)
    assert power["decades"] < 1.0 and power["kind"] == "sublinear"
    # a geometric run with ripples over several decades is still linear by dominance
    ripple = 0.95**t * (1.0 + 0.3 * np.sin(t))
    assert rates.fit_rate(t, ripple)["kind"] == "linear"


def test_gdnp_on_a_halfspace_is_not_called_sublinear_on_a_short_window():
    """Halfspace.random(20, 1000, separation=0.9, seed=2): GDNP converges linearly (its
    direction step is K19's OLS step, theory guide §4), but its first 300 steps are a
    pre-asymptotic 0.6 decade that the power law fits 10x better than a line; they had read
    'sublinear'. Over 3000 steps the fit is linear, at gdnp_rate's r^2."""
    import gdnp
    from gdnp.problems import Halfspace

    prob = Halfspace.random(20, 1000.0, separation=0.9, seed=2)
    floor = 1e3 * np.finfo(float).eps * abs(prob.solution()[1])
    short = gdnp.solve(prob, "gdnp", maxiter=300, tol=0.0)
    assert rates.fit_order(short.history["iter"], short.history["gap"],
                           floor=floor)["kind"] == "undetermined"
    # the verdict it had came from the RSS alone (power law 10x better); its local order
    # shrinks over the window (ratio 0.74), which names no power law over any fall now
    loose = rates.fit_order(short.history["iter"], short.history["gap"], floor=floor,
                            min_decades=0.0)
    assert loose["kind"] == "undetermined" and "not a power law's" in loose["reason"]
    long = gdnp.solve(prob, "gdnp", maxiter=3000, tol=0.0)
    fit = rates.fit_rate(long.history["iter"], long.history["rho_gap"])
    assert fit["kind"] == "linear" and fit["decades"] > 1.0


def test_short_falls_of_power_laws_are_sublinear_by_their_local_order():
    """A power law falls 0.3 p decade over the last half of a run: with the RSS rule held back
    below a decade, O(1/t) and O(1/t^2) histories (with an offset, as GD's bound has) had read
    "undetermined" however long the run. The local order's ratio over the window (1 for a
    power law, t2/t1 for a geometric law) names them."""
    t = np.arange(2000.0)
    for gap, order in ((1.0 / (t + 1.0) ** 2, 2.0), (5.0 / (t + 3.0), 1.0)):
        fit = rates.fit_rate(t, gap)
        assert fit["decades"] < 1.0
        assert fit["kind"] == "sublinear", fit["reason"]
        assert fit["order"] == pytest.approx(order, rel=0.01)
        assert fit["order_ratio"] == pytest.approx(1.0, abs=0.01)
    # GD with a fixed step on the convex quartic x^4 / 4: gap ~ 1 / t^2
    x, gaps = 1.0, []
    for _ in range(5000):
        gaps.append(x ** 4 / 4.0)
        x -= 0.5 * x ** 3
    fit = rates.fit_rate(np.arange(5000), np.array(gaps))
    assert fit["kind"] == "sublinear" and fit["order"] == pytest.approx(2.0, rel=0.01)
    # a geometric term dominating a power law over the window: its local order grows as t,
    # but a geometric law's fall grows with the run and this one is short: not named
    fit = rates.fit_rate(t, 1.0 / (t + 1.0) + 0.999 ** t)
    assert fit["decades"] < 1.0 and fit["order_ratio"] == pytest.approx(2.0, abs=0.01)
    assert fit["kind"] == "undetermined" and "too short a fall" in fit["reason"]


def test_a_slowing_mixture_of_geometric_modes_stays_undetermined():
    """Geometric modes of spread rates, summed: over a short fall the local order's ratio lies
    between a power law's and a geometric law's, and neither is named."""
    t = np.arange(301.0)
    for lam in (np.geomspace(1e-3, 1e-1, 6), np.geomspace(3e-3, 3e-1, 8)):
        fit = rates.fit_rate(t, np.exp(-np.outer(t, lam)).sum(axis=1))
        assert fit["kind"] == "undetermined"
        assert 1.1 < fit["order_ratio"] < 1.9


def test_the_local_order_band_is_on_the_log_scale():
    """Over a long window (tail = 1, t2/t1 = 1000) a band linear in t2/t1 had taken a ratio of
    0.19 for 'constant': two geometric modes and a stretched exponential read sublinear."""
    t = np.arange(1, 1001.0)
    for gap in (0.5 * 0.99**t + 0.3 * 0.99995**t, np.exp(-0.5 * t**0.2)):
        for tail in (1.0, 0.8, 0.5):
            assert rates.fit_rate(t, gap, tail=tail)["kind"] != "sublinear"


def test_a_local_order_that_moves_inside_the_window_is_not_a_power_law():
    """The ends' ratio sees only the local order's trend: a dip inside the window (orders
    1.94, 1.71, 1.71, 1.94 on its quarters, ratio 1.04 between its ends) is undetermined,
    a shallow one (10%) still reads as the power law it nearly is."""
    t = np.arange(1, 2001.0)
    s = np.log(t)
    u = np.clip((s - np.log(1000.0)) / np.log(2.0), 0.0, 1.0)
    kinds = {}
    for depth in (0.2, 0.35):
        order = 2.0 - depth * np.sin(np.pi * u) ** 2
        y = -np.concatenate([[0.0], np.cumsum(0.5 * (order[1:] + order[:-1]) * np.diff(s))])
        fit = rates.fit_rate(t, np.exp(y))
        assert abs(np.log(fit["order_ratio"])) < 0.069  # the ends alone would name it
        kinds[depth] = (fit["kind"], fit["reason"])
    assert kinds[0.2][0] == "sublinear"
    assert kinds[0.35][0] == "undetermined" and "quarters" in kinds[0.35][1]


def test_a_superlinear_sequence_is_not_called_linear():
    """Rule 4 had named the geometric law by its RSS alone: sequences whose local rate
    ``-dlog(gap)/dt`` grows over the window (superlinear) read "linear" with a rate that was
    their average (``exp(-0.1 t - 0.002 t^2)``: the per-step factor falls from 0.497 to 0.274
    inside the window). Geometric modes slowing down, whose local rate shrinks, still read
    linear: that is linear convergence."""
    cases = [(np.arange(60.0), lambda t: np.exp(-t**2 / 10)),
             (np.arange(300.0), lambda t: np.exp(-0.1 * t - 0.002 * t**2)),
             (np.arange(1, 40.0), lambda t: t ** -t)]
    for t, gap in cases:
        fit = rates.fit_rate(t, gap(t))
        assert fit["kind"] == "undetermined", fit["reason"]
        assert "both rejected; geometric RSS" in fit["reason"]
        assert "local rate -dlog(gap)/dt grows" in fit["reason"]
    t = np.arange(400.0)
    for gap in (0.8**t + 1e-2 * 0.9**t, np.exp(-np.outer(t, [0.05, 0.1, 0.2])).sum(axis=1)):
        fit = rates.fit_rate(t, gap)
        assert fit["kind"] == "linear" and "geometric RSS" in fit["reason"]
        assert fit["order_ratio"] / (fit["window"][1] / fit["window"][0]) < 1.0  # it shrinks


def test_a_bad_gap_before_the_window_does_not_end_it():
    """The window starts at the first t > 0: an unknown (NaN) or exact 0 gap at t = 0, a start
    on the optimum's level, had emptied it."""
    g = [1, .5, .25, .125, .0625]
    for first in (np.nan, 0.0, -1.0, np.inf):
        assert rates.fit_window(range(6), [first, *g]) == (1, 6)
    t = np.arange(60.0)
    gaps = 0.9**t
    gaps[0] = np.nan
    fit = rates.fit_rate(t, gaps)
    assert fit["kind"] == "linear" and fit["one_minus_rate"] == pytest.approx(0.1, rel=1e-9)
    # a bad gap inside the window still ends it
    assert rates.fit_window(range(6), [1.0, 1.0, 0.5, np.nan, 0.1, 0.05]) == (1, 3)


def test_an_additive_plateau_needs_a_floor_several_times_its_level():
    """As fit_rate's Notes say: a plateau that adds to the gap (as rounding does) bends the
    window's end; a floor just above its level leaves the fit undetermined, one several times
    above it gives the geometric law at nearly its rate."""
    t = np.arange(300.0)
    for seed in range(3):
        noise = 1.0 + 1e-3 * np.random.default_rng(seed).standard_normal(t.size)
        gaps = 0.9**t + 1e-8 * noise
        assert rates.fit_rate(t, gaps, floor=1.01e-8)["kind"] == "undetermined"
        fit = rates.fit_rate(t, gaps, floor=5e-8)
        assert fit["kind"] == "linear"
        assert fit["one_minus_rate"] == pytest.approx(0.1, rel=0.02)
