"""Reading and writing tables the same way everywhere, so that re-runs give byte-identical files.

Every file is written **atomically** (:func:`file_atomic`): into a temporary file beside it, which
replaces the old file only once it is complete. A full disk or a killed run leaves the previous
file as it was, never a piece of the new one.

Text that a spreadsheet would run as a formula (OWASP "CSV injection": a cell starting with
``= + - @``, a tab or a carriage return) is written inert: in a CSV with a ``'`` in front
(:func:`csv_escape`, taken off again by :func:`table_read`), in a workbook as a text cell with
Excel's quote prefix (:func:`workbook_save`).

A table that grows with the units has a committed budget (:data:`helpers.products.BUDGETS`). When
it holds more, :func:`table_write` (and :func:`workbook_save`) writes it whole to the folder
``extra`` beside the committed one (:func:`table_full_path`: ``outputs/extra``, not in git) and
keeps a bounded part in the committed file, whose last line starts with :data:`CUT_MARK` and says
what was kept and where every row is. :func:`table_read` reads the whole table then, so every
stage computes on every row; only the reviewer's copy is cut.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import paths
from helpers.errors import path_display
from helpers.products import Budget, budget_of

#: How the last line of a table cut for review begins (its first cell; the others are empty).
CUT_MARK = "[cut for review]"
#: The folder beside a committed table's folder that holds the whole of a cut table.
FULL_FOLDER = "extra"


@contextlib.contextmanager
def file_atomic(path: str | Path) -> Iterator[Path]:
    """Give a temporary path beside ``path`` to write to; it replaces ``path`` when the block ends.

    ``with file_atomic(out) as tmp: write(tmp)``: the temporary file is in the same folder (so the
    final ``os.replace`` is atomic), hidden (``.<name>.<random>.tmp``) and created with the usual
    permissions (umask applies). If the block raises (a full disk, an error in the writer), the
    temporary file is removed and ``path`` is left as it was. A killed process may leave a
    ``.*.tmp`` file behind, never a cut ``path``.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield tmp
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def bytes_write(data: bytes, path: str | Path) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`file_atomic`); return the path."""
    out = path_resolve(path)
    with file_atomic(out) as tmp:
        tmp.write_bytes(data)
    return out


def text_write(text: str, path: str | Path) -> Path:
    """Write ``text`` as UTF-8 with ``\\n`` line ends to ``path`` atomically; return the path."""
    out = path_resolve(path)
    with file_atomic(out) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return out


#: What makes a spreadsheet read a cell as a formula (OWASP, CSV injection): its first character.
FORMULA_START = "=+-@\t\r"
# one of them with something after it (a lone "+" is inert), behind any number of "'"
_FORMULA_LIKE = re.compile(r"'*[=+\-@\t\r].", re.DOTALL)
_NUMBER = re.compile(r"'*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?")


def text_formula_like(text: str) -> bool:
    """Whether a spreadsheet could run ``text`` as a formula (leading ``'`` characters ignored).

    True for text starting with one of :data:`FORMULA_START` and something after it, unless it is a
    number (``-0.5``, ``+3``, ``-12%`` are read as numbers, not formulas). A lone ``+`` or ``-`` (a
    sign column) is inert.
    """
    return bool(_FORMULA_LIKE.match(text, 0) and not _NUMBER.fullmatch(text))


#: A cell that starts as a formula-like one can (see _FORMULA_LIKE), after a NUL put before every
#: cell of a column joined with NULs (a NUL inside a cell only adds a false alarm).
_FORMULA_START_IN = re.compile("\x00['=+\\-@\t\r]")


#: Cells joined per scan or per written piece: whole columns in a few strings, memory bounded.
_CHUNK = 10_000


def _cells_search(pattern: re.Pattern, cells: list[str], sep: str = "") -> bool:
    """Whether ``pattern`` is found in ``sep + sep.join(cells)``, joined ``_CHUNK`` cells at a time
    (``pattern`` must not match across two cells unless ``sep`` is part of the match)."""
    for i in range(0, len(cells), _CHUNK):
        if pattern.search(sep + sep.join(cells[i : i + _CHUNK])) is not None:
            return True
    return False


def _text_cells(s: pd.Series) -> list[str] | None:
    """The strings of a text column, missing cells left out (None: not a text column).

    For scans of a whole column in one string (``"".join``) instead of a method call per cell.
    """
    if not (pd.api.types.is_string_dtype(s) or s.dtype == object):
        return None
    values = s.to_numpy(dtype=object)
    missing = pd.isna(values)
    if missing.any():
        values = values[~missing]
    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        return values.tolist()
    return [v for v in values.tolist() if isinstance(v, str)]


def _formula_mask(s: pd.Series) -> pd.Series | None:
    """Which cells of a text column are formula-like strings (None: not a text column)."""
    if not (pd.api.types.is_string_dtype(s) or s.dtype == object):
        return None
    try:
        text = s.str
    except AttributeError:  # an object column without strings (e.g. booleans)
        return None
    cells = _text_cells(s)
    if cells is not None and not _cells_search(_FORMULA_START_IN, cells, "\x00"):
        # no cell starts as a formula can (most columns): the mask without a regex per cell
        return pd.Series(False, index=s.index, dtype=bool, name=s.name)
    like = text.match(_FORMULA_LIKE.pattern, flags=re.DOTALL).fillna(False).astype(bool)
    if not like.any():
        return like
    return like & ~text.fullmatch(_NUMBER.pattern).fillna(False).astype(bool)


def csv_escape(df: pd.DataFrame) -> pd.DataFrame:
    """Return ``df`` with a ``'`` put before every formula-like text cell, for writing as CSV.

    OWASP's advice against CSV injection: a cell that starts with ``= + - @``, a tab or a carriage
    return (:func:`text_formula_like`) would be run as a formula by Excel or LibreOffice when the
    CSV is opened there (``=HYPERLINK(…)`` from a collected web page becomes a live link). Only
    text columns are touched, and numbers (``-0.5``) never. The ``'`` shows in Excel and in
    ``pd.read_csv``; :func:`table_read` (and every reader of the project) takes it off again, so
    the text round-trips: ``csv_unescape(csv_escape(df))`` equals ``df``. A text that already starts
    with ``'`` before such a character gets one more, so that taking one off is always right.
    """
    out = df
    for i in range(df.shape[1]):  # by position: column names may repeat
        col = df.iloc[:, i]
        mask = _formula_mask(col)
        if mask is not None and mask.any():
            if out is df:
                out = df.copy()
            out.isetitem(i, col.where(~mask, "'" + col.astype(object).where(mask, "")))
    return out


def csv_unescape(df: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`csv_escape`: take the ``'`` off every text cell that it put one before."""
    out = df
    for i in range(df.shape[1]):  # by position: column names may repeat
        col = df.iloc[:, i]
        mask = _formula_mask(col)
        if mask is None or not mask.any():
            continue
        mask &= col.str.startswith("'").fillna(False).astype(bool)
        if mask.any():
            if out is df:
                out = df.copy()
            out.isetitem(i, col.where(~mask, col.str[1:]))
    return out


def cell_unescape(text: str) -> str:
    """Undo :func:`csv_escape` for one cell read with the ``csv`` module."""
    return text[1:] if text.startswith("'") and text_formula_like(text) else text


def path_resolve(path: str | Path) -> Path:
    """Return ``path`` as an absolute path, reading relative paths from the project root.

    Notebook parameters hold paths relative to the repository root; resolving them here means a
    notebook gives the same result whether it runs from ``notebooks/`` in JupyterLab or from the
    runner.
    """
    p = Path(path)
    return p if p.is_absolute() else paths.ROOT / p


def table_write(df: pd.DataFrame, path: str | Path, *, budget: Budget | bool = True) -> Path:
    """Write ``df`` as UTF-8 CSV without index and with ``\\n`` line ends; return the path written.

    Fixed encoding, line ends and float format make two runs on the same input byte-identical. The
    file is replaced atomically (:func:`file_atomic`), and formula-like text gets a ``'`` in front
    (:func:`csv_escape`; :func:`table_read` gives back the original text). A table with a carriage
    return inside a text cell is written with every field quoted, so that no reader splits the row.

    ``budget`` (default: the one :data:`helpers.products.BUDGETS` declares for the file name;
    False: none) bounds the committed file: a table over it is written whole to
    :func:`table_full_path` and ``path`` keeps the part :func:`table_cut` gives, with a last line
    starting with :data:`CUT_MARK` that says what was kept and where every row is. A table within
    its budget is written as it is (and a whole copy left by an earlier, longer run is removed).
    """
    out = path_resolve(path)
    chosen = budget_of(out) if budget is True else (budget or None)
    marker = None
    if chosen is not None and out.parent.name != FULL_FOLDER:
        full = table_full_path(out)
        kept, note = table_cut(df, chosen)
        if note is None:
            full.unlink(missing_ok=True)
        else:
            _csv_write(df, full)
            df = kept
            marker = f"{CUT_MARK} {note}; every row: {path_display(full)}"
    return _csv_write(df, out, marker=marker)


def _csv_plan(df: pd.DataFrame) -> tuple[int, pd.DataFrame, Iterator[str] | None]:
    """How :func:`table_write` writes ``df``: the csv quoting, the escaped frame and its text in
    pieces (None: pandas writes the escaped frame with that quoting)."""
    pieces = _csv_pieces(df, plain=True)  # most tables: each column scanned once
    if pieces is not None:
        return csv.QUOTE_MINIMAL, df, pieces
    # a carriage return inside a field is not quoted by the csv module when lines end in "\n", and
    # readers take it for a line end: such a table is written with every field quoted
    quoting = csv.QUOTE_ALL if _has_carriage_return(df) else csv.QUOTE_MINIMAL
    escaped = csv_escape(df)
    return quoting, escaped, _csv_pieces(escaped) if quoting == csv.QUOTE_MINIMAL else None


def _csv_write(df: pd.DataFrame, out: Path, marker: str | None = None) -> Path:
    quoting, escaped, pieces = _csv_plan(df)
    with file_atomic(out) as tmp:
        if pieces is not None:
            with tmp.open("wb") as f:
                for piece in pieces:
                    f.write(piece.encode("utf-8"))
        else:
            escaped.to_csv(
                tmp,
                index=False,
                encoding="utf-8",
                lineterminator="\n",
                float_format="%.6g",
                quoting=quoting,
            )
        if marker is not None:  # appended as text: a row of the frame would turn ints into floats
            with tmp.open("a", encoding="utf-8", newline="") as f:
                cells = [marker] + [""] * (max(df.shape[1], 1) - 1)
                csv.writer(f, quoting=quoting, lineterminator="\n").writerow(cells)
    return out


#: What makes the csv module quote a field (QUOTE_MINIMAL, lines ending in "\n"): the delimiter,
#: the quote character or the line end. A carriage return does not (see _csv_write).
_CSV_QUOTED = re.compile('[,"\n]')


def _csv_cells(s: pd.Series, *, plain: bool = False) -> list[str] | None:
    """The cells of one column as ``to_csv`` writes them (QUOTE_MINIMAL), or None.

    Integer and boolean columns, and text columns whose cells are strings or missing (written
    empty); None for any other column, which pandas then writes itself. ``plain``: also None when
    a text cell holds a carriage return or may start as a formula (:data:`_FORMULA_START_IN`), so
    that a column :func:`csv_escape` would leave alone and ``table_write`` would not quote whole
    is scanned once for all three (the joined cells searched for each character class).
    """
    kind = s.dtype.kind if isinstance(s.dtype, np.dtype) else None
    if kind in ("i", "u", "b"):
        return list(map(str, s.tolist()))
    if not (pd.api.types.is_string_dtype(s) or s.dtype == object):
        return None
    values = s.to_numpy(dtype=object)
    if not len(values):
        return []
    missing = pd.isna(values)
    if missing.any():
        values = values.copy()
        values[missing] = ""
    if pd.api.types.infer_dtype(values, skipna=False) != "string":
        return None
    cells = values.tolist()
    quoted = False
    for i in range(0, len(cells), _CHUNK):
        joined = "\x00" + "\x00".join(cells[i : i + _CHUNK])
        if plain and ("\r" in joined or _FORMULA_START_IN.search(joined) is not None):
            return None
        quoted = quoted or _CSV_QUOTED.search(joined) is not None
        if quoted and not plain:
            break
    if not quoted:  # no cell needs quotes (most columns)
        return cells
    return [
        '"' + v.replace('"', '""') + '"' if _CSV_QUOTED.search(v) is not None else v for v in cells
    ]


def _csv_pieces(df: pd.DataFrame, *, plain: bool = False) -> Iterator[str] | None:
    """The text ``df.to_csv(index=False, lineterminator="\\n")`` writes, in pieces of rows.

    pandas hands every row to the csv module (about 0.4 s for 57,739 units of 13 columns); for
    the columns :func:`_csv_cells` knows, the rows are joined as strings instead, with the same
    quoting, so the bytes are the same (tested against ``to_csv``), ``_CHUNK`` rows a piece.
    None (pandas writes the table): a column of another type (floats, mixed objects), a one-column
    table (an empty cell alone on its line is quoted there) or column names that are not strings;
    with ``plain``, also a table that needs escaping or quoting whole (see :func:`_csv_cells`).
    """
    if df.shape[1] < 2 or not all(type(c) is str for c in df.columns):
        return None
    columns = []
    for i in range(df.shape[1]):
        cells = _csv_cells(df.iloc[:, i], plain=plain)
        if cells is None:
            return None
        columns.append(cells)
    header = _csv_cells(pd.Series(list(df.columns), dtype=object)) or []

    def pieces() -> Iterator[str]:  # one piece at a time: memory for _CHUNK rows of text
        yield ",".join(header) + "\n"
        for i in range(0, len(df), _CHUNK):
            rows = zip(*(c[i : i + _CHUNK] for c in columns))
            yield "\n".join(map(",".join, rows)) + "\n"

    return pieces()


def _csv_text(df: pd.DataFrame) -> str | None:
    """:func:`_csv_pieces` as one string (None where pandas writes the table)."""
    pieces = _csv_pieces(df)
    return None if pieces is None else "".join(pieces)


def table_csv(df: pd.DataFrame) -> str | None:
    """Return the text :func:`table_write` writes for ``df`` when no budget applies, or None
    where pandas writes it (a carriage return in a text cell, a column of another type).

    For a table built in blocks on several processes: each renders its own rows where it is, and
    :func:`table_write_csv` writes the texts one after the other (the header once). Escaping and
    quoting are decided cell by cell, so the blocks' texts put together are the text of the whole
    table; a block that gives None is written through :func:`table_write` instead.
    """
    pieces = _csv_plan(df)[2]
    return None if pieces is None else "".join(pieces)


def table_write_csv(texts: list[str], path: str | Path) -> Path | None:
    """Write the texts :func:`table_csv` gave for consecutive blocks of one table as one CSV;
    return the path, or None (nothing written) when ``path`` has a budget or the blocks' headers
    differ, for the caller to write the whole table with :func:`table_write`."""
    out = path_resolve(path)
    header = texts[0][: texts[0].index("\n") + 1] if texts else ""
    if not texts or budget_of(out) is not None or not all(t.startswith(header) for t in texts):
        return None
    with file_atomic(out) as tmp, tmp.open("wb") as f:
        f.write(texts[0].encode("utf-8"))
        for t in texts[1:]:
            f.write(t[len(header) :].encode("utf-8"))
    return out


def table_cut(df: pd.DataFrame, budget: Budget) -> tuple[pd.DataFrame, str | None]:
    """Return the part of ``df`` that ``budget`` keeps and what was cut (None: nothing was).

    Rows: the first ``budget.rows`` in the table's order, or with ``budget.per`` the first
    ``budget.rows // groups`` rows (at least one) of each value of that column, in order. Text
    cells longer than ``budget.chars`` keep their first characters and end in ``…``. Deterministic:
    the same table always gives the same part.
    """
    notes = []
    kept = df
    if len(df) > budget.rows:
        if budget.per is not None and budget.per in df.columns:
            groups = max(int(df[budget.per].nunique(dropna=False)), 1)
            each = max(1, budget.rows // groups)
            kept = df.groupby(budget.per, sort=False, dropna=False).head(each)
            notes.append(
                f"{len(kept):,} of {len(df):,} rows, the first {each:,} of each {budget.per}"
            )
        else:
            kept = df.head(budget.rows)
            notes.append(f"the first {len(kept):,} of {len(df):,} rows")
    if budget.chars is not None:
        cut_cells = False
        for i in range(kept.shape[1]):
            col = kept.iloc[:, i]
            if not (pd.api.types.is_string_dtype(col) or col.dtype == object):
                continue
            long = col.map(lambda x: isinstance(x, str) and len(x) > budget.chars).astype(bool)
            if long.any():
                kept = kept.copy() if not cut_cells else kept
                kept.isetitem(i, col.where(~long, col.str.slice(0, budget.chars) + "…"))
                cut_cells = True
        if cut_cells:
            notes.append(f"text cells cut at {budget.chars:,} characters (…)")
    return kept, "; ".join(notes) or None


def table_full_path(path: str | Path) -> Path:
    """Return where the whole of a table cut for review is: the folder :data:`FULL_FOLDER` beside
    its folder (``outputs/tables/coding_units.csv`` → ``outputs/extra/coding_units.csv``)."""
    out = path_resolve(path)
    return out.parent.parent / FULL_FOLDER / out.name


def table_is_cut(path: str | Path) -> bool:
    """Whether the table at ``path`` was cut for review (its last line starts with CUT_MARK)."""
    p = path_resolve(path)
    if not p.is_file() or p.suffix.lower() != ".csv":
        return False
    with p.open("rb") as f:
        f.seek(0, os.SEEK_END)
        f.seek(max(0, f.tell() - 8192))
        tail = f.read()
    last = tail.rstrip(b"\r\n").rsplit(b"\n", 1)[-1]
    return last.lstrip(b'"').startswith(CUT_MARK.encode())


def table_source(path: str | Path) -> Path:
    """Return the file holding every row of the table at ``path``: the whole copy when the
    committed one was cut for review (:func:`table_write`), else ``path`` itself.

    Every reader of a table inside the pipeline goes through here (:func:`table_read` does), so a
    stage never computes on the reviewer's part. A cut table without its whole copy (deleted, or
    the folder not copied) raises ``FileNotFoundError`` saying which notebook to run again.
    """
    p = path_resolve(path)
    if not table_is_cut(p):
        return p
    full = table_full_path(p)
    if not full.is_file():
        raise FileNotFoundError(
            f"{path_display(p)} keeps only part of the table (its last line says so) and the "
            f"whole table {path_display(full)} is missing: run the notebook that writes it again "
            "(python -m helpers run --force --only NN)"
        )
    return full


_CARRIAGE_RETURN = re.compile("\r")


def _has_carriage_return(df: pd.DataFrame) -> bool:
    for i in range(df.shape[1]):
        s = df.iloc[:, i]
        if pd.api.types.is_string_dtype(s) or s.dtype == object:
            with contextlib.suppress(AttributeError):
                s.str  # noqa: B018 (raises AttributeError for a column without strings)
                if _cells_search(_CARRIAGE_RETURN, _text_cells(s) or []):
                    return True
    return False


def table_read(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read a CSV written by :func:`table_write` (UTF-8, optional BOM) and return it.

    Text cells come back as they were before :func:`table_write` escaped formula-like text
    (:func:`csv_unescape`). A table cut for review is read whole, from its copy in ``extra``
    (:func:`table_source`).
    """
    df = pd.read_csv(table_source(path), encoding="utf-8-sig", keep_default_na=False, **kwargs)
    return csv_unescape(df)


#: The time written into workbooks and zip members, so that re-runs give the same bytes.
FIXED_TIME = (2000, 1, 1, 0, 0, 0)


def workbook_save(workbook, path: str | Path, *, budget: Budget | bool = True) -> Path:
    """Save an openpyxl workbook so that the same content always gives the same bytes; return path.

    An .xlsx is a zip archive whose members carry the time they were written, and openpyxl stamps
    the document properties with the current time; both are fixed here (:data:`FIXED_TIME`), so a
    re-run does not change a committed workbook. Text is never a formula (:func:`workbook_defuse`),
    and the file is replaced atomically.

    ``budget`` as for :func:`table_write`, in rows per sheet: a workbook with a longer sheet is
    saved whole to :func:`table_full_path`, and ``path`` keeps the first ``budget.rows`` rows of
    each sheet, then a row starting with :data:`CUT_MARK` (the workbook is changed in place).
    """
    out = path_resolve(path)
    chosen = budget_of(out) if budget is True else (budget or None)
    if chosen is not None and out.parent.name != FULL_FOLDER:
        full = table_full_path(out)
        long = [ws for ws in workbook.worksheets if ws.max_row > chosen.rows]
        if not long:
            full.unlink(missing_ok=True)
        else:
            _workbook_save(workbook, full)
            for ws in long:
                total = ws.max_row
                ws.delete_rows(chosen.rows + 1, total - chosen.rows)
                ws.append(
                    [
                        f"{CUT_MARK} the first {chosen.rows:,} of {total:,} rows of this sheet; "
                        f"every row: {path_display(full)}"
                    ]
                )
    return _workbook_save(workbook, out)


def _workbook_save(workbook, path: Path) -> Path:
    import datetime as dt
    import io

    workbook_defuse(workbook)
    fixed = dt.datetime(*FIXED_TIME)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    buf = io.BytesIO()
    workbook.save(buf)

    def fix_modified(name: str, content: bytes) -> bytes:
        if (
            name != "docProps/core.xml"
        ):  # openpyxl writes the save time here whatever properties say
            return content
        return re.sub(
            rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
            rb"\g<1>%b\g<2>" % fixed.strftime("%Y-%m-%dT%H:%M:%SZ").encode(),
            content,
        )

    return zip_normalize(buf.getvalue(), path, transform=fix_modified)


def workbook_defuse(workbook) -> int:
    """Make every formula-like text cell of an openpyxl workbook plain text; return how many.

    openpyxl stores any string that starts with ``=`` as a formula, so a sentence such as
    ``=HYPERLINK("http://…","click")`` from a collected page would be a live link in the workbook;
    and Excel turns text starting with ``+ - @`` into a formula as soon as someone edits the cell.
    Such cells (:func:`text_formula_like`) are written as text (``data_type`` ``s``) with Excel's
    quote prefix (the ``'`` a user types, kept as a cell style: the value stays the text, and
    stays text when edited). The project writes no formulas of its own.
    """
    n = 0
    for ws in workbook.worksheets:
        for cell in ws._cells.values():  # the cells that exist (iter_rows would create empty ones)
            value = cell.value
            if isinstance(value, str) and value[:1] in FORMULA_START and text_formula_like(value):
                cell.data_type = "s"
                cell.quotePrefix = True
                n += 1
    return n


def zip_normalize(data: bytes, path: str | Path, transform=None) -> Path:
    """Write the zip archive ``data`` to ``path``, member times and order fixed; return the path.

    ``transform(name, content) -> content`` may rewrite members (e.g. a timestamp inside one).
    """
    import io
    import zipfile

    out = path_resolve(path)
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            content = src.read(info.filename)
            dst.writestr(member, transform(info.filename, content) if transform else content)
    return bytes_write(buf.getvalue(), out)
