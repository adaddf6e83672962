"""``gdnp claims``: schema, verdicts, quick mode, an injected wrong prediction, and the README
section generated from the committed claims data (text and data cannot drift apart)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import readme_numbers as rn

from gdnp import claims
from gdnp.cli import main

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "docs" / "claims" / "claims.json"
README = ROOT / "README.md"

#: claims whose quick run is cheap (well under a second each); the full quick set runs once.
CHEAP = ["c19.kappa_star_d2", "c19.kappa_star_le_kappa", "c19.scaling_law", "k19.ols_rate"]


@pytest.fixture(scope="module")
def quick_results():
    return claims.run_claims(quick=True)


def test_registry_covers_the_required_claims():
    ids = [c.id for c in claims.CLAIMS]
    assert len(ids) >= 15 and len(set(ids)) == len(ids)
    for required in ["k19.ols_rate", "k19.halfspace_rate", "k19.combined_bound",
                     "k19.length_bound", "gd.sublinear_bound", "c19.kappa_star_d2",
                     "c19.kappa_star_le_kappa", "c19.bngd_rate", "c19.any_rate",
                     "c19.scaling_law", "seed.d2_kappa_insensitive", "seed.d3_small_kappa",
                     "seed.d3_large_kappa", "seed.zigzag", "k19.mlp_alignment_m3",
                     "verify.h_quoted", "verify.mlp_lemma", "verify.bn_jacobian",
                     "k19.separation", "gdnp.sigmoid_no_minimiser"]:
        assert required in ids
    sources = {c.source.split(" ")[0] for c in claims.CLAIMS}
    assert {"K19", "C19", "seed", "gdnp"} <= sources


def test_quick_mode_rows_have_the_exact_schema(quick_results):
    rows = [r.row() for r in quick_results]
    assert len(rows) >= 15
    for row in rows:
        assert tuple(row) == claims.COLUMNS
        assert row["verdict"] in claims.VERDICTS
        assert all(isinstance(row[k], str) and row[k] for k in claims.COLUMNS)
    json.dumps([r.outcome.values for r in quick_results], allow_nan=True)  # serialisable


def test_quick_verdicts_are_the_committed_full_runs(quick_results):
    """A quick run is the first look a user takes: at this version its verdict on every claim
    is the full run's (docs/claims/claims.json). Two had differed: seed.d3_small_kappa, a
    majority over three problems read on one, and k19.separation, whose f - f* at kappa = 10
    reached its floor inside the transient."""
    full = {r["id"]: r["verdict"] for r in json.loads(DATA.read_text())["claims"]}
    quick = {r.claim.id: r.outcome.verdict for r in quick_results}
    assert {k: (quick[k], v) for k, v in full.items() if quick[k] != v} == {}


def test_quick_mode_checks_that_do_not_depend_on_the_budget(quick_results):
    by_id = {r.claim.id: r.outcome for r in quick_results}
    # exact linear algebra and symbolic checks give the same verdict in any mode
    assert by_id["c19.kappa_star_d2"].verdict == "holds"
    assert by_id["c19.kappa_star_le_kappa"].values["max_ratio"] <= 1 + 1e-9
    assert by_id["c19.scaling_law"].values["max_rel_dev"] <= 1e-10
    for cid in ("verify.h_quoted", "verify.bn_jacobian"):
        assert by_id[cid].values["status"] == "discrepancy"
        assert by_id[cid].verdict == "fails"
    # K19's MLP lemma: proved at the layer's critical points (B nonsingular), refuted unit-wise
    lemma = by_id["verify.mlp_lemma"]
    assert (lemma.values["status"], lemma.values["unitwise_status"]) == ("proved", "discrepancy")
    assert lemma.verdict == "holds with caveat"
    # a majority over the three d = 3 problems (cheap), in a quick run too
    assert by_id["seed.d3_small_kappa"].values["seeds"] == [0, 1, 2]


def test_a_deliberately_wrong_prediction_is_reported_as_failing():
    good = claims.run_claims(only=["k19.ols_rate"], quick=True)[0]
    assert good.outcome.verdict == "holds"
    bad = claims.run_claims(only=["k19.ols_rate"], quick=True,
                            overrides={"k19.ols_rate": {"rate_bound": 0.5}})[0]
    assert bad.outcome.verdict == "fails"
    assert "0.5" in bad.outcome.predicted  # the failing row shows its numbers
    wrong = claims.run_claims(only=["c19.kappa_star_d2"], quick=True,
                              overrides={"c19.kappa_star_d2": {"kappa_pred": 2.0}})[0]
    assert wrong.outcome.verdict == "fails"


def test_unknown_ids_and_parameters_are_rejected():
    with pytest.raises(ValueError, match="unknown claim"):
        claims.run_claims(only=["no.such.claim"])
    with pytest.raises(ValueError, match="unknown parameter"):
        claims.run_claims(only=["k19.ols_rate"], overrides={"k19.ols_rate": {"nope": 1}})


def test_tail_rate_recovers_a_geometric_rate_and_stops_at_the_floor():
    k = np.arange(400)
    rng = np.random.default_rng(0)
    gaps = 2.0 * 0.95**k * np.exp(0.01 * rng.standard_normal(k.size))
    gaps[k > 300] = 1e-30  # a floor: not part of the fit
    fit = claims.tail_rate(gaps, floor=1e-25)
    assert fit["stop"] == 301 and fit["linear_better"]
    assert abs(fit["rate"] - 0.95) <= 4 * fit["se"] and fit["se"] < 1e-3
    sub = claims.tail_rate(5.0 / (k + 1.0) ** 2)
    assert not sub["linear_better"]
    with pytest.raises(ValueError, match="skip"):
        claims.tail_rate(gaps, skip=1.0)


def test_cli_json_and_files(tmp_path, capsys):
    assert main(["claims", "--quick", "--json", "--only", *CHEAP, "--out", str(tmp_path)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [c.id for c in claims.CLAIMS if c.id in CHEAP]
    assert all(list(r) == list(claims.COLUMNS) for r in rows)
    saved = claims.load_claims(tmp_path / "claims.json")
    assert saved["claims"] == rows and saved["config"]["quick"] is True
    assert {"numpy", "python", "gdnp"} <= set(saved["versions"])
    csv_lines = (tmp_path / "claims.csv").read_text().splitlines()
    assert csv_lines[0] == ",".join(claims.COLUMNS) and len(csv_lines) == len(CHEAP) + 1
    assert main(["claims", "--from", str(tmp_path / "claims.json"), "--markdown"]) == 0
    assert capsys.readouterr().out == claims.render_markdown(rows)
    assert main(["claims", "--only", "nope"]) == 2
    # the table of a quick run says first that it is one; the full run's and --json do not
    assert main(["claims", "--quick", "--only", CHEAP[0]]) == 0
    assert capsys.readouterr().out.startswith(claims.QUICK_BANNER + "\n" + CHEAP[0])
    assert main(["claims", "--only", CHEAP[0]]) == 0
    assert capsys.readouterr().out.startswith(CHEAP[0])


# ---------------------------------------------------------------- committed data and README
def test_committed_claims_data_is_complete():
    data = claims.load_claims(DATA)
    rows = data["claims"]
    assert [r["id"] for r in rows] == [c.id for c in claims.CLAIMS]
    assert data["config"]["quick"] is False
    for row in rows:
        assert tuple(row) == claims.COLUMNS and row["verdict"] in claims.VERDICTS
        claim = next(c for c in claims.CLAIMS if c.id == row["id"])
        assert (row["source"], row["statement"]) == (claim.source, claim.statement)


def test_committed_exact_claims_still_reproduce():
    """The claims whose numbers do not depend on iteration budgets, rerun in full mode,
    give the committed values (the data are not stale)."""
    data = claims.load_claims(DATA)
    ids = ["c19.kappa_star_d2", "c19.kappa_star_le_kappa"]
    for r in claims.run_claims(only=ids):
        saved = data["values"][r.claim.id]
        for key, value in r.outcome.values.items():
            assert value == pytest.approx(saved[key], rel=1e-6, abs=1e-9), (r.claim.id, key)
        assert r.row()["verdict"] == next(x for x in data["claims"]
                                          if x["id"] == r.claim.id)["verdict"]


def test_readme_claims_section_is_generated_from_the_data():
    data = claims.load_claims(DATA)
    text = README.read_text(encoding="utf-8")
    section = rn.region(text, claims.README_START, claims.README_END)
    assert section == "\n" + claims.render_readme_section(data)
    # and every number in it is one of the data's numbers at its printed precision
    assert rn.unmatched_numbers(section, data) == []


def test_readme_number_helpers():
    assert rn.matches("0.977", 0.97712) and not rn.matches("0.977", 0.9776)
    assert rn.matches("1.2e-3", 0.00121) and not rn.matches("1.2e-3", 0.00126)
    assert rn.matches("43", 43.4) and not rn.matches("43", 43.6)
    assert rn.numbers_in("r = 0.98, 1e-8 and 43 <!-- x:1.5 -->") == ["0.98", "1e-8", "43"]
    assert rn.unmatched_numbers("rates 0.98 and 0.6", {"a": [0.9801], "b": "x 0.52"}) == ["0.6"]
    data = {"results": {"per_kappa": {"100.0": {"rate": 0.97712}}, "list": [1.0, 2.5]}}
    assert rn.lookup(data, "results.per_kappa.100.0.rate") == 0.97712
    assert rn.lookup(data, "results.list.1") == 2.5
    with pytest.raises(KeyError):
        rn.lookup(data, "results.nope")


def test_readme_annotated_numbers_match_figure_data(tmp_path):
    """Numbers in the README annotated ``NUMBER<!-- figure:key -->`` must match the key of
    ``docs/figures/<figure>.json`` (or ``docs/claims/claims.json``)."""
    (tmp_path / "fig.json").write_text(json.dumps({"results": {"rate": 0.97712}}))
    text = ("rate 0.977<!-- fig:results.rate --> and 0.99<!-- fig:results.rate --> "
            "and 3<!-- fig:results.nope --> and 4<!-- other:results.x -->")
    bad, missing = rn.check_annotations(text, tmp_path)
    assert bad == ["0.99 != fig.json results.rate = 0.97712"]
    assert len(missing) == 2
    claims_dir = tmp_path / "claims"
    claims_dir.mkdir()
    (claims_dir / "claims.json").write_text(json.dumps({"values": {"k19.x": {"r": 0.408}}}))
    assert rn.check_annotations("0.41<!-- claims:values.k19.x.r -->",
                                [tmp_path, claims_dir]) == ([], [])

    readme = README.read_text(encoding="utf-8")
    # the README's Figures section states its numbers with annotations: every one must name a
    # key that exists and match it at its printed precision
    figures = rn.region(readme, "## Figures", "## Symbolic verification")
    assert len(rn.annotated_numbers(figures)) >= 40
    # ... and so must the benchmark numbers (benchmarks/results.json, rounds.json, plots.json
    # and mlp_sweep.json)
    bench = rn.region(readme, "## Benchmarks", "## Tests")
    assert {name for _, name, _ in rn.annotated_numbers(bench)} == {"results", "plots",
                                                                    "mlp_sweep", "rounds"}
    bad, missing = rn.check_annotations(readme, [ROOT / "docs" / "figures",
                                                 ROOT / "docs" / "claims",
                                                 ROOT / "benchmarks"])
    assert bad == [] and missing == []


def test_refresh_annotations_rewrites_numbers_at_their_printed_precision(tmp_path):
    (tmp_path / "fig.json").write_text(json.dumps(
        {"r": {"a": 1.23456, "b": 0.000123456, "c": 41.7, "d": 2.0}}))
    text = ("a 1.20<!-- fig:r.a --> b 1.5e-4<!-- fig:r.b --> c 40<!-- fig:r.c --> "
            "d 2.0<!-- fig:r.d --> gone 7<!-- fig:r.nope --> plain 3.5 "
            "b2 1.50e-04<!-- fig:r.b -->")
    new, changes = rn.refresh_annotations(text, tmp_path)
    assert new == ("a 1.23<!-- fig:r.a --> b 1.2e-4<!-- fig:r.b --> c 42<!-- fig:r.c --> "
                   "d 2.0<!-- fig:r.d --> gone 7<!-- fig:r.nope --> plain 3.5 "
                   "b2 1.23e-04<!-- fig:r.b -->")
    assert len(changes) == 5 and any("left as it is" in c for c in changes)
    bad, missing = rn.check_annotations(new, tmp_path)
    assert bad == [] and len(missing) == 1


@pytest.mark.parametrize("status", ["error", "timeout", "unrefuted"])
def test_a_discrepancy_whose_check_decided_nothing_has_no_verdict(monkeypatch, status):
    """A published form's row is ``fails`` only when sympy refutes it and ``holds`` only when
    sympy proves it; a check that erred, timed out or found no counterexample raises instead
    of reading as "holds"."""
    import dataclasses

    import gdnp.proofs.runner as runner
    from gdnp.claims import _discrepancy

    real = runner.evaluate
    monkeypatch.setattr(runner, "evaluate", lambda check: dataclasses.replace(
        real(check), status=status, detail="simulated"))
    with pytest.raises(RuntimeError, match=f"decided nothing \\({status}"):
        _discrepancy("gdnp.h_quoted_general", "note", True)
    monkeypatch.setattr(runner, "evaluate", lambda check: dataclasses.replace(
        real(check), status="failed", detail="published form proved"))
    assert _discrepancy("gdnp.h_quoted_general", "note", True).verdict == "holds"


def test_seed_note_grid_search_visits_every_rate_of_the_stated_grid():
    """d = 3, kappa = 10, problem seed 1: BNGD reaches 1e-8 of the gap in 23 iterations at
    c = 10^(3/4), between the coarse rates, where no coarse rate beats GD's 38; the search had
    skipped the fine rates then and reported "BNGD > 38" (the claim read "holds" on 3 of 3
    problems; it is 1 of 3)."""
    from gdnp.claims import _iters_to, _seed_best
    from gdnp.problems import OLS

    best = _seed_best(3, 10.0, "bngd", quick=False, seed=1)
    prob = OLS.random(3, 10.0, seed=1)
    gap0 = prob.f(prob.initial_point(0)) - prob.solution()[1]
    counts = [_iters_to(prob, "bngd", 10.0 ** (j / 4) / prob.smoothness, gap0, 1e-8, 8000)
              for j in range(-4, 17)]
    assert best["best"] == min(n for n in counts if n is not None) == 23
