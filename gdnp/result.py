"""Result type and the per-iteration recorder shared by every solver (API.md).

The recorder owns everything that is the same for all methods: the history arrays, the
stopping test on ``||grad f||_{S^-1} <= tol``, divergence detection (status 2, never an
exception) and the ``callback(intermediate_result)`` protocol of ``scipy.optimize``
(raising ``StopIteration`` stops the run with status 99).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["OptimizeResult", "Recorder", "STATUS_MESSAGES"]

STATUS_MESSAGES = {
    0: "converged: gradient norm below tol",
    1: "maximum number of iterations reached",
    2: "diverged: non-finite or exploding objective",
    99: "stopped by the callback",
}


class OptimizeResult(dict):
    """A ``dict`` with attribute access, like ``scipy.optimize.OptimizeResult``.

    Keys: ``x``, ``fun``, ``grad_norm``, ``nit``, ``nfev``, ``status``, ``success``,
    ``message``, ``method``, ``history`` (a dict of equal-length arrays with at least
    ``iter``, ``fun``, ``grad_norm2``, ``time`` and, when a reference optimum is known, ``gap``),
    plus method-specific keys (``length``, ``direction``, ``n_bisect``...).
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    __setattr__ = dict.__setitem__
    __delattr__ = dict.__delitem__

    def __dir__(self):
        return list(self.keys())

    def __repr__(self) -> str:
        if not self:
            return "OptimizeResult()"
        keys = [k for k in self if k != "history"]
        width = max(map(len, keys)) + 1
        lines = []
        for k in keys:
            v = self[k]
            text = np.array2string(v, threshold=8, precision=6) if isinstance(
                v, np.ndarray) else repr(v)
            lines.append(f"{k.rjust(width)}: {text}")
        if "history" in self:
            h = self["history"]
            lines.append(f"{'history'.rjust(width)}: {len(h.get('iter', []))} records of "
                         f"{sorted(h)}")
        return "\n".join(lines)


class Recorder:
    """Collects the history of one run and decides when it stops.

    Parameters
    ----------
    problem : Problem
        The problem (for ``grad_norm2`` and the reference optimum).
    method : str
        Method name, stored in the result.
    tol : float
        Stop (status 0) once ``||grad f(x)||_{S^-1} <= tol``.
    callback : callable or None
        ``callback(intermediate_result)``; may raise ``StopIteration``.
    f_star : float or None
        Reference optimum; adds ``gap`` to the history.
    divergence : float
        Status 2 when ``f - f_0 > divergence * (1 + |f_0|)`` or anything is non-finite.
    """

    def __init__(self, problem, method: str, tol: float, callback: Callable | None,
                 f_star: float | None, divergence: float = 1e12, extra_keys=()):
        self.problem, self.method, self.tol = problem, method, tol
        self.callback, self.f_star, self.divergence = callback, f_star, divergence
        self.cols: dict[str, list] = {k: [] for k in ("iter", "fun", "grad_norm2", "time")}
        if f_star is not None:
            self.cols["gap"] = []
        for k in extra_keys:
            self.cols[k] = []
        self.t0 = time.perf_counter()
        self.status: int | None = None
        self.x_last = None
        self.fun_last = np.nan
        self.gn2_last = np.nan
        self.nit = 0
        self.nfev = 0
        self.f0 = None

    def record(self, k: int, x: np.ndarray, fun: float, G: np.ndarray, **extra) -> bool:
        """Record iterate ``k``; return ``True`` when the run must stop (status is set)."""
        gn2 = self.problem.grad_norm2(G) if np.all(np.isfinite(G)) else np.inf
        finite = np.isfinite(fun) and np.isfinite(gn2) and np.all(np.isfinite(x))
        if self.f0 is None:
            self.f0 = fun
        if not finite or fun - self.f0 > self.divergence * (1.0 + abs(self.f0)):
            self.status = 2
            self.nit = k
            self._divergence_note = (k, fun)
            return True
        self.x_last, self.fun_last, self.gn2_last, self.nit = x, float(fun), float(gn2), k
        self.cols["iter"].append(k)
        self.cols["fun"].append(float(fun))
        self.cols["grad_norm2"].append(float(gn2))
        self.cols["time"].append(time.perf_counter() - self.t0)
        if self.f_star is not None:
            self.cols["gap"].append(float(fun) - self.f_star)
        for key, val in extra.items():
            self.cols[key].append(val)
        if np.sqrt(gn2) <= self.tol:
            self.status = 0
            return True
        if self.callback is not None:
            inter = OptimizeResult(x=x.copy(), fun=float(fun), grad_norm2=float(gn2), nit=k,
                                   method=self.method)
            if self.f_star is not None:
                inter["gap"] = float(fun) - self.f_star
            try:
                self.callback(inter)
            except StopIteration:
                self.status = 99
                return True
        return False

    def stop(self, status: int, message: str) -> None:
        """End the run with ``status`` and a specific ``message``."""
        self.status = status
        self._message = message

    def result(self, **extra) -> OptimizeResult:
        """Assemble the :class:`OptimizeResult` (status 1 unless another was set)."""
        status = 1 if self.status is None else self.status
        msg = STATUS_MESSAGES[status]
        if getattr(self, "_message", None):
            msg = self._message
        elif status == 2:
            k, fun = self._divergence_note
            msg = f"{msg} (f = {fun!r} at iteration {k}); x is the last finite iterate"
        history = {k: np.asarray(v, dtype=float) for k, v in self.cols.items()}
        history["iter"] = history["iter"].astype(int)
        x = self.x_last
        res = OptimizeResult(
            x=None if x is None else np.array(x, dtype=float, copy=True),
            fun=self.fun_last,
            grad_norm=float(np.sqrt(self.gn2_last)),
            nit=int(self.nit),
            nfev=int(self.nfev),
            status=status,
            success=status == 0,
            message=msg,
            method=self.method,
            history=history,
        )
        res.update(extra)
        return res
