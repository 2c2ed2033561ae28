"""Atomic writes and reading tables back with ids as text."""

from __future__ import annotations

import os

import pandas as pd

from knockseq.io import read_table, write_text, write_tsv


def test_ids_and_names_come_back_as_written(tmp_path):
    table = pd.DataFrame(
        {
            "gene_id": ["0090", "90", "NM_000125.4", "1"],
            "gene_name": ["NAN", None, "ESR1", "NULL"],
            "stat": [1.5, None, -2.0, 0.0],
        }
    )
    write_tsv(table, tmp_path / "t.tsv")
    assert (tmp_path / "t.tsv").read_text().splitlines()[1:3] == ["0090\tNAN\t1.5", "90\tNA\tNA"]
    back = read_table(tmp_path / "t.tsv")
    assert back["gene_id"].tolist() == ["0090", "90", "NM_000125.4", "1"]
    assert back["gene_name"].tolist()[::2] == ["NAN", "ESR1"] and pd.isna(back.at[1, "gene_name"])
    assert back.at[3, "gene_name"] == "NULL" and back["stat"].dtype == float


def test_written_files_get_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        write_text("x", tmp_path / "a.txt")
    finally:
        os.umask(umask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]  # no temporary file left behind
