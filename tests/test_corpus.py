"""Tests for ``helpers.corpus``: the corpus table, the real documents, and reading any format.

Every input is built from the real documents in ``data/raw/`` (re-encoded, re-wrapped as .docx or
PDF, or damaged on purpose) in ``tmp_path``; nothing is written to ``data/``.
"""

from __future__ import annotations

import codecs
import dataclasses
import pickle
import random
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from helpers import paths, tables
from helpers.corpus import (
    CORPUS_COLUMNS,
    REQUIRED_COLUMNS,
    DocumentError,
    RawDocument,
    corpus_files_diff,
    corpus_read,
    corpus_read_table,
    document_read,
    text_decode,
)

# A traditional-script sentence (written for this test, not from the corpus) for the Big5 case.
TRADITIONAL = "閩寧協作是東西部協作的生動典範。\n對口幫扶，攜手奔小康。\n"


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return corpus_read_table()


@pytest.fixture(scope="module")
def originals(table: pd.DataFrame) -> dict[str, str]:
    """doc_id -> the committed UTF-8 text of that document."""
    return {
        doc_id: (paths.RAW / file).read_text(encoding="utf-8")
        for doc_id, file in zip(table["doc_id"], table["file"])
    }


def _lines(text: str) -> list[str]:
    """Return the non-blank lines of ``text``, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _chinese_date(iso: str) -> str:
    """'2021-06-13' -> '2021年6月13日', the form dates take in the documents."""
    y, m, d = (int(part) for part in iso.split("-"))
    return f"{y}年{m}月{d}日"


# --------------------------------------------------------------------------------------------------
# The committed corpus
# --------------------------------------------------------------------------------------------------


def test_committed_table_validates(table: pd.DataFrame) -> None:
    assert tuple(table.columns) == CORPUS_COLUMNS
    assert list(table["doc_id"]) == sorted(table["doc_id"])
    assert table.map(lambda v: isinstance(v, str)).all().all()
    for name in REQUIRED_COLUMNS:
        assert (table[name] != "").all()
    # Same values as the project's generic table reader gives.
    via_pandas = tables.table_read(paths.CORPUS_TABLE, dtype=str)
    pd.testing.assert_frame_equal(table, via_pandas)


def test_committed_table_matches_raw_folder(table: pd.DataFrame) -> None:
    problems = corpus_files_diff(table)
    assert problems.empty, problems.to_string()
    assert list(problems.columns) == ["doc_id", "file", "problem"]


def test_corpus_read_reads_real_documents(table: pd.DataFrame, originals: dict[str, str]) -> None:
    documents, problems = corpus_read(table)
    assert problems.empty, problems.to_string()
    assert [d.doc_id for d in documents] == list(table["doc_id"])
    by_id = {d.doc_id: d for d in documents}
    assert "福建地区资" in by_id["report2024"].text
    assert "宁党办〔2021〕54号" in by_id["opinion2021"].text
    for row, document in zip(table.itertuples(), documents):
        assert document.encoding == "utf-8"
        assert document.path == paths.RAW / row.file
        assert document.n_bytes == (paths.RAW / row.file).stat().st_size
        assert document.text == originals[row.doc_id]
        # The metadata in corpus.csv is found in the text it describes.
        assert row.title in document.text
        assert row.doc_number.split()[-1] in document.text
        assert _chinese_date(row.date) in document.text
        if row.author:
            assert row.author.split("（")[0] in document.text
    with pytest.raises(dataclasses.FrozenInstanceError):
        documents[0].text = ""  # type: ignore[misc]


# --------------------------------------------------------------------------------------------------
# Encodings and line ends
# --------------------------------------------------------------------------------------------------

VARIANTS = {
    # name: (make bytes from the original text, encoding expected)
    "gb18030": (lambda t: t.encode("gb18030"), "gb18030"),
    "gb18030 with CRLF (Windows export)": (
        lambda t: t.replace("\n", "\r\n").encode("gb18030"),
        "gb18030",
    ),
    "utf-16 with BOM": (lambda t: t.encode("utf-16"), "utf-16"),
    "utf-16 with BOM and CRLF (Notepad 'Unicode')": (
        lambda t: t.replace("\n", "\r\n").encode("utf-16"),
        "utf-16",
    ),
    "utf-16-le without BOM": (lambda t: t.encode("utf-16-le"), "utf-16-le"),
    "utf-16-be without BOM": (lambda t: t.encode("utf-16-be"), "utf-16-be"),
    "utf-32 with BOM": (lambda t: t.encode("utf-32"), "utf-32"),
    "utf-8 with BOM": (lambda t: t.encode("utf-8-sig"), "utf-8-sig"),
    "utf-8 with CRLF": (lambda t: t.replace("\n", "\r\n").encode("utf-8"), "utf-8"),
    "utf-8 with CR": (lambda t: t.replace("\n", "\r").encode("utf-8"), "utf-8"),
    "utf-8 with U+2028/U+2029": (
        lambda t: "".join(
            ch if ch != "\n" else ("\u2028" if i % 2 else "\u2029") for i, ch in enumerate(t)
        ).encode("utf-8"),
        "utf-8",
    ),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_encodings_decode_to_the_original(
    variant: str, originals: dict[str, str], tmp_path: Path
) -> None:
    make, expected = VARIANTS[variant]
    for doc_id, original in originals.items():
        data = make(original)
        assert data != original.encode("utf-8")  # the variant really differs from the original
        path = _write(tmp_path / f"{doc_id}.txt", data)
        document = document_read(path)
        assert document.text == original, variant
        assert document.encoding == expected
        assert document.n_bytes == len(data)
        assert document.doc_id == doc_id
        assert "\r" not in document.text and "\ufeff" not in document.text


def test_bom_less_variants_really_lack_a_bom(originals: dict[str, str]) -> None:
    # Guards the test above: the UTF-16 variants without BOM must have none to detect.
    for original in originals.values():
        for variant in ("utf-16-le without BOM", "utf-16-be without BOM", "gb18030"):
            data = VARIANTS[variant][0](original)
            assert not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8))


@pytest.mark.parametrize("encoding", ["big5", "cp950"])
def test_big5_traditional_fragment(encoding: str, tmp_path: Path) -> None:
    data = TRADITIONAL.encode(encoding)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    document = document_read(_write(tmp_path / "trad.txt", data))
    assert document.text == TRADITIONAL
    assert document.encoding in ("big5", "cp950")


def test_big5_whole_documents_in_traditional_script(originals: dict[str, str]) -> None:
    opencc = pytest.importorskip("opencc")
    to_traditional = opencc.OpenCC("s2tw")
    for original in originals.values():
        traditional = to_traditional.convert(original)
        assert traditional != original
        assert text_decode(traditional.encode("big5")) == (traditional, "big5")


def test_every_real_line_in_gb18030_decodes_alone(originals: dict[str, str]) -> None:
    # Short inputs are where detectors guess wrong; every line of the corpus, one at a time (the
    # shortest are 2 characters, e.g. "(一"), must still come back unchanged.
    for original in originals.values():
        for line in _lines(original):
            text, encoding = text_decode(line.encode("gb18030"))
            assert text == line
            assert encoding == ("utf-8" if line.isascii() else "gb18030"), line


_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(categories=("L", "N", "P", "Zs")),
        st.sampled_from("\n闽宁协作"),
    ),
    min_size=1,
    max_size=200,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXT, encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))
def test_unicode_encodings_round_trip(text: str, encoding: str) -> None:
    assert text_decode(text.encode(encoding)) == (text, encoding)


_LINE_ENDS = st.sampled_from(["\r\n", "\r", "\n", "\u2028", "\u2029"])


@settings(max_examples=100, deadline=None)
@given(text=_TEXT, ends=st.lists(_LINE_ENDS, min_size=1))
def test_line_ends_become_newlines(text: str, ends: list[str]) -> None:
    # "\r" then a text that starts with "\n" is one Windows line end, rightly read as one newline
    assume(not (text.startswith("\n") and "\r" in ends))
    mixed = "".join(text + end for end in ends)
    expected = "".join(text + "\n" for _ in ends)
    assert text_decode(mixed.encode("utf-8"))[0] == expected


@settings(max_examples=200, deadline=None)
@given(data=st.binary(min_size=1, max_size=300))
def test_any_bytes_give_text_or_document_error(data: bytes) -> None:
    try:
        text, encoding = text_decode(data)
    except DocumentError as error:
        assert error.path == "<bytes>"
    else:
        assert isinstance(encoding, str) and "\r" not in text


# --------------------------------------------------------------------------------------------------
# .docx and .pdf
# --------------------------------------------------------------------------------------------------


def test_docx_round_trip(table: pd.DataFrame, originals: dict[str, str], tmp_path: Path) -> None:
    import docx

    row = table.iloc[0]
    paragraphs = _lines(originals[row["doc_id"]])[:8]
    cells = [["doc_id", "doc_number", "date"], [row["doc_id"], row["doc_number"], row["date"]]]

    document = docx.Document()
    for paragraph in paragraphs[:4]:
        document.add_paragraph(paragraph)
    grid = document.add_table(rows=3, cols=3)
    for r, values in enumerate(cells):
        for c, value in enumerate(values):
            grid.cell(r, c).text = value
    merged = grid.cell(2, 0).merge(grid.cell(2, 1))  # a cell spanning two columns is read once
    merged.text = row["title"]
    grid.cell(2, 2).text = row["doc_type"]
    for paragraph in paragraphs[4:]:
        document.add_paragraph(paragraph)
    path = tmp_path / "document.docx"
    document.save(str(path))

    read = document_read(path, doc_id="from_docx")
    expected = [
        *paragraphs[:4],
        *("\t".join(values) for values in cells),
        f"{row['title']}\t{row['doc_type']}",
        *paragraphs[4:],
    ]
    assert read.text.split("\n") == expected
    assert (read.doc_id, read.encoding, read.n_bytes) == ("from_docx", "docx", path.stat().st_size)


def _pdf_with_lines(path: Path, lines: list[str]) -> Path:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path))
    pdf.setFont("STSong-Light", 12)
    for i, line in enumerate(lines):
        pdf.drawString(50, 780 - 20 * i, line)
    pdf.showPage()
    pdf.setFont("STSong-Light", 12)  # each page starts with reportlab's default font
    pdf.drawString(50, 780, lines[0])  # a second page
    pdf.showPage()
    pdf.save()
    return path


def test_pdf_with_chinese_text_layer(originals: dict[str, str], tmp_path: Path) -> None:
    # Lines short enough to fit the page width at 12 pt.
    lines = [line for line in _lines(originals["report2024"]) if 6 <= len(line) <= 38][:6]
    assert len(lines) == 6
    path = _pdf_with_lines(tmp_path / "report.pdf", lines)
    read = document_read(path)
    assert read.encoding == "pdf"
    assert read.text.split("\n") == [*lines, lines[0]]


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.rect(100, 100, 300, 400, fill=1)
    pdf.showPage()
    pdf.save()
    with pytest.raises(DocumentError, match="text layer") as caught:
        document_read(path)
    assert str(path) in str(caught.value)


def test_password_protected_pdf(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "locked.pdf"
    pdf = canvas.Canvas(str(path), encrypt="secret")
    pdf.drawString(50, 780, "locked")
    pdf.showPage()
    pdf.save()
    with pytest.raises(DocumentError, match="password-protected"):
        document_read(path)


def test_docx_without_text(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "blank.docx"
    docx.Document().save(str(path))
    with pytest.raises(DocumentError, match="contains no text"):
        document_read(path)


@pytest.mark.parametrize(
    ("name", "reason"),
    [("broken.docx", "not a valid .docx"), ("broken.pdf", "cannot open as PDF")],
)
def test_corrupt_docx_and_pdf(
    name: str, reason: str, originals: dict[str, str], tmp_path: Path
) -> None:
    # A text file renamed: the classic "it opens in Word" mistake.
    path = _write(tmp_path / name, originals["opinion2021"].encode("utf-8"))
    with pytest.raises(DocumentError, match=re.escape(reason)) as caught:
        document_read(path)
    assert str(caught.value).startswith(f"{path}: ")


# --------------------------------------------------------------------------------------------------
# Errors reading one document
# --------------------------------------------------------------------------------------------------


def _png_like() -> bytes:
    rng = random.Random(20210613)
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(rng.randrange(256) for _ in range(2000))
    assert data.count(0) > 4
    return data


def _damaged_gb18030(originals: dict[str, str]) -> bytes:
    # A real GB18030 text with two 0xFF bytes in the middle (invalid in every candidate).
    data = originals["report2024"].encode("gb18030")
    middle = len(data) // 2
    return data[:middle] + b"\xff\xff" + data[middle:]


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("empty.txt", lambda o: b"", "file is empty"),
        ("image.txt", lambda o: _png_like(), "looks like a binary file, not text"),
        ("noise.txt", lambda o: _png_like().replace(b"\x00", b"\x01"), "looks like a binary file"),
        ("damaged.txt", _damaged_gb18030, "cannot decode: tried utf-8"),
        ("notes.doc", lambda o: b"\xd0\xcf\x11\xe0", "unsupported format .doc; save as .docx"),
        ("sheet.xlsx", lambda o: b"PK\x03\x04", "unsupported format .xlsx"),
        ("missing.txt", None, "file not found"),
        ("empty.docx", lambda o: b"", "file is empty"),
    ],
)
def test_document_errors_name_file_and_reason(
    name: str, make, reason: str, originals: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / name
    if make is not None:
        _write(path, make(originals))
    with pytest.raises(DocumentError) as caught:
        document_read(path)
    error = caught.value
    assert Path(error.path) == path
    assert reason in error.reason
    assert str(error).startswith(str(path))
    assert str(error).endswith(error.reason)


def test_undecodable_error_points_at_the_damage(originals: dict[str, str]) -> None:
    data = _damaged_gb18030(originals)
    with pytest.raises(DocumentError, match="gb18030 gets furthest") as caught:
        text_decode(data, path="damaged.txt")
    middle = len(data) // 2
    assert caught.value.line == data[:middle].count(b"\n") + 1
    assert str(caught.value).startswith(f"damaged.txt, line {caught.value.line}: cannot decode")


def test_damaged_utf8_is_not_read_as_another_encoding(originals: dict[str, str]) -> None:
    for original in originals.values():
        data = original.encode("utf-8")
        cut = data[:1001] + data[1002:]  # one byte lost inside a character
        with pytest.raises(DocumentError, match="in an otherwise UTF-8 file") as caught:
            text_decode(cut, path="cut.txt")
        assert caught.value.line == data[:1001].count(b"\n") + 1


def test_document_error_formatting(tmp_path) -> None:
    inside = DocumentError(paths.RAW / "x.txt", "bad", line=3)
    assert str(inside) == "data/raw/x.txt, line 3: bad"
    field = DocumentError(paths.CORPUS_TABLE, "bad", line=4, field="date")
    assert str(field) == "data/corpus.csv, line 4, field 'date': bad"
    outside = DocumentError(tmp_path / "x.txt", "bad")
    assert str(outside) == f"{tmp_path / 'x.txt'}: bad"  # outside the project: shown as given
    copy = pickle.loads(pickle.dumps(field))
    assert (str(copy), copy.line, copy.field) == (str(field), 4, "date")


def test_corpus_read_continues_past_a_bad_document(table: pd.DataFrame, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for file in table["file"]:
        shutil.copy(paths.RAW / file, raw / file)
    _write(raw / "broken.txt", _png_like())
    bad_row = dict.fromkeys(table.columns, "") | {
        "doc_id": "broken",
        "file": "broken.txt",
        "title": "x",
    }
    # The bad document sits between the good ones: order of the others must be kept.
    with_bad = pd.concat(
        [table.iloc[:1], pd.DataFrame([bad_row]), table.iloc[1:]], ignore_index=True
    )
    documents, problems = corpus_read(with_bad, raw)
    assert [d.doc_id for d in documents] == list(table["doc_id"])
    assert all(isinstance(d, RawDocument) for d in documents)
    assert len(problems) == 1
    problem = problems.iloc[0]
    assert (problem["doc_id"], problem["file"]) == ("broken", "broken.txt")
    assert "broken.txt" in problem["problem"] and "binary" in problem["problem"]


def test_corpus_read_reports_a_missing_file_once(table: pd.DataFrame, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    kept = table.iloc[0]
    shutil.copy(paths.RAW / kept["file"], raw / kept["file"])
    documents, problems = corpus_read(table, raw)
    assert [d.doc_id for d in documents] == [kept["doc_id"]]
    assert list(problems["doc_id"]) == list(table["doc_id"].iloc[1:])
    assert problems["problem"].str.contains("not found").all()


def test_corpus_read_skips_a_link_leading_out_of_the_raw_folder(
    table: pd.DataFrame, tmp_path: Path
) -> None:
    """A symbolic link in the raw folder (to a file, or to a folder) must not carry outside text in.

    The name in corpus.csv passes the ``..`` check as written; only the resolved path tells.
    """
    raw = tmp_path / "raw"
    raw.mkdir()
    for file in table["file"]:
        shutil.copy(paths.RAW / file, raw / file)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "accounts.txt").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    (raw / "notes.txt").symlink_to(outside / "accounts.txt")
    (raw / "linked").symlink_to(outside, target_is_directory=True)
    # a link that stays inside the raw folder is an ordinary document
    (raw / "copy.txt").symlink_to(raw / table["file"].iloc[0])
    rows = pd.DataFrame(
        [
            dict.fromkeys(table.columns, "") | {"doc_id": d, "file": f, "title": "x"}
            for d, f in (
                ("notes", "notes.txt"),
                ("linked", "linked/accounts.txt"),
                ("copy", "copy.txt"),
            )
        ]
    )
    documents, problems = corpus_read(pd.concat([table, rows], ignore_index=True), raw)
    assert [d.doc_id for d in documents] == [*table["doc_id"], "copy"]
    assert not any("root:x" in d.text for d in documents)
    outside_rows = problems[problems["problem"].str.contains("outside the raw folder")]
    assert list(outside_rows["doc_id"]) == ["notes", "linked"]
    for problem in outside_rows["problem"]:
        assert str((outside / "accounts.txt").resolve()) in problem
        assert "symbolic link" in problem and "Copy the document itself" in problem


# --------------------------------------------------------------------------------------------------
# Validating the corpus table
# --------------------------------------------------------------------------------------------------


def _table_file(tmp_path: Path, df: pd.DataFrame) -> Path:
    return tables.table_write(df, tmp_path / "corpus.csv")


def _duplicate(column: str):
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[1, column] = df.loc[0, column]
        return df

    return change


def _set(row: int, column: str, value: str):
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[row, column] = value
        return df

    return change


TABLE_ERRORS = {
    # name: (change to the real table, line, field, words in the reason)
    "duplicate doc_id": (_duplicate("doc_id"), 3, "doc_id", "also on line 2"),
    "duplicate file": (_duplicate("file"), 3, "file", "also on line 2"),
    "date with slashes": (_set(0, "date", "2021/6/13"), 2, "date", "not an ISO date"),
    "impossible date": (_set(1, "date", "2024-02-30"), 3, "date", "not a valid date"),
    "missing column": (lambda df: df.drop(columns="title"), 1, "title", "missing"),
    "empty title": (_set(1, "title", ""), 3, "title", "is empty"),
    "empty doc_id": (_set(0, "doc_id", " "), 2, "doc_id", "is empty"),
    "doc_id with a space": (_set(0, "doc_id", "opinion 2021"), 2, "doc_id", "may only contain"),
    "file outside raw": (_set(0, "file", "../secret.txt"), 2, "file", "inside data/raw/"),
}


@pytest.mark.parametrize("case", list(TABLE_ERRORS))
def test_table_errors_name_file_line_and_field(
    case: str, table: pd.DataFrame, tmp_path: Path
) -> None:
    change, line, field, words = TABLE_ERRORS[case]
    path = _table_file(tmp_path, change(table.copy()))
    with pytest.raises(DocumentError) as caught:
        corpus_read_table(path)
    error = caught.value
    assert (error.line, error.field) == (line, field)
    assert words in error.reason
    assert str(error).startswith(f"{path}, line {line}, field '{field}': ")


def test_table_line_numbers_count_physical_lines(table: pd.DataFrame, tmp_path: Path) -> None:
    # A quoted field spanning lines shifts the line of every later row.
    df = table.copy()
    df.loc[0, "notes"] = "first line\nsecond line\nthird line"
    df.loc[1, "date"] = "yesterday"
    path = _table_file(tmp_path, df)
    with pytest.raises(DocumentError) as caught:
        corpus_read_table(path)
    assert (caught.value.line, caught.value.field) == (3 + 2, "date")


def test_table_row_with_wrong_field_count(table: pd.DataFrame, tmp_path: Path) -> None:
    path = _table_file(tmp_path, table)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] += ",extra"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="fields but the header has") as caught:
        corpus_read_table(path)
    assert caught.value.line == 3


def test_table_saved_as_gbk_is_explained(table: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "corpus.csv"
    table.to_csv(path, index=False, encoding="gb18030")
    with pytest.raises(DocumentError, match="not UTF-8; it looks like gb18030") as caught:
        corpus_read_table(path)
    assert caught.value.line == 2  # the first non-ASCII byte is in the first row


def test_table_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="file not found"):
        corpus_read_table(tmp_path / "corpus.csv")


def test_table_accepts_partial_dates_extra_columns_and_bom(
    table: pd.DataFrame, tmp_path: Path
) -> None:
    df = table.drop(columns=["notes", "author"])
    df.loc[0, "date"] = "2021-06"
    df.loc[1, "date"] = "2024"
    df["region"] = ["宁夏", "宁夏"]  # a researcher's own variable
    path = tmp_path / "corpus.csv"
    df.to_csv(path, index=False, encoding="utf-8-sig")  # Excel's "CSV UTF-8" has a BOM
    read = corpus_read_table(path)
    assert list(read.columns) == [*df.columns, "author", "notes"]
    assert list(read["region"]) == ["宁夏", "宁夏"]
    assert list(read["date"]) == ["2021-06", "2024"]
    assert (read["notes"] == "").all()


# --------------------------------------------------------------------------------------------------
# Table against folder
# --------------------------------------------------------------------------------------------------


def test_check_files_reports_both_directions(table: pd.DataFrame, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    kept, dropped = table.iloc[0], table.iloc[1]
    shutil.copy(paths.RAW / kept["file"], raw / kept["file"])
    shutil.copy(paths.RAW / dropped["file"], raw / "unlisted.txt")
    _write(raw / ".DS_Store", b"\x00\x01")
    _write(raw / "README.md", b"notes about the sources")
    problems = corpus_files_diff(table, raw)
    assert list(problems.columns) == ["doc_id", "file", "problem"]
    assert problems[["doc_id", "file"]].values.tolist() == [
        [dropped["doc_id"], dropped["file"]],
        ["", "unlisted.txt"],
    ]
    assert "listed in corpus.csv but not found in" in problems["problem"].iloc[0]
    assert "has no row in corpus.csv; add one" in problems["problem"].iloc[1]


def test_check_files_suggests_case_fix(table: pd.DataFrame, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for file in table["file"]:
        shutil.copy(paths.RAW / file, raw / file.upper())
    problems = corpus_files_diff(table, raw)
    missing = problems[problems["doc_id"] != ""]
    assert len(missing) == len(table)
    assert missing["problem"].str.contains("did you mean").all()
