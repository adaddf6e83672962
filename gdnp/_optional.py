"""Optional dependencies: import them on use, with a clear message naming the extra."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

__all__ = ["optional_import"]


def optional_import(name: str, purpose: str, extra: str = "parallel") -> ModuleType:
    """Import ``name`` or raise ``ImportError`` saying what needs it and how to install it."""
    try:
        return import_module(name)
    except ImportError as exc:
        raise ImportError(
            f"{purpose} needs the optional package {name.split('.')[0]!r}; install it with "
            f"pip install 'gdnp[{extra}]'") from exc
