"""The generated sections of docs/verdict.md: the decision rule and the calibration table.

``python tests/verdict_docs.py --write`` (from the project root) rewrites them, and the README's short
calibration table; tests/test_verdict.py checks the rule section and tests/test_calibration.py the
tables.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import docgen  # noqa: E402
from conftest import PROJECT  # noqa: E402

from knockseq.verdict.rule import RULE, STRENGTHS  # noqa: E402

SCRIPT = "tests/verdict_docs.py"
DOC = PROJECT / "docs/verdict.md"


def rule_section() -> str:
    """The rule (``knockseq.verdict.rule.RULE``) and what each strength means."""
    lines = [RULE, "", "| strength | meaning |", "|---|---|"]
    lines += [f"| {name} | {meaning} |" for name, meaning in STRENGTHS.items()]
    return "\n".join(lines)


def calibration_section() -> str:
    """The calibration table, one row per case of ``tests/calibration_panel.py`` (runs the panel)."""
    import calibration_panel as panel

    return "\n".join([panel.HEADER, *(panel.table_row(case, panel.run_case(case).verdict) for case in panel.PANEL)])


def readme_calibration_section() -> str:
    """The README's short calibration table: each case's expected and measured verdict."""
    import calibration_panel as panel

    lines = ["| case | kind | expected | verdict [strength] |", "|---|---|---|---|"]
    for case in panel.PANEL:
        verdict = panel.run_case(case).verdict
        lines.append(
            f"| {case.name} | {case.kind} | {' or '.join(case.expected)} | "
            f"**{verdict['verdict']}** [{verdict['strength']}] |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: python {SCRIPT} --write")
    docgen.write(DOC, "verdict rule", SCRIPT, rule_section())
    docgen.write(DOC, "calibration", SCRIPT, calibration_section())
    docgen.write(PROJECT / "README.md", "calibration", SCRIPT, readme_calibration_section())
