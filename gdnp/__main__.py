"""``python -m gdnp`` is the ``gdnp`` command."""

import sys

from gdnp.cli import main

sys.exit(main())
