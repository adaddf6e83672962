"""Files beside every figure: a long-format CSV of its data and a JSON of its metadata.

Every write is atomic (a temporary file in the target folder, then :func:`os.replace`), so a
crashed or concurrent run never leaves a half-written file under the final name.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import numbers

import numpy as np

from gdnp._io import atomic_write_bytes, package_versions

__all__ = ["atomic_write_bytes", "write_tables_csv", "read_tables_csv", "table_schema",
           "write_json", "read_json", "versions", "to_jsonable", "file_sha256"]


def _cell(v) -> str:
    if v is None:
        return ""  # read back as NaN in a numeric column (the text "None" made it strings)
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))  # shortest exact round trip
    return str(v)


def write_tables_csv(path: str, tables: dict) -> str:
    """One long-format CSV for all tables of a figure; returns the SHA-256 of its bytes (the
    figure's JSON records it, so that a CSV and a JSON of different runs are told apart).

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
    data = buf.getvalue().encode()
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str) -> str:
    """The SHA-256 of a file's bytes."""
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def table_schema(tables: dict) -> dict:
    """``{table: {column: "str" or "float"}}``: what :func:`read_tables_csv` gives back.

    A column of numbers (booleans, and ``None`` for a missing value, included) is read back
    as floats; any other column is text, written with ``str`` and kept as strings (even
    ``"007"`` or ``"1e3"``; an enum or a path comes back as its ``str``). Written to a
    figure's JSON, it also keeps a table without rows and its columns."""
    def numeric(v) -> bool:
        return v is None or isinstance(v, (numbers.Real, np.bool_))

    return {tname: {c: ("float" if all(numeric(v) for v in list(col)) else "str")
                    for c, col in tab.items()} for tname, tab in tables.items()}


def _typed_column(values: list[str], kind: str) -> np.ndarray:
    if kind == "str":
        return np.array(values, dtype=object)
    return np.array([float(v) if v != "" else np.nan for v in values], dtype=float)


def _column(values: list[str]):
    try:
        return np.array([float(v) for v in values], dtype=float)
    except ValueError:
        return np.array(values, dtype=object)


def read_tables_csv(path: str, schema: dict | None = None) -> dict:
    """Inverse of :func:`write_tables_csv`: ``{table: {column: ndarray}}``.

    With the ``schema`` of :func:`table_schema` (a figure's JSON holds it), every table and
    column comes back as written: text columns as object arrays of strings, the others as
    floats (an empty cell, a missing value, as NaN), tables without rows as empty columns.
    Without it (files written before the schema was kept), a column is read as floats when
    every cell parses as one, else as strings, and empty tables and columns are absent."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    grouped: dict[str, list[list[str]]] = {}
    for r in body:
        grouped.setdefault(r[0], []).append(r)
    if schema is not None:
        index = {c: j for j, c in enumerate(header[1:], start=1)}
        return {tname: {c: _typed_column([r[index[c]] for r in grouped.get(tname, [])], kind)
                        for c, kind in cols.items()} for tname, cols in schema.items()}
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
