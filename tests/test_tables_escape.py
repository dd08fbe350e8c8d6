"""Formula escaping of text columns: the one-pass check of string columns (pandas ``str``) gives
the cells the pandas ``.str`` check of the same column as ``object`` gives (issue #17: writing the
coded table spent half its time there). Cells modelled on what collected web pages hold."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers import tables

CELLS = [
    '=HYPERLINK("http://example.cn","点击查看")',
    "-0.5",
    "+3",
    "-12%",
    "+",
    "-",
    "'=SUM(A1:A3)",
    "''@某某",
    "@宁夏日报 记者",
    "\t闽宁协作",
    "\r\n附件",
    "闽宁协作：产业帮扶「资金」@3-5",
    "",
    np.nan,
    "-2021年",
]


def test_string_columns_are_escaped_as_object_columns_are():
    as_str = pd.DataFrame({"text": pd.array(CELLS, dtype="str"), "n": range(len(CELLS))})
    as_object = as_str.astype({"text": object})
    assert isinstance(as_str["text"].dtype, pd.StringDtype)
    fast = tables._formula_mask(as_str["text"])
    slow = tables._formula_mask(as_object["text"])
    assert fast.tolist() == slow.tolist()
    assert 4 <= int(fast.sum()) < len(CELLS)  # =HYPERLINK, '=SUM, ''@, @…, \t…, \r…, -2021年
    escaped = tables.csv_escape(as_str)
    assert escaped["text"].astype(object).tolist()[:3] == ["'" + CELLS[0], "-0.5", "+3"]
    pd.testing.assert_frame_equal(
        escaped.astype({"text": object}), tables.csv_escape(as_object), check_dtype=False
    )
    back = tables.csv_unescape(escaped)
    pd.testing.assert_frame_equal(back, as_str)


def test_carriage_return_found_in_string_and_object_columns():
    for dtype in ("str", object):
        df = pd.DataFrame({"text": pd.Series(CELLS, dtype=dtype)})
        assert tables._has_carriage_return(df)
        assert not tables._has_carriage_return(df[~df["text"].fillna("").str.contains("\r")])


def test_table_csv_of_blocks_put_together_is_the_file_table_write_writes(tmp_path):
    """Blocks rendered on their own (a worker each) and written by table_write_csv: the bytes of
    table_write for the whole table; floats and budgeted names go back to table_write (None)."""
    df = pd.DataFrame(
        {
            "unit_id": ["u1", "=1+1", 'a,"b"', "u4", "-2", "u6"],
            "economic": [1, 0, 1, 0, 0, 1],
            "evidence": ["economic: 产业「产业」@0-2", "", "@人", "x\ny", None, "+9"],
        }
    )
    whole = tmp_path / "whole.csv"
    tables.table_write(df, whole)
    texts = [tables.table_csv(df.iloc[a:b]) for a, b in ((0, 2), (2, 5), (5, 6))]
    out = tables.table_write_csv(texts, tmp_path / "blocks.csv")
    assert out is not None and out.read_bytes() == whole.read_bytes()
    assert tables.table_csv(df.assign(share=0.5)) is None  # floats: pandas writes them
    assert tables.table_csv(df.assign(evidence="a\rb")) is None  # every field quoted
    assert tables.table_write_csv(texts, tmp_path / "coding_units.csv") is None  # a budget
    assert not (tmp_path / "coding_units.csv").exists()
