"""The ``gdnp`` command line: ``solve`` table and JSON, errors, ``python -m gdnp``."""

from __future__ import annotations

import json
import subprocess
import sys

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


def test_solve_bad_input_exits_2(capsys):
    assert main(["solve", "halfspace", "--separation", "1.5"]) == 2
    assert "separation must lie in (0, 1)" in capsys.readouterr().err


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
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "usage: gdnp" in out and "solve" in out and "sweep" in out


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
