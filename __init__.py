"""The top folder of a gdnp source checkout (a clone), not a package of its own.

Python imports it as ``gdnp`` only when it runs in the folder that holds a clone named
``gdnp`` (the current folder comes first on ``sys.path``), where it would otherwise take this
folder for an empty namespace package and ``import gdnp`` would give a module without
``gdnp.solve``. Here it hands over to the package itself: the modules in ``gdnp/`` and the
sub-packages ``problems/``, ``plots/`` and ``proofs/`` (``gdnp.problems``, ...), the same
files an editable install maps.
"""

import os as _os

# under another name (pytest imports the folder as a package named after it) it defines
# nothing
if __name__ == "gdnp":
    _ROOT = _os.path.dirname(_os.path.abspath(__file__))
    __path__ = [_os.path.join(_ROOT, "gdnp"), _ROOT]  # modules, then the sub-package folders
    __file__ = _os.path.join(_ROOT, "gdnp", "__init__.py")
    with open(__file__, encoding="utf-8") as _source:
        exec(compile(_source.read(), __file__, "exec"))
    del _source
