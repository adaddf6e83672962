"""``python -m gdnp`` is the ``gdnp`` command."""

import sys

import gdnp

if getattr(gdnp, "__file__", None) is None:  # a namespace package: a folder named gdnp
    sys.exit(f"python -m gdnp: Python took the folder {list(gdnp.__path__)[0]!r} (a clone's top "
             "folder, found from the current folder) for the package gdnp; run it from "
             "another folder, or use the gdnp command, which works from any folder")

from gdnp.cli import main  # noqa: E402

sys.exit(main())
