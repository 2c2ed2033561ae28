"""Atomic writes and reading tables back with ids as text."""

from __future__ import annotations

import os

import numpy as np
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


def test_tables_are_written_as_pandas_float_format_writes_them(tmp_path):
    # write_tsv formats floats itself (five times faster); the bytes must stay pandas' own
    # `to_csv(float_format="%.10g")`: NaN as NA, -0, inf, float32, a repeated column name, no rows.
    table = pd.DataFrame(
        {
            "gene_id": ["a", "NA", "", "b", None],
            "value": [1 / 3, np.nan, -0.0, np.inf, -1e-300],
            "small": np.array([1, 2, 3, 4, 5], dtype=np.float32) / 7,
            "count": [1, 2, 3, 4, 5],
        }
    )
    table = pd.concat([table, table[["value"]]], axis=1)
    for frame in (table, table.iloc[:0]):
        write_tsv(frame, tmp_path / "t.tsv")
        expected = frame.to_csv(sep="\t", index=False, float_format="%.10g", na_rep="NA", lineterminator="\n")
        assert (tmp_path / "t.tsv").read_text() == expected
    assert (tmp_path / "t.tsv").read_text() == "gene_id\tvalue\tsmall\tcount\tvalue\n"
    write_tsv(table, tmp_path / "t.tsv")
    assert (tmp_path / "t.tsv").read_text().splitlines()[1:3] == [
        "a\t0.3333333333\t0.1428571492\t1\t0.3333333333",
        "NA\tNA\t0.2857142985\t2\tNA",
    ]
