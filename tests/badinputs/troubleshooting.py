"""docs/troubleshooting.md, generated from the bad-input corpus so it cannot drift.

Run from the project root: ``python tests/badinputs/troubleshooting.py --write`` rewrites the section
between its markers in docs/troubleshooting.md (:mod:`docgen`); ``tests/test_badinputs.py`` fails if
the page differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docgen  # noqa: E402

from badinputs.cases import CASES  # noqa: E402
from badinputs.harness import PROJECT, Case  # noqa: E402

SCRIPT = "tests/badinputs/troubleshooting.py"
NAME = "troubleshooting"
DOC = PROJECT / "docs/troubleshooting.md"

WHERE = {
    "parse": "before any job starts",
    "counts": "in the counts job, also in `logs/counts.log`",
    "gene_sets": "in the gene_sets job, also in `logs/gene_sets.log`",
    "targets": "in the targets job, right after the counts, also in `logs/targets.log`",
}


def _entry(case: Case) -> str:
    if case.stage == "runs":
        return f"- **{case.problem}**: runs as is."
    # A message that quotes code in backticks needs a double-backtick span.
    code = f"`` {case.message} ``" if "`" in case.message else f"`{case.message}`"
    return f"- **{case.problem}** ({WHERE[case.stage]}):\n  {code}"


def section(cases: list[Case] = CASES) -> str:
    """The generated section's body: one list per area, in the corpus's order."""
    lines = [
        "Every message below is what knockseq prints for that mistake, word for word (each is a test",
        "in `tests/badinputs/`); paths are those of the bundled example. A failed run never overwrites",
        "or deletes an earlier result: fix the input and run the same command again.",
    ]
    areas = list(dict.fromkeys(case.area for case in cases))
    for area in areas:
        lines += ["", f"## {area}", ""]
        lines += [_entry(case) for case in cases if case.area == area]
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: python {SCRIPT} --write")
    docgen.write(DOC, NAME, SCRIPT, section())
