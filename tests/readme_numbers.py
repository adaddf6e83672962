"""Test helper: the numbers a README region states must come from a data file.

A number printed in prose, e.g. ``0.977``, *matches* a data value ``v`` when ``v`` rounds to
it at the printed precision (``|v - 0.977| <= 0.0005``; ``1.2e-3`` allows ``0.05e-3``;
``43`` allows ``0.5``). Two ways to use it:

* :func:`unmatched_numbers`: every number in a region must match *some* number of the data
  (numeric leaves, and numbers inside strings) - for text generated from that data;
* :func:`annotated_numbers` / :func:`check_annotations`: a number followed by an HTML comment
  naming its source, ``0.977<!-- halfspace_kappa:results.per_kappa.100.0.rate -->``, must
  match that key of ``docs/figures/halfspace_kappa.json`` (the comment does not render).
  Keys (or files) that are not there yet are reported separately so a test can skip;
* :func:`refresh_annotations`: rewrite every annotated number from its key, at the precision
  it is printed with (after the data are regenerated; the prose around the numbers still
  needs a reader). From the shell: ``python tests/readme_numbers.py README.md
  docs/figures docs/claims benchmarks``.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])")
ANNOTATED = re.compile(
    r"(?<![\w.])([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*"
    r"<!--\s*([\w-]+):([^\s>]+)\s*-->")


def region(text: str, start: str, end: str) -> str:
    """The text strictly between the markers ``start`` and ``end`` (ValueError if absent)."""
    i, j = text.find(start), text.find(end)
    if i < 0 or j < 0 or j < i:
        raise ValueError(f"markers {start!r} ... {end!r} not found in order")
    return text[i + len(start):j]


def numbers_in(text: str) -> list[str]:
    """The number tokens of ``text``, as printed (HTML comments are left out)."""
    return NUMBER.findall(re.sub(r"<!--.*?-->", " ", text, flags=re.S))


def half_unit(token: str) -> float:
    """Half a unit in the last printed digit of ``token`` (its rounding allowance)."""
    mant, _, exp = token.lower().lstrip("+-").partition("e")
    decimals = len(mant.partition(".")[2])
    return 0.5 * 10.0 ** (-decimals) * 10.0 ** (int(exp) if exp else 0)


def matches(token: str, value: float) -> bool:
    """Whether ``value`` rounds to ``token`` at the precision ``token`` is printed with."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return False
    x = float(token)
    return abs(value - x) <= half_unit(token) * (1 + 1e-9) + 1e-300


def data_numbers(obj) -> list[float]:
    """Every number in a JSON-like object: numeric leaves and numbers inside strings."""
    out: list[float] = []
    if isinstance(obj, dict):
        for v in obj.values():
            out += data_numbers(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            out += data_numbers(v)
    elif isinstance(obj, bool) or obj is None:
        pass
    elif isinstance(obj, (int, float)):
        out.append(float(obj))
    elif isinstance(obj, str):
        out += [float(t) for t in NUMBER.findall(obj)]
    return out


def unmatched_numbers(text: str, data) -> list[str]:
    """The number tokens of ``text`` that match no number of ``data``."""
    values = data_numbers(data)
    return [t for t in numbers_in(text) if not any(matches(t, v) for v in values)]


def lookup(data, dotted: str):
    """``data`` at a dotted key path; a part that is no dict key is tried as a list index.

    Dict keys may themselves contain dots (``per_kappa.100.0``): the longest key that
    matches the remaining path is taken. Raises ``KeyError`` when the path does not exist.
    """
    if not dotted:
        return data
    if isinstance(data, dict):
        parts = dotted.split(".")
        for k in range(len(parts), 0, -1):
            key = ".".join(parts[:k])
            if key in data:
                try:
                    return lookup(data[key], ".".join(parts[k:]))
                except KeyError:
                    continue
        raise KeyError(dotted)
    if isinstance(data, list):
        head, _, rest = dotted.partition(".")
        if head.lstrip("-").isdigit() and -len(data) <= int(head) < len(data):
            return lookup(data[int(head)], rest)
    raise KeyError(dotted)


def annotated_numbers(text: str) -> list[tuple[str, str, str]]:
    """``(token, name, key)`` for every ``NUMBER<!-- name:key -->`` in ``text``."""
    return ANNOTATED.findall(text)


def check_annotations(text: str, folders) -> tuple[list[str], list[str]]:
    """Check every annotated number of ``text`` against ``<folder>/<name>.json``.

    ``folders`` is one folder or a list of them, searched in order (e.g. ``docs/figures``
    and ``docs/claims``, so ``0.41<!-- claims:values.k19.combined_bound.max_ratio -->``
    checks a number against the claims data).

    Returns
    -------
    (mismatches, missing)
        Human-readable lines: numbers whose key exists but does not match, and annotations
        whose file or key does not exist (yet).
    """
    folders = [folders] if isinstance(folders, (str, Path)) else list(folders)
    bad, missing = [], []
    cache: dict[str, object] = {}
    for token, name, key in annotated_numbers(text):
        paths = [Path(f) / f"{name}.json" for f in folders]
        path = next((p for p in paths if p.exists()), paths[0])
        if name not in cache:
            cache[name] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        data = cache[name]
        if data is None:
            missing.append(f"{token}: {path} does not exist")
            continue
        try:
            value = lookup(data, key)
        except KeyError:
            missing.append(f"{token}: {name}.json has no key {key}")
            continue
        if not matches(token, value):
            bad.append(f"{token} != {name}.json {key} = {value!r}")
    return bad, missing


def format_like(token: str, value: float) -> str:
    """``value`` printed as ``token`` is: the same number of decimals, in the same notation
    (an exponent with ``token``'s digits and ``+``), a ``+`` kept where ``token`` has one."""
    mant, e, _ = token.lower().lstrip("+-").partition("e")
    decimals = len(mant.partition(".")[2])
    if e:  # the exponent as token writes it: its sign and its digits (e-5, e-05, e+05)
        head, _, exp = f"{value:.{decimals}e}".partition("e")
        token_exp = token.lower().partition("e")[2]
        width = len(token_exp.lstrip("+-"))
        sign = "-" if int(exp) < 0 else ("+" if token_exp.startswith("+") else "")
        text = f"{head}e{sign}{abs(int(exp)):0{width}d}"
    else:
        text = f"{value:.{decimals}f}"
    if token.startswith("+") and value >= 0:
        text = "+" + text
    return text


def refresh_annotations(text: str, folders) -> tuple[str, list[str]]:
    """``text`` with every annotated number rewritten from its key (:func:`check_annotations`'s
    lookup), at its printed precision; and the changes made, one line each. Annotations
    whose file or key is missing are left as they are (and listed)."""
    folders = [folders] if isinstance(folders, (str, Path)) else list(folders)
    cache: dict[str, object] = {}
    changes: list[str] = []

    def replace(match: re.Match) -> str:
        token, name, key = match.groups()
        if name not in cache:
            paths = [Path(f) / f"{name}.json" for f in folders]
            path = next((p for p in paths if p.exists()), None)
            cache[name] = None if path is None else json.loads(path.read_text(encoding="utf-8"))
        try:
            value = lookup(cache[name], key) if cache[name] is not None else None
        except KeyError:
            value = None
        if not isinstance(value, (int, float)) or isinstance(value, bool) or \
                not math.isfinite(value):
            changes.append(f"{token}: no number at {name}:{key}, left as it is")
            return match.group(0)
        new = format_like(token, float(value))
        if new != token:
            changes.append(f"{token} -> {new}  ({name}:{key})")
        return match.group(0).replace(token, new, 1)

    return ANNOTATED.sub(replace, text), changes


def main(argv: list[str]) -> int:
    """``python tests/readme_numbers.py FILE DATA_DIR [DATA_DIR ...]``: refresh ``FILE``'s
    annotated numbers in place and print the changes."""
    if len(argv) < 2:
        print(main.__doc__)
        return 2
    path = Path(argv[0])
    new, changes = refresh_annotations(path.read_text(encoding="utf-8"), argv[1:])
    path.write_text(new, encoding="utf-8")
    print("\n".join(changes) or "no change")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
