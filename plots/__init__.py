"""Figures of gdnp (MATH.md §7): a registry of ``compute`` / ``render`` pairs.

``make_figure(name, out_dir)`` runs a figure's solvers, writes its data beside it (a
long-format CSV and a JSON of configuration, seeds and versions) and renders the PNG from the
files it just wrote; ``redraw(out_dir, name)`` re-renders from those files alone.
``plots_main(argv)`` is the ``gdnp plots`` command line.
"""

from . import figs_halfspace, figs_ols  # noqa: F401  (registers figures)
from ._core import FIGURES, FigureSkipped, FigureSpec, load, make_figure, redraw

__all__ = ["FIGURES", "FigureSkipped", "FigureSpec", "load", "make_figure", "redraw"]
