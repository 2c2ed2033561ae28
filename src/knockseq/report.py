"""The first page of the HTML report: each contrast's verdict, reasons, knockdown and gene-set provenance."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from knockseq.io import write_text


def verdict_rst(verdicts: Sequence[Mapping[str, Any]]) -> str:
    """The verdict of every contrast as reStructuredText, for the report's first page.

    Parameters
    ----------
    verdicts : sequence of mapping
        ``results/verdict/{contrast}.json`` per contrast, in config order.

    Returns
    -------
    str
        Per contrast: verdict and strength, the plain ``sentence``, what the strength means, the
        reasons, the one-line ``summary``, the knockdown status per target; then the gene-set provenance (of the first verdict: one run loads
        one collection for every contrast). No section titles, so it can be included anywhere.
    """
    lines = []
    for verdict in verdicts:
        knockdown = verdict["knockdown"]
        lines += [f"**{_rst(verdict['contrast'])}: {verdict['verdict'].upper()}** (strength: {_rst(verdict['strength'])})",
                  "", _rst(verdict["sentence"]), "",
                  f"- strength '{_rst(verdict['strength'])}': {_rst(verdict['strength_meaning'])}"]
        lines += [f"- reason: {_rst(reason)}" for reason in verdict["reasons"]]
        lines.append(f"- in one line: {_rst(verdict['summary'])}")
        lines.append(f"- knockdown: {_rst(knockdown['status'])}")
        for target in knockdown["targets"]:
            remaining = target.get("percent_remaining")
            lines.append(f"- {_rst(target.get('gene_name') or target['gene'])}: {_rst(target['status'])}"
                         + (f", {remaining:.1f}% of control expression remaining" if remaining is not None else ""))
        lines.append("")
    if verdicts:
        lines += ["**Gene sets used**", ""]
        for entry in verdicts[0]["provenance"]:
            sha = (entry.get("sha256") or "")[:12]
            lines.append(f"- {_rst(entry['name'])} version {_rst(str(entry.get('version')))}: {entry['status']}, "
                         f"{entry.get('n_sets', 0)} set(s), from {_rst(str(entry.get('source')))}"
                         + (f", sha256 {sha}..." if sha else ""))
        lines.append("")
    return "\n".join(lines)


def _rst(text: str) -> str:
    """``text`` with reStructuredText markup characters escaped (gene and contrast names hold ``_``)."""
    for char in "\\*`_|[]":
        text = text.replace(char, "\\" + char)
    return text


def write_verdict_page(verdicts: Sequence[Mapping[str, Any]], rst_path: str | os.PathLike,
                       html_path: str | os.PathLike) -> None:
    """Write :func:`verdict_rst` and its HTML rendering (docutils), atomically."""
    from docutils.core import publish_string

    text = verdict_rst(verdicts)
    write_text(text, rst_path)
    html = publish_string(text, writer="html", settings_overrides={"title": "knockseq verdicts",
                                                                         "embed_stylesheet": True})
    write_text(html.decode("utf-8"), html_path)
