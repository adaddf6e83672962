"""The one figure style of gdnp: method styles, print sizes, theory lines, the rounding floor.

Every method has one colour, one marker and one line style everywhere. The colours are Paul
Tol's high-contrast scheme plus black, chosen so that the four methods have well separated grey
levels (luminance 0, 0.22, 0.47, 0.67) and stay apart for colour-blind readers; markers and
line styles separate them again in greyscale. Theory lines are black or grey, dashed or dotted,
thinner, without markers, and always named in the legend. Figures are sized for print: a single
column is :data:`SINGLE` = 3.5 in wide, a double column :data:`DOUBLE` = 7 in, and every text
is at least 9 pt at that size.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["SINGLE", "DOUBLE", "METHOD_STYLE", "THEORY_STYLE", "RC", "style", "figure",
           "method_kw", "theory_kw", "shade_floor", "mark_floor_stop", "figure_legend",
           "fit_to_width", "fit_text", "short_window", "linear_over_a_decade", "grey_level",
           "relative_gap",
           "FLOOR_LABEL"]

#: Width in inches of a single-column figure (one journal column).
SINGLE = 3.5
#: Width in inches of a double-column figure.
DOUBLE = 7.0

#: Each method's colour, label, marker and line style (Tol high-contrast colours and black;
#: grey levels 0.22, 0.47, 0.67 and 0).
METHOD_STYLE = {
    "gdnp": {"color": "#000000", "label": "GDNP", "marker": "D", "ls": "-"},
    "gd": {"color": "#004488", "label": "GD", "marker": "o", "ls": (0, (6, 2))},
    "bngd": {"color": "#BB5566", "label": "BNGD", "marker": "^", "ls": "-."},
    "agd": {"color": "#DDAA33", "label": "AGD", "marker": "s", "ls": (0, (1.5, 1.5))},
    "lbfgs": {"color": "#777777", "label": "L-BFGS (scipy)", "marker": "x",
              "ls": (0, (8, 2, 1, 2))},
}

#: The theory lines' styles, in turn: black or grey, dashed or dotted, thin, no marker.
THEORY_STYLE = [
    {"color": "black", "ls": (0, (4, 2.5)), "lw": 1.0},
    {"color": "0.45", "ls": (0, (4, 2.5)), "lw": 1.0},
    {"color": "black", "ls": (0, (1, 2)), "lw": 1.1},
    {"color": "0.45", "ls": (0, (1, 2)), "lw": 1.1},
]

#: The legend label of the shaded rounding floor.
FLOOR_LABEL = "float64 rounding floor"

#: The rcParams every figure is drawn with (:func:`style`).
RC = {
    "figure.dpi": 100, "savefig.dpi": 200, "font.size": 9, "axes.titlesize": 9,
    "axes.labelsize": 9, "legend.fontsize": 9, "xtick.labelsize": 9, "ytick.labelsize": 9,
    "figure.titlesize": 9.5, "axes.grid": True, "grid.alpha": 0.25, "grid.linewidth": 0.5,
    "lines.linewidth": 1.3, "lines.markersize": 4.5, "axes.spines.top": False,
    "axes.spines.right": False, "legend.frameon": False, "legend.handlelength": 3.0,
    "pdf.fonttype": 42,
    "svg.fonttype": "none", "svg.hashsalt": "gdnp", "font.family": "DejaVu Sans",
    "mathtext.fontset": "dejavusans",
    "axes.titlepad": 3.0, "legend.borderaxespad": 0.3, "legend.columnspacing": 1.2,
}


def style():
    """Context manager with the package's rcParams (:data:`RC`): draw inside it to match
    gdnp's figures.

    Returns
    -------
    contextlib.AbstractContextManager
        ``matplotlib.pyplot.rc_context(RC)``.

    Examples
    --------
    >>> from gdnp.plots.style import figure, style
    >>> with style():
    ...     fig, axes = figure("single", 2.5)
    >>> axes.shape
    (1, 1)
    """
    return plt.rc_context(RC)


def figure(width: str = "double", height: float = 3.0, nrows: int = 1, ncols: int = 1,
           **kw):
    """A figure and its axes at print size, like ``plt.subplots`` but outside pyplot.

    The figure is a :class:`matplotlib.figure.Figure` not registered with pyplot (no window;
    ``fig.savefig`` writes it).

    Parameters
    ----------
    width : {"single", "double"}
        A single column (3.5 in) or the full page width.
    height : float
        Height in inches.
    nrows, ncols : int
        The grid of panels.
    **kw
        Passed to ``Figure.subplots`` (``squeeze=False`` unless given; ``layout`` to the
        figure, default ``"constrained"``).

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : numpy.ndarray
        Always 2-D unless ``squeeze`` is given: ``axes[0, 0]`` for one panel.

    Raises
    ------
    ValueError
        ``width`` is neither ``"single"`` nor ``"double"``.
    """
    if width not in ("single", "double"):
        raise ValueError(f"width must be 'single' or 'double', got {width!r}")
    w = SINGLE if width == "single" else DOUBLE
    kw.setdefault("squeeze", False)
    # a Figure outside pyplot: no window and no backend switch whatever the user's backend
    # (savefig picks the canvas of its format)
    fig = Figure(figsize=(w, float(height)), layout=kw.pop("layout", "constrained"))
    FigureCanvasAgg(fig)  # measured text extents (legends, fitting) need a renderer
    return fig, fig.subplots(nrows, ncols, **kw)


def method_kw(method: str, n_points: int | None = None, label: str | None = None,
              **over) -> dict:
    """Keyword arguments of ``ax.plot`` for ``method``: colour, marker, line style, label.

    Parameters
    ----------
    method : str
        ``"gd"``, ``"agd"``, ``"bngd"`` or ``"gdnp"`` (others get a grey line).
    n_points : int, optional
        The curve's length: about 8 markers are spaced along a long one (``markevery``).
    label : str, optional
        Instead of the method's label.
    **over
        Overrides of any keyword.

    Returns
    -------
    dict

    Examples
    --------
    >>> from gdnp.plots.style import method_kw
    >>> method_kw("gdnp", n_points=1000)["markevery"]
    125
    """
    st = METHOD_STYLE.get(method, {"color": "0.3", "label": method, "marker": ".", "ls": "-"})
    kw = {"color": st["color"], "marker": st["marker"], "ls": st["ls"],
          "label": st["label"] if label is None else label, "mfc": "white", "mew": 1.0}
    if n_points is not None and n_points > 12:
        kw["markevery"] = max(int(n_points) // 8, 1)
    kw.update(over)
    return kw


def theory_kw(i: int, label: str, **over) -> dict:
    """Keyword arguments of ``ax.plot`` for the ``i``-th theory line of a panel (dashed,
    dotted, ... in greys, cycling), labelled ``label``; ``over`` overrides any keyword.

    Returns
    -------
    dict
    """
    kw = dict(THEORY_STYLE[int(i) % len(THEORY_STYLE)])
    kw["label"] = label
    kw.update(over)
    return kw


def shade_floor(ax, floor: float, label: str | None = FLOOR_LABEL) -> None:
    """Shade ``y <= floor`` (values there are rounding noise) on a log-y axis ``ax``, with the
    legend label ``label``; nothing for a floor that is not a positive number.

    The band does not enter the axes' data limits: autoscaling still fits the curves, before
    or after the call (the band reaches down to ``1e-300``)."""
    if not np.isfinite(floor) or floor <= 0:
        return
    limits, ignore = ax.dataLim.frozen(), ax.ignore_existing_data_limits
    ax.axhspan(1e-300, float(floor), color="0.85", lw=0, zorder=0, label=label)
    ax.dataLim.set(limits)
    ax.ignore_existing_data_limits = ignore
    ax.autoscale_view()


def mark_floor_stop(ax, x, y, method: str) -> None:
    """Mark the end ``(x, y)`` of ``method``'s curve that stopped at the rounding floor (a
    filled marker of the method's style) on ``ax``."""
    st = METHOD_STYLE.get(method, {"color": "0.3", "marker": "."})
    ax.plot([x], [y], st["marker"], color=st["color"], mfc=st["color"], ms=6, ls="none",
            zorder=5)


def mark_below_axes(ax, x, y, name: str, x_text=None, color="black") -> None:
    """Mark the points of a curve that lie below a log-y axis's bottom (its limits set):
    a triangle on the bottom edge at each such ``x``, and one note in the panel's lower left
    corner giving their values, so that a line the limits clip says where it went instead
    of leaving the panel unexplained. ``x_text`` formats an ``x`` for the note (default
    ``"{:g}"``)."""
    lo = ax.get_ylim()[0]
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    below = np.isfinite(y) & (y < lo)
    if not below.any():
        return
    trans = ax.get_xaxis_transform()  # x in data, y in axes coordinates
    ax.plot(x[below], np.zeros(int(below.sum())), marker="v", color=color, ms=5, ls="none",
            transform=trans, clip_on=False, zorder=5)
    fmt = x_text or "{:g}".format
    lines = [f"{_sig(yi)} at {fmt(xi)}" for xi, yi in zip(x[below], y[below], strict=True)]
    ax.text(0.03, 0.04, f"\u25bc {name} below the axes:\n" + "\n".join(lines),
            transform=ax.transAxes, ha="left", va="bottom", fontsize=9, color=color)


def figure_legend(fig, axes=None, ncol: int = 4, loc: str = "outside lower center") -> None:
    """One legend for the whole figure (unique labels of all axes), outside the panels.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    axes : array_like of Axes, optional
        Whose labels to collect (default all of ``fig``'s).
    ncol : int
        At most this many columns: fewer when the legend would be wider than the figure
        (the figure keeps its print width; the constrained layout makes room below).
    loc : str
        Matplotlib's legend location.
    """
    axes = np.ravel(fig.axes if axes is None else axes)
    seen: dict[str, object] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if not lab.startswith("_") and lab not in seen:
                seen[lab] = h
    if not seen:
        return
    renderer = fig.canvas.get_renderer()
    for n in range(max(int(ncol), 1), 0, -1):
        leg = fig.legend(list(seen.values()), list(seen), loc=loc, ncol=n)
        if n == 1 or leg.get_window_extent(renderer).width <= _usable_width(fig):
            return
        leg.remove()


def fit_to_width(fig):
    """Break the figure's suptitle into lines so that it fits the figure's print width.

    Lines break at spaces outside ``$...$``. Figures keep their print size (3.5 or 7 in)
    instead of being widened by a long title (panel titles are short enough by hand, and a
    test checks that nothing of any figure lies outside it). Every registered figure's
    ``render`` ends with this.

    Returns
    -------
    matplotlib.figure.Figure
        ``fig``, its suptitle wrapped in place.
    """
    if fig._suptitle is not None:
        _wrap(fig._suptitle, _usable_width(fig), fig.canvas.get_renderer())
    return fig


def _wrap(text, width: float, renderer) -> None:
    """Re-break ``text`` (a matplotlib Text) at spaces outside ``$...$`` to ``width``."""
    if not text.get_text() or text.get_window_extent(renderer).width <= width:
        return
    lines = []
    for paragraph in text.get_text().split("\n"):
        line = ""
        for word in _words_outside_math(paragraph):
            trial = f"{line} {word}" if line else word
            text.set_text(trial)
            if line and text.get_window_extent(renderer).width > width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    text.set_text("\n".join(lines))


def _usable_width(fig) -> float:
    """The figure's width in display units, less the layout's side pads."""
    return fig.bbox.width - 2 * 0.04 * fig.dpi


def _words_outside_math(text: str) -> list[str]:
    """``text`` split at the spaces that are not inside a ``$...$`` span."""
    words, current, in_math = [], [], False
    for i, ch in enumerate(text):
        if ch == "$" and (i == 0 or text[i - 1] != "\\"):
            in_math = not in_math
        if ch == " " and not in_math:
            words.append("".join(current))
            current = []
        else:
            current.append(ch)
    words.append("".join(current))
    return [w for w in words if w]


def fit_text(fit: dict) -> str:
    """What the rate fitter says (a :func:`gdnp.rates.fit_rate` result), in a few characters.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.plots.style import fit_text
    >>> from gdnp.rates import fit_rate
    >>> fit_text(fit_rate(np.arange(200), 0.9 ** np.arange(200)))  # (rounding's se)
    'linear, 1-r = 0.1 ± ...'
    """
    kind = fit.get("kind")
    if kind == "linear":
        return (f"linear, 1-r = {_sig(fit['one_minus_rate'])}"
                f" ± {_sig(fit.get('one_minus_rate_se', np.nan), 1)}{short_window(fit)}")
    if kind == "sublinear":
        return f"sublinear, p = {fit['order']:.2f} ± {_sig(fit.get('order_se', np.nan), 1)}"
    return "order undetermined"


def short_window(fit: dict) -> str:
    """`` (over 0.5 decades)`` for a fit (a :func:`gdnp.rates.fit_rate` result) over a window
    where the gap fell less than tenfold (weak evidence of the asymptotic rate: a transient can
    look linear there), else empty.

    Examples
    --------
    >>> import numpy as np
    >>> from gdnp.plots.style import short_window
    >>> from gdnp.rates import fit_rate
    >>> short_window(fit_rate(np.arange(100), 0.999 ** np.arange(100)))
    ' (over 0.02 decades)'
    """
    decades = fit.get("decades", np.nan)
    if not (np.isfinite(decades) and decades < 1.0):
        return ""
    if decades <= 0.0:
        return " (the gap did not fall)"
    if decades < 0.01:
        return " (over less than 0.01 decades)"
    # rounded down, so that a window short of a decade never reads as one
    return f" (over {math.floor(decades * 100.0) / 100.0:g} decades)"


def linear_over_a_decade(kind, decades) -> np.ndarray:
    """Which fits a rate summary draws filled: classified linear over a window where the gap
    fell at least tenfold (:func:`short_window`'s test); elementwise over arrays. ``decades``
    ``None`` (data written before it was stored) counts as unknown: not filled."""
    kind = np.asarray(kind).astype(str)
    if decades is None:
        return np.zeros(kind.shape, dtype=bool)
    decades = np.asarray(decades, dtype=float)
    return (kind == "linear") & (decades >= 1.0)


def _sig(x, digits: int = 2) -> str:
    x = float(x)
    if not np.isfinite(x):
        return "n/a"
    return f"{x:.{digits}g}"


def grey_level(color) -> float:
    """Luminance (ITU-R 601) of a matplotlib colour, 0 = black, 1 = white.

    Examples
    --------
    >>> from gdnp.plots.style import grey_level
    >>> round(grey_level("white"), 12), grey_level("black"), round(grey_level("0.5"), 12)
    (1.0, 0.0, 0.5)
    """
    from matplotlib.colors import to_rgb

    r, g, b = to_rgb(color)
    return 0.299 * r + 0.587 * g + 0.114 * b


def relative_gap(gap, gap0: float) -> np.ndarray:
    """Relative suboptimality ``(f - f*) / (f_0 - f*)`` (for problems of different scales):
    ``gap`` divided by the first gap ``gap0``, as an array.

    Examples
    --------
    >>> from gdnp.plots.style import relative_gap
    >>> relative_gap([2.0, 1.0, 0.5], 2.0)
    array([1.  , 0.5 , 0.25])
    """
    return np.asarray(gap, dtype=float) / float(gap0)
