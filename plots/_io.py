"""Files beside every figure: a long-format CSV of its data and a JSON of its metadata.

Every write is atomic (a temporary file in the target folder, then :func:`os.replace`), so a
crashed or concurrent run never leaves a half-written file under the final name.
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np

from gdnp._io import atomic_write_bytes, package_versions

__all__ = ["atomic_write_bytes", "write_tables_csv", "read_tables_csv", "write_json",
           "read_json", "versions", "to_jsonable"]


def _cell(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))  # shortest exact round trip
    return str(v)


def write_tables_csv(path: str, tables: dict) -> None:
    """One long-format CSV for all tables of a figure.

    The first column, ``table``, names the table a row belongs to; the other columns are the
    union of the tables' columns, left empty where a table has no such column.
    """
    cols: list[str] = []
    for tab in tables.values():
        for c in tab:
            if c not in cols:
                cols.append(c)
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(["table", *cols])
    for tname, tab in tables.items():
        lengths = {c: len(v) for c, v in tab.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"table {tname!r} has columns of unequal length: {lengths}")
        n = next(iter(lengths.values()), 0)
        arrays = {c: list(v) for c, v in tab.items()}
        for i in range(n):
            wr.writerow([tname, *(_cell(arrays[c][i]) if c in arrays else "" for c in cols)])
    atomic_write_bytes(path, buf.getvalue().encode())


def _column(values: list[str]):
    try:
        return np.array([float(v) for v in values], dtype=float)
    except ValueError:
        return np.array(values, dtype=object)


def read_tables_csv(path: str) -> dict:
    """Inverse of :func:`write_tables_csv`: ``{table: {column: ndarray}}`` (numeric columns as
    floats, others as object arrays)."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    grouped: dict[str, list[list[str]]] = {}
    for r in body:
        grouped.setdefault(r[0], []).append(r)
    out = {}
    for tname, rs in grouped.items():
        tab = {}
        for j, c in enumerate(header[1:], start=1):
            vals = [r[j] for r in rs]
            if all(v == "" for v in vals):
                continue
            tab[c] = _column(vals)
        out[tname] = tab
    return out


def to_jsonable(obj):
    """Numpy scalars/arrays to Python; non-finite floats to the strings "nan"/"inf"/"-inf"."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else repr(x)
    return obj


def _from_json(obj):
    if isinstance(obj, dict):
        return {k: _from_json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_from_json(v) for v in obj]
    if obj in ("nan", "inf", "-inf"):
        return float(obj)
    return obj


def write_json(path: str, obj) -> None:
    atomic_write_bytes(path, (json.dumps(to_jsonable(obj), indent=2, sort_keys=False)
                              + "\n").encode())


def read_json(path: str):
    with open(path) as fh:
        return _from_json(json.load(fh))


def versions() -> dict:
    """Versions of the packages a figure depends on, and the platform."""
    return package_versions()
