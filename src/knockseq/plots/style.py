"""What every knockseq figure shares: the Okabe-Ito palette, font size, non-overlapping labels and
byte-stable writing (:func:`write_figure`)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from knockseq.io import atomic_path, write_tsv

#: Okabe & Ito (2008), "Color Universal Design": name -> hex.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
#: Colour cycle for groups (conditions, gene sets), in order of use.
CYCLE = [OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky_blue", "yellow", "black")]
#: Qualitative colours after the Okabe-Ito eight, for groups beyond them (matplotlib's tab20).
_MORE = [
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896", "#9467bd", "#c5b0d5",
    "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7", "#bcbd22", "#dbdb8d", "#17becf", "#9edae5",
]  # fmt: skip


#: Exponent digits and signs as superscripts, for log-axis labels in plain text.
_SUPERSCRIPT = str.maketrans("-−0123456789", "⁻⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def log_scale(ax, axis: str) -> None:
    """Put ``ax``'s ``axis`` ("x" or "y") on a log scale labelled as matplotlib labels it (10², 3×10⁴),
    in plain text.

    matplotlib's own labels are mathtext, whose parser takes a process 0.5 s to build: more than
    drawing the figure that needs it.
    """
    from matplotlib.ticker import LogFormatterSciNotation

    class PlainLogFormatter(LogFormatterSciNotation):
        def __call__(self, x, pos=None):
            return _plain_text(super().__call__(x, pos))

    getattr(ax, f"set_{axis}scale")("log")
    target = getattr(ax, f"{axis}axis")
    target.set_major_formatter(PlainLogFormatter())
    target.set_minor_formatter(PlainLogFormatter(labelOnlyBase=False))


def _plain_text(label: str) -> str:
    """A mathtext tick label (``$\\mathdefault{3\\times10^{4}}$``) as plain text (3×10⁴)."""
    match = re.fullmatch(r"\$\\mathdefault\{(.*)\}\$", label)
    if match is None:
        return label
    body = match.group(1).replace("\\times", "×")
    return re.sub(r"\^\{([^}]*)\}", lambda power: power.group(1).translate(_SUPERSCRIPT), body)


def level_colours(levels: Sequence[str]) -> dict[str, str]:
    """One colour per level, none repeated: the Okabe-Ito eight first, then tab20's twenty, then
    hues spaced evenly around the colour wheel.

    Every figure of a run colours a sheet column's levels from this mapping of all its levels in
    sheet order, so a condition keeps its colour from figure to figure.

    Parameters
    ----------
    levels : sequence of str
        The levels (n_levels), duplicates ignored, in the order colours are given out.

    Returns
    -------
    dict
        Level -> hex colour.
    """
    import colorsys

    unique = list(dict.fromkeys(map(str, levels)))
    extra = max(0, len(unique) - len(CYCLE) - len(_MORE))
    spaced = [
        "#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in colorsys.hsv_to_rgb(i / extra, 0.65, 0.8)))
        for i in range(extra)
    ]
    return dict(zip(unique, [*CYCLE, *_MORE, *spaced]))


def contrast_groups(samples: pd.DataFrame, metadata: Mapping[str, Any]) -> tuple[pd.Series, dict[str, str]]:
    """A contrast's own samples with their level, and the colours of the tested variable's levels.

    Parameters
    ----------
    samples : pandas.DataFrame
        The sample sheet (one row per sample).
    metadata : mapping
        ``results/de/{contrast}.json``: ``variable``, ``test``, ``reference`` and ``samples``
        (those of the contrast's fit, which in a screen hold every siRNA's).

    Returns
    -------
    groups : pandas.Series
        Level per sample (index: sample) of the contrast's reference and test samples only,
        reference first, sheet order within a level.
    palette : dict
        :func:`level_colours` of every level of the variable in the sheet, so a level keeps its
        colour in every figure.
    """
    column = samples.set_index("sample")[metadata["variable"]].astype(str)
    order = [str(metadata["reference"]), str(metadata["test"])]
    groups = column.loc[list(metadata["samples"])]
    groups = groups[groups.isin(order)]
    groups = groups.iloc[sorted(range(len(groups)), key=lambda i: order.index(groups.iloc[i]))]
    return groups, level_colours(column)


#: Colours of the DE classes of volcano and MA plots.
DE_COLOURS = {"down": OKABE_ITO["blue"], "up": OKABE_ITO["vermillion"], "not significant": "#BBBBBB"}
#: Label kinds of :func:`label_genes`, in precedence order, and their colours.
LABEL_COLOURS = {"knockdown target": OKABE_ITO["orange"], "ESR1": OKABE_ITO["purple"], "ER core": OKABE_ITO["green"]}
#: Genes with the most variable VST values used for the PCA, as DESeq2's plotPCA (ntop = 500).
PCA_TOP_GENES = 500
FONT_SIZE = 11
#: Iterations of adjustText's label layout. It stops earlier once no label overlaps, which takes
#: about 100 steps when it happens at all; a layout still overlapping at 300 was no better at 1000
#: (its overlap oscillates), and those 700 steps cost an MA plot 0.8 s.
ADJUST_ITERATIONS = 300


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (jobs have no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_figure(fig, values: pd.DataFrame, stem: str | os.PathLike) -> None:
    """Write ``stem.png``, ``stem.svg`` and the plotted values as ``stem.tsv``, atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Closed after writing.
    values : pandas.DataFrame
        What the figure draws (written without its index).
    stem : str or PathLike
        Path without extension.
    """
    plt = pyplot()
    write_tsv(values, f"{stem}.tsv")
    # Fixed hash salt and no date: reruns on the same tables give byte-identical figures.
    with plt.rc_context({"svg.hashsalt": "knockseq"}):
        for kind in ("png", "svg"):
            with atomic_path(f"{stem}.{kind}") as tmp:
                fig.savefig(tmp, format=kind, dpi=150, metadata={"Date": None} if kind == "svg" else {"Software": None})
            # The layout the PNG was drawn with serves the SVG: solving it again (every text's
            # extent) costs more than drawing.
            fig.set_layout_engine("none")
    plt.close(fig)


def adjust_labels(ax, texts: list, x: pd.Series, y: pd.Series) -> None:
    """Move ``texts`` apart and off the points (x, y: n_points), joined to their point by a line.

    A fixed iteration count, not adjustText's default 1-second time limit, so that the layout,
    and the files, do not depend on how busy the machine is.
    """
    from adjustText import adjust_text

    if texts:
        # Stronger text repulsion and a weaker pull than adjustText's defaults: with its defaults
        # ER core labels in a crowded volcano (MCF-7 estradiol) overlap after 1000 steps.
        adjust_text(
            texts,
            x=x.to_numpy(dtype=float),
            y=y.to_numpy(dtype=float),
            ax=ax,
            iter_lim=ADJUST_ITERATIONS,
            expand=(1.4, 1.8),
            force_text=(1.0, 1.5),
            force_pull=(0.005, 0.005),
            arrowprops={"arrowstyle": "-", "color": "0.35", "linewidth": 0.6},
        )
