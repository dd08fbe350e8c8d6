"""The fast paths of reading, cleanup and table writing give what the slow paths give.

Each fast path of issue #17 (``helpers clean`` at 1,000 documents) skips work only where the
result cannot change; these tests run both on real fragments (the corpus documents, the collected
pages of ``tests/fixtures``, re-encoded) and compare:

- reading: gb18030/big5 taken when it is the only candidate that decodes, without
  charset_normalizer, against the detection;
- raw-line repair: the lines found by three scans against the one regular expression;
- writing: the CSV text ``table_write`` joins itself against ``DataFrame.to_csv``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import corpus, tables
from helpers.cleanup import UNIT_COLUMNS, document_clean, files_clean
from helpers.lines import _RAW_WORK, text_lines_to_repair
from helpers.text import _lines_matching

from .conftest import FIXTURES

#: The collected pages written for the project (news, journal, mirror, traditional script, …).
PAGES = sorted((FIXTURES / "pages").glob("*.txt")) + sorted(FIXTURES.glob("*.txt"))


def _page_texts() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in PAGES}


def _slow_decode(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str] | str:
    """text_decode without its fast path (the result, or the error's message)."""
    with monkeypatch.context() as m:
        m.setattr(corpus, "_legacy_only_decoding", lambda data: None)
        try:
            return corpus.text_decode(data)
        except corpus.DocumentError as error:
            return str(error)


def _fast_decode(data: bytes) -> tuple[str, str] | str:
    try:
        return corpus.text_decode(data)
    except corpus.DocumentError as error:
        return str(error)


def test_reading_without_detection_gives_the_detected_text(raw_texts, monkeypatch):
    """Whole documents and single lines, in GB18030, Big5, UTF-8 with BOM and UTF-16: the fast
    path returns what charset_normalizer's order returns, and it is taken for most GB18030 ones."""
    texts = {**raw_texts, **_page_texts()}
    samples: list[bytes] = []
    for text in texts.values():
        for piece in [text, *[line for line in text.split("\n") if line.strip()][:40]]:
            samples.append(piece.encode("gb18030"))
            samples.append(piece.replace("\n", "\r\n").encode("gb18030"))
            with contextlib.suppress(UnicodeEncodeError):  # simplified characters lack a Big5 code
                samples.append(piece.encode("big5"))
            samples.append(b"\xef\xbb\xbf" + piece.encode("utf-8"))
            samples.append(piece.encode("utf-16"))
    taken = 0
    for data in samples:
        assert _fast_decode(data) == _slow_decode(data, monkeypatch), data[:40]
        if b"\0" not in data and corpus._legacy_only_decoding(data) is not None:
            taken += 1
    assert taken >= len(texts)  # the fast path is not dead code


def test_reading_fast_path_declines_when_two_encodings_decode():
    """Bytes that are valid GB18030 and valid Big5 (or another candidate) go to the detection."""
    data = "閩寧協作".encode("big5")
    assert data.decode("gb18030") != data.decode("big5")  # both decode: the detection decides
    assert corpus._legacy_only_decoding(data) is None
    assert corpus.text_decode(data) == ("閩寧協作", "big5")


def test_lines_to_repair_are_those_of_the_one_pattern(raw_texts):
    """Question-mark runs, ideographic spaces, tabs, double spaces and front-matter labels at a
    line start (摘 要, Key words), in real pages and in lines made from them."""
    texts = [*raw_texts.values(), *_page_texts().values()]
    made = []
    for text in texts[:6]:
        lines = text.split("\n")
        made.append(
            "\n".join(
                [
                    f"  摘 要  {lines[0]}",
                    f"\u3000\u3000{lines[1]}",
                    "Key words: East-West cooperation",
                    f"??{lines[2]}？？",
                    f"{lines[3]}\t{lines[0]}",
                    "中图分类号 F127",
                    "",
                    "文献标识码 A",
                ]
            )
        )
    for text in texts + made:
        assert text_lines_to_repair(text) == _lines_matching(_RAW_WORK, text)


def _to_csv(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, lineterminator="\n", float_format="%.6g")


def test_csv_text_is_to_csv_on_the_cleanup_tables(tmp_path):
    """The units, audit, metadata and summary of the collected pages (commas, quotes and line
    ends in cells, formula-like text, missing values) are written with pandas' bytes."""
    result = files_clean(PAGES)
    frames = {
        "units": result.units,
        "audit": result.audit,
        "metadata": result.metadata,
        "summary": result.summary,
    }
    tricky = result.sentences.head(40).copy()
    tricky.loc[0, "text"] = '他说："闽宁,协作"\n第二行'
    tricky.loc[1, "text"] = '=HYPERLINK("http://example.com")'
    tricky.loc[2, "heading_path"] = None
    tricky.loc[3, "text"] = ""
    frames["tricky"] = tricky
    for name, df in frames.items():
        escaped = tables.csv_escape(df)
        fast = tables._csv_text(escaped)
        assert fast is not None, name  # every cleanup table takes the fast path
        assert fast == _to_csv(escaped), name
        out = tables.table_write(df, tmp_path / f"{name}.csv", budget=False)
        back = tables.table_read(out)
        assert len(back) == len(df)
        assert back.columns.tolist() == df.columns.tolist()
    # the formula-like cell was written inert and reads back as it was
    assert "'=HYPERLINK" in (tmp_path / "tricky.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([0.5, 1.25]),  # floats: %.6g, pandas
        pd.Series(["a", 1], dtype=object),  # mixed objects
        pd.Series([True, None], dtype=object),
        pd.Series([1, None], dtype="Int64"),  # nullable integers
    ],
)
def test_csv_text_leaves_other_columns_to_pandas(column):
    df = pd.DataFrame({"doc_id": ["d1", "d2"], "value": column})
    assert tables._csv_text(df) is None
    assert tables._csv_text(df[["doc_id"]]) is None  # one column: an empty cell is quoted there


def test_csv_quoting_is_the_csv_modules():
    """Every character the csv module quotes a field for (with "\\n" line ends), and no other."""
    quoted = []
    for cp in [*range(0, 0x250), 0x3000, 0xFF0C, 0x201C, 0x2028]:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([f"a{chr(cp)}b", "x"])
        if buf.getvalue().startswith('"'):
            quoted.append(chr(cp))
    assert quoted == [c for c in map(chr, range(0, 0x250)) if tables._CSV_QUOTED.search(c)]
    df = pd.DataFrame({"a": [f"a{c}b" for c in quoted] + ["\r"], "b": np.arange(len(quoted) + 1)})
    assert tables._csv_text(df) == _to_csv(df)


def test_unit_rows_and_units_table_agree(raw_texts):
    """The tuples a document keeps give the same dicts and DataFrame as the columns say."""
    doc = document_clean(raw_texts["report2024"], "report2024")
    rows = doc.unit_rows
    assert all(list(r) == UNIT_COLUMNS for r in rows)
    expected = pd.DataFrame(list(rows), columns=UNIT_COLUMNS)
    pd.testing.assert_frame_equal(doc.units, expected)
    for r in rows:  # offsets into the cleaned text, as before
        assert doc.text[r["start"] : r["end"]] == r["text"]
        assert r["n_chars"] == len(r["text"])
        assert re.fullmatch(r"\d+(-\d+)?", r["lines"])


def test_files_clean_reads_every_encoding_alike(tmp_path):
    """The same page as UTF-8, GB18030, UTF-8 with BOM and UTF-16 gives the same units."""
    page = FIXTURES / "pages" / "traditional_news.txt"
    text = page.read_text(encoding="utf-8")
    variants = {
        "utf8": text.encode("utf-8"),
        "gb": text.encode("gb18030"),
        "bom": b"\xef\xbb\xbf" + text.encode("utf-8"),
        "u16": text.encode("utf-16"),
    }
    files = []
    for name, data in variants.items():
        path = Path(tmp_path) / f"{name}.txt"
        path.write_bytes(data)
        files.append(path)
    result = files_clean(files)
    units = result.sentences
    texts = {d: units.loc[units["doc_id"] == d, "text"].tolist() for d in variants}
    assert texts["utf8"] and all(t == texts["utf8"] for t in texts.values())


def test_front_matter_lines_are_those_both_patterns_find(raw_texts):
    """A line is front matter only where one of the two label patterns matches at its start: the
    quick test of its first character never drops one (labels in brackets, with colons, alone)."""
    from helpers.lines import _FM_BARE, _FM_LABEL, line_front_matter
    from helpers.text import text_normalize, text_simplify

    lines = [ln for t in [*raw_texts.values(), *_page_texts().values()] for ln in t.split("\n")]
    lines += [
        "【摘要】闽宁协作",
        "〔关键词〕闽宁协作；东西部协作",
        "[DOI]10.1/x",
        "Key words: a; b",
    ]
    lines += ["关键词", "摘要：", "DOI: 10.1/x", "中图分类号：F127 文献标识码：A", "基金项目：某某"]
    found = 0
    for line in lines:
        key = text_simplify(text_normalize(line))
        either = _FM_LABEL.match(key) is not None or _FM_BARE.match(key) is not None
        assert (line_front_matter(key) is not None) == either, key
        found += either
    assert found >= 9
