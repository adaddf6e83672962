"""The benchmark's ablation of GDNP's length search: recorded lengths, replayed.

Replaying a run's recorded lengths must give the same iterates bit for bit (so that the
replayed run measures GDNP's iteration without its search, theory guide §4); ``nband`` counts
the midpoints a located search leaves to plain evaluation.
"""

from __future__ import annotations

import numpy as np
import pytest

import gdnp
from gdnp.decoupled import _LENGTH_TAPE, _length_tape
from gdnp.problems import OLS, Halfspace


def _problems():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((400, 5)) * np.geomspace(1.0, 10.0, 5)
    y = np.where(rng.random(400) < 1.0 / (1.0 + np.exp(-X @ rng.standard_normal(5))), 1.0,
                 -1.0)
    return {"population": Halfspace.random(6, 50.0, separation=0.95, seed=1),
            "empirical": Halfspace.from_data(X, y), "ols": OLS.random(5, 30.0, seed=2)}


@pytest.mark.parametrize("kind", ["population", "empirical", "ols"])
def test_replayed_lengths_give_the_same_iterates(kind):
    prob = _problems()[kind]
    with _length_tape() as tape:
        res = gdnp.solve(prob, "gdnp", maxiter=25, tol=0.0, reference=False, T_s=40)
    assert len(tape.searches) == res.nit  # one length update per direction step
    lengths = [g for g, _ in tape.searches]
    with _length_tape(replay=lengths) as replay:
        again = gdnp.solve(prob, "gdnp", maxiter=25, tol=0.0, reference=False, T_s=40)
    assert replay.searches == []  # nothing searched
    for key in ("fun", "grad_norm2", "dg2", "step", "rho_gap"):
        np.testing.assert_array_equal(again.history[key], res.history[key])
    np.testing.assert_array_equal(again.x, res.x)
    assert again.length == res.length
    assert _LENGTH_TAPE.get() is None  # the tape ends with its block


def test_replaying_too_few_lengths_is_an_error_not_a_different_run():
    prob = _problems()["population"]
    with _length_tape(replay=[1.0, 1.0]), pytest.raises(RuntimeError, match="more lengths"):
        gdnp.solve(prob, "gdnp", maxiter=5, tol=0.0, reference=False)


@pytest.mark.parametrize("kind", ["population", "empirical"])
def test_band_counts_of_located_searches(kind):
    """``nband``: the halvings that no certified edge decides, whose midpoints lie inside the
    rounding band and take plain bisection's own value; with ``T_s = 50`` the last bracket is
    narrower than the band (about 1e-14 relatively), so some halvings fall inside it."""
    prob = _problems()[kind]
    with _length_tape() as tape:
        gdnp.solve(prob, "gdnp", maxiter=15, tol=0.0, reference=False, T_s=50)
    infos = [info for _, info in tape.searches]
    # T_s halvings, or fewer where the bracket reached adjacent floats first (bisection stops
    # when a midpoint equals an end): which search that is depends on the last bits of the
    # iterates, and so on the machine's exp (seen: one search of 49 halvings on one machine)
    assert all(0 <= info["nband"] <= info["nit"] <= 50 for info in infos)
    assert sum(info["nit"] == 50 for info in infos) >= len(infos) - 2
    assert all(info["nfev"] >= 1 for info in infos)  # a new direction's root is unknown
    assert max(info["nband"] for info in infos) >= 1


def test_ols_searches_compare_only():
    prob = _problems()["ols"]
    with _length_tape() as tape:
        gdnp.solve(prob, "gdnp", maxiter=10, tol=0.0, reference=False)
    infos = [info for _, info in tape.searches]
    assert all(info["nband"] == 0 for info in infos)
    # only a search whose default bracket misses the root evaluates (its expanded ends)
    assert all(info["nfev"] == 0 for info in infos if not info.get("expansions"))
    assert sum(info["nfev"] == 0 for info in infos) >= len(infos) - 1


def test_a_search_never_keeps_costing_more_than_plain_bisection():
    """Separation 0.999: near the optimum the rounding band covers the whole bracket, so the
    located search certified nothing and spent 83 evaluations per search against plain
    bisection's 53 (31 GD iterations per GDNP iteration). After two such searches in a row the
    next ones run plainly, for a number of iterations that doubles while retries stay
    unproductive: the same iterates, bit for bit, and no more evaluations than plain
    bisection."""
    prob = Halfspace.random(10, 10.0, separation=0.999, seed=5)
    with _length_tape() as tape:
        res = gdnp.solve(prob, "gdnp", maxiter=100, tol=0.0, reference=False)
    plain = gdnp.solve(prob, "gdnp", maxiter=100, tol=0.0, reference=False, certify=False)
    assert np.array_equal(res.history["fun"], plain.history["fun"])
    assert np.array_equal(res.x, plain.x)
    assert res.nfev <= plain.nfev
    infos = [info for _, info in tape.searches]
    assert sum(bool(info.get("plain_fallback")) for info in infos) >= 50
    located_unproductive = sum(info["nfev"] > info["nit"] + 2 for info in infos
                               if not info.get("plain_fallback"))
    # two in a row start it, then one retry after 4, 8, 16, 32 and 64 plain searches
    assert 2 <= located_unproductive <= 7
    # where the located search pays (the first iterations), it still runs
    assert infos[0]["ncertified"] > 0 and infos[0]["nfev"] < 53
    # a costly search that still certified most of its halvings (a direction far from the
    # predicted length) is not unproductive: no plain searches follow it (a first version
    # of the fallback had doubled the evaluations of ordinary runs, 170 -> 344 here)
    for d, sep in ((100, 0.99), (10, 0.99)):
        prob = Halfspace.random(d, 10.0, separation=sep, seed=0)
        located = gdnp.solve(prob, "gdnp", reference=False)
        with _length_tape() as tape:
            gdnp.solve(prob, "gdnp", reference=False)
        assert not any(info.get("plain_fallback") for _, info in tape.searches)
        assert located.nfev < 0.6 * gdnp.solve(prob, "gdnp", reference=False,
                                               certify=False).nfev
