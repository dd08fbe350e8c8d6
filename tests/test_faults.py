"""Faults and hostile input (issue #19): a full disk, a killed run, a cut cache entry, text that a
spreadsheet would run as a formula, a same-named system font, a user dictionary saved by Excel, a
coder sheet with formulas.

The hostile lines are written for these tests, modelled on what collected web pages and
spreadsheet exports contain (a ``=HYPERLINK`` line pasted from a page, a phone number with ``+86``,
a bullet starting with ``-``); no line is copied from a real page.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import shutil
import subprocess
import warnings
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from helpers import annotations as ann
from helpers import codebook as cb
from helpers import plots, sheets, tables, tokens

OLD = "unit_id,text\nopinion2021-t,关于深化新发展阶段闽宁协作工作的意见\n"

#: Lines a spreadsheet would run as formulas, each as a document line could carry it.
HOSTILE = [
    '=HYPERLINK("http://example.invalid/pay","点击查看闽宁协作项目名单")',
    "=1+2",
    "+86 951 1234567 咨询电话",
    "-闽宁镇：从干沙滩到金沙滩",
    "@SUM(A1:A9)",
    "\t=CMD|' /C calc'!A0",
    "\r=2*3",
    "'=已有引号的公式",
]


def _enospc() -> OSError:
    return OSError(errno.ENOSPC, "No space left on device")


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --------------------------------------------------------------------------------------------------
# 1 Atomic outputs: a failed write leaves the old file and no temporary file
# --------------------------------------------------------------------------------------------------


def _half_then_fail(target: str | Path, data: bytes = "段落一，闽宁".encode()) -> None:
    """What a full disk does: part of the file is written (cut inside a character), then ENOSPC."""
    Path(target).write_bytes(data[:-1])
    raise _enospc()


def test_table_write_on_a_full_disk_keeps_the_old_table(tmp_path, monkeypatch):
    out = tmp_path / "coding_units.csv"
    out.write_text(OLD, encoding="utf-8")
    real_open = Path.open

    class FullDisk(io.RawIOBase):
        """A file that takes half of the first write, then reports a full disk."""

        def __init__(self, path):
            self.path = path

        def write(self, data):
            with real_open(self.path, "wb") as f:
                f.write(bytes(data)[: len(data) // 2])
            raise _enospc()

    def open_full(self, mode="r", *args, **kwargs):  # table_write joins most tables' rows itself
        return FullDisk(self) if "w" in mode else real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", lambda self, path, **kw: _half_then_fail(path))
    monkeypatch.setattr(Path, "open", open_full)
    with pytest.raises(OSError, match="No space left"):
        tables.table_write(pd.DataFrame({"unit_id": ["x"], "text": ["闽宁"]}), out)
    with pytest.raises(OSError, match="No space left"):  # a float column: pandas writes it
        tables.table_write(pd.DataFrame({"unit_id": ["x"], "share": [0.5]}), out)
    assert out.read_text(encoding="utf-8") == OLD
    assert _files(tmp_path) == ["coding_units.csv"]


def test_workbook_zip_and_text_writes_on_a_full_disk_keep_the_old_file(tmp_path, monkeypatch):
    old_bytes = b"PK old workbook"
    real_write_bytes, real_write_text = Path.write_bytes, Path.write_text

    def write_bytes(self, data):
        real_write_bytes(self, data[: len(data) // 2])
        raise _enospc()

    def write_text(self, data, *args, **kwargs):
        real_write_text(self, data[: len(data) // 2], *args, **kwargs)
        raise _enospc()

    for name in ("coding_review.xlsx", "minning.qdpx", "index.html"):
        (tmp_path / name).write_bytes(old_bytes)
    wb = Workbook()
    wb.active.append(["闽宁协作"])
    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    monkeypatch.setattr(Path, "write_text", write_text)
    with pytest.raises(OSError):
        tables.workbook_save(wb, tmp_path / "coding_review.xlsx")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("project.qde", "<Project/>")
    with pytest.raises(OSError):
        tables.zip_normalize(buf.getvalue(), tmp_path / "minning.qdpx")
    with pytest.raises(OSError):
        tables.text_write("<html>报告</html>" * 100, tmp_path / "index.html")
    for name in ("coding_review.xlsx", "minning.qdpx", "index.html"):
        assert (tmp_path / name).read_bytes() == old_bytes, name
    assert _files(tmp_path) == ["coding_review.xlsx", "index.html", "minning.qdpx"]


def test_figure_and_word_cloud_saves_on_a_full_disk_keep_the_old_figures(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    old = {f"{n}.{e}": f"old {n}.{e}".encode() for n in ("bars", "cloud") for e in ("png", "svg")}
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)
    fig, ax = plt.subplots()
    ax.bar([0, 1], [1, 2])
    monkeypatch.setattr(type(fig), "savefig", lambda self, fname, **kw: _half_then_fail(fname))
    with pytest.raises(OSError):
        plots.figure_save(fig, "bars", tmp_path)
    plt.close(fig)

    class Cloud:  # stands in for a drawn word cloud: only its image is needed to save the PNG
        def to_image(self):
            return Image.new("RGB", (8, 8), "white")

    monkeypatch.setattr(Image.Image, "save", lambda self, fp, **kw: _half_then_fail(fp))
    with pytest.raises(OSError):
        plots.wordcloud_save(Cloud(), "cloud", tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == old


def test_a_failed_write_raises_the_writers_error_and_a_good_one_replaces(tmp_path):
    out = tmp_path / "t.csv"
    out.write_text(OLD, encoding="utf-8")
    with pytest.raises(ZeroDivisionError), tables.file_atomic(out) as tmp:
        tmp.write_text("half", encoding="utf-8")
        1 / 0  # noqa: B018
    assert out.read_text(encoding="utf-8") == OLD and _files(tmp_path) == ["t.csv"]
    tables.table_write(pd.DataFrame({"unit_id": ["a"], "text": ["闽宁"]}), out)
    assert out.read_text(encoding="utf-8") == "unit_id,text\na,闽宁\n"
    assert _files(tmp_path) == ["t.csv"]
    assert out.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KB tmpfs mounted on a temporary folder (needs root; skipped otherwise)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command here: cannot make a tiny full disk")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tiny tmpfs here ({mounted.stderr.strip() or 'not root'})")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_really_full_disk_keeps_the_old_table_and_workbook(tiny_disk):
    # names without a row budget (products.BUDGETS): the whole frame is written, nothing is cut
    table, book = tiny_disk / "units.csv", tiny_disk / "review.xlsx"
    tables.table_write(pd.DataFrame({"unit_id": ["t"], "text": ["闽宁协作"]}), table)
    wb = Workbook()
    wb.active.append(["闽宁协作"])
    tables.workbook_save(wb, book)
    before = {p.name: p.read_bytes() for p in (table, book)}
    big = pd.DataFrame(
        {"unit_id": [f"u{i}" for i in range(4000)], "text": ["闽宁协作，山海情深。"] * 4000}
    )
    with pytest.raises(OSError) as err:
        tables.table_write(big, table)
    assert err.value.errno == errno.ENOSPC
    wb = Workbook()
    for _ in range(4000):  # random text does not compress: the workbook does not fit either
        wb.active.append([os.urandom(24).hex()])
    with pytest.raises(OSError) as err:
        tables.workbook_save(wb, book)
    assert err.value.errno == errno.ENOSPC
    assert {p.name: p.read_bytes() for p in tiny_disk.iterdir()} == before


# --------------------------------------------------------------------------------------------------
# 2 A cut segmentation cache entry is discarded and rebuilt
# --------------------------------------------------------------------------------------------------

UNITS = pd.DataFrame(
    {
        "doc_id": ["d1", "d1", "d2"],
        "unit_id": ["d1-1", "d1-2", "d2-1"],
        "text": [
            "闽宁协作是东西部协作的典范。",
            "福建与宁夏坚持联席推进、结对帮扶。",
            "闽宁镇从干沙滩变成了金沙滩。",
        ],
    }
)


@pytest.fixture(scope="module")
def segmenter():
    return tokens.segmenter_make()


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # a run killed while writing, or a full disk
        lambda text: "",
        lambda text: json.dumps([["闽宁"]]),  # valid JSON for other texts
    ],
    ids=["cut", "empty", "other-texts"],
)
def test_a_damaged_cache_entry_is_rebuilt_with_a_warning(tmp_path, segmenter, damage):
    first = tokens.tokens_segment(UNITS, segmenter, cache_dir=tmp_path)
    entries = sorted(tmp_path.glob("*.json"))
    assert len(entries) == 2
    entry = entries[0]
    good = entry.read_text(encoding="utf-8")
    entry.write_text(damage(good), encoding="utf-8")
    with pytest.warns(tokens.CacheWarning, match=entry.name) as caught:
        again = tokens.tokens_segment(UNITS, segmenter, cache_dir=tmp_path)
    assert len(caught) == 1 and "segmented again" in str(caught[0].message)
    pd.testing.assert_frame_equal(again, first)
    assert entry.read_text(encoding="utf-8") == good
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tokens.tokens_segment(UNITS, segmenter, cache_dir=tmp_path)  # the rebuilt entry is used


# --------------------------------------------------------------------------------------------------
# 3 Formula injection: CSV and workbooks
# --------------------------------------------------------------------------------------------------


def test_formula_like_text_is_escaped_in_csv_and_read_back_unchanged(tmp_path):
    texts = [*HOSTILE, "-0.5", "+", "闽宁协作", "'引号开头"]
    df = pd.DataFrame(
        {
            "unit_id": [f"web-p{i}-s1" for i in range(len(texts))],
            "text": texts,
            "share": [-0.5] * len(texts),
            "n": range(len(texts)),
        }
    )
    plain = df[~df["text"].str.contains("\r")].reset_index(drop=True)
    for frame, name in ((plain, "plain.csv"), (df, "with_cr.csv")):
        path = tables.table_write(frame, tmp_path / name)
        raw = path.read_text(encoding="utf-8")
        # no cell starts with = + - @ tab or CR, except numbers and a lone sign
        for cell in pd.read_csv(path, keep_default_na=False, dtype=str)["text"]:
            assert not tables.text_formula_like(cell) or cell.startswith("'"), cell
        assert '\'=HYPERLINK(""http' in raw and "'=1+2" in raw and "'@SUM" in raw
        assert "'-闽宁镇" in raw and "'+86" in raw and "'\t=CMD" in raw
        back = tables.table_read(path)
        pd.testing.assert_frame_equal(back, frame)
        assert back["share"].dtype == "float64"
    # numbers stay numbers; only a table with a carriage return in a text is quoted throughout
    assert "web-p8-s1,-0.5,-0.5,8\n" in (tmp_path / "plain.csv").read_text(encoding="utf-8")
    assert b'"\'\r=2*3"' in (tmp_path / "with_cr.csv").read_bytes()


def test_text_starting_with_an_apostrophe_round_trips():
    df = pd.DataFrame({"text": ["'=x", "''=y", "'abc", "'-0.5", "=z"], "v": [1, 2, 3, 4, 5]})
    assert tables.csv_unescape(tables.csv_escape(df)).equals(df)
    assert list(tables.csv_escape(df)["text"]) == ["''=x", "'''=y", "'abc", "'-0.5", "'=z"]


def _formula_cells(path: Path) -> list[str]:
    """The cells of a workbook stored as formulas (``<f>`` elements in the sheets' XML)."""
    with zipfile.ZipFile(path) as z:
        return [n for n in z.namelist() if n.startswith("xl/worksheets/") and b"<f>" in z.read(n)]


def test_second_coder_sheet_writes_hostile_lines_as_text_and_reads_back(tmp_path):
    book = cb.codebook_read()
    units = pd.DataFrame(
        {
            "unit_id": [f"web-p{i}-s1" for i in range(len(HOSTILE))],
            "heading_path": ["=HEADING()", *[""] * (len(HOSTILE) - 1)],
            "text": HOSTILE,
        }
    )
    path = sheets.sheet_write(units, book, tmp_path / "second_coder_sheet.xlsx")
    assert _formula_cells(path) == []
    ws = load_workbook(path)[sheets.SHEET_CODING]
    for row, text in enumerate(HOSTILE, start=2):
        cell = ws.cell(row=row, column=3)
        assert (cell.value, cell.data_type) == (text, "s")
        assert cell.quotePrefix == (text[:1] in tables.FORMULA_START)
    assert ws["B2"].value == "=HEADING()" and ws["B2"].data_type == "s"
    # filled in and read back: the hostile texts do not disturb the coding
    wb = load_workbook(path)
    for row in range(2, len(HOSTILE) + 2):
        for col in range(4, 4 + len(book.ids)):
            wb[sheets.SHEET_CODING].cell(row=row, column=col, value=row % 2)
    wb.save(path)
    long = sheets.sheet_read(path, book, units)
    assert len(long) == len(HOSTILE) * len(book.ids)


def test_review_and_summary_workbooks_write_hostile_sentences_as_text(tmp_path):
    from helpers import summaries

    frame = pd.DataFrame({"unit_id": ["a", "b", "c"], "text": HOSTILE[:3], "share": [-0.5, 1, 2]})
    path = summaries.excel_write({"quotes": frame}, tmp_path / "summary_tables.xlsx")
    assert _formula_cells(path) == []
    ws = load_workbook(path).worksheets[0]
    values = [c.value for c in ws["B"][1:]]
    assert values == HOSTILE[:3]
    assert [c.value for c in ws["C"][1:]] == [-0.5, 1, 2]


def test_coding_review_workbook_writes_hostile_sentences_as_text(tmp_path, segmenter):
    from helpers import coding

    units = pd.DataFrame(
        {
            "doc_id": "web",
            "unit_id": ["web-1-p1-s1", "web-1-p1-s2"],
            "level": "sentence",
            "kind": "body",
            "heading_path": "一、闽宁协作",
            "section": "一、闽宁协作",
            "text": ['=HYPERLINK("http://example.invalid","闽宁协作联席推进")', "-结对帮扶"],
        }
    )
    result = coding.units_code(units, cb.codebook_read(), segmenter)
    path = coding.coding_write_excel(result, tmp_path / "coding_review.xlsx")
    assert _formula_cells(path) == []
    texts = {
        c.value
        for ws in load_workbook(path).worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    }
    assert units["text"].iloc[0] in texts


def test_annotation_and_units_csv_readers_undo_the_escape(tmp_path):
    units = pd.DataFrame({"unit_id": ["v-1", "v-2"], "doc_id": "v", "text": HOSTILE[:2]})
    path = tables.table_write(units, tmp_path / "units.csv")
    header, rows = ann.csv_rows(path)
    assert header == ["unit_id", "doc_id", "text"]
    assert [r[2] for _, r in rows] == HOSTILE[:2]


# --------------------------------------------------------------------------------------------------
# 4 Figures use the project's font file, whatever fonts of the same name the machine has
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _same_named_font(path: Path):
    """Install ``path`` as a system font named like the project's (as fonts-noto-cjk does).

    Registered first in matplotlib's font list, as fonts found on the system are; removed after.
    """
    import dataclasses

    from matplotlib import font_manager

    fm = font_manager.fontManager
    entry = font_manager.ttfFontProperty(font_manager.ft2font.FT2Font(str(path)))
    entry = dataclasses.replace(entry, name=plots.FONT_FAMILY)
    fm.ttflist.insert(0, entry)
    fm._findfont_cached.cache_clear()
    try:
        yield
    finally:
        fm.ttflist.remove(entry)
        fm._findfont_cached.cache_clear()


def _render(tmp_path: Path, name: str) -> bytes:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.set_title("闽宁协作：联席推进")
    ax.bar(["结对帮扶", "产业带动"], [1, 2])
    (png,) = plots.figure_save(fig, name, tmp_path, formats=("png",))
    plt.close(fig)
    return png.read_bytes()


def test_figures_use_the_project_font_file_when_a_same_named_font_is_installed(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager

    # the decoy: another CJK font (Noto Serif, visibly different glyphs) under the project's name
    source = plots.font_path().with_name("NotoSerifCJKsc-Regular.otf")
    if not source.exists():
        pytest.skip(f"{source} (the decoy font) is not installed")
    decoy = tmp_path / "fonts" / "NotoSansCJK-Regular.otf"
    decoy.parent.mkdir()
    shutil.copy(source, decoy)
    with matplotlib.rc_context():
        plots.plots_setup()
        clean_machine = _render(tmp_path, "clean")
    with _same_named_font(decoy), matplotlib.rc_context():
        by_name = font_manager.findfont(font_manager.FontProperties(family=plots.FONT_FAMILY))
        assert Path(by_name) == decoy  # matplotlib would take the decoy for the family name
        plots.plots_setup()
        used = font_manager.findfont(font_manager.FontProperties())
        with_decoy = _render(tmp_path, "decoy")
    assert Path(used) == plots.font_path()
    assert with_decoy == clean_machine


# --------------------------------------------------------------------------------------------------
# 5 Quiet failures: a user dictionary saved by Excel, a sheet with formulas, a stale product
# --------------------------------------------------------------------------------------------------

DICTIONARY = "word,pos,source\n闽宁协作,nz,研究报告\n东西部协作,nz,政策文件\n联席推进,nz,研究报告\n"


def test_user_dictionary_saved_as_gb18030_is_read_with_a_warning(tmp_path):
    path = tmp_path / "user_dict.csv"
    path.write_bytes(DICTIONARY.encode("gb18030"))
    with pytest.warns(
        tokens.DictionaryWarning, match=r"user_dict\.csv, line 2: not UTF-8.*GB18030"
    ):
        words = tokens.dictionary_read(path)
    assert list(words["word"]) == ["闽宁协作", "东西部协作", "联席推进"]
    path.write_bytes(DICTIONARY.encode("utf-8-sig"))
    assert list(tokens.dictionary_read(path)["word"]) == list(words["word"])


def test_user_dictionary_in_another_encoding_names_the_file_and_says_what_to_do(tmp_path):
    path = tmp_path / "user_dict.csv"
    path.write_bytes("word,pos,source\n閩寧協作,nz,研究報告\n聯席推進,nz,研究報告\n".encode("big5"))
    with pytest.raises(tokens.DictionaryError, match=r"user_dict\.csv, line 2: not UTF-8") as err:
        tokens.dictionary_read(path)
    assert "CSV UTF-8" in str(err.value)


def _filled_sheet(tmp_path, book, units):
    path = sheets.sheet_write(units, book, tmp_path / "second_coder_sheet.xlsx")
    wb = load_workbook(path)
    ws = wb[sheets.SHEET_CODING]
    for row in range(2, len(units) + 2):
        for col in range(4, 4 + len(book.ids)):
            ws.cell(row=row, column=col, value=(row + col) % 2)
    return path, wb


SHEET_UNITS = pd.DataFrame(
    {
        "unit_id": ["report2024-t", "report2024-1-h", "report2024-1.1-p1-s1"],
        "heading_path": ["", "一、闽宁协作的内在逻辑", "一、闽宁协作的内在逻辑 > （一）经济逻辑"],
        "text": ["深化和拓展闽宁协作模式的路径研究", "一、闽宁协作的内在逻辑", "（一）经济逻辑"],
    }
)


def test_a_formula_without_a_saved_value_is_reported_as_such(tmp_path):
    book = cb.codebook_read()
    path, wb = _filled_sheet(tmp_path, book, SHEET_UNITS)
    # as a script (openpyxl, pandas) or a program that does not calculate saves it: no value
    wb[sheets.SHEET_CODING]["E3"] = '=IF(C3<>"",1,0)'
    wb.save(path)
    with pytest.raises(sheets.SheetError) as err:
        sheets.sheet_read(path, book, SHEET_UNITS)
    assert err.value.cell == "E3"
    message = str(err.value)
    assert "formula (=IF(" in message and "without a saved value" in message
    assert "empty cell" not in message and "save it again" in message
    with pytest.raises(sheets.SheetError, match="cell E3: the cell holds a formula"):
        sheets.sheet_read(path, book, SHEET_UNITS, uncoded="skip")


def test_a_failed_sheet_removes_the_agreement_of_an_earlier_run(tmp_path):
    book = cb.codebook_read()
    path, wb = _filled_sheet(tmp_path, book, SHEET_UNITS)
    wb.save(path)
    reference = sheets.sheet_read(path, book, SHEET_UNITS, coder="annotator-A")
    out = tmp_path / "reliability_second_coder.csv"
    second, agreement = sheets.sheet_agreement_write(
        path,
        book,
        SHEET_UNITS,
        reference,
        out,
        reference="annotator-A",
        coders=["annotator-A"],
        n_bootstrap=0,
    )
    assert out.exists() and len(second) == len(SHEET_UNITS) * len(book.ids)
    assert set(agreement["comparison"]) == {"annotator-A vs second-coder"}
    assert (agreement["percent_agreement"].dropna() == 1).all()  # the same codes, read twice
    assert len(tables.table_read(out)) == len(agreement)
    # next run: the colleague's corrected sheet has a typo; last run's table must not stay
    wb[sheets.SHEET_CODING]["D2"] = "yes"
    wb.save(path)
    with pytest.raises(sheets.SheetError, match="cell D2: value 'yes'"):
        sheets.sheet_agreement_write(
            path,
            book,
            SHEET_UNITS,
            reference,
            out,
            reference="annotator-A",
            coders=["annotator-A"],
            n_bootstrap=0,
        )
    assert not out.exists()
