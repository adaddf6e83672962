"""Figures of gdnp (theory guide §7): a registry of ``compute`` / ``render`` pairs.

``make_figure(name, out_dir)`` runs a figure's solvers, writes its data beside it (a
long-format CSV and a JSON of configuration, seeds, versions and ``results``, both atomically)
and renders the PNG (and PDF / SVG on request) from the files it has just written;
``redraw(out_dir, name)`` re-renders from those files alone. ``plots_main(argv)`` is the
``gdnp plots`` command line. ``gdnp.plots.style`` holds the one figure style (method
colours, markers and line styles, print sizes, theory lines, the rounding floor). A new figure
is registered with ``gdnp.plots.register`` (gdnp's own figure modules are imported here).
"""

from . import (  # noqa: F401  (registers figures)
    figs_bngd,
    figs_cost,
    figs_extra,
    figs_halfspace,
    figs_normalization,
    figs_ols,
    figs_rates,
    style,
)
from ._cli import make_all, plots_main
from ._core import FIGURES, FigureSkipped, FigureSpec, load, make_figure, redraw, register
from .gallery import show, show_figure

_ORDER = ["rates_vs_kappa", "rates_vs_separation", "cost", "bngd_dynamics", "seed_ols",
          "halfspace_kappa", "separation", "ols_kappa_dim", "lr_robustness", "trajectories",
          "mlp", "real_data", "batch_size", "normalizations", "spectra"]
for _name in [n for n in _ORDER if n in FIGURES] + [n for n in list(FIGURES) if n not in _ORDER]:
    FIGURES[_name] = FIGURES.pop(_name)

__all__ = ["style", "FIGURES", "FigureSkipped", "FigureSpec", "load", "make_all", "make_figure",
           "plots_main", "redraw", "register", "show", "show_figure"]
