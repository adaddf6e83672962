#!/usr/bin/env python3
"""Set up gdnp in a local virtual environment and run it, or run its test suite.

Only the Python standard library is used here, so this works on a fresh machine::

    python3 scripts/dev.py run      # create .venv, install gdnp, solve the headline problem
    python3 scripts/dev.py test     # create .venv if needed, then lint, verify and pytest
    python3 scripts/dev.py docs     # build the documentation into docs/_build/html (-W)

``test`` runs pytest on two workers (pytest-xdist) unless arguments are given, which go to
pytest as they are. ``docs`` builds the gallery in quick mode (``GDNP_GALLERY_QUICK=1``, a few
minutes on 2 cores); ``GDNP_GALLERY_QUICK=0`` draws the full-size figures.

The environment is reinstalled when ``pyproject.toml`` changes (a hash is kept in
``.venv/.gdnp-installed``).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("GDNP_VENV", ROOT / ".venv"))
STAMP = VENV / ".gdnp-installed"
#: The extras each command needs (``docs`` adds Sphinx and its extensions).
EXTRAS = {"run": ("test",), "test": ("test",), "docs": ("test", "docs")}


def _bin(name: str) -> Path:
    sub = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return VENV / sub / f"{name}{suffix}"


def _run(*cmd: object) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True)


def ensure_env(extras: tuple[str, ...] = ("test",)) -> None:
    """Create ``.venv`` and install ``gdnp[extras]`` into it unless already up to date.

    The stamp records the hash of ``pyproject.toml`` and the extras installed; a command
    needing no more than those reuses the environment. pip runs quietly (errors still show);
    each stage says what it does and how long it took.
    """
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and _bin("python").exists():
        stamped = STAMP.read_text().split()
        if stamped and stamped[0] == digest and set(extras) <= set(stamped[1:]):
            return
        if stamped and stamped[0] == digest:
            extras = tuple(sorted(set(extras) | set(stamped[1:])))
    t0 = time.perf_counter()
    if not _bin("python").exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    py = _bin("python")
    quiet = ("--quiet", "--disable-pip-version-check", "--progress-bar", "off")
    _run(py, "-m", "pip", "install", *quiet, "--upgrade", "pip")
    spec = ",".join(extras)
    print(f"installing gdnp[{spec}] and its dependencies (a minute or two on a fresh "
          "machine)", flush=True)
    _run(py, "-m", "pip", "install", *quiet, "-e", f"{ROOT}[{spec}]")
    # numba compiles GDNP's length search on its first load ever (several seconds, then kept
    # in its cache): here at set-up, not silently inside a user's first run and its timings
    _run(py, "-c", "import gdnp._jit as j; j.available() and j.ready()")
    STAMP.write_text(" ".join([digest, *extras]))
    print(f"environment ready in {time.perf_counter() - t0:.0f} s", flush=True)


def build_docs(extra: list[str]) -> None:
    """``sphinx-build -W`` into ``docs/_build/html`` (warnings are errors)."""
    out = ROOT / "docs" / "_build" / "html"
    if "--clean" in extra:
        extra = [a for a in extra if a != "--clean"]
        for sub in (ROOT / "docs" / "_build", ROOT / "docs" / "auto_examples",
                    ROOT / "docs" / "api" / "generated"):
            shutil.rmtree(sub, ignore_errors=True)
    os.environ.setdefault("GDNP_GALLERY_QUICK", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    t0 = time.perf_counter()
    _run(_bin("python"), "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", ROOT / "docs" / "_build" / "doctrees", ROOT / "docs", out, *extra)
    print(f"documentation built in {time.perf_counter() - t0:.0f} s: {out / 'index.html'}",
          flush=True)


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "run"
    extra = argv[1:]
    if what not in EXTRAS:
        print(f"unknown command {what!r}: use 'run', 'test' or 'docs'", file=sys.stderr)
        return 2
    ensure_env(EXTRAS[what])
    py = _bin("python")
    if what == "run":
        args = extra or ["solve", "halfspace", "--kappa", "100", "--separation", "0.99",
                         "--tol", "0"]
        _run(py, "-m", "gdnp", *args)
    elif what == "test":
        _run(py, "-m", "ruff", "check", ".")
        _run(py, "-m", "gdnp", "verify")
        _run(py, "-m", "pytest", "-q", *(extra or ["-n", "2"]))
    else:
        build_docs(extra)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode or 1)
