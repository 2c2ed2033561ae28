"""The first page of the HTML report: each contrast's verdict, reasons, knockdown and gene-set provenance."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from knockseq.io import read_table, write_text


def verdict_rst(
    verdicts: Sequence[Mapping[str, Any]],
    datasets: Sequence[str] | None = None,
    compare: pd.DataFrame | None = None,
    heatmap: bytes | None = None,
) -> str:
    """The verdict of every contrast as reStructuredText, for the report's first page.

    Parameters
    ----------
    verdicts : sequence of mapping
        ``results/verdict/{contrast}.json`` per contrast, in config order.
    datasets : sequence of str, optional
        The dataset of each verdict, over several datasets: contrasts are then named
        ``dataset/contrast`` and each dataset's gene-set provenance is listed.
    compare : pandas.DataFrame, optional
        ``results/summary/compare.tsv``: each compared group's line comes first.
    heatmap : bytes, optional
        The PNG of ``results/summary/er_targets_heatmap.png``, embedded (as a data URI, so the
        page stands alone) right below the verdicts' one-line list.

    Returns
    -------
    str
        Each compared group's one line; each contrast's verdict and plain sentence in a list;
        the direct ER targets' heatmap; then per contrast: verdict and strength, the plain
        ``sentence``, what the strength means, the reasons, the one-line ``summary``, the
        knockdown status per target; then the gene-set provenance (of each dataset's first
        verdict: a dataset loads one collection for every contrast). No section titles, so it
        can be included anywhere.
    """
    lines = []
    if compare is not None and len(compare):
        lines += ["**Compared groups**", ""]
        lines += [f"- {_rst(line)}" for line in compare["line"]]
        lines.append("")
    names = [
        verdict["contrast"] if datasets is None else f"{dataset}/{verdict['contrast']}"
        for dataset, verdict in zip(datasets or [None] * len(verdicts), verdicts)
    ]
    lines += [
        f"- **{_rst(name)}: {verdict['verdict'].upper()}** [{_rst(verdict['strength'])}]: {_rst(verdict['sentence'])}"
        for name, verdict in zip(names, verdicts)
    ]
    lines.append("")
    if heatmap is not None:
        # reST joins a URI's lines; docutils refuses lines over 10,000 characters.
        uri = f"data:image/png;base64,{base64.b64encode(heatmap).decode('ascii')}"
        lines += [
            ".. image::",
            *(f"   {uri[i : i + 76]}" for i in range(0, len(uri), 76)),
            "   :alt: log2 fold change of ESR1 and the direct ER targets in every contrast",
            "   :class: knockseq-heatmap",
            "",
        ]
    for name, verdict in zip(names, verdicts):
        knockdown = verdict["knockdown"]
        lines += [
            f"**{_rst(name)}: {verdict['verdict'].upper()}** (strength: {_rst(verdict['strength'])})",
            "",
            _rst(verdict["sentence"]),
            "",
            f"- strength '{_rst(verdict['strength'])}': {_rst(verdict['strength_meaning'])}",
        ]
        lines += [f"- reason: {_rst(reason)}" for reason in verdict["reasons"]]
        lines.append(f"- in one line: {_rst(verdict['summary'])}")
        lines.append(f"- knockdown: {_rst(knockdown['status'])}")
        for target in knockdown["targets"]:
            remaining = target.get("percent_remaining")
            lines.append(
                f"- {_rst(target.get('gene_name') or target['gene'])}: {_rst(target['status'])}"
                + (f", {remaining:.1f}% of control expression remaining" if remaining is not None else "")
            )
        lines.append("")
    firsts: dict[str, Mapping[str, Any]] = {}
    for dataset, verdict in zip(datasets or [""] * len(verdicts), verdicts):
        firsts.setdefault(dataset, verdict)
    for dataset, verdict in firsts.items():
        lines += [f"**Gene sets used{' in ' + _rst(dataset) if dataset else ''}**", ""]
        for entry in verdict["provenance"]:
            sha = (entry.get("sha256") or "")[:12]
            lines.append(
                f"- {_rst(entry['name'])} version {_rst(str(entry.get('version')))}: {entry['status']}, "
                f"{entry.get('n_sets', 0)} set(s), from {_rst(str(entry.get('source')))}"
                + (f", sha256 {sha}..." if sha else "")
            )
        lines.append("")
    return "\n".join(lines)


def _rst(text: str) -> str:
    """``text`` with reStructuredText markup characters escaped (gene and contrast names hold ``_``)."""
    for char in "\\*`_|[]":
        text = text.replace(char, "\\" + char)
    return text


def write_verdict_page(
    verdicts: Sequence[Mapping[str, Any]],
    rst_path: str | os.PathLike,
    html_path: str | os.PathLike,
    *,
    datasets: Sequence[str] | None = None,
    compare: str | os.PathLike | None = None,
    heatmap: str | os.PathLike | None = None,
) -> None:
    """Write :func:`verdict_rst` and its HTML rendering (docutils), atomically.

    ``compare`` is the path of ``results/summary/compare.tsv``, when groups are compared;
    ``heatmap`` that of ``results/summary/er_targets_heatmap.png``.
    """
    from docutils.core import publish_string

    text = verdict_rst(
        verdicts,
        datasets,
        None if compare is None else read_table(compare),
        None if heatmap is None else Path(heatmap).read_bytes(),
    )
    write_text(text, rst_path)
    html = publish_string(
        text, writer="html", settings_overrides={"title": "knockseq verdicts", "embed_stylesheet": True}
    )
    write_text(html.decode("utf-8"), html_path)
