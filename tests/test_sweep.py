"""``gdnp sweep``: resumption, backends, determinism and bad input (fast)."""

from __future__ import annotations

import csv
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time

import pytest

from gdnp.sweep import (
    COLUMNS,
    cell_key,
    expand_cells,
    normalize_config,
    read_results,
    run_sweep,
    sweep_main,
)

SMALL = {"grid": {"problem": ["ols", "halfspace"], "kappa": [10, 100], "dim": [4],
                  "method": ["gd", "gdnp"], "seed": [0, 1]},
         "maxiter": 30, "options": {"gdnp": {"T_s": 20}}}


def _table(out):
    """Rows without the (wall-clock) time column."""
    return [tuple(v for k, v in r.items() if k != "time") for r in read_results(out)]


def _check_unique(rows):
    keys = [(r["key"], r["iter"]) for r in rows]
    assert len(keys) == len(set(keys))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    summary = run_sweep(SMALL, out, jobs=1)
    assert summary["cells"] == 16 and summary["ran"] == 16
    return out


def test_schema_and_sidecar(reference):
    rows = read_results(reference)
    assert list(rows[0]) == list(COLUMNS)
    assert len(rows) == 16 * 31
    _check_unique(rows)
    side = json.loads((reference / "sweep.json").read_text())
    assert side["config"] == normalize_config(SMALL)
    assert len(side["cells"]) == 16
    assert {"numpy", "scipy", "gdnp"} <= set(side["versions"])
    assert "blas_threads_per_worker" in side["threads"] and "platform" in side
    # OLS rows have no separation or loss; every halfspace row has both
    for r in rows:
        if r["problem"] == "ols":
            assert r["separation"] == "" and r["loss"] == ""
        else:
            assert float(r["separation"]) == 0.9 and r["loss"] == "logistic"
    assert all(r["gap"] != "" for r in rows)


def test_keys_stable_and_deduplicated():
    cfg = normalize_config({"problem": ["ols"], "separation": [0.5, 0.9], "loss": [
        "logistic", "squared"], "method": ["gd"]})
    cells = expand_cells(cfg)
    assert len(cells) == 1  # separation and loss do not apply to OLS
    c = {k: v for k, v in cells[0].items() if k != "key"}
    assert cell_key(c) == cells[0]["key"] == cell_key(dict(reversed(list(c.items()))))


def test_resume_after_interrupt(tmp_path, reference):
    out = tmp_path / "sweep"

    def stop_after_5(key, n_done):
        if n_done == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(SMALL, out, on_cell=stop_after_5)
    assert len(list((out / "cells").glob("*.csv"))) == 5
    assert not (out / "results.csv").exists()
    summary = run_sweep(SMALL, out)
    assert summary["skipped"] == 5 and summary["ran"] == 11
    assert _table(out) == _table(reference)
    _check_unique(read_results(out))
    # a third run is a no-op that rewrites the same table
    assert run_sweep(SMALL, out)["ran"] == 0
    assert _table(out) == _table(reference)


def test_resume_after_kill(tmp_path):
    """Kill a real ``gdnp sweep`` process midway (SIGKILL), rerun: same table, no duplicates."""
    args = ["--problem", "halfspace", "--n", "4000", "--dim", "20", "--kappa", "10", "30",
            "--method", "gd", "gdnp", "--seed", "0", "1", "2", "--maxiter", "150"]
    out = tmp_path / "killed"
    code = f"from gdnp.sweep import sweep_main; sweep_main({args + ['--out', str(out)]!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            if out.exists() and len(list((out / "cells").glob("*.csv"))) >= 3:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    n_before = len(list((out / "cells").glob("*.csv")))
    assert 3 <= n_before
    if n_before == 12:
        pytest.skip("the sweep finished before it could be killed")
    assert sweep_main(args + ["--out", str(out)]) == 0
    fresh = tmp_path / "fresh"
    assert sweep_main(args + ["--out", str(fresh)]) == 0
    assert _table(out) == _table(fresh)
    _check_unique(read_results(out))


def _children(pid: int) -> set[int]:
    """The pids whose parent is ``pid`` (Linux ``/proc``)."""
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.add(int(entry))
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_end_with_a_killed_sweep(tmp_path):
    """SIGKILL of ``gdnp sweep --jobs 2`` leaves it no chance to stop its loky worker: the
    worker ends by itself within seconds (it had blocked for ever on a result nobody read)."""
    pytest.importorskip("joblib")
    args = ["--problem", "halfspace", "--dim", "20", "50", "--kappa", "10", "100", "1000",
            "--method", "gd", "bngd", "gdnp", "--seed", "0", "1", "2", "3", "--maxiter", "3000",
            "--jobs", "2", "--no-progress", "--out", str(tmp_path / "out")]
    code = f"from gdnp.sweep import sweep_main; sweep_main({args!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and not workers:
            workers = {c for c in _children(proc.pid)
                       if b"loky" in open(f"/proc/{c}/cmdline", "rb").read()
                       and b"popen_loky" in open(f"/proc/{c}/cmdline", "rb").read()}
            time.sleep(0.05)
        if not workers:
            pytest.skip("no loky worker was seen before the sweep ended")
        time.sleep(1.0)  # the worker is computing a unit
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{w}") for w in workers):
        time.sleep(0.1)
    alive = [w for w in workers if os.path.exists(f"/proc/{w}")]
    for w in alive:  # do not leave them behind if the test fails
        os.kill(w, signal.SIGKILL)
    assert not alive, "loky workers outlived the killed sweep"


def test_parallel_loky_equals_serial(tmp_path, reference):
    out = tmp_path / "loky"
    summary = run_sweep(SMALL, out, jobs=2, backend="loky")
    assert summary["ran"] == 16
    assert _table(out) == _table(reference)


def test_dask_local_cluster_equals_serial(tmp_path, reference):
    out = tmp_path / "dask"
    summary = run_sweep(SMALL, out, jobs=2, backend="dask", dask_processes=False)
    assert summary["ran"] == 16
    assert _table(out) == _table(reference)


def test_cli_and_config_files(tmp_path, reference):
    cfg = tmp_path / "sweep.json"
    cfg.write_text(json.dumps(SMALL))
    assert sweep_main([str(cfg), "--out", str(tmp_path / "a")]) == 0
    assert _table(tmp_path / "a") == _table(reference)
    toml = tmp_path / "sweep.toml"
    toml.write_text('maxiter = 30\n[grid]\nproblem = ["ols", "halfspace"]\nkappa = [10, 100]\n'
                    'dim = [4]\nmethod = ["gd", "gdnp"]\nseed = [0, 1]\n'
                    '[options.gdnp]\nT_s = 20\n')
    assert sweep_main([str(toml), "--out", str(tmp_path / "b")]) == 0
    assert _table(tmp_path / "b") == _table(reference)
    # command-line grid options override the file
    assert sweep_main([str(cfg), "--seed", "0", "--out", str(tmp_path / "c")]) == 0
    assert len({r["key"] for r in read_results(tmp_path / "c")}) == 8


def test_failed_cell_is_recorded_and_reported(tmp_path, capsys):
    # kappa = 1e20 is beyond float64's reach: that cell raises, the other runs
    cfg = {"problem": ["ols"], "kappa": [1e20, 10.0], "dim": [3], "method": ["gd"],
           "maxiter": 5}
    summary = run_sweep(cfg, tmp_path / "f")
    rows = read_results(tmp_path / "f")
    bad = [r for r in rows if r["kappa"] == "1e+20"]
    assert len(bad) == 1 and bad[0]["status"] == "-1" and bad[0]["iter"] == "-1"
    assert "beyond float64's reach" in bad[0]["error"]
    assert [f["key"] for f in summary["failed"]] == [bad[0]["key"]]
    assert summary["failed"][0]["error"] == bad[0]["error"]
    assert len([r for r in rows if r["kappa"] == "10.0"]) == 6
    # the command warns of it and exits with status 1, on a rerun too (the cell is done)
    for _ in range(2):
        assert sweep_main(["--problem", "ols", "--kappa", "1e20", "10", "--dim", "3",
                           "--method", "gd", "--maxiter", "5", "--out",
                           str(tmp_path / "g")]) == 1
        err = capsys.readouterr().err
        assert f"cell {bad[0]['key']} raised: ValueError: kappa = 1e+20" in err


@pytest.mark.parametrize("raw, word", [
    ({"grid": {"problm": ["ols"]}}, "problm"),
    ({"colour": 3}, "colour"),
    ({"method": ["gd", "newton"]}, "newton"),
    ({"problem": ["lasso"]}, "lasso"),
    ({"seed": []}, "empty grid"),
    ({"kappa": ["big"]}, "kappa"),
    ({"options": {"sgd": {}}}, "sgd"),
    ({"maxiter": -1}, "maxiter"),
])
def test_bad_config(tmp_path, raw, word):
    with pytest.raises(ValueError, match=word):
        run_sweep(raw, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_bad_cli(tmp_path, capsys):
    out = tmp_path / "x"
    assert sweep_main(["--method", "newton", "--out", str(out)]) == 2
    assert "newton" in capsys.readouterr().err
    for extra in ([], ["--dry-run"]):  # refused when parsed, a dry run included
        with pytest.raises(SystemExit) as stop:
            sweep_main(["--backend", "ray", "--out", str(out), *extra])
        assert stop.value.code == 2
        assert "backend" in capsys.readouterr().err
    assert sweep_main([str(tmp_path / "missing.json"), "--out", str(out)]) == 2
    assert "CONFIG" in capsys.readouterr().err
    assert not out.exists()


def test_unreachable_scheduler(tmp_path, capsys):
    out = tmp_path / "x"
    t0 = time.monotonic()
    code = sweep_main(["--backend", "dask", "--scheduler", "tcp://127.0.0.1:9",
                       "--timeout", "1", "--out", str(out)])
    assert code == 2 and time.monotonic() - t0 < 20
    assert "scheduler" in capsys.readouterr().err
    assert not out.exists()


def test_different_configuration_refused(tmp_path, reference):
    out = tmp_path / "copy"
    run_sweep(SMALL, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    other = {**SMALL, "maxiter": 31}
    with pytest.raises(ValueError, match="different"):
        run_sweep(other, out)
    assert sweep_main(["--maxiter", "31", "--out", str(out)]) == 2
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert before == after
    # a folder that is not a sweep is not written into either
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        run_sweep(SMALL, foreign)
    assert os.listdir(foreign) == ["notes.txt"]


def test_csv_round_trip(reference):
    with open(reference / "results.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    fun = [float(r[COLUMNS.index("fun")]) for r in rows[1:]]
    assert all(f == f for f in fun)


# ------------------------------------------------------------- damaged files, locks, extension
TINY = {"grid": {"problem": ["ols"], "dim": [3], "kappa": [10], "method": ["gd", "gdnp"],
                 "seed": [0, 1]}, "maxiter": 10}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    assert run_sweep(TINY, out)["ran"] == 4
    return out


def _cells(out):
    return sorted((out / "cells").glob("*.csv"))


@pytest.mark.parametrize("damage", ["truncate", "header_only", "other_cell", "empty",
                                    "flip_digit"])
def test_damaged_cell_is_reported_and_recomputed(tmp_path, tiny, damage):
    out = tmp_path / "s"
    shutil.copytree(tiny, out)
    victim, other = _cells(out)[:2]
    text = victim.read_text()
    if damage == "truncate":
        victim.write_text(text[: len(text) // 2])
    elif damage == "header_only":
        victim.write_text(",".join(COLUMNS) + "\n")
    elif damage == "other_cell":
        victim.write_text(other.read_text())
    elif damage == "empty":
        victim.write_bytes(b"")
    else:  # same length, one digit changed inside a number: only the checksum sees it
        i = text.index(",0.") + 3
        victim.write_text(text[:i] + ("1" if text[i] != "1" else "2") + text[i + 1:])
    summary = run_sweep(TINY, out)
    assert [d["key"] for d in summary["damaged"]] == [victim.stem]
    assert summary["ran"] == 1 and summary["skipped"] == 3
    assert _table(out) == _table(tiny)
    _check_unique(read_results(out))


def test_cli_reports_a_damaged_cell(tmp_path, tiny, capsys):
    out = tmp_path / "s"
    shutil.copytree(tiny, out)
    _cells(out)[0].write_bytes(b"")
    cfg = tmp_path / "tiny.json"
    cfg.write_text(json.dumps(TINY))
    assert sweep_main([str(cfg), "--out", str(out)]) == 0
    assert "damaged (empty file); recomputed" in capsys.readouterr().err


def test_folder_left_by_an_early_kill_is_resumable(tmp_path, tiny):
    out = tmp_path / "early"
    (out / "cells").mkdir(parents=True)  # killed before the sidecar was written
    assert run_sweep(TINY, out)["ran"] == 4
    assert _table(out) == _table(tiny)


def test_second_sweep_on_a_busy_folder_is_refused(tmp_path, tiny):
    out = tmp_path / "busy"
    out.mkdir()
    # a live process (this test's parent) holds the lock
    (out / ".gdnp-sweep.lock").write_text(json.dumps({"pid": os.getppid(),
                                                      "host": platform.node()}))
    with pytest.raises(ValueError, match=r"another gdnp sweep \(pid \d+"):
        run_sweep(TINY, out)
    assert not (out / "cells").exists() and not (out / "sweep.json").exists()


def test_lock_of_a_killed_sweep_is_taken_over(tmp_path, tiny):
    out = tmp_path / "stale"
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(proc.stdout)
    out.mkdir()
    (out / ".gdnp-sweep.lock").write_text(json.dumps({"pid": dead, "host": platform.node()}))
    assert run_sweep(TINY, out)["ran"] == 4
    assert not (out / ".gdnp-sweep.lock").exists()  # released at the end
    assert _table(out) == _table(tiny)


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def test_scratch_a_killed_run_left_is_removed_and_nothing_else(tmp_path):
    from gdnp._io import remove_stale_scratch, scratch_prefix

    dead = scratch_prefix("results.csv").replace(f"-{os.getpid()}.", f"-{_dead_pid()}.")
    mine = scratch_prefix("results.csv")
    other_host = ".results.csv.elsewhere-1.abcd1234.tmp"
    old = time.time() - 7200.0
    for name in (dead + "abcd1234.tmp", mine + "efgh5678.tmp", other_host, "data.csv",
                 ".hidden"):
        (tmp_path / name).write_text("x")
        os.utime(tmp_path / name, (old, old))
    (tmp_path / (dead.replace("results.csv", "fig") + "x1y2z3w4")).mkdir()  # a figure's
    os.utime(tmp_path / (dead.replace("results.csv", "fig") + "x1y2z3w4"), (old, old))
    # recent: a dead pid here may be a live run in another process namespace (a container)
    (tmp_path / (dead + "recent12.tmp")).write_text("x")
    # a pid no process can have is never judged dead (it had raised OverflowError)
    (tmp_path / (mine.replace(f"-{os.getpid()}.", "-99999999999999999999.") + "huge1234.tmp")
     ).write_text("x")
    assert remove_stale_scratch(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [mine + "efgh5678.tmp", other_host, "data.csv", ".hidden", dead + "recent12.tmp",
         mine.replace(f"-{os.getpid()}.", "-99999999999999999999.") + "huge1234.tmp"])
    assert remove_stale_scratch(tmp_path, min_age=0.0) == 1  # the recent one, when asked
    assert remove_stale_scratch(tmp_path / "missing") == 0


def test_sweep_removes_what_a_killed_sweep_left(tmp_path, tiny):
    from gdnp._io import scratch_prefix

    tag = scratch_prefix("x").replace(f"-{os.getpid()}.", f"-{_dead_pid()}.")[len(".x."):]
    out = tmp_path / "killed"
    (out / "cells").mkdir(parents=True)
    left = [out / f".sweep.json.{tag}ab12cd34.tmp", out / "cells" / f".k.csv.{tag}zz99yy88.tmp"]
    for path in left:
        path.write_text("half")
        os.utime(path, (time.time() - 7200.0,) * 2)
    # a folder holding only a killed run's scratch is a new folder, not "not empty"
    assert run_sweep(TINY, out)["ran"] == 4
    assert not any(p.exists() for p in left)
    assert _table(out) == _table(tiny)


def test_grid_extension_runs_only_new_cells(tmp_path, tiny):
    out = tmp_path / "grow"
    shutil.copytree(tiny, out)
    bigger = {**TINY, "grid": {**TINY["grid"], "seed": [0, 1, 2]}}
    summary = run_sweep(bigger, out)
    assert summary["skipped"] == 4 and summary["ran"] == 2
    run_sweep(bigger, tmp_path / "fresh")
    assert _table(out) == _table(tmp_path / "fresh")
    # removing a value is not an extension: refused, nothing written
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(ValueError, match="may only add grid values"):
        run_sweep({**TINY, "grid": {**TINY["grid"], "seed": [0]}}, out)
    assert before == {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_memory_bound_fails_one_cell_and_the_sweep_goes_on(tmp_path):
    cfg = {"grid": {"problem": ["ols"], "dim": [3, 1_000_000], "method": ["gd"]},
           "maxiter": 5}
    run_sweep(cfg, tmp_path / "m")
    rows = read_results(tmp_path / "m")
    big = [r for r in rows if r["dim"] == "1000000"]
    assert len(big) == 1 and big[0]["status"] == "-1" and big[0]["iter"] == "-1"
    assert "GiB of memory" in big[0]["error"]
    assert len([r for r in rows if r["dim"] == "3"]) == 6


def test_ctrl_c_says_how_to_resume(tmp_path, capsys, monkeypatch):
    import gdnp.sweep as sweep_mod

    real = sweep_mod._iter_serial

    def interrupted(todo, blas_threads):
        for i, item in enumerate(real(todo, blas_threads)):
            if i == 2:
                raise KeyboardInterrupt
            yield item

    monkeypatch.setattr(sweep_mod, "_iter_serial", interrupted)
    cfg = tmp_path / "tiny.json"
    cfg.write_text(json.dumps(TINY))
    out = tmp_path / "c"
    assert sweep_main([str(cfg), "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert "interrupted; 2 cells saved" in err and "rerun the same command to resume" in err
    assert "Traceback" not in err
    assert not (out / ".gdnp-sweep.lock").exists()
    monkeypatch.setattr(sweep_mod, "_iter_serial", real)
    assert sweep_main([str(cfg), "--out", str(out)]) == 0
    assert len(read_results(out)) == 4 * 11


def test_sweep_without_tqdm(tmp_path, monkeypatch, tiny):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails as if not installed
    assert run_sweep(TINY, tmp_path / "p", progress=True)["ran"] == 4
    assert _table(tmp_path / "p") == _table(tiny)


def test_resume_keeps_the_blas_threads_and_the_record_of_every_run(tmp_path, capsys):
    """A resume with another --blas-threads is refused (the cells' last bits depend on it);
    sweep.json lists every run; a grid extension drops the old results.csv at once."""
    import json

    out = tmp_path / "s"
    base = ["--problem", "ols", "--kappa", "10", "--dim", "3", "--method", "gd", "--seed", "0",
            "--maxiter", "5", "--no-progress", "--out", str(out)]
    assert sweep_main([*base, "--blas-threads", "1"]) == 0
    assert sweep_main([*base, "--blas-threads", "2"]) == 2
    assert "--blas-threads 1" in capsys.readouterr().err
    assert sweep_main([*base, "--blas-threads", "1", "--kappa", "10", "100"]) == 0
    side = json.loads((out / "sweep.json").read_text())
    assert [r["blas_threads_per_worker"] for r in side["runs"]] == [1, 1]
    assert len(side["cells"]) == 2


def test_a_sweeps_sidecar_is_a_config_that_reruns_it(tmp_path):
    """``gdnp sweep DIR/sweep.json --out OTHER`` reruns the recorded configuration."""
    first, second = tmp_path / "a", tmp_path / "b"
    args = ["--problem", "ols", "--kappa", "10", "--dim", "3", "--method", "gd", "gdnp",
            "--maxiter", "5", "--no-progress"]
    assert sweep_main([*args, "--out", str(first)]) == 0
    assert sweep_main([str(first / "sweep.json"), "--out", str(second), "--no-progress"]) == 0
    strip = [{k: v for k, v in r.items() if k != "time"} for r in read_results(first)]
    assert strip == [{k: v for k, v in r.items() if k != "time"} for r in read_results(second)]


def test_cells_of_an_earlier_format_join_results_in_the_new_spelling(tmp_path):
    """An earlier version left the default configuration columns empty in its cell files;
    resumed, those rows join results.csv with the values the runs used, like new cells."""
    import csv
    import io

    from gdnp.sweep import _with_trailer, check_cell

    out = tmp_path / "s"
    args = ["--problem", "mlp", "--kappa", "10", "--dim", "3", "--method", "gd", "--seed", "0",
            "--maxiter", "3", "--no-progress", "--out", str(out)]
    assert sweep_main(args) == 0
    new_rows = read_results(out)
    cell = next((out / "cells").glob("*.csv"))
    rows, _ = check_cell(cell.read_text(encoding="utf-8"), cell.stem)
    old = io.StringIO()
    writer = csv.writer(old, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in list(csv.reader(io.StringIO(rows))):
        row = dict(zip(COLUMNS, row, strict=True))
        row.update(n="", normalization="", bn_eps="", statistics="")
        writer.writerow([row[c] for c in COLUMNS])
    cell.write_text(_with_trailer(cell.stem, old.getvalue()), encoding="utf-8")
    (out / "results.csv").unlink()
    assert sweep_main(args) == 0
    assert read_results(out) == new_rows
    assert {r["n"] for r in new_rows} == {"2000"}


def test_sigterm_ends_a_sweep_like_ctrl_c(tmp_path):
    """SIGTERM (what batch schedulers send) runs Ctrl-C's clean-up: the lock is released, the
    cells written are kept and named, exit 143; a rerun resumes (it had left the lock and
    printed nothing)."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "sweep"
    argv = [sys.executable, "-m", "gdnp", "sweep", "--problem", "halfspace", "--kappa", "10",
            "100", "1000", "--seed", "0", "1", "2", "3", "--maxiter", "3000", "--tol", "0",
            "--out", str(out), "--no-progress"]
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list((out / "cells").glob("*.csv")) and time.monotonic() < deadline:
        time.sleep(0.1)  # until a first cell is saved
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=60)[1]
    if proc.returncode == 0:
        pytest.skip("the sweep finished before SIGTERM arrived")
    assert proc.returncode == 143 and "terminated;" in err and "rerun the same command" in err
    assert not (out / ".gdnp-sweep.lock").exists()


def test_results_are_written_piece_by_piece_and_atomically(tmp_path):
    """``results.csv`` is streamed from the cells (the table never whole in memory: it had
    taken about three times the file's size); a piece that fails leaves the old file as it
    was and no temporary file behind."""
    import tracemalloc

    from gdnp._io import atomic_write_chunks

    path = tmp_path / "results.csv"
    piece = "x" * 2**20
    tracemalloc.start()
    atomic_write_chunks(path, (piece for _ in range(64)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert path.stat().st_size == 64 * 2**20
    assert peak < 8 * 2**20, peak  # a piece or two, not the 64 MB file

    def broken():
        yield "new\n"
        raise ValueError("out: cell file 'k.csv' is damaged")

    with pytest.raises(ValueError, match="damaged"):
        atomic_write_chunks(path, broken())
    assert path.stat().st_size == 64 * 2**20
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]


def test_a_diverged_cell_is_counted_and_says_why(tmp_path, capsys):
    """Separable data: GDNP's length has no finite minimiser (status 2). The summary counts the
    cell and its last row's error column holds the solver's message (it had been empty)."""
    out = tmp_path / "div"
    assert sweep_main(["--problem", "halfspace", "--n", "50", "--dim", "10", "--kappa", "10",
                       "--method", "gdnp", "gd", "--maxiter", "50", "--out", str(out)]) == 0
    assert "1 diverged (status 2)" in capsys.readouterr().out
    rows = read_results(out)
    last = [r for r in rows if r["method"] == "gdnp"][-1]
    assert last["status"] == "2" and last["error"].startswith("diverged: no finite minimiser")
    assert all(r["error"] == "" for r in rows if r["method"] == "gd")
    summary = run_sweep(json.loads((out / "sweep.json").read_text())["config"], out)
    assert len(summary["diverged"]) == 1 and summary["ran"] == 0


def test_grid_values_a_cell_cannot_use_are_refused_or_normalised_before_any_cell_runs():
    base = {"problem": ["halfspace"], "kappa": [10], "dim": [3], "method": ["gd"],
            "maxiter": 5}
    with pytest.raises(ValueError, match="grid key 'n': n must be at least 2, got 1"):
        normalize_config({**base, "n": [1]})
    # numbers only (strings refused), each error saying what the key takes
    for key, value, rule in (("kappa", "1e1", "a finite number >= 1"),
                             ("dim", "3", "an integer"), ("bn_eps", "0.1", "a finite number >= 0"),
                             ("n", "100", "an integer >= 2"),
                             ("bn_eps", -1, "a finite number >= 0"), ("dim", 2.5, "an integer"),
                             ("seed", "x", "an integer")):
        with pytest.raises(ValueError, match=f"grid key '{key}': bad value .*{rule}"):
            normalize_config({**base, key: [value]})
    # cells whose batches the solver refuses are kept (the others of the grid still run)
    # and named by batch_problem, which --dry-run prints
    from gdnp.sweep import batch_problem

    cells = expand_cells(normalize_config({**base, "n": [None, 50, 5000],
                                           "batch_size": [None, 1, 1000]}))
    why = {(c["n"], c.get("batch_size")): batch_problem(c) for c in cells}
    assert why[(5000, 1000)] is None and why[(50, None)] is None
    assert "must lie in [2, n = 50]" in why[(50, 1000)]
    assert "must lie in [2, n = 5000]" in why[(5000, 1)]
    assert "population problem" in why[(None, 1000)]


def test_default_kappa_is_one_when_every_dim_is_one():
    """A 1-D S has condition number 1: with ``dim = 1`` only and no kappa given, the grid's
    kappa is 1 (as ``gdnp solve --dim 1``); another kappa given with dim 1 only is refused (no
    cell could use it); a grid with other dims keeps what it says (its d = 1 cells raise when
    they run, and the dry run names them)."""
    assert normalize_config({"dim": 1})["grid"]["kappa"] == [1.0]
    assert normalize_config({"dim": [1]})["grid"]["kappa"] == [1.0]
    assert normalize_config({"dim": [1, 5]})["grid"]["kappa"] == [100.0]
    with pytest.raises(ValueError, match="every dim is 1"):
        normalize_config({"dim": 1, "kappa": 10})
    assert normalize_config({"dim": 1, "kappa": 1})["grid"]["kappa"] == [1.0]
    assert normalize_config({})["grid"]["kappa"] == [100.0]


@pytest.mark.parametrize("raw, match", [
    ({"options": {"gdnp": {"T_s": 30.0}}}, r"options\['gdnp'\]: T_s must be an integer"),
    ({"options": {"bngd": {"lr": -1}}}, r"options\['bngd'\]: lr must be"),
    ({"options": {"gd": {"lr": float("nan")}}}, r"options\['gd'\]\['lr'\]: a finite value"),
    ({"options": {"gdnp": {"bracket": [-1.0, float("inf")]}}}, r"\['bracket'\]: a finite"),
    ({"kappa": [float("nan")]}, r"grid key 'kappa': kappa must be a finite number >= 1"),
    ({"kappa": [0.5]}, r"grid key 'kappa'"),
    ({"problem": ["halfspace"], "separation": [1.5]}, r"separation must lie in \[1e-150, 1\)"),
    ({"bn_eps": [float("inf")]}, r"grid key 'bn_eps'"),
])
def test_bad_values_are_refused_before_any_cell_runs(raw, match):
    """A value every cell would refuse (or that JSON cannot hold) is refused by name up
    front: it had started the sweep and left a folder of failed cells (or a bare "Out of
    range float values are not JSON compliant")."""
    with pytest.raises(ValueError, match=match):
        normalize_config({"problem": ["ols"], "dim": [3], **raw})


def test_an_option_that_applies_to_some_problems_is_left_to_the_cells():
    """theta_steps is the MLP's only: with OLS and MLP in the grid, the MLP cells can use it."""
    config = normalize_config({"problem": ["ols", "mlp"], "dim": [3],
                               "options": {"gdnp": {"theta_steps": 2}}})
    assert config["options"] == {"gdnp": {"theta_steps": 2}}


@pytest.mark.parametrize("raw", [
    {"problem": ["ols"], "dim": [5], "method": ["bngd", "gdnp"],
     "options": {"bngd": {"w0": [1, 1, 0, 0, 0], "g0": 1.0},
                 "gdnp": {"w0": [1, 1, 0, 0, 0], "g0": 1.0}}},
    {"problem": ["halfspace"], "loss": ["squared"], "dim": [3], "method": ["agd"],
     "options": {"agd": {"momentum": "strongly_convex"}}},
])
def test_options_that_the_grids_own_problems_accept_are_not_refused(raw):
    """The up-front option check builds its probes from the grid's own dims and losses: a
    start of the grid's dim and a momentum the squared loss allows are accepted (a probe of
    dim 3 with the logistic loss had refused both)."""
    config = normalize_config({"kappa": [10], **raw})
    assert config["options"]


def test_an_mlp_cell_without_n_is_the_default_n_cell():
    """The MLP is always built from data (2000 samples by default): n = none and n = 2000 are
    one cell, not two identical blocks of results."""
    cells = expand_cells(normalize_config({"problem": ["mlp"], "n": [None, 2000], "dim": [3]}))
    assert len(cells) == 1 and cells[0]["n"] == 2000


def test_lanczos_spectra_are_reproducible():
    """The Lanczos path starts from a fixed vector: two identical calls agree bit for bit
    (ARPACK's random start had moved them by 1e-12)."""
    import numpy as np

    import gdnp
    from gdnp.problems import OLS

    p = OLS.random(30, 100.0, seed=0)
    x = p.solution()[0] + 0.1
    a = np.asarray(gdnp.hessian_spectrum(p, x, method="lanczos", k=3))
    b = np.asarray(gdnp.hessian_spectrum(p, x, method="lanczos", k=3))
    assert np.array_equal(a, b)


def test_an_optional_key_at_its_default_is_the_cell_without_it(tmp_path):
    """Spelling out normalization='batch' (or bn_eps=0, batch_size=none) names the same cells
    as leaving it out, so a sweep made without the key extends with --normalization batch
    weight: only the new norm's cells run (it had been refused as another configuration)."""
    plain = normalize_config({"problem": ["ols"], "dim": [3], "maxiter": 5})
    spelled = normalize_config({"problem": ["ols"], "dim": [3], "maxiter": 5,
                                "normalization": ["batch"], "bn_eps": [0.0],
                                "batch_size": [None]})
    assert [c["key"] for c in expand_cells(plain)] == [c["key"] for c in expand_cells(spelled)]
    out = tmp_path / "s"
    assert run_sweep(plain, out)["ran"] == 1
    extended = {"problem": ["ols"], "dim": [3], "maxiter": 5,
                "normalization": ["batch", "weight"]}
    summary = run_sweep(extended, out)
    assert summary["ran"] == 1 and summary["skipped"] == 1


def test_statistics_batch_is_the_default_spelled_out(tmp_path):
    """statistics='batch' is a mini-batch run's default: it names the same cells as leaving
    it out, and a sweep made without it extends with both statistics."""
    base = {"problem": ["ols"], "n": [200], "dim": [3], "method": ["gd"], "maxiter": 3,
            "batch_size": [16], "options": {"gd": {"lr": 0.5}}}
    plain = expand_cells(normalize_config(base))
    spelled = expand_cells(normalize_config({**base, "statistics": ["batch"]}))
    assert [c["key"] for c in plain] == [c["key"] for c in spelled]
    out = tmp_path / "s"
    assert run_sweep(base, out)["ran"] == 1
    assert run_sweep({**base, "statistics": ["batch", "population"]}, out)["ran"] == 1


def test_reference_is_an_option_the_check_accepts():
    """Every method's 'reference' option passes the up-front check (the probe had passed it
    twice: 'got multiple values for keyword argument')."""
    config = normalize_config({"problem": ["ols"], "dim": [3],
                               "options": {"gd": {"reference": False}}})
    assert config["options"] == {"gd": {"reference": False}}


def test_a_dry_run_says_which_cells_the_folder_holds_and_writes_nothing(tmp_path, capsys):
    """--dry-run had listed the grid's cells only: not whether --out already held them, nor
    that a run would refuse the folder (a changed maxiter); with --json it printed one JSON
    object per line instead of one document."""
    from gdnp.sweep import sweep_main

    out = tmp_path / "sweep"
    grid = ["--problem", "ols", "--dim", "3", "--method", "gd", "--no-progress",
            "--out", str(out)]
    assert sweep_main([*grid, "--kappa", "10", "100", "--maxiter", "20", "--dry-run"]) == 0
    assert not out.exists()  # nothing written
    captured = capsys.readouterr()
    assert [json.loads(ln)["done"] for ln in captured.out.splitlines()] == [False, False]
    assert "2 cells, 0 already done" in captured.err and "2 to run" in captured.err

    assert sweep_main([*grid, "--kappa", "10", "--maxiter", "20"]) == 0
    capsys.readouterr()
    before = sorted(p.name for p in out.rglob("*"))
    assert sweep_main([*grid, "--kappa", "10", "100", "--maxiter", "20", "--dry-run",
                       "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)  # one document
    kappa_of = {c["key"]: c["kappa"] for c in doc["cells"]}
    assert [kappa_of[k] for k in doc["done"]] == [10.0]
    assert [kappa_of[k] for k in doc["to_run"]] == [100.0]
    assert doc["damaged"] == [] and doc["will_raise"] == []
    assert sorted(p.name for p in out.rglob("*")) == before

    # a run would refuse this folder: so does the dry run, with the run's message
    assert sweep_main([*grid, "--kappa", "10", "--maxiter", "30", "--dry-run"]) == 2
    assert "maxiter 20 -> 30; use another --out folder" in capsys.readouterr().err


def test_more_jobs_than_usable_cpus_are_warned_of(tmp_path, monkeypatch):
    """--jobs 2 under a one-CPU taskset had run silently, slower than --jobs 1 (large-data
    trial: 8.2 s against 7.2 s); the CPUs counted are those this process may run on."""
    import gdnp.sweep

    monkeypatch.setattr(gdnp.sweep, "usable_cpus", lambda: 1)
    config = {"grid": {"problem": ["ols"], "kappa": [10.0], "dim": [3], "method": ["gd", "agd"]},
              "maxiter": 5}
    with pytest.warns(RuntimeWarning, match=r"jobs=2, but this process may run on 1 CPU"):
        gdnp.sweep.run_sweep(config, tmp_path / "s", jobs=2, progress=False)


def test_dim_one_with_kappa_other_than_one_is_refused_or_flagged(tmp_path, capsys):
    """A 1 x 1 S has condition number 1: a grid whose every dim is 1 refuses another kappa
    before any cell runs; in a grid with other dims the dry run names the dim-1 cells that
    will raise."""
    from gdnp.sweep import cell_problem, expand_cells, normalize_config, sweep_main

    with pytest.raises(ValueError, match="every dim is 1.*kappa must be 1, got \\[10.0\\]"):
        normalize_config({"problem": "ols", "dim": 1, "kappa": 10})
    assert normalize_config({"problem": "ols", "dim": 1})["grid"]["kappa"] == [1.0]
    cells = expand_cells(normalize_config({"problem": "ols", "dim": [1, 3], "method": "gd"}))
    assert [c["dim"] for c in cells if cell_problem(c)] == [1]
    assert sweep_main(["--problem", "ols", "--dim", "1", "3", "--method", "gd",
                       "--out", str(tmp_path / "d"), "--dry-run"]) == 0
    assert "will raise: kappa must be 1 when dim = 1" in capsys.readouterr().err


def test_read_results_refuses_a_truncated_file(tmp_path):
    """A results.csv cut short outside gdnp (which writes it whole) is a ValueError naming
    the file and line, not rows of None (half a key, every other field missing) or a
    truncated last value."""
    out = tmp_path / "sweep"
    run_sweep({"problem": "ols", "kappa": 10, "dim": 3, "method": "gd", "maxiter": 5}, out,
              progress=False)
    text = (out / "results.csv").read_text()
    assert len(read_results(out, typed=True)) == 6
    cut = tmp_path / "cut.csv"
    for end in (len(text) // 2, len(text) - 3):
        cut.write_text(text[:end])
        with pytest.raises(ValueError, match="cut.csv.*cut short"):
            read_results(cut)
    lines = text.splitlines(keepends=True)
    cut.write_text("".join(lines[:3]) + lines[3].split(",", 2)[0] + "\n")  # a short row
    with pytest.raises(ValueError, match=r"cut.csv, line 4: \d+ fields expected"):
        read_results(cut)
    header = lines[0].rstrip("\r\n").split(",")
    bad = lines[1].rstrip("\r\n").split(",")
    bad[header.index("iter")] = "x"
    cut.write_text(lines[0] + ",".join(bad) + "\n")
    with pytest.raises(ValueError, match="line 2: column 'iter' holds 'x', not an int"):
        read_results(cut, typed=True)


def test_run_cell_and_run_sweep_name_bad_arguments(tmp_path):
    """A dict that is not a cell, and an out that is not a path, are named (they had been a
    KeyError 'key' and a pathlib TypeError)."""
    from gdnp.sweep import expand_cells, normalize_config, run_cell

    with pytest.raises(ValueError, match=r"cell lacks \['dim'"):
        run_cell({"foo": 1})
    with pytest.raises(TypeError, match="cell must be a dict"):
        run_cell(3)
    config = {"problem": "ols", "kappa": 10, "dim": 3, "method": "gd", "maxiter": 5}
    with pytest.raises(TypeError, match="out must be a folder path"):
        run_sweep(config, None)
    assert run_cell(expand_cells(normalize_config(config))[0]).startswith("key,")
