"""The ``gdnp`` command line: ``solve`` table and JSON, errors, ``python -m gdnp``."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys

import numpy as np
import pytest

import gdnp
from gdnp.cli import main


def test_solve_json_headline(capsys):
    """The headline run: GDNP below 1e-10 at kappa 100, separation 0.99; GD far from it."""
    # --tol 0 runs all 600 steps, so the rate is fitted on the whole run (the default tol
    # 1e-10, gdnp.solve's, stops GDNP at iteration 113, too few points for a reliable fit)
    code = main(["solve", "halfspace", "--kappa", "100", "--separation", "0.99",
                 "--maxiter", "600", "--tol", "0", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    rows = {r["method"]: r for r in out["results"]}
    assert set(rows) == {"gd", "agd", "bngd", "gdnp"}
    assert rows["gdnp"]["gap"] < 1e-10 and rows["gdnp"]["order"] == "linear"
    assert rows["gd"]["gap"] > 1e-3
    assert out["problem"]["separation"] == 0.99


def test_solve_table(capsys):
    assert main(["solve", "ols", "--dim", "3", "--kappa", "10", "--maxiter", "50"]) == 0
    out = capsys.readouterr().out
    assert "final gap" in out and "gdnp" in out and "bngd" in out


def test_solve_empirical_and_mlp(capsys):
    assert main(["solve", "halfspace", "--n", "500", "--dim", "3", "--method", "gdnp",
                 "--maxiter", "20", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["problem"]["n"] == 500
    assert main(["solve", "mlp", "--n", "200", "--dim", "3", "--hidden", "2", "--method", "gd",
                 "--maxiter", "5", "--json"]) == 0


def test_solve_mlp_takes_the_normalization_options(capsys):
    assert main(["solve", "mlp", "--n", "200", "--dim", "3", "--hidden", "2", "--method",
                 "gdnp", "--maxiter", "3", "--normalization", "weight", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["problem"]["normalization"] == "weight"


def test_solve_bad_input_exits_2(capsys):
    assert main(["solve", "halfspace", "--separation", "1.5"]) == 2
    assert "separation must lie in [1e-150, 1)" in capsys.readouterr().err


def test_python_dash_m():
    out = subprocess.run([sys.executable, "-m", "gdnp", "solve", "ols", "--dim", "2",
                          "--maxiter", "5", "--method", "gd"], capture_output=True, text=True,
                         check=True).stdout
    assert "gd" in out


def test_version_and_bare_command_print_help(capsys):
    import pytest

    import gdnp

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"gdnp {gdnp.__version__}"
    # a bare command is a usage error (exit 2, as argparse's), with the help on stderr: it had
    # exited 0, so a script missing its subcommand went unnoticed
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "usage: gdnp" in err and "solve" in err and "sweep" in err


@pytest.mark.parametrize("argv, parser, suggestion", [
    (["solve", "ols", "--kapa", "10"], "gdnp solve", "--kappa"),
    (["solve", "ols", "--kap", "10"], "gdnp solve", "--kappa"),  # no longer taken for --kappa
    (["sweep", "--dimm", "3", "--dry-run"], "gdnp sweep", "--dim"),
    (["plots", "--qiuck"], "gdnp plots", "--quick"),
    (["claims", "--quik"], "gdnp claims", "--quick"),
])
def test_an_unknown_option_is_named_by_its_command_with_the_closest(argv, parser, suggestion,
                                                                     capsys):
    """'gdnp solve ols --kapa 10' had been reported by the top-level parser ('usage: gdnp
    [-h] [--version] COMMAND'), with no suggestion, and '--kap' silently read as '--kappa'."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and f"{parser}: error: unrecognized arguments" in err
    assert f"(did you mean {suggestion}" in err and f"usage: {parser}" in err


def test_names_and_choices_take_any_case(capsys):
    assert main(["solve", "OLS", "--method", "GD", "--dim", "3", "--maxiter", "3",
                 "--normalization", "Batch", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["method"] == "gd"
    assert main(["claims", "--quick", "--only", "C19.Kappa_Star_D2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == "c19.kappa_star_d2"


def test_help_shows_every_default_and_no_rst(capsys):
    import pytest

    from gdnp.sweep import _parser as sweep_parser

    with pytest.raises(SystemExit):
        main(["solve", "--help"])
    solve_help = capsys.readouterr().out
    sweep_help = sweep_parser().format_help()
    for text, flags in ((solve_help, ["--method", "--kappa", "--dim", "--separation", "--loss",
                                      "--n", "--hidden", "--seed", "--maxiter", "--tol",
                                      "--progress"]),
                        (sweep_help, ["--problem", "--kappa", "--dim", "--method", "--seed",
                                      "--maxiter", "--tol", "--jobs", "--out", "--progress"])):
        blocks = text.split("\n  -")
        for flag in flags:
            block = next(b for b in blocks if b.lstrip("-").startswith(flag.lstrip("-")))
            assert "default" in block, flag
        assert "``" not in text and ":func:" not in text
    for text in (solve_help, sweep_help):  # the same defaults as gdnp.solve
        flat = " ".join(text.split())
        assert "(default: 1000)" in flat and "(default: 1e-10)" in flat


def test_method_any_case_and_no_rate_for_a_diverged_run(capsys):
    # 20 samples in d = 10 are linearly separable: the length has no finite minimiser, and
    # GDNP's length search ends the run (status 2) once the lengths have grown
    args = ["solve", "halfspace", "--n", "20", "--dim", "10", "--method", "GDNP", "--tol", "0",
            "--maxiter", "200"]
    assert main([*args, "--json"]) == 0
    row = json.loads(capsys.readouterr().out)["results"][0]
    assert row["method"] == "gdnp" and row["status"] == 2
    assert row["order"] is None and row["rate"] is None
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "no rate fitted" in out and "lin " not in out


def test_mlp_header_names_d_and_parameters(capsys):
    assert main(["solve", "mlp", "--n", "100", "--dim", "3", "--hidden", "2", "--method", "gd",
                 "--maxiter", "2", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "d=3, 8 parameters" in captured.out.splitlines()[0]
    assert captured.err == ""


def test_progress_goes_to_stderr_and_json_stays_clean(capsys):
    assert main(["solve", "ols", "--dim", "3", "--method", "gd", "--maxiter", "5", "--json",
                 "--progress"]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)
    assert "gdnp solve: gd ... 5 iterations" in captured.err


def test_closed_pipe_is_quiet():
    proc = subprocess.Popen([sys.executable, "-m", "gdnp", "solve", "ols", "--dim", "3",
                             "--maxiter", "50"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # the reader goes away before the table is written (like | head)
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 1  # the handler ran (a clean exit would be 0)
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_solve_table_says_undetermined_when_the_fit_cannot_tell(capsys):
    """Five iterations are too few for the rate fitter: the table says ``undet``, never a law
    the data do not support."""
    assert main(["solve", "ols", "--dim", "3", "--kappa", "10", "--maxiter", "5", "--tol", "0",
                 "--method", "gd", "--no-progress"]) == 0
    row = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("gd ")][0]
    assert "undet" in row.split() and "sublin" not in row


def test_every_long_command_has_the_same_progress_switch(capsys):
    """solve, sweep, plots and bench share ``--progress/--no-progress`` (default: on a
    terminal), and every help shows the defaults."""
    import pytest

    for cmd in ("solve", "sweep", "plots", "bench"):
        with pytest.raises(SystemExit):
            main([cmd, "-h"])
        text = capsys.readouterr().out
        assert "--progress, --no-progress" in text, cmd
        assert "default" in text and "``" not in text, cmd


def _solve_rows(out: str) -> tuple[str, list[str]]:
    lines = out.splitlines()
    header = next(ln for ln in lines if ln.startswith("method"))
    rows = [ln for ln in lines if ln.split() and ln.split()[0] in ("gd", "agd", "bngd", "gdnp")]
    return header, rows


def test_solve_table_marks_missing_values_in_their_column(capsys):
    """The sigmoid halfspace has no reference optimum: the final gap is ``n/a``, aligned in
    its column (not a ``-`` glued to the iteration count), and the JSON has ``null``."""
    args = ["solve", "halfspace", "--loss", "sigmoid", "--dim", "3", "--maxiter", "20",
            "--method", "gd", "--no-progress"]
    assert main(args) == 0
    header, rows = _solve_rows(capsys.readouterr().out)
    assert rows and all(len(r) == len(header) for r in rows)
    cells = rows[0].split()
    assert cells[:3] == ["gd", "20", "n/a"] and cells[5] == "n/a"  # final gap, order
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["gap"] is None
    for argv in (["ols", "--dim", "3"], ["mlp", "--n", "60", "--dim", "2", "--hidden", "2"]):
        assert main(["solve", *argv, "--maxiter", "3", "--no-progress"]) == 0
        header, rows = _solve_rows(capsys.readouterr().out)
        assert len(rows) == 4 and all(len(r) == len(header) for r in rows)


def test_solve_header_labels_measured_and_requested_kappa(capsys):
    assert main(["solve", "ols", "--n", "40", "--dim", "3", "--kappa", "10", "--method", "gd",
                 "--maxiter", "2", "--no-progress"]) == 0
    head = capsys.readouterr().out.splitlines()[0]
    assert "kappa(S)=" in head and "requested kappa=10" in head
    assert head.count("kappa") == 2  # each once, labelled


@pytest.mark.parametrize("option, value", [
    ("--kappa", "nan"), ("--kappa", "inf"), ("--kappa", "0.5"), ("--separation", "nan"),
    ("--bn-eps", "nan"), ("--tol", "inf"), ("--dim", "0"), ("--seed", "-1"), ("--n", "0"),
    ("--batch-size", "0"), ("--maxiter", "-1"), ("--jobs", "0"), ("--timeout", "nan")])
def test_sweep_rejects_bad_numbers_when_parsing(option, value, tmp_path, capsys):
    """A non-finite or out-of-range grid value is an argparse error naming the option, not a
    failure later (NaN used to reach the JSON writer)."""
    out = tmp_path / "sweep"
    with pytest.raises(SystemExit) as stop:
        main(["sweep", option, value, "--dry-run", "--out", str(out)])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}: {option[2:].replace('-', '_')} must be" in err
    assert "JSON" not in err and not out.exists()


def test_sweep_still_takes_none_and_numbers(capsys, tmp_path):
    assert main(["sweep", "--n", "none", "50", "--batch-size", "none", "10", "--kappa", "1",
                 "10", "--dim", "3", "--dry-run", "--out", str(tmp_path / "s")]) == 0
    cells = [json.loads(ln) for ln in capsys.readouterr().out.splitlines()]
    assert {c["n"] for c in cells} == {None, 50} and {c["kappa"] for c in cells} == {1.0, 10.0}


def test_claims_and_verify_accept_the_progress_switch(capsys):
    """Like solve, sweep, plots and bench; both print no progress, and say so in their help."""
    for cmd in ("claims", "verify"):
        with contextlib.suppress(SystemExit):  # verify returns its status, claims exits
            main([cmd, "-h"])
        text = " ".join(capsys.readouterr().out.split())
        assert "--progress, --no-progress" in text and "no effect" in text, cmd
    assert main(["verify", "--only", "bn.scale_invariance", "--json", "--no-progress"]) == 0
    json.loads(capsys.readouterr().out)
    assert main(["claims", "--quick", "--only", "c19.scaling_law", "--json",
                 "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)[0]["id"] == "c19.scaling_law" and captured.err == ""


def test_only_takes_several_values_and_repeats(capsys):
    """``--only a b`` and ``--only a --only b`` select the same, in verify and in claims."""
    ids = ["bn.scale_invariance", "k19.length_bound_as_quoted"]
    listed = []
    for argv in (["--only", *ids], ["--only", ids[0], "--only", ids[1]]):
        assert main(["verify", *argv, "--list"]) == 0
        listed.append([ln.split()[0] for ln in capsys.readouterr().out.splitlines()])
    assert listed[0] == listed[1] == ids
    claims = ["c19.kappa_star_d2", "c19.scaling_law"]
    got = []
    for argv in (["--only", *claims], ["--only", claims[0], "--only", claims[1]]):
        assert main(["claims", "--quick", "--json", *argv]) == 0
        got.append([r["id"] for r in json.loads(capsys.readouterr().out)])
    assert got[0] == got[1] == claims


def test_verify_json_ok_is_a_boolean(capsys):
    assert main(["verify", "--only", "bn.scale_invariance", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["ok"] is True


@pytest.mark.parametrize("argv, option, why", [
    (["--method", "gdnp", "--batch-size", "10"], "--batch-size", "full-batch"),
    (["--method", "agd", "--batch-size", "10"], "--batch-size", "full-batch"),
    (["--statistics", "population"], "--statistics", "mini-batch runs only"),
    (["--method", "gd", "--statistics", "batch"], "--statistics", "mini-batch runs only")])
def test_solve_refuses_options_it_would_ignore(argv, option, why, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["solve", "ols", "--n", "50", "--dim", "3", "--maxiter", "3", *argv])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"gdnp solve: error: argument {option}:" in err and why in err


def test_solve_batch_size_still_runs_gd_and_bngd(capsys):
    for method in ("gd", "bngd", "all"):
        assert main(["solve", "ols", "--n", "50", "--dim", "3", "--maxiter", "3", "--method",
                     method, "--batch-size", "10", "--statistics", "population", "--json",
                     "--no-progress"]) == 0
        assert json.loads(capsys.readouterr().out)["results"]


def test_claims_quick_notes_describe_the_quick_run(capsys):
    """The quick run measures fewer cases: the notes list what it ran, not the full run's."""
    assert main(["claims", "--quick", "--json", "--only", "c19.bngd_rate",
                 "c19.kappa_star_le_kappa", "k19.mlp_alignment_m3"]) == 0
    notes = {r["id"]: r["note"] for r in json.loads(capsys.readouterr().out)}
    assert "= (5, 10, 0.5)" in notes["c19.bngd_rate"] and "1000" not in notes["c19.bngd_rate"]
    assert "d in {3, 10}," in notes["c19.kappa_star_le_kappa"]
    assert "n = 400," in notes["k19.mlp_alignment_m3"]


@pytest.mark.parametrize("page", ["README.md", "docs/getting_started.rst"])
def test_headline_table_in_the_docs_is_what_the_command_prints(page, capsys):
    """The headline block of the README and the getting-started page, every column but the
    wall-clock time, is this run's."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / page).read_text()
    command = "$ gdnp solve halfspace --kappa 100 --separation 0.99 --tol 0\n"
    block = text.split(command, 1)[1].split("\n\n", 1)[0].split("```", 1)[0].splitlines()
    assert main(command[2:].split()[1:] + ["--no-progress"]) == 0
    printed = capsys.readouterr().out.splitlines()

    def untimed(line: str) -> list[str]:
        cells = line.split()
        return cells[:4] + cells[5:] if cells and cells[0] in ("gd", "agd", "bngd", "gdnp") \
            else cells

    assert len(block) == 6
    assert [untimed(line) for line in block] == [untimed(line) for line in printed[:6]]


@pytest.mark.parametrize("page", ["README.md", "docs/getting_started.rst"])
def test_headline_paragraph_states_what_the_fits_measure(page):
    """The paragraph under the headline table: GD, AGD and BNGD fall 0.3-0.6 decade over
    their last 500 steps, with a local order of about 1, 1.9 and 1 that stays constant
    (the ratio of its values at the window's ends within 0.1 of 1)."""
    from pathlib import Path

    from gdnp.cli import build_problem
    from gdnp.rates import fit_rate

    text = " ".join((Path(__file__).resolve().parents[1] / page).read_text().split())
    assert "fall only 0.3 to 0.6 decade" in text or "fall only 0.3-0.6 decade" in text
    assert "(about 1, 1.9 and 1)" in text
    prob = build_problem("halfspace", kappa=100.0, dim=10, seed=0, separation=0.99)
    floor = 1e3 * np.finfo(float).eps * abs(prob.solution()[1])
    for method, order in (("gd", 1.0), ("agd", 1.9), ("bngd", 1.0)):
        res = gdnp.solve(prob, method, maxiter=1000, tol=0.0)
        fit = fit_rate(res.history["iter"], res.history["gap"], floor=floor)
        assert fit["kind"] == "sublinear" and 0.25 <= fit["decades"] <= 0.65
        assert fit["window"] == (501.0, 1000.0)  # the last 500 steps
        assert round(fit["order"], 1 if order != 1.0 else 0) == order
        assert abs(fit["order_ratio"] - 1.0) <= 0.1


@pytest.mark.parametrize("argv, message", [
    (["plots", "--quick", "--only", "trajectories", "--out", "{file}"], "exists and is not a"),
    (["plots", "--quick", "--only", "trajectories", "--out", "/proc/gdnp-nope"],
     "cannot create the folder"),
    (["sweep", "--maxiter", "2", "--out", "/proc/gdnp-nope"], "cannot create the folder"),
    (["bench", "--quick", "--no-sweep", "--markdown", "/proc/gdnp-nope/b.md"],
     "does not exist"),
    (["bench", "--quick", "--no-sweep", "--markdown", "{folder}"], "is a folder"),
])
def test_unwritable_outputs_are_refused_before_any_work(argv, message, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("")
    argv = [a.format(file=afile, folder=tmp_path) for a in argv]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's error exit
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_solve_time_column_leaves_out_the_reference_solve(capsys, monkeypatch):
    import time

    from gdnp.problems import OLS

    real = OLS.solution

    def slow_solution(self):  # a reference solve that takes 0.5 s, once (then cached)
        if getattr(self, "_slow_done", None) is None:
            self._slow_done = True
            time.sleep(0.5)
        return real(self)

    monkeypatch.setattr(OLS, "solution", slow_solution)
    assert main(["solve", "ols", "--dim", "3", "--maxiter", "5", "--method", "gd",
                 "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["results"]
    assert row["time"] < 0.25


@pytest.mark.parametrize("argv, option", [
    (["solve", "ols", "--separation", "0.5"], "--separation"),
    (["solve", "ols", "--loss", "sigmoid"], "--loss"),
    (["solve", "halfspace", "--hidden", "3"], "--hidden"),
    (["solve", "mlp", "--separation", "0.5"], "--separation"),
])
def test_solve_refuses_options_of_another_problem(argv, option, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert f"argument {option}: applies to" in capsys.readouterr().err


def test_output_paths_are_refused_before_the_work(capsys, tmp_path):
    """claims checks --out and --readme before its run (minutes at full size); an empty
    --out is refused by name, not a traceback."""
    afile = tmp_path / "afile"
    afile.write_text("")
    assert main(["claims", "--quick", "--out", str(afile)]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["claims", "--quick", "--readme", str(tmp_path / "no" / "R.md")]) == 2
    assert "--readme" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        main(["plots", "--quick", "--only", "trajectories", "--out", ""])
    assert stop.value.code == 2
    assert "--out: an empty path" in capsys.readouterr().err


def test_claims_reads_its_json_list_and_prints_on_an_ascii_terminal(tmp_path):
    """`claims --from` takes the list `--json` prints as well as a claims.json; a terminal
    that cannot encode "§" gets escapes, not a UnicodeEncodeError."""
    import os

    run = [sys.executable, "-m", "gdnp", "claims"]
    listed = subprocess.run([*run, "--quick", "--json", "--only", "k19.separation"],
                            capture_output=True, text=True, check=True).stdout
    path = tmp_path / "rows.json"
    path.write_text(listed, encoding="utf-8")
    env = dict(os.environ, PYTHONIOENCODING="ascii", LC_ALL="C")
    out = subprocess.run([*run, "--from", str(path)], capture_output=True, text=True,
                         env=env)
    assert out.returncode == 0, out.stderr
    assert "k19.separation" in out.stdout
    path.write_text('{"a": 1}', encoding="utf-8")
    bad = subprocess.run([*run, "--from", str(path)], capture_output=True, text=True)
    assert bad.returncode == 2 and "not a claims file" in bad.stderr


def test_solve_no_reference_skips_f_star_and_progress_names_each_stage(capsys, monkeypatch):
    """--no-reference runs without the reference optimum (no gap, no order); --progress says
    when the problem is built and f* computed, the stages that can take minutes at scale."""
    from gdnp.problems import OLS

    def refuse(self):
        raise AssertionError("the reference optimum was computed")

    monkeypatch.setattr(OLS, "_reference_solution", refuse)
    assert main(["solve", "ols", "--maxiter", "5", "--no-reference", "--progress"]) == 0
    captured = capsys.readouterr()
    assert "n/a: --no-reference" in captured.out
    assert "building the ols problem" in captured.err
    assert "reference optimum" not in captured.err
    monkeypatch.undo()
    assert main(["solve", "ols", "--maxiter", "5", "--progress", "--json"]) == 0
    captured = capsys.readouterr()
    assert "the reference optimum f*" in captured.err
    assert json.loads(captured.out)["settings"]["reference"] is True


@pytest.mark.parametrize("errno_, fix", [(28, "free space"), (13, "fix the folder's permissions"),
                                          (30, "choose a writable --out"), (5, "fix the cause")])
def test_an_os_error_is_one_line_and_exit_1(errno_, fix, capsys, monkeypatch):
    """A full disk during a sweep: one line saying the written cells are kept, exit 1; the
    fix it suggests is the error's (every error had been told to free space)."""
    import os

    import gdnp.sweep

    def failing(*args, **kwargs):
        raise OSError(errno_, os.strerror(errno_))

    monkeypatch.setattr(gdnp.sweep, "run_sweep", failing)
    code = main(["sweep", "--problem", "ols", "--kappa", "10", "--maxiter", "5", "--out",
                 "unused_dir", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1 and os.strerror(errno_) in err
    assert f"the cells written so far are kept: {fix} and rerun the same command" in err
    assert "Traceback" not in err


def test_solve_json_is_strict_and_gives_a_rate_only_for_linear_runs(capsys):
    """No NaN token (a run too short to fit had printed ``"rate": NaN``), and ``rate`` only
    where the fit says linear, as the table prints it."""
    assert main(["solve", "ols", "--dim", "3", "--maxiter", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(c))
    assert {(r["order"], r["rate"]) for r in out["results"]} == {("undetermined", None)}
    assert main(["solve", "halfspace", "--n", "2000", "--kappa", "10", "--maxiter", "200",
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["results"]
    assert all((r["rate"] is not None) == (r["order"] == "linear") for r in rows)
    assert any(r["order"] != "linear" for r in rows)


def test_solve_says_why_there_is_no_reference_and_defaults_kappa_in_one_dimension(capsys):
    assert main(["solve", "halfspace", "--n", "100", "--kappa", "10", "--maxiter", "20"]) == 0
    out = capsys.readouterr().out
    assert "no reference optimum f*: X, y: the data are linearly separable" in out
    assert "(d_g f vanishes to rounding at g = " in out  # the length search's function
    assert main(["solve", "ols", "--dim", "1", "--maxiter", "3"]) == 0  # kappa 1, not 100
    out = capsys.readouterr().out
    assert "kappa(S)=1," in out
    # the start is the optimum there: said, instead of four "undetermined" orders
    assert "the start already meets --tol" in out and "order is undetermined" not in out
    assert main(["solve", "ols", "--dim", "1", "--kappa", "10"]) == 2
    assert "kappa must be 1 when d = 1" in capsys.readouterr().err


def test_solve_table_shows_rates_near_one_and_warnings_in_one_line(capsys):
    assert main(["solve", "ols", "--kappa", "1e13", "--dim", "4", "--method", "gd",
                 "--maxiter", "300"]) == 0
    captured = capsys.readouterr()
    assert "gdnp: warning: S is positive definite but cond(S) = 1e+13" in captured.err
    assert "ConditioningWarning" in captured.err and "sys.exit" not in captured.err
    from gdnp.cli import _linear_cell

    assert _linear_cell(0.977) == "lin 0.977" and _linear_cell(1 - 2e-5) == "lin 1-2e-05"


def test_verify_refuses_a_timeout_that_is_not_a_finite_positive_number(capsys):
    for bad in ("nan", "inf", "0"):
        assert main(["verify", "--only", "bn", "--timeout", bad]) == 2
        assert "--timeout must be a finite number > 0" in capsys.readouterr().err


def test_solve_says_which_runs_used_mini_batches(capsys):
    """--batch-size: gd and bngd take mini-batches, agd and gdnp the full batch; the table
    says so under it, the JSON stores the statistics the runs used, per row too, and a
    population problem is refused with the flag to add (--n), not a Python keyword."""
    import json

    from gdnp.cli import main

    assert main(["solve", "halfspace", "--n", "200", "--batch-size", "20", "--maxiter", "5"]) == 0
    out = capsys.readouterr().out
    assert "note: gd, bngd: mini-batches of 20 (batch statistics)" in out
    assert "agd, gdnp: the full batch" in out
    assert main(["solve", "halfspace", "--n", "200", "--batch-size", "20", "--maxiter", "5",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["settings"]["statistics"] == "batch"
    rows = {r["method"]: r for r in data["results"]}
    assert rows["gd"]["batch_size"] == 20 and rows["gdnp"]["batch_size"] is None
    with pytest.raises(SystemExit):
        main(["solve", "ols", "--batch-size", "32"])
    assert "argument --batch-size: needs --n N" in capsys.readouterr().err


def test_solve_table_order_column_keeps_a_space():
    """A rate near 1 prints as 'lin 1-3e-04' (11 characters): the column is 12 wide."""
    from gdnp.cli import _linear_cell

    assert len(_linear_cell(1.0 - 3e-4)) <= 11


def test_mini_batch_gd_on_the_mlp_is_refused_with_what_works(capsys):
    """The MLP's mini-batch gd needs lr, which the command line does not take: the refusal
    says to use --method bngd (which runs), instead of asking for an lr it cannot pass."""
    from gdnp.cli import main

    with pytest.raises(SystemExit):
        main(["solve", "mlp", "--batch-size", "32"])
    assert "use --method bngd" in capsys.readouterr().err
    assert main(["solve", "mlp", "--batch-size", "32", "--method", "bngd", "--maxiter", "5",
                 "--no-reference"]) == 0


def test_solve_takes_the_quadrature_rule_its_warning_asks_for(capsys):
    """The population halfspace's QuadratureWarning says to pass n_nodes: `gdnp solve` takes
    it (population halfspace only), and the JSON records the rule used."""
    assert main(["solve", "halfspace", "--separation", "0.999", "--n-nodes", "4808",
                 "--method", "gdnp", "--maxiter", "20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["problem"]["n_nodes"] == 4808
    for argv, message in ((["--n", "100", "--n-nodes", "40"],
                           "--n-nodes: applies to the population halfspace only"),
                          (["--n-nodes", "1"], "--n-nodes must be >= 2")):
        with pytest.raises(SystemExit) as exc:  # refused at parsing, usage and one line
            main(["solve", "halfspace", *argv])
        assert exc.value.code == 2 and message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["solve", "ols", "--n-nodes", "40"])
    assert "--n-nodes: applies to halfspace only" in capsys.readouterr().err


def test_solve_uncentered_builds_the_uncentred_norm(capsys):
    """``--uncentered`` is the problems' ``centered=False`` (it had no flag, while the user
    guide said the command line takes the normalization options): BNGD's run differs, the
    settings and the problem's configuration say so."""
    import json

    runs = {}
    for flag in ([], ["--uncentered"]):
        assert main(["solve", "ols", "--n", "300", "--method", "bngd", "--maxiter", "20",
                     "--json", *flag]) == 0
        runs[bool(flag)] = json.loads(capsys.readouterr().out)
    assert runs[True]["settings"]["centered"] is False
    assert runs[False]["settings"]["centered"] is True
    assert runs[True]["problem"]["centered"] is False
    assert runs[True]["results"][0]["fun"] != runs[False]["results"][0]["fun"]


def test_an_undetermined_order_says_why(capsys):
    """A student's first question about GDNP reading 'undet' after its gap fell ten decades
    (the default tol stops it after 113 steps, inside its transient): the fitter's reason is
    printed under the table and given in the JSON."""
    argv = ["solve", "halfspace", "--kappa", "100", "--separation", "0.99", "--method", "gdnp"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "gdnp       113" in out and "undet" in out
    assert "note: gdnp's order is undetermined: both rejected" in out
    assert main([*argv, "--json"]) == 0
    row = json.loads(capsys.readouterr().out)["results"][0]
    assert row["order"] == "undetermined" and row["order_reason"].startswith("both rejected")


def test_gdnp_imports_from_the_folder_that_holds_a_clone_named_gdnp(tmp_path):
    """There the current folder comes first on sys.path, and Python had taken the clone's top
    folder for an empty namespace package: `import gdnp` gave a module without gdnp.bngd and
    `python -m gdnp` an ImportError. The top folder's __init__.py hands over to the package."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "gdnp").symlink_to(root, target_is_directory=True)
    code = ("import gdnp, gdnp.problems; from gdnp.problems import OLS; "
            "r = gdnp.solve(OLS.random(3, 10.0, seed=0), 'bngd', maxiter=5); "
            "print(gdnp.__version__, r.nit, gdnp.problems.__name__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    import gdnp

    assert out.stdout.split() == [gdnp.__version__, "5", "gdnp.problems"]
    cli = subprocess.run([sys.executable, "-m", "gdnp", "--version"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0 and cli.stdout.strip() == f"gdnp {gdnp.__version__}"


@pytest.mark.parametrize("argv,message", [
    (["claims", "--json", "--markdown"], "--json and --markdown are two outputs"),
    (["claims", "--from", "docs/claims/claims.json", "--quick"], "--quick applies to a run"),
    (["claims", "--from", "docs/claims/claims.json", "--out", "x"], "--out writes a run's"),
    (["sweep", "--problem", "ols", "--dask-local", "threads", "--dry-run"],
     "--dask-local needs --backend dask"),
    (["sweep", "--problem", "ols", "--timeout", "3", "--dry-run"],
     "--timeout needs --backend dask"),
])
def test_options_that_would_be_ignored_together_are_refused(argv, message, capsys):
    """Each of these had run, silently dropping one of the options (--scheduler without
    dask was already refused)."""
    with pytest.raises(SystemExit) if argv[0] == "claims" else contextlib.nullcontext():
        assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_negative_mlp_gap_is_said_to_be_a_lower_point(capsys):
    """On the network f* is a local reference: a gap of -2.3e-2, 1e12 times f*'s rounding, had
    been put down to inexact arithmetic."""
    assert main(["solve", "mlp", "--dim", "10", "--hidden", "2", "--n", "50", "--method", "gd",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "gd's final gap -2.317e-02 is negative, the solver found a lower point than the " \
           "reference f*" in out
    assert "inexact" not in out


def test_claims_from_a_file_prints_only_the_ids_asked_for(capsys):
    """--only had been ignored with --from FILE (all 22 rows printed)."""
    from pathlib import Path

    source = str(Path(__file__).resolve().parents[1] / "docs" / "claims" / "claims.json")
    assert main(["claims", "--from", source, "--only", "c19.bngd_rate", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["c19.bngd_rate"]


def test_solve_errors_name_the_options_typed(capsys):
    """A library error reached through ``gdnp solve`` names the option the user typed
    (``--bn-eps``, ``--uncentered``, ``--kappa``), not the Python argument behind it."""
    for argv, start in ((["--bn-eps", "-1"], "--bn-eps must be"),
                        (["--uncentered"], "--uncentered: a population problem"),
                        (["--kappa", "nan"], "--kappa must be")):
        assert main(["solve", "ols", *argv]) == 2
        assert f"gdnp solve: error: {start}" in capsys.readouterr().err


def test_empty_claims_file_and_an_ols_sample_beyond_memory_are_clean_errors(tmp_path, capsys):
    """`claims --from` a file holding an empty list, and `solve ols --n` of a sample beyond
    the memory limit, are one-line errors (exit 2), not tracebacks (a max() of nothing, a
    numpy allocation error of 74.5 GiB)."""
    empty = tmp_path / "e.json"
    empty.write_text("[]")
    assert main(["claims", "--from", str(empty)]) == 2
    assert "e.json: holds no claims" in capsys.readouterr().err
    try:
        code = main(["solve", "ols", "--n", "100000000", "--dim", "100", "--maxiter", "2"])
    except SystemExit as stop:
        code = stop.code
    assert code == 2
    err = capsys.readouterr().err
    assert "a sample of n = 100000000 points in d = 100 dimensions needs about" in err
