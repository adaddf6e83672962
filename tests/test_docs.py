"""The documentation's own checks: docstring examples run, the theory guide's sections exist
for every citation, every figure has a gallery script, the README's Python runs, and the shipped
text cites only the theory guide."""

from __future__ import annotations

import contextlib
import doctest
import importlib
import inspect
import io
import re
import textwrap
from pathlib import Path

import pytest

import gdnp
import gdnp.plots

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

#: Modules whose docstring examples are doctests (run with ELLIPSIS and NORMALIZE_WHITESPACE;
#: the examples round the numbers they print, so no float-format option is needed).
DOCTEST_MODULES = [
    "gdnp",  # the exceptions printed under their public path (their __module__)
    "gdnp.problems",
    "gdnp.api",
    "gdnp.result",
    "gdnp.bisection",
    "gdnp.first_order",
    "gdnp.bngd",
    "gdnp.decoupled",
    "gdnp.spectrum",
    "gdnp.problems.base",
    "gdnp.problems.ols",
    "gdnp.problems.halfspace",
    "gdnp.problems.mlp",
    "gdnp.problems.losses",
    "gdnp.problems.normalization",
    "gdnp.problems.data",
    "gdnp.problems.taylor",
    "gdnp.rates",
    "gdnp.proofs",
    "gdnp.proofs.core",
    "gdnp.proofs.runner",
    "gdnp.plots._core",
    "gdnp.plots._cli",
    "gdnp.plots.gallery",
    "gdnp.plots.style",
    "gdnp.sweep",
]

#: Sections of the theory guide (docs/theory.rst), cited in the code as ``theory guide §N``.
SECTIONS = range(13)


@pytest.mark.parametrize("modname", DOCTEST_MODULES)
def test_docstring_examples(modname):
    module = importlib.import_module(modname)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=flags)
    tests = [t for t in finder.find(module, modname) if t.examples]
    assert tests, f"{modname} has no docstring examples"
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"


def _option_blocks() -> dict[str, str]:
    doc = gdnp.solve.__doc__
    parts = re.split(r'``method="(\w+)"`` \(:func:`gdnp\.\w+`\)', doc)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_solve_documents_every_option_of_every_method():
    blocks = _option_blocks()
    assert sorted(blocks) == sorted(gdnp.METHODS)
    for name, fn in gdnp.METHODS.items():
        params = inspect.signature(fn).parameters.values()
        options = [p for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
        assert options, name
        for p in options:
            entry = re.search(rf"\* ``{p.name}=(.*?)``: (.*?)(?=\n\s*\* ``|\Z)", blocks[name],
                              re.S)
            assert entry is not None, f"solve's docstring lacks option {p.name!r} of {name}"
            assert entry.group(1) == repr(p.default), (name, p.name)
            # a real description, not the fallback for an option its method leaves undocumented
            assert not entry.group(2).startswith("see :func:"), (name, p.name)


def test_theory_guide_has_every_numbered_section_with_its_anchor():
    text = (DOCS / "theory.rst").read_text()
    for n in SECTIONS:
        assert f".. _theory-{n}:" in text
        assert re.search(rf"^§{n} \S", text, re.M), f"no heading §{n}"
    headings = [int(m) for m in re.findall(r"^§(\d+) ", text, re.M)]
    assert headings == list(SECTIONS)


def _shipped_files():
    for sub in ("gdnp", "problems", "proofs", "plots", "examples", "scripts", "docs"):
        for path in (ROOT / sub).rglob("*"):
            if any(part.startswith(("_build", "auto_examples", "api", "cli", "claims"))
                   for part in path.relative_to(ROOT).parts[1:]):
                continue
            if path.suffix in (".py", ".rst", ".md", ".toml") and path.name != "README_SECTION.md":
                yield path


def test_every_theory_guide_citation_names_an_existing_section():
    cited = set()
    for path in _shipped_files():
        for n in re.findall(r"theory guide §(\d+)", path.read_text(encoding="utf-8")):
            cited.add(int(n))
            assert int(n) in SECTIONS, f"{path}: theory guide §{n} does not exist"
    assert cited, "no citation of the theory guide found"


def test_documentation_cites_no_developer_file_or_issue():
    """Shipped text (code, docs, examples, tests, README, CLI help) cites the theory guide, never
    a developer file or an issue."""
    pattern = re.compile(r"MATH\.md|API\.md|\.\./shared|issue [0-9]")
    paths = [*_shipped_files(), *(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").rglob("*"),
             ROOT / "README.md", ROOT / "pyproject.toml"]
    for path in paths:
        if path.is_file() and path.suffix in (".py", ".md", ".rst", ".toml"):
            hits = pattern.findall(path.read_text(encoding="utf-8"))
            assert not hits, f"{path}: {hits}"
    from gdnp.cli import main

    for argv in ([], ["solve", "-h"], ["verify", "-h"], ["plots", "-h"], ["sweep", "-h"],
                 ["bench", "-h"], ["claims", "-h"]):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
            main(argv)
        assert not pattern.findall(buf.getvalue()), (argv, pattern.findall(buf.getvalue()))


def test_every_registered_figure_has_a_gallery_script():
    scripts = {p.stem.split("_", 2)[2] for p in (ROOT / "examples" / "figures").glob("plot_*.py")}
    missing = sorted(set(gdnp.plots.FIGURES) - scripts)
    assert not missing, f"figures without an example in examples/figures: {missing}"


def test_gallery_scripts_name_a_figure_and_follow_the_quick_switch():
    for path in sorted((ROOT / "examples").rglob("plot_*.py")):
        text = path.read_text(encoding="utf-8")
        assert text.startswith(('"""', 'r"""')), f"{path}: sphinx-gallery needs a docstring"
        if path.parent.name == "figures":
            name = re.search(r'^NAME = "(\w+)"$', text, re.M).group(1)
            assert path.stem.endswith(name), path
            assert "GDNP_GALLERY_QUICK" in text


def _python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, re.S)


def test_readme_python_runs():
    """Every Python block of the README runs (as a doctest where it is written as one)."""
    blocks = _python_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert blocks
    for i, block in enumerate(blocks):
        if ">>>" in block:
            test = doctest.DocTestParser().get_doctest(block, {}, f"README[{i}]", "README.md", 0)
            runner = doctest.DocTestRunner(
                optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
            runner.run(test)
            assert runner.summarize(verbose=False).failed == 0
        else:
            exec(compile(block, f"README.md[{i}]", "exec"), {"print": lambda *a, **k: None})


def _pycon_blocks(rst: str) -> list[str]:
    blocks = []
    for m in re.finditer(r"^\.\. code-block:: pycon\n\n((?:   .*\n|\n)+)", rst, re.M):
        blocks.append(textwrap.dedent(m.group(1)))
    return blocks


@pytest.mark.parametrize("page", ["getting_started.rst", "user_guide/problems.rst",
                                  "user_guide/theory_helpers.rst"])
def test_documentation_pages_examples(page):
    """The ``pycon`` examples of the documentation pages are doctests."""
    blocks = _pycon_blocks((DOCS / page).read_text(encoding="utf-8"))
    assert blocks, page
    globs: dict = {}
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for i, block in enumerate(blocks):
        test = doctest.DocTestParser().get_doctest(block, globs, f"{page}[{i}]", page, 0)
        runner.run(test, clear_globs=False)
        globs.update(test.globs)  # later blocks of a page continue the earlier ones
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"


def test_sweep_guide_lists_the_result_columns():
    """The user guide's list of results.csv columns is gdnp.sweep.COLUMNS, in order."""
    import gdnp.sweep

    text = (DOCS / "user_guide" / "sweeps.rst").read_text()
    listed = re.search(r"\(columns ``(.*?)``:", text, re.S).group(1)
    assert [c.strip() for c in listed.split(",")] == list(gdnp.sweep.COLUMNS)


def test_theory_citation_lists_become_one_link_per_section():
    """``theory guide §2, §4`` in a docstring becomes two links; the ``§`` of the second goes
    inside its link (a role glued to a preceding ``§`` is not seen by docutils, and its text
    had shown as math in 39 places of the API reference)."""
    import ast

    tree = ast.parse((ROOT / "docs" / "conf.py").read_text(encoding="utf-8"))
    wanted = {"_THEORY_CITATION", "_MORE_SECTIONS", "_is_code", "_link_theory_citations"}
    nodes = [n for n in tree.body
             if (isinstance(n, ast.FunctionDef) and n.name in wanted)
             or (isinstance(n, ast.Assign) and any(getattr(t, "id", None) in wanted
                                                   for t in n.targets))]
    namespace = {"re": re}
    exec(compile(ast.Module(body=nodes, type_ignores=[]), "conf.py", "exec"), namespace)
    lines = ["Rates (theory guide §2, §4 and §10-§12).", ">>> 'theory guide §3, §5'"]
    namespace["_link_theory_citations"](None, "module", "m", None, {}, lines)
    assert lines[0] == ("Rates (:ref:`theory guide §2 <theory-2>`, :ref:`§4 <theory-4>` and "
                        ":ref:`§10 <theory-10>`-:ref:`§12 <theory-12>`).")
    assert lines[1] == ">>> 'theory guide §3, §5'"  # code is left as it is
