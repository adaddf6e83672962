"""Run the registered checks with a per-check timeout (theory guide §8; ``gdnp verify``).

Each check runs in its own worker process (``fork`` where available, else ``spawn``); a check
that does not finish within the timeout is terminated and reported as ``timeout``, never as
proved. With ``timeout=None`` the checks run in the calling process.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import signal
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from gdnp._common import signal_handler_set, usable_cpus

__all__ = ["STATUSES", "CheckResult", "evaluate", "run_checks", "summarize"]

#: ``proved``: expected to hold and proved; ``failed``: expected to hold and not proved, or a
#: documented discrepancy that unexpectedly proved; ``discrepancy``: documented discrepancy,
#: not provable and refuted by its exact counterexample; ``unrefuted``: documented
#: discrepancy whose counterexample is missing or does not refute it (needs attention);
#: ``timeout``; ``error``.
STATUSES = ("proved", "failed", "discrepancy", "unrefuted", "timeout", "error")

DEFAULT_TIMEOUT = 30.0


@dataclass
class CheckResult:
    """Outcome of one check (a JSON-friendly record) of theory guide §8's identities.

    Parameters
    ----------
    name, topic, statement, source, expected, generality : str
        Copied from the :class:`~gdnp.proofs.Check`.
    status : {"proved", "failed", "discrepancy", "unrefuted", "timeout", "error"}
        The outcome; ``discrepancy`` is a documented ``expected="fails"`` check that is
        refuted as expected.
    proved : bool or None
        Whether every identity was proved (``None`` on a timeout or an error).
    seconds : float
        Wall-clock time.
    detail : str
        The first failure, the timeout or the error.
    counterexample : dict or None
        A discrepancy's exact counterexample.

    Examples
    --------
    >>> from gdnp.proofs import run_checks
    >>> result = run_checks(only="bn.scale_invariance", timeout=None)[0]
    >>> result.status, result.proved
    ('proved', True)
    """

    name: str
    topic: str
    statement: str
    source: str
    expected: str
    status: str
    proved: bool | None
    seconds: float
    detail: str = ""
    generality: str = ""
    counterexample: dict | None = None

    def to_dict(self) -> dict:
        """The record as a plain ``dict`` (for ``gdnp verify --json``; theory guide §8).

        Returns
        -------
        dict
            One key per field.

        Examples
        --------
        >>> from gdnp.proofs import run_checks
        >>> record = run_checks(only="bn.scale_invariance", timeout=None)[0].to_dict()
        >>> record["name"], record["status"]
        ('bn.scale_invariance', 'proved')
        """
        return asdict(self)


def evaluate(check) -> CheckResult:
    """Run one check in the current process and classify the outcome.

    A failure's detail names the first labelled identity not proved and its simplified
    residual; a documented discrepancy carries its counterexample (point and both values) and
    is ``unrefuted`` unless that counterexample refutes the published form exactly.
    """
    start = time.perf_counter()
    example = None
    try:
        failure = check.first_failure()
        proved = failure is None
        if check.expected == "holds":
            status = "proved" if proved else "failed"
            detail = "" if proved else f"not proved: {failure[0]}; residual = {failure[1]}"
        elif proved:
            status = "failed"
            detail = "documented discrepancy unexpectedly proved: the published form holds"
        elif check.counterexample is None:
            status, detail = "unrefuted", "not provable, but no counterexample is documented"
        else:
            found = check.counterexample()
            example = found.to_dict()
            status = "discrepancy" if found.refutes else "unrefuted"
            detail = ("false as stated, " if found.refutes else "") + found.describe()
    except Exception as exc:  # a broken check is reported, never counted as proved
        proved, status = None, "error"
        detail = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}"
    return _result(check, status, proved, time.perf_counter() - start, detail, example)


def _result(
    check,
    status: str,
    proved: bool | None,
    seconds: float,
    detail: str,
    example: dict | None = None,
) -> CheckResult:
    return CheckResult(
        name=check.name,
        topic=check.topic,
        statement=check.statement,
        source=check.source,
        expected=check.expected,
        status=status,
        proved=proved,
        seconds=round(seconds, 4),
        detail=detail,
        generality=check.generality,
        counterexample=example,
    )


def _worker(name: str, conn) -> None:
    from . import get_check

    try:
        conn.send(evaluate(get_check(name)).to_dict())
    finally:
        conn.close()


def _context():
    methods = mp.get_all_start_methods()
    return mp.get_context("fork" if "fork" in methods else "spawn")


def _select(only: Iterable[str] | None):
    from . import CHECKS, TOPICS

    if only is None:
        return list(CHECKS)
    wanted = list(only)
    names = {c.name for c in CHECKS}
    unknown = [t for t in wanted if t not in TOPICS and t not in names]
    if unknown:
        raise ValueError(
            f"unknown topic or check id(s) {', '.join(map(repr, unknown))}; topics are: "
            f"{', '.join(TOPICS)} (check ids: gdnp verify --list)"
        )
    return [c for c in CHECKS if c.topic in wanted or c.name in wanted]


def run_checks(
    only: Sequence[str] | str | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    jobs: int | None = None,
) -> list[CheckResult]:
    """Run the registered checks.

    Parameters
    ----------
    only : str or sequence of str, optional
        Restrict to these topics (see :data:`gdnp.proofs.TOPICS`) and/or check ids
        (``"ols.step4"``).
    timeout : float or None
        Per-check wall-clock limit in seconds, enforced by running each check in a worker
        process that is terminated on expiry (status ``"timeout"``). ``None`` runs every check
        in this process with no limit.
    jobs : int, optional
        Number of concurrent worker processes (default: the number of CPUs, at most 4).

    Returns
    -------
    list of CheckResult
        In registry order.

    Raises
    ------
    ValueError
        If ``only`` names an unknown topic or check id, or ``timeout``/``jobs`` is not positive.

    Examples
    --------
    The checks of theory guide §8, in this process (``timeout=None``):

    >>> from gdnp.proofs import run_checks
    >>> [r.status for r in run_checks(only=["bn.scale_invariance", "k19.length_bound_as_quoted"],
    ...                               timeout=None)]
    ['proved', 'discrepancy']
    """
    if isinstance(only, str):
        only = [only]
    checks = _select(only)
    if timeout is None:
        return [evaluate(c) for c in checks]
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (
            math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a finite number > 0 (seconds) or None, got "
                         f"{timeout!r}")
    jobs = jobs or min(usable_cpus(), 4)
    if jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    ctx = _context()
    if ctx.get_start_method() == "fork":
        from .gaussian import standard_mgf

        standard_mgf()  # one exact integration, inherited by every forked worker
    results: dict[str, CheckResult] = {}
    pending = list(checks)
    running: dict[str, tuple] = {}
    while pending or running:
        while pending and len(running) < jobs:
            check = pending.pop(0)
            parent, child = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_worker, args=(check.name, child), daemon=True)
            # SIGTERM's default action in the forked worker: it inherits the parent's
            # handlers, and the command line's (which raises, so that a sweep cleans up) had
            # turned terminate() of a check past its timeout into a traceback on stderr,
            # also when it arrived before the worker could reset it
            with signal_handler_set(signal.SIGTERM, signal.SIG_DFL):
                proc.start()
            child.close()
            running[check.name] = (check, proc, parent, time.perf_counter())
        for name, (check, proc, conn, started) in list(running.items()):
            result = _collect(check, proc, conn, time.perf_counter() - started, timeout)
            if result is None:
                continue
            results[name] = result
            proc.join(1.0)
            conn.close()
            del running[name]
        time.sleep(0.005)
    return [results[c.name] for c in checks]


def _collect(check, proc, conn, elapsed: float, timeout: float) -> CheckResult | None:
    """One worker's outcome, or ``None`` while it is still running within its time.

    Liveness is read *before* the pipe: a worker sends its answer and then exits, so one
    seen dead has already written whatever it will write. Polling first would race with a
    worker that answers and exits between the two reads, and report a proved check as dead.
    """
    alive = proc.is_alive()
    if conn.poll():
        try:
            return CheckResult(**conn.recv())
        except EOFError:
            return _result(check, "error", None, elapsed, "worker died")
    if not alive:
        return _result(check, "error", None, elapsed, f"worker exited with code {proc.exitcode}")
    if elapsed > timeout:
        proc.terminate()
        proc.join(1.0)
        if proc.is_alive():
            proc.kill()
        return _result(check, "timeout", None, elapsed, f"no answer within {timeout:g} s")
    return None


def summarize(results: Sequence[CheckResult]) -> dict[str, int | bool]:
    """Counts per status plus ``total``; ``ok`` is ``True`` when no check needs attention.

    Parameters
    ----------
    results : sequence of CheckResult
        What :func:`run_checks` returned.

    Returns
    -------
    dict of str to int or bool
        One count per status (``proved``, ``failed``, ``discrepancy``, ``unrefuted``,
        ``timeout``, ``error``), ``total`` and the bool ``ok`` (``False`` if any check failed,
        was not refuted, timed out or raised; theory guide §8).

    Examples
    --------
    >>> from gdnp.proofs import run_checks, summarize
    >>> counts = summarize(run_checks(only="bn.scale_invariance", timeout=None))
    >>> counts["proved"], counts["total"], counts["ok"]
    (1, 1, True)
    """
    counts: dict[str, int | bool] = {status: 0 for status in STATUSES}
    for r in results:
        counts[r.status] += 1
    counts["total"] = len(results)
    bad = ("failed", "unrefuted", "timeout", "error")
    counts["ok"] = all(counts[k] == 0 for k in bad)  # a JSON boolean in gdnp verify --json
    return counts
