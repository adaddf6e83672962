"""Atomic file writes and run metadata shared by the figures, sweeps and benchmarks.

A write goes to a temporary file in the target folder, is flushed to disk, gets the usual
file mode and is renamed over the final name with :func:`os.replace`, so a crashed or
concurrent run never leaves a half-written file under the final name. Temporary names carry
this host and process (``.NAME.HOST-PID.XXXXXXXX.tmp``), so a later run can remove what a
killed one left (:func:`remove_stale_scratch`).
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from importlib import import_module, metadata

__all__ = ["atomic_write_bytes", "atomic_write_chunks", "atomic_write_text",
           "package_versions", "writable_folder", "writable_file", "scratch_prefix",
           "remove_stale_scratch", "pid_alive"]

#: ``HOST-PID`` inside a temporary name: ``.NAME.HOST-PID.`` then mkstemp's or mkdtemp's
#: random part (and ``.tmp`` for a file).
_SCRATCH = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9_-]+)-(?P<pid>\d+)\.[A-Za-z0-9_]+(?:\.tmp)?$")


def _host_tag() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", platform.node()) or "host"


def scratch_prefix(name: str) -> str:
    """The prefix of a temporary file or folder for ``name``: ``.NAME.HOST-PID.``."""
    return f".{name}.{_host_tag()}-{os.getpid()}."


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (``kill(pid, 0)``)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, ValueError):  # no such pid can exist: not a process to judge
        return True
    except OSError:
        return False
    return True


def remove_stale_scratch(folder, min_age: float = 3600.0) -> int:
    """Remove the temporary files and folders a killed run left in ``folder``.

    Only names made by :func:`scratch_prefix` whose process is gone *on this host* and that
    were last modified at least ``min_age`` seconds ago are removed: on a shared folder
    another host's are left alone, and so is a live run's in another process namespace with
    the same host name (containers), whose pid means nothing here; a write or a figure's
    scratch folder lives for seconds. Returns how many entries were removed.
    """
    import time

    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    host, removed = _host_tag(), 0
    for entry in entries:
        m = _SCRATCH.match(entry.name)
        if m is None or m["host"] != host or pid_alive(int(m["pid"])):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < min_age:
                continue
        except OSError:
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed += 1
    return removed

PACKAGES = ("gdnp", "numpy", "scipy", "sympy", "matplotlib", "joblib", "dask", "distributed",
            "threadpoolctl", "sklearn", "numba")


def atomic_write_bytes(path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically (temporary file, fsync, ``os.replace``)."""
    atomic_write_chunks(path, (payload,))


def atomic_write_chunks(path, chunks) -> None:
    """Write the ``bytes`` or ``str`` (UTF-8) pieces of the iterable ``chunks`` to ``path``
    atomically, one piece at a time: a large file (a sweep's ``results.csv``) is never held
    in memory whole."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=scratch_prefix(os.path.basename(path)), suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text: str) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text (newlines written as given)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def writable_folder(path, option: str):
    """``path`` as a folder that exists (created with its parents) and is writable, before
    any work is done; a ``ValueError`` naming the command-line ``option`` otherwise."""
    from pathlib import Path

    if not str(path):
        raise ValueError(f"{option}: an empty path; give a folder ('.' for this one)")
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{option}: {str(folder)!r} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"{option}: cannot create the folder {str(folder)!r} "
                         f"({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{option}: the folder {str(folder)!r} is not writable")
    return folder


def writable_file(path, option: str):
    """``path`` as a file that can be written (its folder exists and is writable), before any
    work is done; a ``ValueError`` naming the command-line ``option`` otherwise."""
    from pathlib import Path

    if not str(path):
        raise ValueError(f"{option}: an empty path; give a file name")
    file = Path(path)
    if file.is_dir():
        raise ValueError(f"{option}: {str(file)!r} is a folder, not a file")
    folder = file.parent
    if not folder.is_dir():
        raise ValueError(f"{option}: the folder {str(folder)!r} of {str(file)!r} does not "
                         "exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{option}: the folder {str(folder)!r} is not writable")
    return file


#: Distribution names of the import names whose distribution is called otherwise.
_DISTRIBUTIONS = {"sklearn": "scikit-learn"}


def _version(name: str) -> str | None:
    """``name.__version__`` of a module already imported, else the installed distribution's
    version (without importing it: sympy, dask and sklearn cost ~2 s of imports), else by
    importing it; ``None`` when it is absent or broken."""
    module = sys.modules.get(name)
    if module is None:
        try:
            return metadata.version(_DISTRIBUTIONS.get(name, name))
        except Exception:  # noqa: BLE001 - no metadata: ask the module itself
            pass
    try:
        return (module or import_module(name)).__version__
    except Exception:  # noqa: BLE001 - optional packages may be missing or broken
        return None


#: What ``+dirty`` looks at: the package's source (not the data and documents a run writes).
_SOURCE_PATHS = ("gdnp", "problems", "proofs", "plots", "pyproject.toml")


def _source_commit() -> str | None:
    """The git commit of gdnp's source when it runs from a git checkout (an editable install),
    with ``+dirty`` when its source files differ from it; ``None`` otherwise (a wheel, or
    no git), so a record names the code that made it beyond the version number."""
    import subprocess

    # (realpath: a strict editable install runs the package from a tree of links)
    here = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    if not os.path.exists(os.path.join(here, ".git")):
        return None
    try:
        head = subprocess.run(["git", "-C", here, "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=5)
        # the source only: the records a run writes (figures, claims) are tracked files too,
        # and the second figure of a run had found the tree "dirty" with the first one's data
        dirty = subprocess.run(["git", "-C", here, "status", "--porcelain",
                                "--untracked-files=no", "--", *_SOURCE_PATHS],
                               capture_output=True, text=True,
                               timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("+dirty" if dirty.returncode == 0 and dirty.stdout.strip()
                                  else "")


def package_versions(packages=PACKAGES) -> dict:
    """Python, platform, a UTC time stamp, the version of each installed package (``None``
    when a package is absent) and, from a git checkout, gdnp's source commit."""
    out = {"python": platform.python_version(), "platform": platform.platform(),
           "machine": platform.machine(),
           "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    for name in packages:
        out[name] = _version(name)
    out["gdnp_commit"] = _source_commit()
    return out
