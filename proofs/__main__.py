"""``python -m gdnp.proofs``: the same as ``gdnp verify`` (theory guide §8)."""

from __future__ import annotations

import sys

from .report import verify_main

if __name__ == "__main__":
    sys.exit(verify_main())
