"""The ``gdnp`` command line: ``solve`` table and JSON, errors, ``python -m gdnp``."""

from __future__ import annotations

import json
import subprocess
import sys

from gdnp.cli import main


def test_solve_json_headline(capsys):
    """Done-when of issue 2: GDNP below 1e-10 at kappa 100, separation 0.99; GD far from it."""
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
