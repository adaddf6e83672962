#!/usr/bin/env python3
"""Set up gdnp in a local virtual environment and run it, or run its test suite.

Only the Python standard library is used here, so this works on a fresh machine::

    python3 scripts/dev.py run      # create .venv, install gdnp, solve the headline problem
    python3 scripts/dev.py test     # create .venv if needed, then lint, verify and pytest

The environment is reinstalled when ``pyproject.toml`` changes (a hash is kept in
``.venv/.gdnp-installed``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("GDNP_VENV", ROOT / ".venv"))
STAMP = VENV / ".gdnp-installed"


def _bin(name: str) -> Path:
    sub = "Scripts" if os.name == "nt" else "bin"
    suffix = ".exe" if os.name == "nt" else ""
    return VENV / sub / f"{name}{suffix}"


def _run(*cmd: object) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True)


def ensure_env() -> None:
    """Create ``.venv`` and install ``gdnp[test]`` into it unless already up to date."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == digest and _bin("python").exists():
        return
    if not _bin("python").exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    py = _bin("python")
    _run(py, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    _run(py, "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[test]")
    STAMP.write_text(digest)


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "run"
    extra = argv[1:]
    ensure_env()
    py = _bin("python")
    if what == "run":
        args = extra or ["solve", "halfspace", "--kappa", "100", "--separation", "0.99"]
        _run(py, "-m", "gdnp", *args)
    elif what == "test":
        _run(py, "-m", "ruff", "check", ".")
        _run(py, "-m", "gdnp", "verify")
        _run(py, "-m", "pytest", "-q", *extra)
    else:
        print(f"unknown command {what!r}: use 'run' or 'test'", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode or 1)
