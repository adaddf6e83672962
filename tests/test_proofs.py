"""Tests of gdnp.proofs: every registered check has its expected outcome, the prover can fail,
and ``gdnp verify`` behaves (theory guide §8)."""

from __future__ import annotations

import json
import re

import pytest
import sympy as sp

from gdnp.proofs import CHECKS, TOPICS, Identity, get_check, prove, refute, run_checks, summarize
from gdnp.proofs.backprop import jacobian_identity
from gdnp.proofs.bn import GeneralSetting, _jacobian
from gdnp.proofs.core import Check
from gdnp.proofs.gdnp_step import h_identity
from gdnp.proofs.ols import step4_identity
from gdnp.proofs.report import verify_main
from gdnp.proofs.runner import evaluate


@pytest.mark.parametrize("check", CHECKS, ids=[c.name for c in CHECKS])
def test_check_has_expected_outcome(check: Check) -> None:
    result = evaluate(check)
    expected = "proved" if check.expected == "holds" else "discrepancy"
    assert result.status == expected, result.detail
    assert check.statement and check.source


def test_registry_is_consistent() -> None:
    assert len({c.name for c in CHECKS}) == len(CHECKS)
    assert {c.topic for c in CHECKS} == set(TOPICS)
    for check in CHECKS:
        assert check.name.startswith(check.topic + ".")
        assert check.expected in ("holds", "fails")
        if check.expected == "fails":
            assert check.counterexample is not None
    assert get_check("ols.step4").topic == "ols"


def test_documented_discrepancies_are_refuted_exactly() -> None:
    for check in CHECKS:
        if check.expected == "fails":
            example = check.counterexample()
            assert example.refutes, check.name
            assert example.point and example.lhs != example.rhs, check.name


# --- the prover can fail: deliberately wrong variants ---------------------------------------


def _jacobian_rhs(s: GeneralSetting, g, power: int = 2):
    from gdnp.proofs.vectors import vec_identity

    rhs = (s.h - s.w * (s.w.dot(s.h.S()) / s.r**power)) * (g / s.r)
    return vec_identity(s.V.directional(s.wt, "w", s.h), rhs, "relation", s.rel)


def test_dropped_factor_is_rejected() -> None:
    (identity,) = _jacobian()
    s = GeneralSetting()
    assert prove(identity) and prove(_jacobian_rhs(s, s.g))
    assert not prove(_jacobian_rhs(s, 1))  # the factor g is dropped


def test_sign_flip_is_rejected() -> None:
    assert prove(step4_identity(abs_rho_sign=-1))
    assert not prove(step4_identity(abs_rho_sign=+1))  # |rho| = +rho: wrong sign
    identity = step4_identity()
    assert not prove(identity.with_rhs(-identity.rhs))


def test_wrong_power_is_rejected() -> None:
    s = GeneralSetting()
    assert not prove(_jacobian_rhs(s, s.g, power=3))  # ||w||^3 instead of ^2
    # and a wrong power of sigma in the IS15 dl/dsigma^2
    from gdnp.proofs.backprop import Batch, _dvar

    (good,) = _dvar(3)[:1]
    b = Batch(3)
    bad_rhs = good.rhs * b.r  # (sigma^2 + eps)^(-1) instead of ^(-3/2)
    assert prove(good)
    assert not prove(good.with_rhs(bad_rhs))


def test_transposed_projector_is_rejected() -> None:
    from gdnp.proofs.vectors import vec_identity

    s = GeneralSetting()
    assert prove(get_check("bn.chain_rule").identities()[0])
    transposed = (s.G - s.w * (s.w.S().dot(s.G) / s.r**2)) * (s.g / s.r)  # (I - w w'S) G
    assert not prove(vec_identity(s.JtG(), transposed, "relation", s.rel))


def test_published_variants_fail_and_corrections_hold() -> None:
    assert prove(jacobian_identity(3)) and not prove(jacobian_identity(3, drop_1_over_n=True))
    assert prove(h_identity(restrict_g=True)) and not prove(h_identity(restrict_g=False))


def test_prover_methods_and_shapes() -> None:
    x, y = sp.symbols("x y", real=True)
    r = sp.Symbol("r", positive=True)
    assert prove(Identity((x + y) ** 2, x**2 + 2 * x * y + y**2, "expand"))
    assert not prove(Identity((x + y) ** 2, x**2 + y**2, "expand"))
    assert prove(Identity(1 / (x - 1) - 1 / (x + 1), 2 / (x**2 - 1), "cancel"))
    assert prove(Identity(sp.sin(x) ** 2 + sp.cos(x) ** 2, sp.S.One, "simplify"))
    q = x**2 + y**2
    assert prove(Identity(sp.sqrt(q) ** 3 / q, r, "relation", ((r, q),)))
    assert not prove(Identity(sp.sqrt(q), r**2, "relation", ((r, q),)))
    assert not prove(Identity(sp.Matrix([x]), sp.Matrix([x, x]), "expand"))
    with pytest.raises(ValueError):
        Identity(x, x, "numeric")


def test_refute_needs_a_true_difference() -> None:
    x = sp.Symbol("x", real=True)
    assert refute(Identity(x**2, x, "expand"), {x: 2})
    assert not refute(Identity((x + 1) ** 2, x**2 + 2 * x + 1, "expand"), {x: 3})


def test_a_wrong_check_is_reported_failed() -> None:
    x = sp.Symbol("x", real=True)
    bad = Check("bn.bogus", "bn", "x = 2x", "test", lambda: [Identity(x, 2 * x, "expand")])
    assert evaluate(bad).status == "failed"
    surprising = Check(
        "bn.bogus2", "bn", "x = x", "test", lambda: [Identity(x, x, "expand")], expected="fails"
    )
    assert evaluate(surprising).status == "failed"
    broken = Check("bn.bogus3", "bn", "raises", "test", lambda: 1 / 0)
    assert evaluate(broken).status == "error"


# --- runner and CLI -------------------------------------------------------------------------


def test_run_checks_in_workers_with_topic_filter() -> None:
    results = run_checks(only="gdnp", timeout=60, jobs=2)
    assert [r.name for r in results] == [c.name for c in CHECKS if c.topic == "gdnp"]
    counts = summarize(results)
    assert counts["proved"] == 2 and counts["discrepancy"] == 1 and counts["ok"] == 1


def test_worker_that_answers_and_exits_between_reads_is_not_reported_dead() -> None:
    # The race CI met once: the worker sends its answer and exits after the pipe was polled
    # but before liveness was read. Here the answer arrives during the liveness read.
    from gdnp.proofs import runner

    check = get_check("bn.scale_invariance")
    answer = evaluate(check).to_dict()

    class Conn:
        sent = False

        def poll(self) -> bool:
            return self.sent

        def recv(self) -> dict:
            return answer

    conn = Conn()

    class Proc:
        exitcode = 0

        def is_alive(self) -> bool:
            conn.sent = True  # the worker answers and exits just now
            return False

    result = runner._collect(check, Proc(), conn, elapsed=0.1, timeout=30.0)
    assert result is not None and result.status == "proved"

    class DeadConn(Conn):
        def poll(self) -> bool:
            return False

    class DeadProc:
        exitcode = 1

        def is_alive(self) -> bool:
            return False

    died = runner._collect(check, DeadProc(), DeadConn(), elapsed=0.1, timeout=30.0)
    assert died is not None and died.status == "error" and "code 1" in died.detail


def test_unknown_topic_raises() -> None:
    with pytest.raises(ValueError, match="topics are: bn, ols"):
        run_checks(only=["nope"])


def test_timeout_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import gdnp.proofs as proofs
    from gdnp.proofs import runner

    slow = Check("bn.slow", "bn", "sleeps", "test", lambda: time.sleep(30) or [])
    monkeypatch.setattr(proofs, "CHECKS", [slow])
    monkeypatch.setattr(proofs, "_BY_NAME", {"bn.slow": slow})
    if runner._context().get_start_method() != "fork":
        pytest.skip("the monkeypatched registry is only visible to forked workers")
    (result,) = run_checks(timeout=0.5)
    assert result.status == "timeout" and result.proved is None
    assert summarize([result])["ok"] == 0


def test_verify_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = verify_main(["--json", "--only", "gdnp", "--only", "backprop"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    summary = out["summary"]
    records = out["checks"]
    assert {r["topic"] for r in records} == {"gdnp", "backprop"}
    assert summary["proved"] + summary["failed"] + summary["discrepancy"] == len(records)
    assert summary["discrepancy"] == 2 and summary["failed"] == 0 and summary["unrefuted"] == 0
    assert summary["line"] == (
        f"{summary['proved']} proved, 0 failed, 2 discrepancies refuted, 0 unrefuted"
    )
    keys = {"name", "source", "statement", "status", "seconds", "expected", "generality"}
    assert all(keys <= set(r) for r in records)
    for r in records:
        assert r["generality"]
        if r["status"] == "discrepancy":
            ce = r["counterexample"]
            assert ce["refutes"] and ce["point"] and ce["lhs"] != ce["rhs"]
        else:
            assert r["counterexample"] is None


def test_verify_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert verify_main(["--only", "gdnp"]) == 0
    out = capsys.readouterr().out
    assert "identity" in out and "gdnp.h_quoted_general" in out and "discrepancy" in out
    assert "2 proved, 0 failed, 1 discrepancies refuted, 0 unrefuted" in out
    assert "general d" in out and "lhs = " in out  # generality column, counterexample shown


def test_verify_unknown_topic(capsys: pytest.CaptureFixture[str]) -> None:
    assert verify_main(["--only", "nope"]) == 2
    err = capsys.readouterr().err
    assert "nope" in err
    for topic in TOPICS:
        assert topic in err
    # a mistyped id gets the closest one, as a mistyped option does
    assert verify_main(["--only", "bn.jacobean"]) == 2
    assert "did you mean 'bn.jacobian'?" in capsys.readouterr().err


def test_verify_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert verify_main(["--list", "--only", "mlp"]) == 0
    assert "mlp.stein_two_units" in capsys.readouterr().out


def test_listed_ids_work_in_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert verify_main(["--list"]) == 0
    ids = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert ids == [c.name for c in CHECKS]
    assert verify_main(["--json", "--only", "ols.step4", "--only", "c19"]) == 0
    out = json.loads(capsys.readouterr().out)
    names = [r["name"] for r in out["checks"]]
    assert names == ["ols.step4"] + [c.name for c in CHECKS if c.topic == "c19"]


def test_generality_and_sources() -> None:
    general = [c for c in CHECKS if c.generality.startswith("general")]
    assert len(CHECKS) >= 50 and len(general) >= 15
    for c in CHECKS:
        assert c.generality, c.name
        assert not re.search(r"MATH\.md|API\.md", c.source), c.name


def test_failure_shows_label_and_residual() -> None:
    x = sp.Symbol("x", real=True)
    bad = Check(
        "bn.bogus",
        "bn",
        "x + 1 = x",
        "test",
        lambda: [Identity(x, x, "expand", label="fine"), Identity(x + 1, x, "expand", label="off")],
        generality="any x",
    )
    result = evaluate(bad)
    assert result.status == "failed" and "off" in result.detail and "residual = 1" in result.detail


def test_unrefuting_counterexample_fails_verify() -> None:
    from gdnp.proofs.core import counterexample
    from gdnp.proofs.runner import summarize

    x = sp.Symbol("x", real=True)
    wrong = Identity(x**2, x, "expand")
    # a documented discrepancy whose counterexample sits where both sides agree (x = 1)
    check = Check(
        "bn.claimed",
        "bn",
        "x^2 = x",
        "test",
        lambda: [wrong],
        expected="fails",
        counterexample=lambda: counterexample(wrong, {x: 1}),
        generality="any x",
    )
    result = evaluate(check)
    assert result.status == "unrefuted" and result.counterexample["refutes"] is False
    assert summarize([result])["ok"] == 0
    good = Check(
        "bn.claimed2",
        "bn",
        "x^2 = x",
        "test",
        lambda: [wrong],
        expected="fails",
        counterexample=lambda: counterexample(wrong, {x: 2}),
        generality="any x",
    )
    result = evaluate(good)
    assert result.status == "discrepancy" and result.counterexample["lhs"] == "4"
    assert summarize([result])["ok"] == 1
    missing = Check("bn.c3", "bn", "x^2 = x", "t", lambda: [wrong], expected="fails")
    assert evaluate(missing).status == "unrefuted"


def test_verify_list_json_is_a_json_list_of_the_checks(capsys):
    """``gdnp verify --list --json`` had printed the text list."""
    import json

    assert verify_main(["--list", "--json", "--only", "ols"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in listed] == [c.name for c in CHECKS if c.topic == "ols"]
    assert {"name", "topic", "statement", "source", "generality", "expected"} <= set(listed[0])


def test_checks_past_their_timeout_end_quietly_on_the_command_line():
    """The command line raises on SIGTERM (so that a sweep cleans up); a check's worker,
    forked from it and terminated past its timeout, had printed that exception's traceback
    (its handler inherited, sometimes before it could reset it)."""
    import subprocess
    import sys

    for _ in range(4):
        run = subprocess.run([sys.executable, "-m", "gdnp", "verify", "--only", "ols",
                              "--timeout", "0.001"], capture_output=True, text=True)
        assert "Traceback" not in run.stderr and "timeout" in run.stdout
