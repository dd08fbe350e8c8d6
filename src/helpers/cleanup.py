"""Text cleanup: normalisation, boilerplate separation, page-break repair and document structure.

The stage turns a raw document (print-layout text, a web page saved as text, a .docx or a .pdf) into

- one **cleaned text** per document (title, headings and paragraphs, one per line);
- **units**: the title, headings, paragraphs and sentences, each with a stable hierarchical id, its
  heading path, its level and character offsets into the cleaned text;
- an **audit table** of every line that was taken out of the body, with the rule that took it out,
  and a **joins table** of every line break that was repaired;
- **metadata** read off the removed lines (date, document number, issuer, author …).

Nothing is dropped silently: a non-blank raw line is either in the body (possibly joined to its
neighbour, see the joins table) or in the audit table. Normalisation only removes whitespace and
invisible characters, never a CJK character (a property test checks this).

Rules are matched on a simplified-script copy of each line (OpenCC ``t2s``), so the boilerplate
rules written in simplified Chinese also catch traditional-script documents; the text itself keeps
its original script.

The rules are named entries of :mod:`helpers.cleanup_rules` (``HEADER_RULES``, ``TRAILER_RULES``,
``BODY_RULES``, ``FRONT_MATTER_LABELS``); the repairs of single lines of pages as researchers
collect them (mirrors, news sites, journal databases) are the ``line_*`` functions of
:mod:`helpers.lines`; headings, page-break joins and units are in :mod:`helpers.units`; the text
helpers shared with the later stages (``text_normalize``, ``text_simplify``,
``text_split_sentences``) in :mod:`helpers.text`. Stage 1 of the README summarises them. Besides
whole lines, the audit table records what was cut from a line (a dateline, a front-matter label, a
caption, citation markers, pinyin annotations) with the text cut.

:func:`document_clean` runs the steps of :mod:`helpers.cleanup_steps` in order over a
:class:`~helpers.cleanup_steps._DocumentPass`, which records every drop and metadata value;
:func:`documents_clean`, :func:`corpus_clean` and :func:`files_clean` clean many documents and
:func:`clean_write` writes the tables.
"""

from __future__ import annotations

import contextlib
import gc
import re
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import paths
from helpers.cleanup_steps import (
    _body_lines,
    _compact,
    _header_take,
    _lead_cut,
    _pieces_normalise,
    _pieces_repair,
    _summary,
    _trailer_take,
)
from helpers.products import product_path
from helpers.tables import path_resolve, table_write, text_write
from helpers.text import (
    text_count_cjk,
)
from helpers.units import (
    UNIT_COLUMNS,
    _units_build,
    lines_join,
)

# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------

AUDIT_COLUMNS = ["doc_id", "line", "part", "rule", "action", "text"]
JOIN_COLUMNS = ["doc_id", "line", "joined_line", "rule", "tail", "head"]
METADATA_COLUMNS = ["doc_id", "field", "value", "line", "rule"]
PROBLEM_COLUMNS = ["doc_id", "file", "problem"]


@dataclass(frozen=True)
class CleanDocument:
    """One cleaned document: its cleaned text, units and everything cleanup took out or changed.

    The tables are kept as rows and turned into DataFrames on access, so that cleaning many
    documents builds one DataFrame per table instead of four per document.
    """

    doc_id: str
    text: str
    #: the units as tuples of the :data:`UNIT_COLUMNS` (tens of thousands in a corpus: a tuple is
    #: built three times faster than a dict); :attr:`unit_rows` gives them as dicts
    unit_values: tuple[tuple, ...]
    audit_rows: tuple[dict, ...]
    join_rows: tuple[dict, ...]
    metadata_rows: tuple[dict, ...]
    summary: dict

    @property
    def unit_rows(self) -> tuple[dict, ...]:
        """The units as dicts keyed by the :data:`UNIT_COLUMNS`."""
        return tuple(dict(zip(UNIT_COLUMNS, row)) for row in self.unit_values)

    @property
    def units(self) -> pd.DataFrame:
        """Paragraph- and sentence-level units (see :func:`blocks_structure`)."""
        return _values_frame(list(self.unit_values), UNIT_COLUMNS)

    @property
    def audit(self) -> pd.DataFrame:
        """Every raw line taken out of the body, with the rule that took it out (and the title
        line)."""
        return pd.DataFrame(list(self.audit_rows), columns=AUDIT_COLUMNS)

    @property
    def joins(self) -> pd.DataFrame:
        """Every repaired line break."""
        return pd.DataFrame(list(self.join_rows), columns=JOIN_COLUMNS)

    @property
    def metadata(self) -> pd.DataFrame:
        """Metadata read off the removed lines."""
        return pd.DataFrame(list(self.metadata_rows), columns=METADATA_COLUMNS)


@dataclass(frozen=True)
class CleanResult:
    """The cleanup of a set of documents, as tables over all of them."""

    documents: tuple[CleanDocument, ...]
    units: pd.DataFrame
    audit: pd.DataFrame
    joins: pd.DataFrame
    metadata: pd.DataFrame
    summary: pd.DataFrame
    problems: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=PROBLEM_COLUMNS))

    @property
    def sentences(self) -> pd.DataFrame:
        """Sentence-level units: the title, the headings and every sentence of the body."""
        return self.units[self.units["level"] == "sentence"].reset_index(drop=True)

    @property
    def paragraphs(self) -> pd.DataFrame:
        """Paragraph-level units: the title, the headings and every paragraph of the body."""
        return self.units[self.units["level"] == "paragraph"].reset_index(drop=True)


def document_clean(text: str, doc_id: str, *, title: str | None = None) -> CleanDocument:
    """Clean one document's raw text and return its cleaned text, units, audit, joins and metadata.

    Args:
        text: the decoded raw text (line ends already ``\\n``).
        doc_id: the document's id, the first part of every unit id.
        title: the known title (from ``data/corpus.csv``); when it is missing or not found, the
            first title-like line of the header is taken.

    The steps, each recorded: (0) repair raw lines: runs of ``?`` standing for lost spaces
    (``lost_space_marks``, :func:`line_lost_spaces`), front-matter labels followed by spaces
    (:func:`line_label_colons`) and paragraphs separated only by spaces on one line
    (``space_paragraphs``, :func:`line_split_paragraphs`); (1) normalise every line
    (:func:`text_normalize`) and remove pinyin annotations (``pinyin_annotation``,
    :func:`line_strip_pinyin`); (2) take the header off the top: the longest run of leading lines
    that are title or match a :data:`HEADER_RULES` rule or are journal front matter
    (:func:`line_front_matter`), with a covering notice (``…印发《X》的通知`` up to the line ``X``)
    as one block; (3) take the trailer off the bottom (:data:`TRAILER_RULES`); (4) cut a dateline
    or byline off the first paragraph (:func:`line_lead`); drop body lines matching
    :data:`BODY_RULES` or front matter (the abstract's text stays, labelled ``摘要``), the title
    repeated on a page (``title_repeat``) and running headers or footers (a short line without a
    sentence end repeated at least :data:`RUNNING_HEADER_MIN` times, ``running_header``); (5) split
    lines where a heading follows a sentence end on the same line, or a ``一、`` heading runs into
    its first ``（一）`` (lost paragraph breaks); (6) rejoin lines split by page breaks
    (:func:`lines_join`); (7) build the structure (:func:`blocks_structure`).
    """
    p = _pieces_repair(text, doc_id)
    mirror, n_pinyin = _pieces_normalise(p)
    nonblank = [k for k, line in enumerate(p.norm) if line]
    # normalisation and pinyin removal keep every ideograph: the count to account for
    raw_cjk = text_count_cjk("\n".join(p.norm))
    title_idx, body_start = _header_take(p, nonblank, title)
    body_idx = nonblank[body_start:]
    _trailer_take(p, body_idx)
    _lead_cut(p, body_idx, mirror)
    kept = _body_lines(p, body_idx, title_idx)
    if title_idx is not None:
        p.record(title_idx, "header", "title", "kept as title", p.pieces[title_idx])
        p.meta("title", p.norm[title_idx], title_idx, "title")

    blocks, joins = lines_join(kept, doc_id)
    title_text = p.norm[title_idx] if title_idx is not None else None
    title_line = p.line_of[title_idx] if title_idx is not None else 1
    unit_rows, clean_text = _units_build(blocks, doc_id, title=title_text, title_line=title_line)
    p.audit.sort(key=lambda r: r["line"])
    p.metadata.sort(key=lambda r: (r["line"], r["field"]))
    summary = _summary(
        p,
        text,
        nonblank,
        unit_rows=unit_rows,
        n_joins=len(joins),
        clean_text=clean_text,
        raw_cjk=raw_cjk,
        n_pinyin=n_pinyin,
    )
    return CleanDocument(
        doc_id=doc_id,
        text=clean_text,
        unit_values=tuple(unit_rows),
        audit_rows=tuple(p.audit),
        join_rows=tuple(joins),
        metadata_rows=tuple(p.metadata),
        summary=summary,
    )


# --------------------------------------------------------------------------------------------------
# Corpus level
# --------------------------------------------------------------------------------------------------


def _document_clean_safe(item: tuple[str, str, str | None]) -> CleanDocument | dict:
    """Clean one ``(doc_id, text, title)`` triple; return the document or a problem record."""
    doc_id, text, title = item
    try:
        return document_clean(text, doc_id, title=title)
    except Exception as exc:
        return {"doc_id": doc_id, "file": "", "problem": f"{doc_id}: cleanup failed: {exc!r}"}


def documents_clean(
    documents: Iterable[tuple[str, str, str | None]],
    *,
    problems: pd.DataFrame | None = None,
    progress: bool = False,
    engine: str = "serial",
    n_workers: int = 2,
) -> CleanResult:
    """Clean ``(doc_id, text, title)`` triples and return the combined tables.

    A document whose cleanup fails is reported in ``problems`` and the others still run.
    ``engine="dask"`` cleans the documents on a local Dask cluster, ``engine="fork"`` on
    ``n_workers`` forked processes (:mod:`helpers.parallel`); the result is identical to the
    serial one.
    """
    from helpers.parallel import documents_map

    with _gc_paused() if engine != "dask" else contextlib.nullcontext():
        results = documents_map(
            _document_clean_safe,
            documents,
            engine=engine,
            n_workers=n_workers,
            progress=progress,
            desc="cleanup",
        )
        return _result_combine(results, problems)


def _result_combine(
    results: list[CleanDocument | dict], problems: pd.DataFrame | None
) -> CleanResult:
    """The tables of :func:`documents_clean` from its documents and problem records."""
    docs: list[CleanDocument] = [r for r in results if isinstance(r, CleanDocument)]
    extra: list[dict] = [r for r in results if isinstance(r, dict)]
    probs = _problems_frame(problems, extra)

    def cat(name: str, columns: list[str]) -> pd.DataFrame:
        return _rows_frame([r for d in docs for r in getattr(d, name)], columns)

    return CleanResult(
        documents=tuple(docs),
        units=_values_frame([r for d in docs for r in d.unit_values], UNIT_COLUMNS),
        audit=cat("audit_rows", AUDIT_COLUMNS),
        joins=cat("join_rows", JOIN_COLUMNS),
        metadata=cat("metadata_rows", METADATA_COLUMNS),
        summary=pd.DataFrame([d.summary for d in docs]),
        problems=probs,
    )


def _problems_frame(problems: pd.DataFrame | None, failed: list[dict]) -> pd.DataFrame:
    """The problems: those found before cleaning (reading), then the documents whose cleanup
    failed."""
    return pd.concat(
        [
            p
            for p in (problems, pd.DataFrame(failed, columns=PROBLEM_COLUMNS))
            if p is not None and len(p)
        ]
        or [pd.DataFrame(columns=PROBLEM_COLUMNS)],
        ignore_index=True,
    )


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while documents are cleaned.

    Cleaning keeps about 100 rows (tuples and dicts) per document alive until the tables are
    built; with the collector on, each of its full passes walks all of them again (0.1-0.3 of about
    2 CPU s for 1,000 documents). Cleanup builds no reference cycles that need collecting meanwhile
    (reference counting frees what it drops; a failing document's traceback waits), and the
    collector runs again as usual afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _values_frame(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """A DataFrame of ``rows`` (tuples of the ``columns``), built column by column.

    The same frame as ``pd.DataFrame(rows, columns=columns)`` (each column's dtype inferred from its
    values), built from one list per column.
    """
    if not rows:
        return pd.DataFrame(rows, columns=columns)
    data = dict(zip(columns, map(_column_array, map(list, zip(*rows)))))
    return pd.DataFrame(data, columns=columns)


def _rows_frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """A DataFrame of ``rows`` (dicts with every key of ``columns``), built column by column.

    The same frame as ``pd.DataFrame(rows, columns=columns)`` (the same values and dtypes, each
    inferred from its column), without pandas looking up every key of every dict in Python.
    """
    if not rows:
        return pd.DataFrame(rows, columns=columns)
    try:
        data = {c: _column_array([r[c] for r in rows]) for c in columns}
    except KeyError:  # a row without one of the columns: pandas fills it in
        return pd.DataFrame(rows, columns=columns)
    return pd.DataFrame(data, columns=columns)


def _column_array(values: list) -> np.ndarray | list:
    """``values`` as an int64 array when every one is an ``int`` in its range (what pandas
    infers from them, built three times faster than pandas builds it from the list), else the
    list itself."""
    if values and set(map(type, values)) == {int}:
        try:
            return np.frombuffer(array("q", values), dtype=np.int64)
        except OverflowError:
            pass
    return values


def corpus_clean(
    corpus_table: str | Path = paths.CORPUS_TABLE,
    raw_dir: str | Path = paths.RAW,
    *,
    progress: bool = False,
    engine: str = "serial",
) -> CleanResult:
    """Read the corpus table and its documents and clean them all (titles from the table).

    Unreadable documents, rows without files and files without rows end up in ``problems``; the
    other documents are cleaned. The encoding of each document is added to the summary.
    """
    from helpers import corpus

    table = corpus.corpus_read_table(corpus_table)
    docs, problems = corpus.corpus_read(table, raw_dir)
    titles = dict(zip(table["doc_id"], table["title"]))
    result = documents_clean(
        ((d.doc_id, d.text, titles.get(d.doc_id) or None) for d in docs),
        problems=problems,
        progress=progress,
        engine=engine,
    )
    result = corpus.documents_reading_merge(result, docs)  # web pages: page metadata, furniture
    enc = {d.doc_id: d.encoding for d in docs}
    if len(result.summary):
        result.summary.insert(1, "encoding", result.summary["doc_id"].map(enc))
    return result


def files_clean(files: Sequence[str | Path], *, jobs: int = 1) -> CleanResult:
    """Clean arbitrary files (any supported format); doc ids are the file stems.

    Used by ``python -m helpers clean``; titles are inferred from the text. ``jobs`` > 1 reads and
    cleans the documents on that many forked processes, in runs of whole documents, each run sent
    back as one block of columns (:func:`_files_run_clean`); the tables are the same.
    """
    from helpers import corpus

    named = _files_name(files)
    if jobs > 1:
        return _files_clean_forked(named, jobs)
    triples, problems, docs = [], [], []
    for f, doc_id in named:
        doc = _file_read(f, doc_id)
        if isinstance(doc, dict):
            problems.append(doc)
            continue
        triples.append((doc_id, doc.text, None))
        docs.append(doc)
    result = documents_clean(triples, problems=pd.DataFrame(problems, columns=PROBLEM_COLUMNS))
    return corpus.documents_reading_merge(result, docs)  # web pages: page metadata, furniture


def _file_read(f: str | Path, doc_id: str):
    """The document read from ``f`` (:func:`helpers.corpus.document_read`), or the problem row
    saying why it could not be read."""
    from helpers import corpus

    try:
        return corpus.document_read(f, doc_id=doc_id)
    except corpus.DocumentError as exc:
        return {"doc_id": doc_id, "file": str(f), "problem": str(exc)}


def _files_name(files: Sequence[str | Path]) -> list[tuple[str | Path, str]]:
    """Each file with its doc id: the stem made safe, ``_2``, ``_3`` … for a stem seen before."""
    named = []
    seen: dict[str, int] = {}
    for f in files:
        stem = re.sub(r"[^A-Za-z0-9_\-\u4e00-\u9fff]+", "_", Path(f).stem) or "doc"
        seen[stem] = seen.get(stem, 0) + 1
        named.append((f, stem if seen[stem] == 1 else f"{stem}_{seen[stem]}"))
    return named


def _files_clean_forked(named: list[tuple[str | Path, str]], jobs: int) -> CleanResult:
    """:func:`files_clean` on ``jobs`` forked processes: each reads and cleans a run of the files.

    A worker sends back its run as a few long strings and integer arrays (:func:`_column_pack`)
    instead of a hundred small objects per document, which the parent would unpickle one by one;
    the parent then builds each table once from the columns of all runs, in file order.
    """
    from helpers import corpus
    from helpers.parallel import TASKS_PER_WORKER, fork_map

    n_runs = max(1, min(len(named), jobs * TASKS_PER_WORKER))
    cuts = [len(named) * i // n_runs for i in range(n_runs + 1)]
    runs = [named[a:b] for a, b in zip(cuts, cuts[1:]) if b > a]
    with _gc_paused():
        done = fork_map(_files_run_clean, runs, jobs)
        result = _runs_combine(done)
    readings = [r for run in done for r in run.readings]
    return corpus.documents_reading_merge(result, readings)  # web pages: metadata, furniture


#: Between the strings of a column packed into one (:func:`_column_pack`); a column with it inside
#: one of its strings is sent as a list
_SEP = "\x00"


def _column_pack(values: list) -> tuple[str, object]:
    """A column of a table, ready to be pickled fast. Strings are joined by :data:`_SEP` into one:
    ``("s", joined)``, or ``("d", (joined distinct values, array of codes))`` when at most half
    of them are distinct (a heading path repeated on each sentence under it); ints go into an
    int64 array (:func:`_column_array`): ``("i", array)``; anything else stays ``("o", the
    list)``. Pickling a string or an array costs a copy; a list costs an opcode and an object per
    value on both sides.
    :func:`_column_unpack` gives the column back."""
    if values:
        try:
            joined = _SEP.join(values)
        except TypeError:
            pass
        else:
            if joined.count(_SEP) == len(values) - 1:
                index = dict.fromkeys(values)
                if 2 * len(index) > len(values):
                    return "s", joined
                index = {v: k for k, v in enumerate(index)}
                return "d", (_SEP.join(index), array("i", map(index.__getitem__, values)))
        ints = _column_array(values)
        if isinstance(ints, np.ndarray):
            return "i", ints
    return "o", values


def _column_unpack(packed: tuple[str, object]) -> np.ndarray | list:
    """The column :func:`_column_pack` packed: an object array of its strings (the same for
    pandas as their list), an int64 array of its ints, or its list."""
    kind, data = packed
    if kind == "s":
        return np.array(data.split(_SEP), dtype=object)
    if kind == "d":
        distinct, codes = data
        return np.array(distinct.split(_SEP), dtype=object)[np.frombuffer(codes, dtype=np.intc)]
    return data  # "i": the int64 array itself; "o": the list


def _column_list(column: np.ndarray | list) -> list:
    """The values of a column of :func:`_column_unpack` as Python objects."""
    return column.tolist() if isinstance(column, np.ndarray) else column


def _column_join(parts: list[np.ndarray | list]) -> np.ndarray | list:
    """One column from its parts (one a run of documents): the arrays joined when all are arrays
    of one dtype, else one list of all values (pandas then infers the dtype as from the rows)."""
    parts = [p for p in parts if len(p)]
    if parts and all(isinstance(p, np.ndarray) and p.dtype == parts[0].dtype for p in parts):
        return np.concatenate(parts)
    return [v for p in parts for v in _column_list(p)]


@dataclass(frozen=True)
class _Run:
    """What a worker of :func:`_files_clean_forked` sends back for a run of files: the cleaned
    documents as packed columns (:func:`_column_pack`), the problems and what reading found."""

    doc_ids: list[str]
    texts: tuple[str, object]
    #: per table, the number of rows of each cleaned document (to cut the columns into documents)
    counts: dict[str, list[int]]
    #: per table, its packed columns, or its rows when they are not all dicts of its columns
    columns: dict[str, list[tuple[str, object]] | list]
    summaries: list[dict]
    read_problems: list[dict]
    clean_problems: list[dict]
    #: the documents whose reading found page metadata or furniture (text left out)
    readings: list


#: The tables of a :class:`CleanDocument`: attribute, columns
_TABLES = {
    "unit_values": UNIT_COLUMNS,
    "audit_rows": AUDIT_COLUMNS,
    "join_rows": JOIN_COLUMNS,
    "metadata_rows": METADATA_COLUMNS,
}


def _files_run_clean(run: list[tuple[str | Path, str]]) -> _Run:
    """Read and clean a run of ``(file, doc_id)``; return it packed (a worker's task)."""
    read_problems, clean_problems, readings, docs = [], [], [], []
    for f, doc_id in run:
        doc = _file_read(f, doc_id)
        if isinstance(doc, dict):
            read_problems.append(doc)
            continue
        if doc.metadata or doc.dropped:
            readings.append(replace(doc, text=""))
        cleaned = _document_clean_safe((doc_id, doc.text, None))
        (docs if isinstance(cleaned, CleanDocument) else clean_problems).append(cleaned)
    columns: dict[str, list] = {}
    for name, names in _TABLES.items():
        rows = [r for d in docs for r in getattr(d, name)]
        if name == "unit_values":
            lists = list(map(list, zip(*rows))) if rows else [[] for _ in names]
        else:
            try:
                if any(len(r) != len(names) for r in rows):
                    raise KeyError(name)
                lists = [[r[c] for r in rows] for c in names]
            except KeyError:  # not dicts of exactly these columns: sent as they are
                columns[name] = rows
                continue
        columns[name] = [_column_pack(values) for values in lists]
    return _Run(
        doc_ids=[d.doc_id for d in docs],
        texts=_column_pack([d.text for d in docs]),
        counts={name: [len(getattr(d, name)) for d in docs] for name in _TABLES},
        columns=columns,
        summaries=[d.summary for d in docs],
        read_problems=read_problems,
        clean_problems=clean_problems,
        readings=readings,
    )


def _runs_combine(runs: list[_Run]) -> CleanResult:
    """The :class:`CleanResult` of the runs, as :func:`documents_clean` builds it from their
    documents: each table built once from the columns of all runs, and the documents."""
    frames: dict[str, pd.DataFrame] = {}
    rows_of: dict[str, list] = {}
    for name, names in _TABLES.items():
        sent = [run.columns[name] for run in runs]
        dicts = name != "unit_values"
        if all(not c or isinstance(c[0], tuple) for c in sent):
            cols = [
                _column_join([_column_unpack(c[k]) for c in sent if c]) for k in range(len(names))
            ]
            rows = zip(*map(_column_list, cols))
            rows_of[name] = [dict(zip(names, t)) for t in rows] if dicts else list(rows)
            if rows_of[name]:
                frames[name] = pd.DataFrame(dict(zip(names, cols)), columns=names)
                continue
        else:  # some run sent rows: the rows of all runs, as the serial combine takes them
            rows_of[name] = [
                r
                for c in sent
                for r in (
                    c
                    if not c or not isinstance(c[0], tuple)
                    else _packed_rows(c, names, dicts=dicts)
                )
            ]
        frames[name] = (_rows_frame if dicts else _values_frame)(rows_of[name], names)
    texts = [t for run in runs for t in _column_list(_column_unpack(run.texts))]
    summaries = [s for run in runs for s in run.summaries]
    counts = {name: [n for run in runs for n in run.counts[name]] for name in _TABLES}
    starts = dict.fromkeys(_TABLES, 0)
    docs = []
    for k, doc_id in enumerate(i for run in runs for i in run.doc_ids):
        parts = {}
        for name in _TABLES:
            a = starts[name]
            starts[name] = b = a + counts[name][k]
            parts[name] = tuple(rows_of[name][a:b])
        docs.append(CleanDocument(doc_id=doc_id, text=texts[k], summary=summaries[k], **parts))
    read = [p for run in runs for p in run.read_problems]
    failed = [p for run in runs for p in run.clean_problems]
    return CleanResult(
        documents=tuple(docs),
        units=frames["unit_values"],
        audit=frames["audit_rows"],
        joins=frames["join_rows"],
        metadata=frames["metadata_rows"],
        summary=pd.DataFrame(summaries),
        problems=_problems_frame(pd.DataFrame(read, columns=PROBLEM_COLUMNS), failed),
    )


def _packed_rows(packed: list[tuple[str, object]], names: list[str], *, dicts: bool) -> list:
    """The rows of packed columns: tuples, or dicts keyed by ``names``."""
    rows = zip(*(_column_list(_column_unpack(c)) for c in packed))
    return [dict(zip(names, t)) for t in rows] if dicts else list(rows)


def clean_write(
    result: CleanResult,
    processed_dir: str | Path = paths.PROCESSED,
    tables_dir: str | Path = paths.TABLES,
) -> dict[str, Path]:
    """Write the cleanup's products and return their paths by name.

    ``processed_dir``: ``units_sentence.csv``, ``units_paragraph.csv`` and ``clean/<doc_id>.txt``.
    ``tables_dir``: ``cleanup_summary.csv``, ``cleanup_audit.csv``, ``cleanup_joins.csv``,
    ``cleanup_metadata.csv`` and ``cleanup_problems.csv``.
    """
    processed, tables = path_resolve(processed_dir), path_resolve(tables_dir)
    tables_of = {  # the keys of the returned paths, with the product each one writes
        "units_sentence": (result.sentences, processed, "units_sentence"),
        "units_paragraph": (result.paragraphs, processed, "units_paragraph"),
        "summary": (result.summary, tables, "cleanup_summary"),
        "audit": (result.audit, tables, "cleanup_audit"),
        "joins": (result.joins, tables, "cleanup_joins"),
        "metadata": (result.metadata, tables, "cleanup_metadata"),
        "problems": (result.problems, tables, "cleanup_problems"),
    }
    out = {
        key: table_write(df, product_path(name, folder))
        for key, (df, folder, name) in tables_of.items()
    }
    clean_dir = product_path("clean_texts", processed)
    clean_dir.mkdir(parents=True, exist_ok=True)
    for doc in result.documents:
        p = clean_dir / f"{doc.doc_id}.txt"
        text_write(doc.text, p)  # atomic: a failed write leaves the old file
        out[f"clean_{doc.doc_id}"] = p
    return out


def units_tree(units: pd.DataFrame, doc_id: str | None = None) -> str:
    """Return the heading structure as an indented text tree with paragraph and sentence counts.

    For reading in the notebook: one line per title or heading, ``[unit id] text (P paragraphs,
    S sentences)``, the counts covering the text directly under that heading. The counts are
    grouped once (by parent id), so the time grows with the number of units, not with headings
    times paragraphs.
    """
    u = units if doc_id is None else units[units["doc_id"] == doc_id]
    paras = u[u["level"] == "paragraph"]
    texts = paras[paras["kind"] == "text"]
    sents = u[(u["level"] == "sentence") & (u["kind"] == "text")]
    per_para = sents.groupby("parent_id").size()
    n_paras = texts.groupby("parent_id").size()
    n_sents = texts["unit_id"].map(per_para).fillna(0).groupby(texts["parent_id"]).sum()
    heads = paras[paras["kind"] != "text"]
    lines = []
    for uid, text, level in zip(heads["unit_id"], heads["text"], heads["heading_level"]):
        n_p, n_s = int(n_paras.get(uid, 0)), int(n_sents.get(uid, 0))
        lines.append(f"{'  ' * int(level)}[{uid}] {text}  ({n_p} ¶, {n_s} sentences)")
    return "\n".join(lines)


def metadata_compare(table: pd.DataFrame, metadata: pd.DataFrame) -> pd.DataFrame:
    """Compare the corpus table's ``date`` and ``doc_number`` with what cleanup read off the text.

    Returns doc_id, field, table_value, text_value and agree, so a wrong row in ``corpus.csv`` (or a
    wrong rule) shows up. For ``date`` the text's signing date counts when there is one.
    """
    rows = []
    for _, row in table.iterrows():
        m = metadata[metadata["doc_id"] == row["doc_id"]]
        for fld, candidates in (
            ("date", ("signing_date", "date")),
            ("doc_number", ("doc_number",)),
        ):
            found = [v for c in candidates for v in m.loc[m["field"] == c, "value"]]
            text_value = found[0] if found else ""
            table_value = str(row.get(fld, "") or "")
            rows.append(
                {
                    "doc_id": row["doc_id"],
                    "field": fld,
                    "table_value": table_value,
                    "text_value": text_value,
                    "agree": bool(text_value) and _compact(text_value) == _compact(table_value),
                }
            )
    return pd.DataFrame(rows, columns=["doc_id", "field", "table_value", "text_value", "agree"])
