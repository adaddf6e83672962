"""``gdnp bench --quick --json``: the report's schema on toy sizes (timings not checked)."""

from __future__ import annotations

import json

import pytest

from gdnp.bench import METHODS, TARGETS, bench_main, to_markdown


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    import contextlib
    import io

    md = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert bench_main(["--quick", "--json", "--markdown", str(md)]) == 0
    return json.loads(buf.getvalue()), md


def test_json_schema(report):
    rep, _ = report
    assert rep["quick"] is True
    assert {"platform", "cpu_count", "threadpools", "numpy", "scipy"} <= set(rep["machine"])
    assert set(rep["ratios"]) == set(TARGETS)
    for r in rep["ratios"].values():
        assert {"value", "target", "met"} <= set(r)
        assert r["value"] > 0
    methods = {r["method"] for r in rep["cases"]}
    assert set(METHODS) | {"lbfgs (scipy)"} == methods
    for r in rep["cases"]:
        assert {"problem", "method", "n", "d", "iterations", "time_per_iter_s", "iters_to_gap",
                "time_to_gap_s", "final_gap", "peak_mem_mb", "wall_s"} <= set(r)
        assert r["time_per_iter_s"] > 0 and r["peak_mem_mb"] >= 0
    # every problem has every method plus the L-BFGS reference
    problems = {r["problem"] for r in rep["cases"]}
    assert len(rep["cases"]) == len(problems) * (len(METHODS) + 1)
    mem = rep["memory"]
    assert {"n", "d", "X_mb", "gd_peak_mb", "gdnp_peak_mb"} <= set(mem)
    assert rep["floor"]["two_matvec_s"] > 0
    rows = rep["iteration_ratios"]
    assert len([r for r in rows if r["problem"].startswith("empirical halfspace")]) >= 4
    assert any(r["problem"].startswith("population halfspace") for r in rows)
    for r in rows:
        assert r["gd_s"] > 0 and r["gdnp_s"] > 0
        assert r["ratio"] == pytest.approx(r["gdnp_s"] / r["gd_s"])
        assert r["met"] is None or r["met"] == (r["ratio"] <= float(r["target"][3:]))
        if r["problem"].startswith("MLP"):
            assert "replay_ratio" not in r  # the ablation is for single-unit problems
            continue
        # the ablation: replayed lengths cost something, the floor adds the search's minimum
        search = r["search"]
        assert r["replay_ratio"] == pytest.approx(r["gdnp_replay_s"] / r["gd_s"])
        assert r["floor_ratio"] == pytest.approx(
            r["replay_ratio"] + search["min_evals"] * (search["plain_eval_s"] or 0.0)
            / r["gd_s"])
        if r["problem"].startswith("OLS"):  # signs by comparisons: no evaluation needed
            assert search["min_evals"] == 0.0 and search["nband_median"] == 0.0
        else:  # a located search evaluates at least once, at its plain value's cost
            assert search["min_evals"] >= max(1.0, search["nband_median"])
            assert search["plain_eval_s"] > 0
    assert [r["verdict"] for r in rep["reference"]] and all(
        r["seconds"] > 0 for r in rep["reference"])
    # where numba is installed the population rows also time the search in Python (the
    # same iterates, checked inside the run), and the machine record says which ran
    from gdnp import _jit

    assert rep["machine"]["compiled_search"] is _jit.ready()
    logistic = [r for r in rows if r["problem"].startswith("population")
                or r.get("group", "").startswith("empirical")]
    assert len(logistic) == 11  # 2 population, 6 in the family, 3 beyond it
    family = [r for r in rows if r.get("group") == "empirical family"]
    sizes = {int(r["problem"].split("n=")[1].split(",")[0].rstrip(")")) for r in family}
    assert len(family) == 6 and len(sizes) == 3  # (quick: n = 1000, 2000 and 4000)
    assert all(("python_search_ratio" in r) is _jit.available() for r in logistic)
    assert all(r["python_search_ratio"] > 0 for r in logistic if "python_search_ratio" in r)
    assert not any("python_search_ratio" in r for r in rows if r not in logistic)


def test_markdown(report):
    rep, md = report
    text = md.read_text()
    assert text == to_markdown(rep)
    assert "### Machine" in text and "| ratio | value | target | met |" in text
    assert "lbfgs (scipy)" in text
    assert "as a user's history shows it" in text and "Reference solution" in text
    # a quick run's toy sizes give no verdict on a target, in either table
    assert rep["quick"] and "**no**" not in text and "| yes |" not in text
    assert "not measured (--quick)" in text.split("as a user's history shows it")[1]


def test_bad_flag(capsys):
    with pytest.raises(SystemExit):
        bench_main(["--nope"])
    assert "--nope" in capsys.readouterr().err


def test_readme_benchmark_table_is_the_committed_benchmark_report():
    """The README's benchmark table is copied from ``benchmarks/RESULTS.md`` (the report of a
    full ``gdnp bench`` run), so the two cannot drift apart."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    table = readme[readme.index(start) + len(start):readme.index(end)].strip()
    assert table.count("\n|") >= 5
    assert table in (root / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")


def test_user_guide_benchmark_numbers_come_from_the_committed_report():
    """Every number of the user guide's summary of the reported run is a number of
    ``benchmarks/results.json`` or ``benchmarks/plots.json`` (at its printed precision)."""
    import json
    from pathlib import Path

    import readme_numbers as rn

    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "user_guide" / "benchmarks.rst").read_text(encoding="utf-8")
    summary = text[text.index("What the reported run shows"):]
    data = [json.loads((root / "benchmarks" / name).read_text(encoding="utf-8"))
            for name in ("results.json", "plots.json", "mlp_sweep.json")]
    assert rn.unmatched_numbers(summary, data) == []


def test_minibatch_step_numbers_come_from_their_record():
    """``benchmarks/RESULTS.md``'s mini-batch section states its numbers with annotations, each
    naming a key of ``benchmarks/minibatch_step.json`` (``benchmarks/minibatch_step.py``) and
    matching it at its printed precision."""
    from pathlib import Path

    import readme_numbers as rn

    root = Path(__file__).resolve().parents[1]
    results = (root / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    text = rn.region(results, "## Mini-batch steps", "## The runs")
    annotated = rn.annotated_numbers(text)
    assert len(annotated) >= 10
    assert {name for _, name, _ in annotated} == {"minibatch_step"}
    bad, missing = rn.check_annotations(text, [root / "benchmarks"])
    assert bad == [] and missing == []


def _bench_rounds():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_rounds.py"
    spec = importlib.util.spec_from_file_location("bench_rounds", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rounds_report_the_run_closest_to_the_medians(report):
    """The reported run is the one whose per-iteration ratios sit closest to the rows' medians
    (not the one with the best verdicts); quick runs and runs of other problems are refused."""
    import copy

    br = _bench_rounds()
    rep, _ = report
    runs = []
    for scale in (1.0, 1.5, 0.9, 1.1, 0.7):
        run = copy.deepcopy(rep)
        run["quick"] = False
        for row in run["iteration_ratios"]:
            row["ratio"] *= scale
            if "replay_ratio" in row:
                row["floor_ratio"] = row["ratio"] * (1.2 if scale == 0.7 else 0.5)
        runs.append(run)
    summary = br.summarise(runs)
    assert summary["reported"] == 1  # the medians (not run 5, whose ratios are the lowest)
    first = summary["rows"][0]["ratio"]
    assert first["min"] == pytest.approx(0.7 * rep["iteration_ratios"][0]["ratio"])
    assert first["median"] == pytest.approx(rep["iteration_ratios"][0]["ratio"])
    assert {i for i, _ in summary["below_floor"]} == {5}
    text = br.ranges_markdown(summary)
    with_floor = sum("replay_ratio" in row for row in summary["rows"])
    with_python = sum("python_search_ratio" in row for row in summary["rows"])
    assert text.count("\n| ") == (len(summary["rows"]) + len(summary["others"]) + 1) + (
        with_floor + 1) + (with_python + 1 if with_python else 0)  # each with its header
    assert f"{len(summary['below_floor'])} of {summary['rows_with_floor']}" in text
    with pytest.raises(ValueError, match="--quick"):
        br.summarise([rep])
    other = copy.deepcopy(runs[0])
    other["iteration_ratios"] = other["iteration_ratios"][1:]
    with pytest.raises(ValueError, match="other problems"):
        br.summarise([runs[0], other])


def test_committed_benchmark_round_is_generated_from_its_runs():
    """``benchmarks/rounds.json`` holds every run of the reported round; the reported run's
    report is ``results.json``, and RESULTS.md's generated part and the README's table are
    what ``benchmarks/bench_rounds.py`` makes of them."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    br = _bench_rounds()
    rounds = json.loads((root / "benchmarks" / "rounds.json").read_text(encoding="utf-8"))
    summary = br.summarise(rounds["reports"])
    assert json.loads(json.dumps(summary)) == rounds["summary"]
    report = rounds["reports"][summary["reported"] - 1]
    assert json.loads((root / "benchmarks" / "results.json").read_text(encoding="utf-8")) \
        == report
    results_md = (root / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    assert br.results_region(summary, report).strip() in results_md
    assert br.readme_table(report) in (root / "README.md").read_text(encoding="utf-8")


def test_rounds_summarise_only_the_quantities_every_run_has(report):
    """A run without the sweep case (``--no-sweep``) beside one with it: the sweep's row is
    left out of the ranges (it had raised KeyError, or been dropped in the other order)."""
    import copy

    br = _bench_rounds()
    rep, _ = report
    with_sweep = copy.deepcopy(rep)
    with_sweep["quick"] = False
    without = copy.deepcopy(with_sweep)
    without["ratios"].pop("sweep_speedup", None)
    for runs in ([with_sweep, without], [without, with_sweep]):
        others = br.summarise(runs)["others"]
        assert "sweep_speedup" not in others and "reference_0" in others
