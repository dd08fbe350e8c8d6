"""The corpus table (``data/corpus.csv``) and reading documents of any supported format.

Policy documents arrive as UTF-8 or GB18030 text exported from Windows, as UTF-16 "Unicode text",
occasionally as Big5, as Word files, as PDFs or as web pages saved from a browser (``.html``).
Everything downstream wants one thing: a ``str`` with ``\\n`` line ends. This module turns a file
into that string (:func:`document_read`), says which encoding it found so the choice can be checked,
and reports every problem as a :class:`DocumentError` whose message names the file, the line and the
field, so a researcher can fix the input without reading a traceback.

The corpus table has one row per document; :func:`corpus_read_table` validates it,
:func:`corpus_files_diff` compares it with ``data/raw/`` and :func:`corpus_read` reads every
document, collecting problems instead of stopping at the first one.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers import paths, tables
from helpers.errors import InputError, path_display

__all__ = [
    "CORPUS_COLUMNS",
    "REQUIRED_COLUMNS",
    "DocumentError",
    "RawDocument",
    "corpus_files_diff",
    "corpus_read",
    "corpus_read_table",
    "document_read",
    "documents_reading_merge",
    "text_decode",
]

CORPUS_COLUMNS: tuple[str, ...] = (
    "doc_id",
    "file",
    "title",
    "issuer",
    "doc_type",
    "date",
    "doc_number",
    "author",
    "source",
    "notes",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("doc_id", "file", "title")
#: Files whose ``title`` may be left blank in corpus.csv: the page's own title is taken.
HTML_SUFFIXES = frozenset({".html", ".htm"})
PROBLEM_COLUMNS: tuple[str, ...] = ("doc_id", "file", "problem")

TEXT_SUFFIXES = frozenset({".txt", ".text", ".md", ""})
DOC_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")
DATE_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")

# Byte-order marks, longest first: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
)
# What charset_normalizer may choose from once UTF-8 has failed: Chinese first, then the other
# CJK legacy encodings (so a Japanese or Korean file is named rather than mis-read as Chinese), and
# UTF-16 without BOM and without any ASCII character (no NUL bytes to detect it by).
_LEGACY_CANDIDATES: tuple[str, ...] = (
    "gb18030",
    "big5",
    "cp950",
    "shift_jis",
    "euc_jp",
    "cp949",
    "utf_16_le",
    "utf_16_be",
)
# charset_normalizer's chaos score of gb18030 may trail the best guess by this much and still win:
# on a few dozen bytes of GB text it often prefers cp949 or utf_16_be by a hair (measured: 0.025 on
# "闽宁协作"), while Big5 text is scored far from gb18030 or not at all.
_GB18030_CHAOS_TOLERANCE = 0.05
# A decoded text with more than this share of control, unassigned or private-use characters is
# treated as binary rather than text.
_BAD_CHAR_SHARE = 0.02
_ALLOWED_CONTROLS = frozenset("\t\n\r\x0b\x0c\x1a\x1b")
_BAD_CONTROL_BYTES = bytes(b for b in [*range(0x20), 0x7F] if chr(b) not in _ALLOWED_CONTROLS)


class DocumentError(InputError):
    """A document (or the corpus table) cannot be used.

    ``str()`` reads like ``data/raw/x.txt, line 3: <reason>`` or
    ``data/corpus.csv, line 4, field 'date': <reason>`` (the format of every
    :class:`~helpers.errors.InputError`): the file, where in it, and what is wrong.
    """


def _dir_display(path: str | Path) -> str:
    """Return a folder for messages, with a trailing slash (``data/raw/``)."""
    return path_display(path).rstrip("/") + "/"


@dataclass(frozen=True)
class RawDocument:
    """One document as read from disk, before any cleaning.

    ``text`` has the BOM removed and every line end (``\\r\\n``, ``\\r``, U+2028, U+2029)
    turned into ``\\n``; ``encoding`` records how the bytes were read (``'utf-8'``,
    ``'gb18030'``, ..., ``'docx'`` or ``'pdf'``; ``'html:gb18030'`` for a page) so a wrong guess can
    be spotted; ``n_bytes`` is the file size.

    Only web pages fill the last two fields: ``metadata`` holds ``(field, value)`` pairs read off
    the page (``page_title``, ``date``, ``site``, ``url`` and the character counts of what the
    extractor kept and dropped), ``dropped`` the ``(html line, text)`` of every block of visible
    text the extractor left out. :func:`documents_reading_merge` puts both into the cleanup tables.
    """

    doc_id: str
    path: Path
    text: str
    encoding: str
    n_bytes: int
    metadata: tuple[tuple[str, str], ...] = ()
    dropped: tuple[tuple[int, str], ...] = ()


# --------------------------------------------------------------------------------------------------
# Decoding bytes
# --------------------------------------------------------------------------------------------------


def _line_ends_unify(text: str) -> str:
    """Return ``text`` without a leading BOM and with ``\\n`` for every kind of line end.

    Downstream code splits on ``\\n`` only; a stray ``\\r`` would otherwise end up inside tokens.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\u2028", "\n").replace("\u2029", "\n")


def _bad_char_share(text: str) -> float:
    """Return the share of characters that do not occur in real text.

    Counted: control characters other than tab, line ends, form feed, SUB and ESC; unassigned
    code points; private-use characters; lone surrogates. A wrong decoding or a binary file
    produces many of them.
    """
    if not text:
        return 0.0
    bad = 0
    for line in text.split("\n"):
        if (
            line.isprintable()
        ):  # fast path: no control, unassigned, private-use or surrogate character
            continue
        for ch in line:
            if ch in _ALLOWED_CONTROLS:
                continue
            if unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs"):
                bad += 1
    return bad / len(text)


def _looks_like_text(text: str) -> bool:
    """Return True when ``text`` has few characters that real text never contains."""
    return _bad_char_share(text) <= _BAD_CHAR_SHARE


def _control_byte_share(data: bytes) -> float:
    """Return the share of bytes that are C0 controls (other than whitespace, SUB, ESC) or DEL.

    In every encoding tried here bytes below 0x20 only ever stand for control characters, so many
    of them mean binary data.
    """
    return (len(data) - len(data.translate(None, _BAD_CONTROL_BYTES))) / len(data)


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """Return ``(text, encoding)`` when NUL-containing ``data`` is UTF-16 without a BOM, else None.

    ASCII characters in UTF-16 put a NUL byte at odd offsets (little endian) or even offsets (big
    endian); CJK characters such as 一 (U+4E00) put a few on the other side too, so the side with
    more NULs is tried first, and a candidate is kept only if it decodes strictly and looks like
    text.
    """
    if len(data) % 2:
        return None
    nul_even = data[0::2].count(0)
    nul_odd = data[1::2].count(0)
    order = ("utf-16-le", "utf-16-be") if nul_odd >= nul_even else ("utf-16-be", "utf-16-le")
    for encoding in order:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return text, encoding
    return None


def _encoding_name(name: str) -> str:
    """Return the canonical Python name of an encoding, with GB2312/GBK reported as gb18030.

    GB2312 and GBK are subsets of GB18030, so decoding with gb18030 never loses a character.
    """
    canonical = codecs.lookup(name).name
    return "gb18030" if canonical in ("gb2312", "gbk", "gb18030", "hz") else canonical


def _legacy_candidates(data: bytes) -> list[str]:
    """Return the encodings to try on NUL-free ``data`` once UTF-8 has failed, most likely first.

    The order is charset_normalizer's over :data:`_LEGACY_CANDIDATES`, adjusted for what its scores
    cannot see on short inputs (measured on lines of the corpus documents, see the tests):

    - gb18030 goes first when it scores within ``_GB18030_CHAOS_TOLERANCE`` of the best guess or
      the best guess is BOM-less UTF-16 (on a few dozen bytes of GB text the scores are nearly
      flat and UTF-16 is a frequent wrong first guess);
    - gb18030, then big5, are added when missing: charset_normalizer sometimes finds nothing at all
      (e.g. for the 16 characters "印发：各市、县（区）党委，区直有" in GB18030);
    - BOM-less UTF-16 goes last: UTF-16 without a single NUL byte means a text without one ASCII
      character, not even a line end, yet charset_normalizer proposes it for short CJK lines.
    """
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data, cp_isolation=list(_LEGACY_CANDIDATES)))
    names = list(dict.fromkeys(_encoding_name(m.encoding) for m in matches))
    gb = next((m for m in matches if _encoding_name(m.encoding) == "gb18030"), None)
    confused = bool(names) and names[0].startswith("utf-16")
    if confused or (gb is not None and gb.chaos <= matches[0].chaos + _GB18030_CHAOS_TOLERANCE):
        names = ["gb18030", *(n for n in names if n != "gb18030")]
    names += [n for n in ("gb18030", "big5") if n not in names]
    return [n for n in names if not n.startswith("utf-16")] + [
        n for n in names if n.startswith("utf-16")
    ]


def _legacy_only_decoding(data: bytes) -> tuple[str, str] | None:
    """Return ``(text, encoding)`` when gb18030 or big5 is the only candidate that decodes ``data``.

    The fast path of :func:`text_decode` for NUL-free data that is not UTF-8. The order of
    :func:`_legacy_candidates` (charset_normalizer's, about 0.7 ms for a 10 kB file) only matters
    among candidates that decode strictly, and gb18030 and big5 are always among them: when one of
    the two is the only one of :data:`_LEGACY_CANDIDATES` that decodes and its text looks like
    text, the slow path would return it too. Strict decodes that fail stop at the first invalid
    byte, so trying every candidate costs a fraction of the detection. None: two candidates or
    none decode, or another one, or the text does not look like text; the slow path decides.
    """
    found: tuple[str, str] | None = None
    for encoding in _LEGACY_CANDIDATES:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if found is not None or encoding not in ("gb18030", "big5"):
            return None
        found = (text, encoding)
    if found is None or not _looks_like_text(found[0]):
        return None
    return _line_ends_unify(found[0]), found[1]


def _damaged_utf8(data: bytes) -> bool:
    """Return True when ``data`` is UTF-8 with a few invalid bytes (damaged or cut off).

    Such a file must not fall through to the legacy encodings, which could read it as
    plausible-looking mojibake. Measured on the corpus: its GB18030 and Big5 versions read as UTF-8
    give 3 to 6 replacement characters per valid non-ASCII one; a UTF-8 document with one stray
    byte gives 1 to 3 in several thousand.
    """
    text = data.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd")
    valid = len(text) - len(text.encode("ascii", "ignore")) - replaced  # non-ASCII characters
    return valid >= 20 and replaced <= max(3, valid // 100)


def text_decode(data: bytes, *, path: str | Path = "<bytes>") -> tuple[str, str]:
    """Return ``(text, encoding)`` for the bytes of a text file; ``path`` only names it in errors.

    Tried in order, first success wins:

    1. empty data: :class:`DocumentError` ``file is empty``;
    2. a byte-order mark (UTF-8, UTF-32 LE/BE, UTF-16 LE/BE): reported as ``utf-8-sig``,
       ``utf-32`` or ``utf-16``; a file whose BOM is followed by invalid data is an error;
    3. NUL bytes: UTF-16 without BOM (``utf-16-le``/``utf-16-be``) if the NUL pattern and a strict
       decode agree, otherwise binary. This comes *before* UTF-8 because UTF-16 of pure-ASCII text
       is valid UTF-8;
    4. strict UTF-8 (``utf-8``); UTF-8 with a few invalid bytes is an error (damaged file), not a
       candidate for the legacy encodings;
    5. charset_normalizer over a CJK set (gb18030, big5, cp950, shift_jis, euc_jp, cp949, BOM-less
       UTF-16), preferring gb18030 on near ties and falling back to gb18030 and big5 when
       charset_normalizer finds nothing (see :func:`_legacy_candidates`; GB2312/GBK are reported
       as ``gb18030``); the first candidate that decodes strictly to plausible text wins.

    A decoded text full of control or unassigned characters, or undecodable bytes full of control
    bytes, raise ``looks like a binary file, not text``; data nothing can decode raises
    ``cannot decode: tried ...``. The text is returned normalised: BOM removed, ``\\n`` line ends.
    """
    if not data:
        raise DocumentError(path, "file is empty")

    def finish(text: str, encoding: str) -> tuple[str, str]:
        if not _looks_like_text(text):
            raise DocumentError(path, "looks like a binary file, not text")
        return _line_ends_unify(text), encoding

    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as error:
                raise DocumentError(
                    path,
                    f"starts with a {name} byte-order mark but is not valid {name} "
                    f"(byte {error.start}: {error.reason})",
                ) from None
            return finish(text, name)

    if 0 in data:
        found = _utf16_without_bom(data)
        if found is None:
            raise DocumentError(path, "looks like a binary file, not text")
        return finish(*found)

    try:
        return finish(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError as error:
        if _damaged_utf8(data):
            raise DocumentError(
                path,
                f"invalid UTF-8 at byte {error.start} ({data[error.start : error.start + 4]!r}) "
                "in an otherwise UTF-8 file: damaged or cut off; export it again",
                line=data[: error.start].count(b"\n") + 1,
            ) from None

    only = _legacy_only_decoding(data)
    if only is not None:
        return only
    binary = _control_byte_share(data) > _BAD_CHAR_SHARE
    for encoding in _legacy_candidates(data):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _looks_like_text(text):
            return _line_ends_unify(text), encoding
        binary = True
    if binary:
        raise DocumentError(path, "looks like a binary file, not text")
    tried = ", ".join(["utf-8", "utf-16", *(_encoding_name(c) for c in _LEGACY_CANDIDATES[:-2])])
    encoding, start = _decode_furthest(data)
    bad = data[start : start + 4]
    raise DocumentError(
        path,
        f"cannot decode: tried {tried}; {encoding} gets furthest but fails at byte {start} "
        f"({bad!r})",
        line=data[:start].count(b"\n") + 1,
    )


def _decode_furthest(data: bytes) -> tuple[str, int]:
    """Return the ASCII-compatible encoding that decodes the longest prefix of ``data``, and where
    it fails, so the error for an undecodable file can point at the damaged spot.
    """
    best = ("utf-8", -1)
    for encoding in ("utf-8", "gb18030", "big5"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError as error:
            if error.start > best[1]:
                best = (encoding, error.start)
    return best


# --------------------------------------------------------------------------------------------------
# Reading one document
# --------------------------------------------------------------------------------------------------


def _docx_text(path: Path) -> str:
    """Return the text of a .docx file: paragraphs and table rows in body order, one per line.

    Table cells are joined by ``\\t`` within a row; a cell spanning several grid columns is taken
    once. Headers, footers, footnotes, comments and text boxes are not read.
    """
    import zipfile

    import docx
    from docx.table import Table

    if not zipfile.is_zipfile(path):
        raise DocumentError(
            path, "not a valid .docx (not a ZIP package; an old .doc renamed? save as .docx)"
        )
    try:
        document = docx.Document(str(path))
    except Exception as error:  # python-docx raises zipfile, lxml and its own errors
        raise DocumentError(path, f"cannot open as .docx ({_error_text(error)})") from None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells, seen = [], set()
                for cell in row.cells:
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    cells.append(cell.text)
                lines.append("\t".join(cells))
        else:
            lines.append(block.text)
    text = "\n".join(lines)
    if not text.strip():
        raise DocumentError(path, "document contains no text")
    return text


def _pdf_text(path: Path) -> str:
    """Return the text of a PDF: each page's ``extract_text()`` joined by ``\\n``.

    A PDF without a text layer (a scan) gives no text at all and is an error, because an empty
    document would silently vanish from every count downstream.
    """
    import pdfplumber

    try:
        with pdfplumber.open(str(path)) as pdf:
            pages = [page.extract_text() or "" for page in pdf.pages]
    except Exception as error:  # pdfminer raises many unrelated exception types
        # pdfplumber wraps pdfminer's exception (e.g. PdfminerException(PDFPasswordIncorrect())).
        inner = [a for a in error.args if isinstance(a, BaseException)]
        causes = [error, *inner, error.__cause__, error.__context__]
        if any(c is not None and "password" in type(c).__name__.lower() for c in causes):
            raise DocumentError(path, "PDF is password-protected; save an open copy") from None
        shown = inner[0] if inner else error
        raise DocumentError(path, f"cannot open as PDF ({_error_text(shown)})") from None
    text = "\n".join(pages)
    if not text.strip():
        raise DocumentError(path, "PDF has no text layer (scanned?); run OCR first")
    return text


def documents_reading_merge(result, documents: list[RawDocument]):
    """Return the cleanup ``result`` with what reading found beside the text added to its tables.

    ``result`` is a :class:`helpers.cleanup.CleanResult`. For web pages: the page's title, date,
    site, URL and character counts go to ``metadata`` (``line`` 0, ``rule`` ``html_page``); every
    block of visible text the extractor left out goes to ``audit`` (``part`` ``page``, ``rule``
    ``html_extractor``, ``line`` = the line in the .html file). Other documents add nothing, so
    their tables are unchanged. Rows come first within their document, documents keep their order.
    """
    import dataclasses

    meta = [
        {"doc_id": d.doc_id, "field": f, "value": v, "line": 0, "rule": "html_page"}
        for d in documents
        for f, v in d.metadata
    ]
    audit = [
        {
            "doc_id": d.doc_id,
            "line": line,
            "part": "page",
            "rule": "html_extractor",
            "action": "dropped",
            "text": text,
        }
        for d in documents
        for line, text in d.dropped
    ]
    if not meta and not audit:
        return result
    order = {doc_id: i for i, doc_id in enumerate(doc.doc_id for doc in result.documents)}

    def merged(rows: list[dict], table: pd.DataFrame) -> pd.DataFrame:
        rows = [r for r in rows if r["doc_id"] in order]  # a document whose cleanup failed
        if not rows:
            return table
        frame = pd.concat([pd.DataFrame(rows, columns=table.columns), table], ignore_index=True)
        position = frame["doc_id"].map(order).to_numpy()
        return frame.iloc[position.argsort(kind="stable")].reset_index(drop=True)

    return dataclasses.replace(
        result, metadata=merged(meta, result.metadata), audit=merged(audit, result.audit)
    )


def _error_text(error: BaseException) -> str:
    """Return ``'TypeName: message'`` for an exception from a third-party reader."""
    message = str(error).strip()
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def document_read(path: str | Path, *, doc_id: str | None = None) -> RawDocument:
    """Return the document at ``path`` as a :class:`RawDocument`; ``doc_id`` defaults to the stem.

    The suffix decides how to read: ``.txt``, ``.text``, ``.md`` or none through
    :func:`text_decode`; ``.docx`` with python-docx (paragraphs and table rows, cells joined by
    ``\\t``); ``.pdf`` with pdfplumber (pages joined by ``\\n``); ``.html``/``.htm`` through
    :func:`html_decode` and :func:`html_extract` (main text, title on the first line; the page's
    metadata and the dropped furniture in ``metadata`` and ``dropped``). Anything else, a missing
    file, a corrupt file, a PDF without text or a page without main text raises
    :class:`DocumentError`.
    """
    p = tables.path_resolve(path)
    if not p.exists():
        raise DocumentError(p, "file not found")
    if p.is_dir():
        raise DocumentError(p, "is a folder, not a file")
    suffix = p.suffix.lower()
    if suffix not in TEXT_SUFFIXES | HTML_SUFFIXES | {".docx", ".pdf"}:
        raise DocumentError(p, f"unsupported format {suffix}; save as .docx, .html or .txt")
    try:
        data = p.read_bytes()
    except OSError as error:
        raise DocumentError(p, f"cannot read file ({error.strerror})") from None
    metadata: tuple = ()
    dropped: tuple = ()
    if suffix in TEXT_SUFFIXES:
        text, encoding = text_decode(data, path=p)
    elif suffix in HTML_SUFFIXES:
        from helpers.html import html_read  # helpers.html imports this module

        text, encoding, metadata, dropped = html_read(data, p)
    elif not data:
        raise DocumentError(p, "file is empty")
    elif suffix == ".docx":
        text, encoding = _line_ends_unify(_docx_text(p)), "docx"
    else:
        text, encoding = _line_ends_unify(_pdf_text(p)), "pdf"
    return RawDocument(
        doc_id=p.stem if doc_id is None else doc_id,
        path=p,
        text=text,
        encoding=encoding,
        n_bytes=len(data),
        metadata=metadata,
        dropped=dropped,
    )


# --------------------------------------------------------------------------------------------------
# The corpus table
# --------------------------------------------------------------------------------------------------


def _date_problem(value: str) -> str | None:
    """Return why ``value`` is not an ISO date (``YYYY-MM-DD``, ``YYYY-MM``, ``YYYY``), or None."""
    match = DATE_PATTERN.match(value)
    expected = "expected YYYY-MM-DD (or YYYY-MM or YYYY)"
    if match is None:
        return f'"{value}" is not an ISO date; {expected}'
    year, month, day = match.groups()
    try:
        dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError as error:
        return f'"{value}" is not a valid date ({error})'
    return None


def _table_records(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Return the header and ``(line, values)`` for each record of the CSV at ``path``.

    Parsed with :mod:`csv` rather than pandas because errors must name the physical line where a
    record starts, which pandas loses once a quoted field spans several lines. Blank lines are
    skipped like pandas does.
    """
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        try:
            guess = f"; it looks like {text_decode(data)[1]}"
        except DocumentError:
            guess = ""
        raise DocumentError(
            path,
            f"not UTF-8{guess}; save it as 'CSV UTF-8' (Excel) or UTF-8 text",
            line=line,
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            if row:
                records.append((start, [value.strip() for value in row]))
            start = reader.line_num + 1
    except csv.Error as error:
        raise DocumentError(path, f"not valid CSV ({error})", line=start) from None
    if not records:
        raise DocumentError(path, "file is empty")
    (_, header), *rows = records
    return header, rows


def corpus_read_table(path: str | Path = paths.CORPUS_TABLE) -> pd.DataFrame:
    """Return the validated corpus table: all values ``str`` (``''`` if blank), rows in file order.

    Values are stripped of surrounding whitespace. Columns keep the file's order; unknown extra
    columns are kept (researchers may add variables) and standard optional columns that are missing
    are added, empty, at the end, so downstream code can rely on :data:`CORPUS_COLUMNS`.

    Raises :class:`DocumentError` naming the CSV line (the header is line 1) and the field for: a
    missing file; a missing, unnamed or repeated column; a row with too many or too few fields; an
    empty ``doc_id``/``file``/``title`` (the ``title`` of a ``.html``/``.htm`` page may be blank:
    the page's own title is taken); a ``doc_id`` not matching ``^[A-Za-z0-9_-]+$``; a duplicate
    ``doc_id`` or ``file`` (naming both lines); a ``file`` outside the raw folder; a ``date`` that
    is not ISO ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``.
    """
    p = tables.path_resolve(path)
    if not p.is_file():
        raise DocumentError(p, "file not found")
    header, rows = _table_records(p)

    for i, name in enumerate(header, start=1):
        if not name:
            raise DocumentError(p, f"column {i} has no name", line=1)
        if header.index(name) != i - 1:
            first = header.index(name) + 1
            raise DocumentError(
                p, f"column appears twice (columns {first} and {i})", line=1, field=name
            )
    for name in REQUIRED_COLUMNS:
        if name not in header:
            raise DocumentError(p, "required column is missing", line=1, field=name)

    first_line: dict[str, dict[str, int]] = {"doc_id": {}, "file": {}}
    for line, values in rows:
        if len(values) != len(header):
            raise DocumentError(
                p, f"has {len(values)} fields but the header has {len(header)}", line=line
            )
        row = dict(zip(header, values))
        for name in REQUIRED_COLUMNS:
            if not row[name] and not (name == "title" and _is_html(row["file"])):
                raise DocumentError(p, "is empty", line=line, field=name)
        if not DOC_ID_PATTERN.match(row["doc_id"]):
            raise DocumentError(
                p,
                f'"{row["doc_id"]}" may only contain letters A-Z/a-z, digits, "_" and "-"',
                line=line,
                field="doc_id",
            )
        file = Path(row["file"])
        if file.is_absolute() or ".." in file.parts or "\\" in row["file"]:
            raise DocumentError(
                p,
                f'"{row["file"]}" must be a file name inside data/raw/ (use "/" between folders)',
                line=line,
                field="file",
            )
        for name in ("doc_id", "file"):
            seen = first_line[name]
            if row[name] in seen:
                raise DocumentError(
                    p,
                    f'duplicate {name} "{row[name]}" (also on line {seen[row[name]]})',
                    line=line,
                    field=name,
                )
            seen[row[name]] = line
        if row.get("date"):
            problem = _date_problem(row["date"])
            if problem is not None:
                raise DocumentError(p, problem, line=line, field="date")

    columns = [*header, *(c for c in CORPUS_COLUMNS if c not in header)]
    table = pd.DataFrame([values for _, values in rows], columns=header, dtype=str)
    return table.reindex(columns=columns, fill_value="").astype(str)


def _is_html(file: str) -> bool:
    """Return True for a saved web page, whose title may be blank in corpus.csv."""
    return Path(file).suffix.lower() in HTML_SUFFIXES


def _problems_frame(problems: list[dict[str, str]]) -> pd.DataFrame:
    """Return ``problems`` as a frame with exactly :data:`PROBLEM_COLUMNS` (also when empty)."""
    return pd.DataFrame(problems, columns=list(PROBLEM_COLUMNS), dtype=str)


def _raw_files(raw_dir: Path) -> list[str]:
    """Return the files under ``raw_dir`` as sorted POSIX paths relative to it.

    Hidden files and folders (name starts with ``.``) and ``README*`` files are skipped: they are
    not documents.
    """
    found = []
    for f in raw_dir.rglob("*"):
        rel = f.relative_to(raw_dir)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if f.name.upper().startswith("README") or not f.is_file():
            continue
        found.append(rel.as_posix())
    return sorted(found)


def corpus_files_diff(table: pd.DataFrame, raw_dir: str | Path = paths.RAW) -> pd.DataFrame:
    """Return the mismatches between ``table`` and ``raw_dir`` (columns ``doc_id, file, problem``).

    Reported: a row whose file is missing, and a file in ``raw_dir`` that has no row. Hidden files
    and ``README*`` are ignored. An empty frame with the same columns means all is well, so a
    notebook can simply display the result.
    """
    raw = tables.path_resolve(raw_dir)
    if not raw.is_dir():
        raise DocumentError(raw, "folder not found")
    where = _dir_display(raw)
    present = _raw_files(raw)
    present_set = set(present)
    by_lower: dict[str, str] = {name.lower(): name for name in present}
    listed = set(table["file"])
    problems: list[dict[str, str]] = []
    for doc_id, file in zip(table["doc_id"], table["file"]):
        if file in present_set:
            continue
        problem = f"listed in corpus.csv but not found in {where}"
        if file.lower() in by_lower:
            problem += f' (did you mean "{by_lower[file.lower()]}"?)'
        problems.append({"doc_id": doc_id, "file": file, "problem": problem})
    for file in present:
        if file not in listed:
            problem = f"file in {where} has no row in corpus.csv; add one"
            problems.append({"doc_id": "", "file": file, "problem": problem})
    return _problems_frame(problems)


def _outside_problem(raw: Path, file: str) -> str | None:
    """Return why ``raw / file`` may not be read when it resolves outside ``raw``, else None.

    The name in corpus.csv is checked as written (no ``..``, not absolute), but a symbolic link
    in the raw folder, or a link to a folder, can still lead anywhere (``data/raw/x.txt`` →
    ``/etc/passwd``); its lines would reach the outputs. The resolved path must lie inside the
    resolved raw folder.
    """
    target = (raw / file).resolve()
    if target.is_relative_to(raw.resolve()):
        return None
    where = _dir_display(raw)
    return (
        f"{path_display(raw / file)}: resolves to {target}, outside the raw folder {where} "
        f"(a symbolic link, or a link to a folder); not read. Copy the document itself into "
        f"{where} if it belongs to the corpus"
    )


def corpus_read(
    table: pd.DataFrame, raw_dir: str | Path = paths.RAW
) -> tuple[list[RawDocument], pd.DataFrame]:
    """Return ``(documents, problems)`` for every row of ``table``, documents in table order.

    A document that cannot be read is reported in ``problems`` (``doc_id, file, problem`` with the
    :class:`DocumentError` message) and the others are still read, so one bad file does not hide
    the state of the rest. A file that resolves outside ``raw_dir`` (a symbolic link leading out
    of it) is reported and not read. The mismatches of :func:`corpus_files_diff` are included; a
    file it reports missing is not reported a second time.
    """
    raw = tables.path_resolve(raw_dir)
    problems = corpus_files_diff(table, raw)
    documents: list[RawDocument] = []
    failures: list[dict[str, str]] = []
    for doc_id, file in zip(table["doc_id"], table["file"]):
        if not (raw / file).is_file():
            continue  # already reported by corpus_files_diff
        outside = _outside_problem(raw, file)
        if outside is not None:
            failures.append({"doc_id": doc_id, "file": file, "problem": outside})
            continue
        try:
            documents.append(document_read(raw / file, doc_id=doc_id))
        except DocumentError as error:
            failures.append({"doc_id": doc_id, "file": file, "problem": str(error)})
    if failures:
        problems = pd.concat([problems, _problems_frame(failures)], ignore_index=True)
    return documents, problems
