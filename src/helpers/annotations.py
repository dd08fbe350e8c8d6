"""Codings in one long layout, and the human annotation files read into it.

Every coding (a human annotation file, the dictionary's ``coding_units.csv``, a returned
second-coder sheet) is turned into one long table, the *codings* layout::

    coder        unit_id               code       value
    annotator-A  report2024-1.1-p1-s2  economic   1

one row per coder × unit × code; ``value`` is the category (0/1 for the codebook's codes, any whole
number for nominal data in general). A unit a coder did not code has no rows for that coder: missing
data is an absent row, never a blank value. Annotation files add a ``split`` column (dev/holdout),
which the statistics ignore. The converters (:func:`annotations_read`, :func:`codings_from_wide`,
:func:`helpers.sheets.sheet_read`) produce this table; the statistics
(:func:`helpers.agreement.codings_agreement`) and the disagreement list
(:func:`helpers.agreement.codings_disagreements`) consume it, so nobody passes raw matrices.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.codebook import Codebook
from helpers.errors import InputError, path_display
from helpers.tables import cell_unescape, path_resolve

HOLDOUT_SEED = 20261123

#: The long layout every coding is converted to.
CODING_COLUMNS = ["coder", "unit_id", "code", "value"]
#: The values of the ``split`` column of an annotation file.
SPLITS = ("dev", "holdout")
#: Columns of an annotation file besides the code columns (``doc_id``, ``date`` and ``note``
#: optional).
ANNOTATION_REQUIRED = ("unit_id", "coder", "split")
ANNOTATION_OPTIONAL = ("doc_id", "date", "note")
#: The coder name given to the dictionary's coding.
DICTIONARY_CODER = "dictionary"


def units_split(
    units: pd.DataFrame, *, holdout: float = 0.4, seed: int = HOLDOUT_SEED
) -> pd.Series:
    """Return ``"dev"`` or ``"holdout"`` per unit, stratified by document and top-level section.

    Within each (doc_id, section) group the units are shuffled with ``seed`` and the first
    ``round(holdout × n)`` (at least one in groups of two or more) are held out. Run once; the
    result is recorded in the annotation files, which are then the reference, not this function.
    """
    rng = np.random.default_rng(seed)
    split = pd.Series("dev", index=units.index, dtype=object)
    for _, g in units.groupby(["doc_id", "section"], sort=True):
        idx = list(g.index)
        rng.shuffle(idx)
        k = round(holdout * len(idx))
        if len(idx) >= 2:
            k = max(k, 1)
        split.loc[idx[:k]] = "holdout"
    return split


class AnnotationError(InputError):
    """An annotation file cannot be used. The message names the file, the line and the column
    (``field``), in the format of every :class:`~helpers.errors.InputError`."""


class AnnotationWarning(UserWarning):
    """Part of the human codings cannot be used (a code without a column, a unit not in the corpus,
    no annotation files): it is left out, the affected codes are reported as not assessed, the run
    goes on.
    """


#: Start of the ``note`` of a code (or comparison) that could not be assessed, followed by the
#: reason.
NOT_ASSESSED = "not assessed"


def csv_rows(p: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Read a coding CSV (UTF-8): its stripped header and its non-blank rows with line numbers.

    Errors name the file and line: not UTF-8, no header, a row with another number of fields than
    the header. Shared by the annotation files and the validation set's files. A ``'`` that
    :func:`helpers.tables.table_write` put before formula-like text is taken off.
    """
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnnotationError(
            p, f"not UTF-8 ({exc.reason} at byte {exc.start}); save it as CSV UTF-8"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    if not any(header):
        raise AnnotationError(p, "no header row", line=1)
    rows, line = [], reader.line_num
    for record in reader:
        start, line = line + 1, reader.line_num
        if not any(x.strip() for x in record):
            continue
        if len(record) != len(header):
            raise AnnotationError(
                p, f"{len(record)} fields, the header has {len(header)}", line=start
            )
        rows.append((start, [cell_unescape(x.strip()) for x in record]))
    return header, rows


def annotations_read(
    path: str | Path | Sequence[str | Path],
    codebook: Codebook | None = None,
    *,
    units: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Read and validate annotation files; return their codings in the long layout plus ``split``.

    ``path`` is one file or a list of files (one coder each; an empty list gives no codings, with a
    warning: the reliability sections then say "not assessed"). A file (UTF-8 CSV, as
    ``data/annotations/coder_A.csv``) has ``unit_id``, ``coder``, ``split``, optionally ``doc_id``,
    ``date`` and ``note``, and one 0/1 column per code. Without ``codebook`` every other column is
    taken as a code.

    With ``codebook``, the files follow the codebook, because researchers edit it: a code of the
    codebook without a column (a code added or renamed after the annotation) is *not assessed*
    against that coder, and a column that is not a code (a code removed or renamed) is ignored; both
    give an :class:`AnnotationWarning` naming the file, the code and what to do. With ``units`` (the
    unit ids of the corpus) the rows of units not in the corpus (a document removed, or re-cut by
    the cleanup) are left out with a warning naming the file, the lines and the unit ids.

    Every problem within the file raises :class:`AnnotationError` naming the file, the line (the
    header is line 1) and the column: a missing file or column, an empty coder or unit id, a unit
    coded twice by the same coder, a split other than ``dev``/``holdout``, a code value other than 0
    or 1 (an empty cell is an error too: the files code every unit with every code).

    Returns columns coder, unit_id, code, value (int), split; units in file order, codes in codebook
    (or file) order.
    """
    if isinstance(path, list | tuple):
        parts = [annotations_read(p, codebook, units=units) for p in path]
        if not parts:
            warnings.warn(
                "no annotation files (parameter 'annotations' is empty): the agreement between "
                "human coders and the validity of the dictionary are not assessed; list the "
                "annotation CSV files, or code a sample with the second-coder sheet",
                AnnotationWarning,
                stacklevel=2,
            )
            return pd.DataFrame(
                {
                    c: pd.Series(dtype="int64" if c == "value" else object)
                    for c in [*CODING_COLUMNS, "split"]
                }
            )
        return pd.concat(parts, ignore_index=True)
    p = path_resolve(path)
    if not p.exists():
        raise AnnotationError(p, "file not found")
    header, records = csv_rows(p)
    for i, h in enumerate(header):
        if h in header[:i]:
            raise AnnotationError(p, "column appears twice in the header", line=1, field=h)
    for col in ANNOTATION_REQUIRED:
        if col not in header:
            raise AnnotationError(p, f"missing column (columns are {header})", line=1, field=col)
    known = set(ANNOTATION_REQUIRED) | set(ANNOTATION_OPTIONAL)
    if codebook is not None:
        extra = [h for h in header if h not in known and h not in codebook.ids]
        codes = [c for c in codebook.ids if c in header]
        absent = [c for c in codebook.ids if c not in header]
        if extra:
            warnings.warn(
                f"{path_display(p)}, line 1: column(s) {', '.join(map(repr, extra))} are not codes "
                "of the codebook: ignored (a code removed or renamed in the codebook? rename the "
                "column to the code's new id to keep its codings)",
                AnnotationWarning,
                stacklevel=2,
            )
        if absent:
            warnings.warn(
                f"{path_display(p)}, line 1: no column for code(s) {', '.join(map(repr, absent))} "
                f"of the codebook: {NOT_ASSESSED} against this file's coder. To assess them, add a "
                "column named after each code with 0 or 1 for every unit, or code them with the "
                "second-coder sheet (notebook 05)",
                AnnotationWarning,
                stacklevel=2,
            )
    else:
        codes = [h for h in header if h not in known]
        if not codes:
            raise AnnotationError(p, "no code columns", line=1)
    known_units = set(units) if units is not None else None
    pos = {h: i for i, h in enumerate(header)}
    rows: list[tuple] = []
    outside: list[tuple[int, str]] = []  # (line, unit id) of units not in the corpus
    seen: dict[tuple[str, str], int] = {}
    for start, record in records:
        get = {h: record[i] for h, i in pos.items()}
        for col in ("unit_id", "coder"):
            if not get[col]:
                raise AnnotationError(p, "empty", line=start, field=col)
        uid, coder, split = get["unit_id"], get["coder"], get["split"]
        if split not in SPLITS:
            raise AnnotationError(
                p, f"split {split!r} is not one of {', '.join(SPLITS)}", line=start, field="split"
            )
        if known_units is not None and uid not in known_units:
            outside.append((start, uid))
            continue
        if (coder, uid) in seen:
            raise AnnotationError(
                p,
                f"unit {uid!r} coded twice by {coder!r} (first on line {seen[coder, uid]})",
                line=start,
                field="unit_id",
            )
        seen[coder, uid] = start
        for c in codes:
            v = get[c]
            if v not in ("0", "1"):
                what = "empty" if v == "" else f"value {v!r} is not 0 or 1"
                raise AnnotationError(p, what, line=start, field=c)
            rows.append((coder, uid, c, int(v), split))
    if outside:
        shown = ", ".join(f"{u!r} (line {n})" for n, u in outside[:3]) + (
            " …" if len(outside) > 3 else ""
        )
        warnings.warn(
            f"{path_display(p)}: {len(outside)} coded unit(s) are not units of the corpus, left "
            f"out: {shown}. A document removed from the corpus, or unit ids changed by the "
            "cleanup; re-code those units if the document should stay",
            AnnotationWarning,
            stacklevel=2,
        )
    if not rows and not outside:
        raise AnnotationError(p, "no coded units")
    out = pd.DataFrame(rows, columns=[*CODING_COLUMNS, "split"])
    out["value"] = out["value"].astype("int64")
    return out


def codings_from_wide(
    wide: pd.DataFrame, coder: str, codes: Sequence[str], *, id_col: str = "unit_id"
) -> pd.DataFrame:
    """Return a unit × code table (one column per code, as ``coding_units.csv``) in the long layout.

    Exists so that the dictionary's coding and any other wide table enter the statistics the same
    way as the annotation files. Values must be whole numbers; an empty cell means "not coded" and
    gives no row.
    """
    missing = [c for c in [id_col, *codes] if c not in wide.columns]
    if missing:
        raise KeyError(f"table has no column(s) {missing}; columns are {list(wide.columns)}")
    long = wide[[id_col, *codes]].melt(id_vars=id_col, var_name="code", value_name="value")
    long = long[long["value"].notna() & (long["value"].astype(str).str.strip() != "")]
    long = long.rename(columns={id_col: "unit_id"})
    long.insert(0, "coder", coder)
    order_u = {u: i for i, u in enumerate(pd.unique(wide[id_col]))}
    order_c = {c: i for i, c in enumerate(codes)}
    long = long.assign(_u=long["unit_id"].map(order_u), _c=long["code"].map(order_c))
    long = long.sort_values(["_u", "_c"], kind="stable").drop(columns=["_u", "_c"])
    long["value"] = pd.to_numeric(long["value"]).astype("int64")
    return codings_validate(long.reset_index(drop=True)[CODING_COLUMNS])


def codings_wide(codings: pd.DataFrame, coder: str) -> pd.DataFrame:
    """Return one coder's codings as a unit × code 0/1 table (unit_id, then one column per code).

    The inverse of :func:`codings_from_wide`, for display and for writing a coding as a CSV. A coder
    with no codings (no annotation files) gives a table with no units, so that what depends on the
    reference coding is "not assessed" rather than an error.
    """
    c = codings[codings["coder"] == coder]
    if c.empty:
        return pd.DataFrame({"unit_id": pd.Series(dtype=object)})
    wide = c.pivot(index="unit_id", columns="code", values="value")
    wide = wide.reindex(index=pd.unique(c["unit_id"]), columns=pd.unique(c["code"]))
    return wide.rename_axis(columns=None).reset_index()


def codings_split(codings: pd.DataFrame) -> pd.Series:
    """Return the recorded split (``dev``/``holdout``) per unit id from annotation codings.

    Raises ``ValueError`` if two coders' files record a different split for the same unit, since the
    split must be one decision for the whole sample.
    """
    if "split" not in codings.columns:
        raise KeyError("these codings have no split column (read them with annotations_read)")
    per_unit = codings.drop_duplicates(["unit_id", "split"])
    dup = per_unit[per_unit["unit_id"].duplicated()]
    if len(dup):
        uid = dup["unit_id"].iloc[0]
        raise ValueError(
            f"unit {uid!r} has different splits in different files: "
            f"{sorted(per_unit.loc[per_unit['unit_id'] == uid, 'split'])}"
        )
    return per_unit.set_index("unit_id")["split"]


def codings_to_paragraphs(codings: pd.DataFrame, sentences: pd.DataFrame) -> pd.DataFrame:
    """Lift sentence-level codings to paragraph units and return them (same columns).

    A paragraph has a code when any of its sentences has it; titles and headings are the same unit
    at both levels. Exists so that a sample coded at sentence level can validate paragraph-level
    coding. With a ``split`` column, a paragraph keeps the split of its sentences when they agree
    and gets ``mixed`` otherwise, so that no held-out sentence is mixed into the dev figures or the
    reverse.
    """
    is_text = sentences["kind"] == "text"
    parent = dict(
        zip(sentences["unit_id"], sentences["parent_id"].where(is_text, sentences["unit_id"]))
    )
    unknown = sorted(set(codings["unit_id"]) - set(parent))
    if unknown:
        raise ValueError(
            f"{len(unknown)} coded unit(s) are not sentence units, e.g. {unknown[0]!r}"
        )
    lifted = codings.assign(unit_id=codings["unit_id"].map(parent))
    out = lifted.groupby(["coder", "unit_id", "code"], sort=False, as_index=False)["value"].max()
    if "split" in codings.columns:
        splits = lifted.groupby("unit_id", sort=False)["split"].agg(
            lambda s: s.iloc[0] if s.nunique() == 1 else "mixed"
        )
        out["split"] = out["unit_id"].map(splits)
    return out


def codings_validate(codings: pd.DataFrame) -> pd.DataFrame:
    """Return ``codings`` unchanged if it is a valid long table; raise otherwise.

    Every function that takes codings calls this first, so that a malformed table (missing column,
    empty value, a unit coded twice with the same code by the same coder) fails with a clear message
    instead of giving wrong statistics.
    """
    missing = [c for c in CODING_COLUMNS if c not in codings.columns]
    if missing:
        raise KeyError(f"codings need the columns {CODING_COLUMNS}; missing {missing}")
    if codings["value"].isna().any():
        bad = codings[codings["value"].isna()].iloc[0]
        raise ValueError(
            f"empty value for coder {bad['coder']!r}, unit {bad['unit_id']!r}, code "
            f"{bad['code']!r}: leave the row out for a unit that was not coded"
        )
    dup = codings[codings.duplicated(["coder", "unit_id", "code"])]
    if len(dup):
        bad = dup.iloc[0]
        raise ValueError(
            f"coder {bad['coder']!r} coded unit {bad['unit_id']!r} with {bad['code']!r} twice"
        )
    return codings
