"""Sphinx configuration of the gdnp documentation.

Build with ``python3 scripts/dev.py docs`` (warnings are errors). Environment:

* ``GDNP_GALLERY_QUICK`` (default ``1`` here): the gallery scripts use small sizes, so the
  whole build takes a few minutes on 2 cores; set it to ``0`` for the full-size figures.
* ``GDNP_DOCS_INTERSPHINX`` (default ``auto``): links into the numpy, scipy and matplotlib
  documentation need their inventories from the network. ``auto`` probes the network once and
  leaves intersphinx out when it is unreachable (as on CI), so ``-W`` never fails for lack of
  network; ``0`` always leaves it out, ``1`` always uses it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

os.environ.setdefault("GDNP_GALLERY_QUICK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import gdnp  # noqa: E402

project = "gdnp"
author = "the gdnp developers"
copyright = "the gdnp developers, BSD-3-Clause"  # noqa: A001
version = release = gdnp.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # MathJax from the site itself (_static/mathjax), not a CDN: the equations render offline
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "claims",
                    "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip",
                    "auto_examples/*.md5", "auto_examples/*.codeobj.json"]
templates_path = ["_templates"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
default_role = "math"
pygments_style = "sphinx"

# -- API reference ----------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
# (a class page also documents what it inherits from gdnp's own classes, OLS.solution, but
# not what it inherits from Python's builtins: _templates/autosummary/class.rst)
autodoc_default_options = {"members": True}
autodoc_typehints = "none"  # numpydoc sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = {"PR02"}  # no documented parameter the signature lacks

#: The modules of the API reference and a one-line summary of each; every name in a module's
#: ``__all__`` gets a page (``tests/test_docs.py`` checks that none is left out).
API_MODULES = {
    "gdnp": "Solvers, the result type and the bisection.",
    "gdnp.problems": "OLS, halfspace and MLP problems, losses and data preparation.",
    "gdnp.rates": "Theoretical rates and bounds, and the empirical order of a history.",
    "gdnp.proofs": "Symbolic (sympy) checks of the theory guide's identities.",
    "gdnp.plots": "The figure registry: compute, write and redraw figures.",
    "gdnp.plots.style": "The one figure style: method styles, print sizes, theory lines, the "
                        "rounding floor (for figures of your own).",
    "gdnp.sweep": "Resumable parallel grids of solver runs.",
}


def _public_names(modname: str) -> list[str]:
    import importlib
    import types

    mod = importlib.import_module(modname)
    names = []
    for name in getattr(mod, "__all__", []):
        obj = getattr(mod, name)
        if isinstance(obj, types.ModuleType) or name.startswith("__"):
            continue
        names.append(name)
    return names


def write_api_pages() -> None:
    """One page per module of :data:`API_MODULES`, listing every public name."""
    out = DOCS / "api"
    out.mkdir(exist_ok=True)
    for modname, summary in API_MODULES.items():
        title = f"``{modname}``"
        lines = [title, "=" * len(title), "", f".. automodule:: {modname}",
                 "   :no-members:", "", summary, "", f".. currentmodule:: {modname}", "",
                 ".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
        lines += [f"   {name}" for name in _public_names(modname)]
        text = "\n".join(lines) + "\n"
        path = out / f"{modname}.rst"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


# -- CLI reference: the real ``--help`` of every sub-command --------------------------------
CLI_COMMANDS = [[], ["solve"], ["verify"], ["claims"], ["plots"], ["sweep"], ["bench"]]


def write_cli_help() -> None:
    """Write ``gdnp [CMD] --help`` into ``docs/cli/`` for ``cli.rst`` to include."""
    out = DOCS / "cli"
    out.mkdir(exist_ok=True)
    env = {**os.environ, "COLUMNS": "96"}
    for cmd in CLI_COMMANDS:
        proc = subprocess.run([sys.executable, "-m", "gdnp", *cmd, "--help"], env=env,
                              capture_output=True, text=True, check=True, cwd=ROOT)
        name = "_".join(cmd) or "gdnp"
        text = proc.stdout
        path = out / f"{name}.txt"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


# -- the claims table: docs/claims/claims.json as a list-table of literal cells -------------
def write_claims_table() -> None:
    """``docs/user_guide/claims_table.inc`` from the recorded ``gdnp claims`` run: each cell
    literal text (the rows hold ``|b - a|`` and ``rho*``, which reST would read as markup)."""
    import json

    rows = json.loads((DOCS / "claims" / "claims.json").read_text())["claims"]
    cols = ["id", "statement", "predicted", "measured", "verdict"]

    def cell(text) -> str:
        text = " ".join(str(text).split()).replace("`", "'")
        return f"``{text}``" if text else ""

    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 12 24 22 30 12", ""]
    lines += [f"   {'* -' if j == 0 else '  -'} {col}" for j, col in enumerate(cols)]
    for row in rows:
        lines += [f"   {'* -' if j == 0 else '  -'} {cell(row[col])}"
                  for j, col in enumerate(cols)]
    text = "\n".join(lines) + "\n"
    path = DOCS / "user_guide" / "claims_table.inc"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


write_api_pages()
write_cli_help()
write_claims_table()


# -- intersphinx -------------------------------------------------------------------------
def _online(host: str = "docs.scipy.org", timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


_intersphinx = os.environ.get("GDNP_DOCS_INTERSPHINX", "auto")
if _intersphinx == "1" or (_intersphinx == "auto" and _online()):
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "scipy": ("https://docs.scipy.org/doc/scipy/", None),
        "matplotlib": ("https://matplotlib.org/stable/", None),
    }
else:
    print("gdnp docs: no network, intersphinx links to numpy/scipy/matplotlib left out")
    intersphinx_mapping = {}
intersphinx_timeout = 10
# every cross-reference to gdnp's own objects must resolve (a broken one would render as plain
# text); references into numpy, scipy, matplotlib and Python resolve through intersphinx when
# it is online and are not checked here
nitpicky = True
nitpick_ignore_regex = [(r"py:.*", r"(numpy|scipy|matplotlib|python|builtins)\..*")]

# -- gallery -----------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py|/_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "show_memory": False,
    "plot_gallery": "True",
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "min_reported_time": 1,
    "parallel": int(os.environ.get("GDNP_DOCS_JOBS", "2")),  # examples run on 2 processes
}

# -- HTML --------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"gdnp {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False


# -- "theory guide §N" in docstrings becomes a link to that section -------------------------
_THEORY_CITATION = re.compile(r"(?<![`<])theory guide §(\d+)")


# the further sections of a list ("theory guide §4, §5", "§1-§5") after a linked one
# (the "§" goes inside the new link: docutils does not see a role glued to a preceding "§",
# and the backquoted text then fell to the default role, shown as math)
_MORE_SECTIONS = re.compile(r"(<theory-\d+>`|§\d+ <theory-\d+>`)((?:, |-| and ))§(\d+)")


def _is_code(line: str) -> bool:
    """A doctest line: its text is shown as code, where a link would show as raw markup."""
    return line.lstrip().startswith((">>>", "..."))


def _link_theory_citations(app, what, name, obj, options, lines):
    for i in range(len(lines) - 1):  # a citation broken across two lines: rejoin it
        head, tail = lines[i].rstrip(), lines[i + 1].lstrip()
        if _is_code(lines[i]) or _is_code(lines[i + 1]):
            continue
        for split in ("theory guide", "theory"):
            rest = "theory guide"[len(split):].lstrip()  # what the next line starts with
            keep = head[: -len(split)]
            if head.endswith(split) and keep.strip() and keep[-1] in " (" and \
                    tail.startswith(f"{rest} §" if rest else "§"):
                indent = lines[i + 1][: len(lines[i + 1]) - len(tail)]
                lines[i] = keep.rstrip()
                lines[i + 1] = f"{indent}{'(' if keep[-1] == '(' else ''}{split} {tail}"
                if keep[-1] == "(":
                    lines[i] = keep[:-1].rstrip()
                break
    for i, line in enumerate(lines):
        if "theory guide §" in line and not _is_code(line):
            line = _THEORY_CITATION.sub(r":ref:`theory guide §\1 <theory-\1>`", line)
            while True:  # ", §5" after a link becomes a link of its own
                new = _MORE_SECTIONS.sub(r"\1\2:ref:`§\3 <theory-\3>`", line, count=1)
                if new == line:
                    break
                line = new
            lines[i] = line


def _data_doc(app, what, name, obj, options, lines):
    """A module constant's ``#:`` comment where it is defined, not its type's docstring (a
    constant listed under the package that re-exports it is not found by autodoc there)."""
    if what != "data":
        return
    from sphinx.pycode import ModuleAnalyzer

    short = name.rsplit(".", 1)[-1]
    for modname, mod in sorted(sys.modules.items()):
        if not modname.startswith("gdnp") or getattr(mod, short, None) is not obj:
            continue
        try:
            doc = ModuleAnalyzer.for_module(modname).find_attr_docs().get(("", short))
        except Exception:  # noqa: BLE001 - a module without source: try the next
            continue
        if doc:
            lines[:] = list(doc)
            return
    type_doc = (type(obj).__doc__ or "").strip().splitlines()
    if type_doc and lines and lines[0].strip() == type_doc[0].strip():
        lines[:] = []  # never the docstring of tuple or dict


def setup(app):
    app.connect("autodoc-process-docstring", _data_doc)  # first: it replaces the lines
    app.connect("autodoc-process-docstring", _link_theory_citations)
