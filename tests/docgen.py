"""Sections of the docs that are generated from the code or the tests, so they cannot drift.

A generated section sits between two markers naming it and the script that writes it::

    <!-- generated: NAME by SCRIPT; do not edit -->
    ...
    <!-- end of NAME -->

Each generating script has a ``--write`` mode that rewrites its sections in place; a test per
section fails when the file differs from what the script would write.
"""

from __future__ import annotations

from pathlib import Path


def markers(name: str, script: str) -> tuple[str, str]:
    """The begin and end markers of section ``name``, written by ``script``."""
    return f"<!-- generated: {name} by {script}; do not edit -->", f"<!-- end of {name} -->"


def current(text: str, name: str, script: str) -> str:
    """The section as it stands in ``text``, markers included, or '' when it has none."""
    begin, end = markers(name, script)
    start, stop = text.find(begin), text.find(end)
    return text[start : stop + len(end)] if start >= 0 and stop > start else ""


def wrapped(body: str, name: str, script: str) -> str:
    """``body`` between the section's markers."""
    begin, end = markers(name, script)
    return f"{begin}\n{body.strip()}\n{end}"


def write(path: Path, name: str, script: str, body: str) -> None:
    """Replace section ``name`` of the file at ``path`` with ``body`` (appended when absent)."""
    text = path.read_text()
    section = wrapped(body, name, script)
    old = current(text, name, script)
    text = text.replace(old, section) if old else text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)
