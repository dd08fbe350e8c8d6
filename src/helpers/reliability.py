"""Coding reliability: human-coded samples, agreement statistics, second-coder sheets.

Every coding (a human annotation file, the dictionary's ``coding_units.csv``, a returned
second-coder sheet) is turned into one long table, the *codings* layout::

    coder        unit_id               code       value
    annotator-A  report2024-1.1-p1-s2  economic   1

one row per coder × unit × code; ``value`` is the category (0/1 for the codebook's codes, any whole
number for nominal data in general). A unit a coder did not code has no rows for that coder: missing
data is an absent row, never a blank value. Annotation files add a ``split`` column (dev/holdout),
which the statistics ignore. The converters (:func:`annotations_read`, :func:`codings_from_wide`,
:func:`sheet_read`) produce this table; the statistics (:func:`codings_agreement`) and the
disagreement list (:func:`codings_disagreements`) consume it, so nobody passes raw matrices.

Agreement statistics, per code (see :func:`codings_agreement` for the definitions and for what is
reported when a statistic is undefined): percent agreement, Holsti's CR, Cohen's kappa (Light's mean
pairwise kappa for three or more coders), Fleiss' kappa, Krippendorff's alpha (nominal, from the
``krippendorff`` package) and, against a reference coder, precision, recall and F1; percentile
bootstrap confidence intervals over units with a seed; macro averages over codes.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterable, Sequence
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.codebook import Codebook
from helpers.errors import InputError, path_display
from helpers.tables import cell_unescape, path_resolve, table_write, workbook_save

HOLDOUT_SEED = 20261123
BOOTSTRAP_SEED = 20261123

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

#: Statistics of :func:`codings_agreement`, in column order; each has ``_ci_low``/``_ci_high``
#: columns.
STATISTICS = (
    "percent_agreement",
    "holsti_cr",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "precision",
    "recall",
    "f1",
)
#: The unit counts of an agreement table, and all its columns in order (without ``note``).
COUNT_COLUMNS = ("n_both", "n_first_only", "n_second_only", "n_neither")
AGREEMENT_COLUMNS = (
    "comparison",
    "code",
    "n_coders",
    "n_units",
    *COUNT_COLUMNS,
    *(col for name in STATISTICS for col in (name, f"{name}_ci_low", f"{name}_ci_high")),
)
MACRO = "(macro)"

SHEET_CODING = "coding"
SHEET_CODEBOOK = "codebook"
SHEET_INSTRUCTIONS = "instructions"
SHEET_UNIT_COLUMNS = ("unit_id", "heading_path", "text")
SHEET_NOTE_COLUMN = "note"
SHEET_CODER_CELL = "B3"
SHEET_DEFAULT_CODER = "second-coder"
#: Workbook and archive timestamps are fixed so that re-runs write identical bytes.


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


# --------------------------------------------------------------------------------------------------
# The long layout and its converters
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Agreement statistics
# --------------------------------------------------------------------------------------------------


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Return Cohen's kappa of two codings of the same units (NaN marks a unit one coder left out).

    κ = (p_o − p_e) / (1 − p_e), with p_o the share of units (coded by both) given the same value
    and p_e = Σ_k p_a(k) p_b(k) from each coder's own marginal distribution. Undefined (NaN) when
    p_e = 1, i.e. both coders gave every unit the same single value (e.g. a code nobody used):
    there is no variation to agree on beyond chance. Written out here because it is three lines and
    it keeps the NaN cases explicit.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[both], b[both]
    if not len(a):
        return float("nan")
    p_o = float(np.mean(a == b))
    cats = np.union1d(a, b)
    p_e = float(sum(np.mean(a == k) * np.mean(b == k) for k in cats))
    if p_e >= 1.0:
        return float("nan")
    return (p_o - p_e) / (1.0 - p_e)


def fleiss_kappa(values: np.ndarray) -> float:
    """Return Fleiss' kappa of a coders × units matrix (NaN: not coded) on units every coder coded.

    P_i = (Σ_k n_ik² − m) / (m(m − 1)) per unit (n_ik coders gave value k, m coders), P̄ their mean,
    p_k the share of all assignments that are k, P_e = Σ p_k², κ = (P̄ − P_e)/(1 − P_e). NaN when
    P_e = 1 (no variation) or fewer than two coders or no unit coded by all. For two coders it is
    Scott's pi.
    """
    m = np.asarray(values, dtype=float)
    if m.shape[0] < 2:
        return float("nan")
    m = m[:, ~np.isnan(m).any(axis=0)]
    n_coders, n_units = m.shape
    if not n_units:
        return float("nan")
    cats = np.unique(m)
    counts = np.stack([(m == k).sum(axis=0) for k in cats], axis=1)  # units × categories
    p_i = ((counts**2).sum(axis=1) - n_coders) / (n_coders * (n_coders - 1))
    p_bar = p_i.mean()
    p_k = counts.sum(axis=0) / (n_units * n_coders)
    p_e = float((p_k**2).sum())
    if p_e >= 1.0:
        return float("nan")
    return float((p_bar - p_e) / (1.0 - p_e))


def krippendorff_alpha(values: np.ndarray) -> float:
    """Return Krippendorff's alpha (nominal) of a coders × units matrix, NaN marking missing values.

    Computed by the ``krippendorff`` package. Undefined (NaN) when the pairable values (units coded
    by at least two coders) show fewer than two distinct values, because the expected disagreement
    is then zero (e.g. a code nobody used), and when no unit was coded by two coders.
    """
    import krippendorff

    m = np.asarray(values, dtype=float)
    pairable = m[:, (~np.isnan(m)).sum(axis=0) >= 2]
    if pairable.size == 0:
        return float("nan")
    domain = np.unique(pairable[~np.isnan(pairable)])
    if len(domain) < 2:
        return float("nan")
    counts = np.stack([(pairable == k).sum(axis=0) for k in domain], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = float(
            krippendorff.alpha(
                value_counts=counts, value_domain=domain, level_of_measurement="nominal"
            )
        )
    return a if np.isfinite(a) else float("nan")


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Percent agreement, Holsti's CR and Cohen's kappa of two coders."""
    da, db = ~np.isnan(a), ~np.isnan(b)
    both = da & db
    n = int(both.sum())
    if not n:
        return float("nan"), float("nan"), float("nan")
    agree = int((a[both] == b[both]).sum())
    return agree / n, 2 * agree / (int(da.sum()) + int(db.sum())), cohen_kappa(a, b)


def _ratio(num: int, den: int) -> float:
    return num / den if den else float("nan")


def _code_statistics(m: np.ndarray, reference: bool) -> dict[str, float]:
    """All statistics of a code's coders × units matrix (row 0: the reference if ``reference``)."""
    pairs = [_pair(m[i], m[j]) for i, j in combinations(range(m.shape[0]), 2)]
    arr = np.array(pairs, dtype=float)
    mean = [float(np.nanmean(col)) if (~np.isnan(col)).any() else float("nan") for col in arr.T]
    out = {
        "percent_agreement": mean[0],
        "holsti_cr": mean[1],
        "cohen_kappa": mean[2],
        "fleiss_kappa": fleiss_kappa(m),
        "krippendorff_alpha": krippendorff_alpha(m),
    }
    if reference:
        ref, other = m[0], m[1]
        both = ~np.isnan(ref) & ~np.isnan(other)
        r, o = ref[both] == 1, other[both] == 1
        tp, fp, fn = int((r & o).sum()), int((~r & o).sum()), int((r & ~o).sum())
        out.update(
            precision=_ratio(tp, tp + fp),
            recall=_ratio(tp, tp + fn),
            f1=_ratio(2 * tp, 2 * tp + fp + fn),
        )
    else:
        out.update(precision=float("nan"), recall=float("nan"), f1=float("nan"))
    return out


def _code_counts(m: np.ndarray) -> dict[str, object]:
    """Units coded by all, and for two coders the 2 × 2 table of presence (value 1)."""
    complete = ~np.isnan(m).any(axis=0)
    n_units = int(complete.sum())
    out: dict[str, object] = {"n_units": n_units}
    if m.shape[0] == 2:
        a, b = m[0, complete] == 1, m[1, complete] == 1
        out.update(
            n_both=int((a & b).sum()),
            n_first_only=int((a & ~b).sum()),
            n_second_only=int((~a & b).sum()),
            n_neither=int((~a & ~b).sum()),
        )
    else:
        out.update(n_both=pd.NA, n_first_only=pd.NA, n_second_only=pd.NA, n_neither=pd.NA)
    return out


def _code_notes(m: np.ndarray, stats: dict[str, float], reference: bool) -> list[str]:
    notes = []
    observed = np.unique(m[~np.isnan(m)])
    if len(observed) <= 1:
        v = "no value" if not len(observed) else f"{observed[0]:g}"
        notes.append(
            f"no variation: every coder gave {v} to every unit, so kappa and alpha are undefined "
            "(NaN); percent agreement and Holsti's CR are 1"
        )
    else:
        if np.isnan(stats["cohen_kappa"]):
            notes.append("kappa undefined (NaN) for a pair of coders without variation")
        if np.isnan(stats["krippendorff_alpha"]):
            notes.append(
                "alpha undefined (NaN): no variation among the units coded by two or more coders"
            )
    if reference:
        if np.isnan(stats["precision"]) and len(observed) > 1:
            notes.append("precision undefined (NaN): the compared coder never coded 1")
        if np.isnan(stats["recall"]) and len(observed) > 1:
            notes.append("recall undefined (NaN): the reference never coded 1")
        if np.isnan(stats["f1"]) and len(observed) > 1:
            notes.append("F1 undefined (NaN): neither coder coded 1")
        if len(observed) <= 1:
            notes.append("precision, recall and F1 undefined (NaN): nobody coded 1")
    return notes


def _matrices(
    codings: pd.DataFrame, coders: Sequence[str], codes: Sequence[str], unit_ids: Sequence[str]
) -> np.ndarray:
    """Return a codes × coders × units float array (NaN = not coded)."""
    out = np.full((len(codes), len(coders), len(unit_ids)), np.nan)
    ci = {c: i for i, c in enumerate(codes)}
    ri = {c: i for i, c in enumerate(coders)}
    ui = {u: i for i, u in enumerate(unit_ids)}
    sub = codings[
        codings["coder"].isin(ri) & codings["code"].isin(ci) & codings["unit_id"].isin(ui)
    ]
    out[
        sub["code"].map(ci).to_numpy(),
        sub["coder"].map(ri).to_numpy(),
        sub["unit_id"].map(ui).to_numpy(),
    ] = sub["value"].to_numpy(dtype=float)
    return out


def _weights_draw(
    n_units: int, n_bootstrap: int, rng: np.random.Generator, clusters: np.ndarray | None = None
) -> np.ndarray:
    """Return the resample weights: how often each unit is drawn (``n_bootstrap × n_units`` ints).

    Without ``clusters`` the units are drawn with replacement (``rng.integers``, the same draws as a
    loop over resamples would make). With ``clusters`` (the cluster number of each unit, 0..G−1)
    whole clusters are drawn with replacement and each unit gets its cluster's count: a bootstrap
    over documents, not units.
    """
    if clusters is None:
        idx = rng.integers(0, n_units, size=(n_bootstrap, n_units))
        flat = idx + (np.arange(n_bootstrap, dtype=np.int64) * n_units)[:, None]
        counts = np.bincount(flat.ravel(), minlength=n_bootstrap * n_units)
        return counts.reshape(n_bootstrap, n_units)
    n_clusters = int(clusters.max()) + 1
    idx = rng.integers(0, n_clusters, size=(n_bootstrap, n_clusters))
    flat = idx + (np.arange(n_bootstrap, dtype=np.int64) * n_clusters)[:, None]
    counts = np.bincount(flat.ravel(), minlength=n_bootstrap * n_clusters)
    counts = counts.reshape(n_bootstrap, n_clusters)
    return counts[:, clusters]


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _nanmean_rows(arr: np.ndarray) -> np.ndarray:
    """Mean over axis 0 ignoring NaN; NaN (without a warning) where every value is NaN."""
    ok = ~np.isnan(arr)
    n = ok.sum(axis=0)
    return _divide(np.where(ok, arr, 0.0).sum(axis=0), n.astype(float))


def _indicators(m: np.ndarray, reference: bool) -> tuple[np.ndarray, dict]:
    """Return per-unit columns whose weighted sums give each statistic of one code, and the layout.

    ``m`` is the code's coders × units matrix (NaN = not coded). Each statistic of
    :func:`_code_statistics` is a function of sums over units of these columns (counts of agreement,
    of each category, of coincidences …), so a resample that draws unit u ``w[u]`` times has the
    sums ``w @ columns``: see :func:`_weighted_statistics`.
    """
    n_coders = m.shape[0]
    coded = ~np.isnan(m)
    cats = np.unique(m[coded])
    n_cats = len(cats)
    is_k = np.stack([(m == k) for k in cats], axis=-1) if n_cats else np.zeros((*m.shape, 0), bool)
    cols: list[np.ndarray] = []
    spec: dict = {"n_coders": n_coders, "n_cats": n_cats, "reference": reference, "pairs": []}

    def add(*arrays: np.ndarray) -> slice:
        start = sum(c.shape[1] for c in cols)
        block = (
            np.column_stack([np.asarray(a, dtype=np.float64) for a in arrays]) if arrays else None
        )
        if block is not None:
            cols.append(block)
        return slice(start, start + (0 if block is None else block.shape[1]))

    for i, j in combinations(range(n_coders), 2):
        both = coded[i] & coded[j]
        spec["pairs"].append(
            {
                "n": add(both),
                "agree": add(both & (m[i] == m[j])),
                "decided": add(coded[i] + 0 + coded[j]),
                "na": add(*(is_k[i, :, k] & both for k in range(n_cats))),
                "nb": add(*(is_k[j, :, k] & both for k in range(n_cats))),
            }
        )
    if n_coders >= 2 and n_cats:
        complete = coded.all(axis=0)
        n_uk = is_k.sum(axis=0) * complete[:, None]
        p_i = ((n_uk**2).sum(axis=1) - n_coders) / (n_coders * (n_coders - 1)) * complete
        spec["fleiss"] = {"n": add(complete), "p": add(p_i), "k": add(*n_uk.T)}
        m_u = coded.sum(axis=0)
        n_uc = is_k.sum(axis=0) * (m_u >= 2)[:, None]
        o_cc = n_uc * (n_uc - 1.0) / np.maximum(m_u - 1, 1)[:, None]
        spec["alpha"] = {"n_c": add(*n_uc.T), "o_cc": add(o_cc.sum(axis=1))}
    if reference:
        both = coded[0] & coded[1]
        r, o = both & (m[0] == 1), both & (m[1] == 1)
        spec["prf"] = {"tp": add(r & o), "fp": add(~r & o), "fn": add(r & ~o)}
    features = np.hstack(cols) if cols else np.zeros((m.shape[1], 0))
    return features, spec


def _statistics_from_sums(s: np.ndarray, spec: dict) -> np.ndarray:
    """Every statistic from the weighted sums ``s`` (resamples × columns of :func:`_indicators`)."""
    out = np.full((s.shape[0], len(STATISTICS)), np.nan)
    pa, cr, ck = [], [], []
    for p in spec["pairs"]:
        n, agree, decided = s[:, p["n"]][:, 0], s[:, p["agree"]][:, 0], s[:, p["decided"]][:, 0]
        p_o = _divide(agree, n)
        p_e = _divide((s[:, p["na"]] * s[:, p["nb"]]).sum(axis=1), n * n)
        kappa = _divide(p_o - p_e, 1.0 - p_e)
        kappa[~(p_e < 1.0)] = np.nan
        pa.append(p_o)
        cr.append(_divide(2.0 * agree, decided))
        ck.append(kappa)
    if pa:
        out[:, 0], out[:, 1], out[:, 2] = (_nanmean_rows(np.array(x)) for x in (pa, cr, ck))
    if "fleiss" in spec:
        f, n_coders = spec["fleiss"], spec["n_coders"]
        n_units = s[:, f["n"]][:, 0]
        p_bar = _divide(s[:, f["p"]][:, 0], n_units)
        p_e = (_divide(s[:, f["k"]], (n_units * n_coders)[:, None]) ** 2).sum(axis=1)
        fleiss = _divide(p_bar - p_e, 1.0 - p_e)
        fleiss[~(p_e < 1.0) | (n_units == 0)] = np.nan
        out[:, 3] = fleiss
        a = spec["alpha"]
        n_c = s[:, a["n_c"]]
        total = n_c.sum(axis=1)
        d_e = total**2 - (n_c**2).sum(axis=1)
        alpha = 1.0 - _divide((total - 1.0) * (total - s[:, a["o_cc"]][:, 0]), d_e)
        alpha[~(d_e > 0)] = np.nan
        out[:, 4] = alpha
    if "prf" in spec:
        q = spec["prf"]
        tp, fp, fn = (s[:, q[k]][:, 0] for k in ("tp", "fp", "fn"))
        out[:, 5], out[:, 6], out[:, 7] = (
            _divide(tp, tp + fp),
            _divide(tp, tp + fn),
            _divide(2 * tp, 2 * tp + fp + fn),
        )
    return out


def _weighted_statistics(m: np.ndarray, w: np.ndarray, reference: bool) -> np.ndarray:
    """Every statistic of one code's coders × units matrix under unit weights, for many resamples.

    ``w`` is ``n_resamples × n_units`` (how often each unit is drawn, :func:`_weights_draw`); a
    resample is the matrix with unit u repeated ``w[b, u]`` times, so each statistic is a function
    of weighted sums ``w @ columns`` (:func:`_indicators`), one matrix product for all of them.
    Returns an ``n_resamples × len(STATISTICS)`` array, NaN where a statistic is undefined, with the
    definitions and undefined cases of :func:`_code_statistics` (a test checks them resample by
    resample).
    """
    features, spec = _indicators(m, reference)
    return _statistics_from_sums(np.asarray(w, dtype=np.float64) @ features, spec)


def _cluster_note(n_clusters: int, min_clusters: int) -> str:
    if n_clusters < min_clusters:
        return (
            f"pooled over {n_clusters} documents; no interval: a bootstrap over fewer than "
            f"{min_clusters} documents does not give one"
        )
    return f"interval: bootstrap over {n_clusters} documents (whole documents resampled)"


def codings_agreement(
    codings: pd.DataFrame,
    *,
    coders: Sequence[str] | None = None,
    reference: str | None = None,
    codes: Sequence[str] | None = None,
    units: Iterable[str] | None = None,
    n_bootstrap: int = 1000,
    seed: int = BOOTSTRAP_SEED,
    confidence: float = 0.95,
    clusters: pd.Series | dict | None = None,
    min_clusters: int = 5,
) -> pd.DataFrame:
    """Return agreement statistics per code between two or more codings, with a macro-average row.

    ``codings`` is the long layout (coder, unit_id, code, value). ``coders`` chooses and orders the
    coders (default: all, in order of appearance); ``reference`` names the reference coding (it must
    be one of exactly two coders; it is put first), which adds precision, recall and F1 of the other
    coder, presence (value 1) being the positive class. ``codes`` chooses the codes (default: all,
    in order of appearance), ``units`` restricts the units (e.g. the held-out ones).

    Statistics, per code, on the units' 0/1 decisions:

    - ``percent_agreement``: share of units (coded by both) on which two coders agree.
    - ``holsti_cr``: Holsti's 2M/(N1 + N2), with N1, N2 the numbers of units each coder made a
      decision on for this code and M the units both decided the same way. It equals percent
      agreement when both coded the same units, and is lower when they coded different units.
    - ``cohen_kappa``: Cohen's kappa (:func:`cohen_kappa`); for three or more coders the mean over
      pairs (Light's kappa).
    - ``fleiss_kappa``: Fleiss' kappa over the units every coder coded (Scott's pi for two coders).
    - ``krippendorff_alpha``: Krippendorff's nominal alpha; uses every unit coded by two or more.
    - ``precision``, ``recall``, ``f1`` (only with ``reference``): TP/(TP + FP), TP/(TP + FN) and
      2TP/(2TP + FP + FN), where TP = both coded 1, FP = only the other coder, FN = only the
      reference.

    For three or more coders percent agreement and Holsti's CR are means over pairs as well.

    Degenerate cases are reported, not hidden: a code nobody used (every value 0) has percent
    agreement and Holsti's CR 1 and undefined (NaN) kappa, alpha, precision, recall and F1, with the
    reason in ``note``; perfect agreement with variation gives kappa and alpha 1. Macro averages
    (row ``(macro)``) are means over the codes where the statistic is defined; the codes left out
    are named in its note.

    Confidence intervals: percentile bootstrap over units (``n_bootstrap`` resamples of the units
    with replacement, drawn once with ``seed`` and shared by every code, so the macro interval is
    consistent); a resample where a statistic is undefined is skipped for it, and the note says how
    many were used. With few units coded 1 the interval is conditional on the resamples that contain
    them and much too narrow (one positive unit: kappa is 1 or undefined in every resample); the
    note says so when fewer than five units were coded 1 by anyone. ``n_bootstrap=0`` gives no
    intervals. The resamples are computed at once with numpy (each statistic is a function of
    weighted counts), so 9,999 resamples take well under a second; the same seed gives the same
    intervals.

    ``clusters`` (unit id → document id, or any grouping) makes it a **cluster bootstrap**: whole
    documents are resampled with replacement, with all their units, and the point estimates stay
    those of the pooled units. Units of one document share vocabulary, phrasing and a coder's
    reading, so they are not independent; resampling units treats them as if they were and gives
    intervals that are too narrow for a new corpus. With fewer than ``min_clusters`` documents no
    interval is computed (NaN, and the note says why): two documents allow three distinct resamples,
    whose spread is the difference between the documents, not a confidence interval.

    Columns: comparison, code, n_coders, n_units (units coded by every coder), n_both, n_first_only,
    n_second_only, n_neither (two coders only: presence counts, first = reference), then each
    statistic with ``_ci_low`` and ``_ci_high``, then note.
    """
    codings_validate(codings)
    coders = list(coders) if coders is not None else list(pd.unique(codings["coder"]))
    if len(coders) < 2:  # e.g. a single annotation file: one coder cannot agree with anybody
        return _agreement_not_assessed(
            codings,
            coders,
            reference,
            codes,
            f"agreement needs two or more coders, got {coders or 'none'}",
        )
    coded_by = set(codings["coder"])
    unknown = [c for c in coders if c not in coded_by]
    if reference is not None and reference not in coders:
        raise ValueError(f"reference {reference!r} must be one of exactly two coders, got {coders}")
    if unknown:  # e.g. no annotation files: say so in the table instead of stopping the notebook
        present = ", ".join(pd.unique(codings["coder"])) or "none"
        return _agreement_not_assessed(
            codings,
            coders,
            reference,
            codes,
            f"no codings by {', '.join(unknown)} (coders with codings: {present})",
        )
    if reference is not None:
        if len(coders) != 2 or reference not in coders:
            raise ValueError(
                f"reference {reference!r} must be one of exactly two coders, got {coders}"
            )
        coders = [reference] + [c for c in coders if c != reference]
    sub = codings[codings["coder"].isin(coders)]
    if units is not None:
        keep = list(dict.fromkeys(units))
        sub = sub[sub["unit_id"].isin(set(keep))]
        present = set(sub["unit_id"])  # once: a set per unit was quadratic in the units
        unit_ids = [u for u in keep if u in present]
    else:
        unit_ids = list(pd.unique(sub["unit_id"]))
    codes = list(codes) if codes is not None else list(pd.unique(codings["code"]))
    if not unit_ids:
        return _agreement_not_assessed(codings, coders, reference, codes, "no units to compare")
    data = _matrices(sub, coders, codes, unit_ids)
    has_ref = reference is not None
    label = " vs ".join(coders)

    point = [_code_statistics(data[k], has_ref) for k in range(len(codes))]
    boot = np.full((n_bootstrap, len(codes), len(STATISTICS)), np.nan)
    cluster_ids, n_clusters = None, 0
    if clusters is not None:
        of = pd.Series(clusters) if not isinstance(clusters, pd.Series) else clusters
        of = of[~of.index.duplicated()]
        # vectorised: `u in of.index` scans a string-dtype index, quadratic in the units
        cluster_of = of.reindex(unit_ids)
        lost = [u for u, na in zip(unit_ids, cluster_of.isna().to_numpy()) if na]
        if lost:
            raise KeyError(f"{len(lost)} unit(s) have no cluster (document), e.g. {lost[0]!r}")
        cluster_ids, names = pd.factorize(cluster_of, sort=True)
        n_clusters = len(names)
        if n_clusters < min_clusters:
            n_bootstrap = 0
            boot = np.full((0, len(codes), len(STATISTICS)), np.nan)
    if n_bootstrap > 0:
        rng = np.random.default_rng(seed)
        weights = _weights_draw(len(unit_ids), n_bootstrap, rng, cluster_ids)
        parts = [_indicators(data[k], has_ref) for k in range(len(codes))]
        # one matrix product for every statistic of every code
        sums = weights.astype(np.float64) @ np.hstack([f for f, _ in parts])
        start = 0
        for k, (f, spec) in enumerate(parts):
            boot[:, k] = _statistics_from_sums(sums[:, start : start + f.shape[1]], spec)
            start += f.shape[1]
    tail = (1 - confidence) / 2 * 100

    def interval(samples: np.ndarray) -> tuple[float, float, int]:
        ok = samples[~np.isnan(samples)]
        if n_bootstrap == 0 or not len(ok):
            return float("nan"), float("nan"), len(ok)
        lo, hi = np.percentile(ok, [tail, 100 - tail])
        return float(lo), float(hi), len(ok)

    shown = STATISTICS if has_ref else STATISTICS[:5]
    rows = []
    for k, code in enumerate(codes):
        row: dict[str, object] = {
            "comparison": label,
            "code": code,
            "n_coders": len(coders),
            **_code_counts(data[k]),
        }
        notes = _code_notes(data[k], point[k], has_ref)
        absent = [c for c, values in zip(coders, data[k]) if np.isnan(values).all()]
        if absent:  # e.g. a code added to the codebook after the annotation files were made
            notes = [
                f"{NOT_ASSESSED}: no coding of {code!r} by {', '.join(absent)} (add a column for "
                "it to the annotation file, or code it with the second-coder sheet)"
            ]
        short: dict[int, list[str]] = {}
        for j, name in enumerate(STATISTICS):
            lo, hi, used = interval(boot[:, k, j])
            row[name], row[f"{name}_ci_low"], row[f"{name}_ci_high"] = point[k][name], lo, hi
            if (
                name in shown
                and n_bootstrap
                and 0 < used < n_bootstrap
                and not np.isnan(point[k][name])
            ):
                short.setdefault(used, []).append(name)
        if short:
            notes.append(
                "interval from the resamples where the statistic is defined: "
                + "; ".join(
                    f"{used} of {n_bootstrap} for {', '.join(names)}"
                    for used, names in short.items()
                )
            )
        positive = int((data[k] == 1).any(axis=0).sum())
        if n_bootstrap and 0 < positive < 5:
            notes.append(f"only {positive} unit(s) coded 1 by anyone: the interval says little")
        if cluster_ids is not None:
            notes.append(_cluster_note(n_clusters, min_clusters))
        row["note"] = "; ".join(notes)
        rows.append(row)

    macro: dict[str, object] = {
        "comparison": label,
        "code": MACRO,
        "n_coders": len(coders),
        "n_units": len(unit_ids),
    }
    for col in COUNT_COLUMNS:
        macro[col] = sum(int(r[col]) for r in rows) if len(coders) == 2 else pd.NA
    left_out = []
    for j, name in enumerate(STATISTICS):
        vals = np.array([p[name] for p in point])
        macro[name] = float(np.nanmean(vals)) if (~np.isnan(vals)).any() else float("nan")
        with (
            warnings.catch_warnings()
        ):  # a resample where no code has the statistic: mean of nothing
            warnings.simplefilter("ignore", RuntimeWarning)
            per_resample = np.nanmean(boot[:, :, j], axis=1) if n_bootstrap else np.array([])
        lo, hi, _ = interval(per_resample)
        macro[f"{name}_ci_low"], macro[f"{name}_ci_high"] = lo, hi
        missing = [c for c, v in zip(codes, vals) if np.isnan(v)]
        if name in shown and missing and len(missing) < len(codes):
            left_out.append(f"{name} ({', '.join(missing)})")
    macro["note"] = f"mean over the {len(codes)} codes" + (
        "; undefined and left out: " + "; ".join(left_out) if left_out else ""
    )
    if cluster_ids is not None:
        macro["note"] += "; " + _cluster_note(n_clusters, min_clusters)
    rows.append(macro)
    out = pd.DataFrame(rows, columns=[*AGREEMENT_COLUMNS, "note"])
    for col in COUNT_COLUMNS:
        out[col] = out[col].astype("Int64")
    return out


def codings_agreement_by(codings: pd.DataFrame, groups: pd.Series | dict, **kwargs) -> pd.DataFrame:
    """Return :func:`codings_agreement` for each group of units (a document, a genre), one table.

    ``groups`` maps unit id → group (``units.set_index("unit_id")["doc_id"]``); groups come in order
    of first appearance, units without a group are left out, and a ``units=`` argument restricts the
    units before grouping. Each group's interval is a bootstrap over its own units (or its
    documents, with ``clusters=``). Exists to show how agreement varies from one document to the
    next, which the pooled figure hides. Columns: group,
    then those of :func:`codings_agreement`.
    """
    of = pd.Series(groups) if not isinstance(groups, pd.Series) else groups
    of = of[~of.index.duplicated() & of.notna()]
    keep = kwargs.pop("units", None)
    coded = set(codings["unit_id"]) if keep is None else set(keep) & set(codings["unit_id"])
    frames = []
    for group in pd.unique(of):
        members = [u for u in of.index[of == group] if u in coded]
        if members:
            frames.append(codings_agreement(codings, units=members, **kwargs).assign(group=group))
    if not frames:  # e.g. no annotation files: a "not assessed" table, not an exception
        out = codings_agreement(codings, units=[], **kwargs)
        out.insert(0, "group", pd.NA)
        return out
    out = pd.concat(frames, ignore_index=True)
    return out[["group", *[c for c in out.columns if c != "group"]]]


def agreements_tabulate(
    named: dict[str, pd.DataFrame], statistic: str = "cohen_kappa", *, digits: int = 3
) -> pd.DataFrame:
    """Return a statistic of several agreement tables side by side: a row per code, a column each.

    ``named`` maps a label that says how the figure was obtained (``"by document"``, ``"unit split,
    held-out units"``) to a table of :func:`codings_agreement`. Cells read ``value [low, high]``;
    ``n_units`` columns say how many units each figure rests on. For display; the tables themselves
    are written separately.
    """
    codes: list[str] = []
    for t in named.values():
        codes += [c for c in t["code"] if c not in codes and c != MACRO]
    codes.append(MACRO)
    out = pd.DataFrame({"code": codes})
    for label, t in named.items():
        t = t.drop_duplicates("code").set_index("code")
        cells = []
        for c in codes:
            if c not in t.index or pd.isna(t.at[c, statistic]):
                cells.append("NaN" if c in t.index else "")
                continue
            lo, hi = t.at[c, f"{statistic}_ci_low"], t.at[c, f"{statistic}_ci_high"]
            ci = "" if pd.isna(lo) else f" [{lo:.{digits}f}, {hi:.{digits}f}]"
            cells.append(f"{t.at[c, statistic]:.{digits}f}{ci}")
        out[label] = cells
        out[f"n_units ({label})"] = [
            int(t.at[c, "n_units"]) if c in t.index else pd.NA for c in codes
        ]
    return out


def agreements_stack(named: dict[tuple[str, str], pd.DataFrame]) -> pd.DataFrame:
    """Return several agreement tables as one long table, each labelled by how it was obtained.

    ``named`` maps (evaluation, coder) to a table of :func:`codings_agreement`: the evaluation says
    on which units and how the figure was obtained (``"validation set, holdout documents"``), the
    coder which coder was compared with the reference. Columns: evaluation, coder, then those of
    the tables, in the order of ``named`` (``reliability_validity.csv``).
    """
    out = pd.concat(
        [t.assign(evaluation=e, coder=c) for (e, c), t in named.items()], ignore_index=True
    )
    return out[
        ["evaluation", "coder", *[c for c in out.columns if c not in ("evaluation", "coder")]]
    ]


def second_coder_agreement(
    codings: pd.DataFrame,
    second: pd.DataFrame,
    *,
    reference: str,
    coders: Sequence[str],
    **kwargs,
) -> pd.DataFrame:
    """Return a second coder's agreement with the reference coder, then with every human coder.

    ``second`` is the returned second-coder sheet in the long layout (:func:`sheet_read`);
    ``coders`` the human coders of ``codings``. Two tables of :func:`codings_agreement` one after
    the other (``reliability_second_coder.csv``): the pair (reference, second coder), then all
    human coders with the second (Fleiss' kappa and Krippendorff's alpha over them). ``kwargs``
    go to :func:`codings_agreement` (bootstrap options).
    """
    name = second["coder"].iloc[0]
    both = pd.concat([codings, second], ignore_index=True)
    return pd.concat(
        [
            codings_agreement(both, coders=[reference, name], **kwargs),
            codings_agreement(both, coders=[*coders, name], **kwargs),
        ],
        ignore_index=True,
    )


def _agreement_not_assessed(
    codings: pd.DataFrame,
    coders: list[str],
    reference: str | None,
    codes: Sequence[str] | None,
    reason: str,
) -> pd.DataFrame:
    """Return the table of :func:`codings_agreement` for a comparison that cannot be made, with a
    warning.

    One row per code and the macro row, every statistic NaN, ``note`` saying "not assessed" and why,
    so that the notebook and the report show the gap instead of stopping.
    """
    warnings.warn(
        f"agreement {' vs '.join(coders) or '(no coders)'} {NOT_ASSESSED}: {reason}",
        AnnotationWarning,
        stacklevel=3,
    )
    codes = list(codes) if codes is not None else list(pd.unique(codings["code"]))
    label = (
        " vs ".join(coders)
        if reference is None
        else " vs ".join([reference, *(c for c in coders if c != reference)])
    )
    rows = [
        {
            "comparison": label,
            "code": c,
            "n_coders": len(coders),
            "n_units": 0,
            "note": f"{NOT_ASSESSED}: {reason}",
        }
        for c in [*codes, MACRO]
    ]
    out = pd.DataFrame(rows, columns=[*AGREEMENT_COLUMNS, "note"])
    for col in COUNT_COLUMNS:
        out[col] = out[col].astype("Int64")
    for name in STATISTICS:
        for col in (name, f"{name}_ci_low", f"{name}_ci_high"):
            out[col] = out[col].astype(float)
    return out


def agreement_compare(
    agreement: pd.DataFrame,
    *,
    target: float = 0.7,
    mean_target: float = 0.8,
    statistic: str = "cohen_kappa",
) -> pd.DataFrame:
    """Return, per code and for the macro mean, the statistic against its target and whether it
    meets it.

    ``target`` applies to each code and ``mean_target`` to the ``(macro)`` row. ``meets`` is True or
    False, or NA where the statistic is undefined (a code nobody used cannot meet a kappa target).
    Columns: comparison, code, statistic, value, ci_low, ci_high, target, meets.
    """
    rows = []
    for r in agreement.itertuples(index=False):
        value = getattr(r, statistic)
        t = mean_target if r.code == MACRO else target
        rows.append(
            {
                "comparison": r.comparison,
                "code": r.code,
                "statistic": statistic,
                "value": value,
                "ci_low": getattr(r, f"{statistic}_ci_low"),
                "ci_high": getattr(r, f"{statistic}_ci_high"),
                "target": t,
                "meets": pd.NA if pd.isna(value) else bool(value >= t),
            }
        )
    out = pd.DataFrame(rows)
    out["meets"] = out["meets"].astype("boolean")
    return out


def agreement_describe(compared: pd.DataFrame) -> str:
    """Return the verdict of :func:`agreement_compare` in words: the mean, then which codes meet it.

    One line for the mean, one for the codes that meet the per-code target, one for those that do
    not (with their values) and one for codes where the statistic is undefined, so a notebook can
    say plainly which codes pass.
    """
    lines = []
    for comparison, g in compared.groupby("comparison", sort=False):
        stat = g["statistic"].iloc[0]
        macro = g[g["code"] == MACRO]
        codes = g[g["code"] != MACRO]
        if len(macro):
            m = macro.iloc[0]
            verdict = (
                "undefined" if pd.isna(m["meets"]) else ("meets" if m["meets"] else "does NOT meet")
            )
            lines.append(
                f"{comparison}: mean {stat} = {m['value']:.3f} [{m['ci_low']:.3f}, "
                f"{m['ci_high']:.3f}], "
                f"{verdict} the target {m['target']:g}"
            )
        t = codes["target"].iloc[0] if len(codes) else float("nan")
        ok = codes[codes["meets"] == True]  # noqa: E712 - nullable boolean
        bad = codes[codes["meets"] == False]  # noqa: E712
        undefined = codes[codes["meets"].isna()]
        lines.append(
            f"  codes with {stat} >= {t:g} ({len(ok)} of {len(codes)}): "
            + (", ".join(ok["code"]) or "none")
        )
        lines.append(
            f"  codes below {t:g} ({len(bad)}): "
            + (", ".join(f"{r.code} ({r.value:.3f})" for r in bad.itertuples()) or "none")
        )
        if len(undefined):
            lines.append(f"  codes where {stat} is undefined: " + ", ".join(undefined["code"]))
    return "\n".join(lines)


def agreement_summary(
    agreement: pd.DataFrame, statistics: Sequence[str] | None = None, *, digits: int = 3
) -> pd.DataFrame:
    """Return a compact view of :func:`codings_agreement` for reading: ``value [low, high]`` per
    statistic.

    ``statistics`` defaults to those defined for the comparison (precision, recall and F1 only when
    a reference was given). Columns: comparison (only when the table holds several), code, n_units,
    the presence counts, one text column per statistic, note.
    """
    if statistics is None:
        statistics = [s for s in STATISTICS if agreement[s].notna().any()]

    def fmt(v: float, lo: float, hi: float) -> str:
        if pd.isna(v):
            return "NaN"
        ci = "" if pd.isna(lo) else f" [{lo:.{digits}f}, {hi:.{digits}f}]"
        return f"{v:.{digits}f}{ci}"

    counts = [c for c in COUNT_COLUMNS if agreement[c].notna().any()]
    first = ["comparison"] if agreement["comparison"].nunique() > 1 else []
    out = agreement[[*first, "code", "n_units", *counts]].copy()
    for s in statistics:
        out[s] = [
            fmt(v, lo, hi)
            for v, lo, hi in zip(agreement[s], agreement[f"{s}_ci_low"], agreement[f"{s}_ci_high"])
        ]
    out["note"] = agreement["note"]
    return out


# --------------------------------------------------------------------------------------------------
# Disagreements between the dictionary and a human coder
# --------------------------------------------------------------------------------------------------


def codings_disagreements(
    codings: pd.DataFrame,
    units: pd.DataFrame,
    *,
    human: str,
    dictionary: str = DICTIONARY_CODER,
    evidence: pd.DataFrame | None = None,
    codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Return every unit × code where the dictionary and the human coder differ, for review.

    ``type`` is ``false positive`` (dictionary 1, human 0) or ``false negative`` (dictionary 0,
    human 1), the human being the reference. ``evidence`` (``coding_evidence.csv``) gives what fired
    for the code in that unit (``keyword 习近平「习近平」@7-10; …``) or ``nothing fired``. Only
    units both coded are compared. Sorted by code (``codes`` order, default order of appearance),
    then unit order in ``units``.

    Columns: code, unit_id, heading_path, text, human_value, dictionary_value, type, evidence.
    """
    codings_validate(codings)
    codes = list(codes) if codes is not None else list(pd.unique(codings["code"]))
    h = codings[codings["coder"] == human].set_index(["unit_id", "code"])["value"]
    d = codings[codings["coder"] == dictionary].set_index(["unit_id", "code"])["value"]
    if h.empty or d.empty:  # e.g. no annotation files: nothing to list, said so in a warning
        warnings.warn(
            f"disagreements {NOT_ASSESSED}: need codings by {human!r} and {dictionary!r}; coders "
            f"with codings: {', '.join(pd.unique(codings['coder'])) or 'none'}",
            AnnotationWarning,
            stacklevel=2,
        )
        return pd.DataFrame(
            columns=[
                "code",
                "unit_id",
                "heading_path",
                "text",
                "human_value",
                "dictionary_value",
                "type",
                "evidence",
            ]
        )
    both = pd.concat(
        [h.rename("human_value"), d.rename("dictionary_value")], axis=1, join="inner"
    ).reset_index()
    diff = both[both["human_value"] != both["dictionary_value"]].copy()
    diff["type"] = np.where(diff["dictionary_value"] == 1, "false positive", "false negative")
    fired: dict[tuple[str, str], str] = {}
    if evidence is not None and len(evidence):
        for (uid, code), g in evidence.groupby(["unit_id", "code"], sort=False):
            fired[uid, code] = "; ".join(_evidence_text(r) for r in g.itertuples())
    diff["evidence"] = [
        fired.get((u, c), "nothing fired") for u, c in zip(diff["unit_id"], diff["code"])
    ]
    info = units.drop_duplicates("unit_id").set_index("unit_id")
    diff["text"] = diff["unit_id"].map(info["text"]) if "text" in info else ""
    diff["heading_path"] = (
        diff["unit_id"].map(info["heading_path"]) if "heading_path" in info else ""
    )
    order_u = {u: i for i, u in enumerate(info.index)}
    order_c = {c: i for i, c in enumerate(codes)}
    diff = diff[diff["code"].isin(order_c)]
    diff = diff.assign(
        _c=diff["code"].map(order_c), _u=diff["unit_id"].map(order_u).fillna(len(order_u))
    )
    diff = diff.sort_values(["_c", "_u", "unit_id"], kind="stable").drop(columns=["_c", "_u"])
    cols = [
        "code",
        "unit_id",
        "heading_path",
        "text",
        "human_value",
        "dictionary_value",
        "type",
        "evidence",
    ]
    return diff[cols].reset_index(drop=True)


def _evidence_text(r) -> str:
    start, end = getattr(r, "start", ""), getattr(r, "end", "")
    where = f"@{start}-{end}" if pd.notna(start) and str(start) != "" else ""
    return f"{r.indicator_type} {r.indicator}「{r.match}」{where}"


# --------------------------------------------------------------------------------------------------
# Second-coder sheets
# --------------------------------------------------------------------------------------------------


class SheetError(InputError):
    """A returned coding sheet cannot be used. The message names the file, sheet and cell (the
    format of every :class:`~helpers.errors.InputError`)."""


def _instructions(codebook: Codebook) -> list[str]:
    return [
        "How to code (编码说明)",
        "",
        "1. Read the codebook sheet first: each code's definition, what it includes, what it "
        "excludes, and anchor examples. Code by these definitions only.",
        f"2. In the '{SHEET_CODING}' sheet, each row is one unit (a sentence) with its heading "
        "path (the section it belongs to). Read the unit in its context.",
        "3. For every unit and every code, enter 1 if the code applies and 0 if it does not. A "
        "unit may get several codes (multi-label) or none (all 0).",
        "4. Every code cell must hold 0 or 1: an empty cell is an error when the sheet is read "
        "back, so that a forgotten cell is never counted as 0. A unit you did not code at all: "
        "leave its whole row of code cells empty (it is then reported as not coded, only if the "
        "analyst allows uncoded units).",
        "5. Do not rename, add, delete or reorder the columns, and do not change the unit ids. Use "
        f"the '{SHEET_NOTE_COLUMN}' column for remarks on hard cases.",
        f"6. Enter your coder id in cell {SHEET_CODER_CELL} of this sheet.",
        "",
        "每个单元、每个编码类目填 0 或 1（多标签，可全部为 0）；不要留空，不要改动列名和单元编号。",
        f"Codebook: {codebook.title} v{codebook.version}",
    ]


def sheet_write(units: pd.DataFrame, codebook: Codebook, path: str | Path) -> Path:
    """Write a blank second-coder workbook (xlsx) for the units; return the path written.

    Sheet ``coding``: unit_id, heading_path, text, then one column per code (codebook order, code id
    as header) restricted to 0/1 by a data validation list, then ``note``. Sheet ``codebook``: each
    code's dimension, labels, definition, the report's wording, include rules, exclusions and
    anchors (the coding manual of :func:`helpers.codebook.codebook_manual`, without the dictionary's
    keywords, patterns and rules, so that the second coding stays independent). Sheet
    ``instructions``: how to fill it in, and a cell for the coder id. Timestamps are fixed, so the
    same input gives the same bytes.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    missing = [c for c in SHEET_UNIT_COLUMNS if c not in units.columns]
    if missing:
        raise KeyError(f"units table has no column(s) {missing}")
    if units["unit_id"].duplicated().any():
        first = units.loc[units["unit_id"].duplicated(), "unit_id"].iloc[0]
        raise ValueError(f"unit ids must be unique; {first!r}")
    p = path_resolve(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_CODING
    header = [*SHEET_UNIT_COLUMNS, *codebook.ids, SHEET_NOTE_COLUMN]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in units.itertuples(index=False):
        hp = r.heading_path
        ws.append([r.unit_id, "" if pd.isna(hp) else str(hp), str(r.text)])
    first = len(SHEET_UNIT_COLUMNS) + 1
    last = first + len(codebook.ids) - 1
    if len(units):
        dv = DataValidation(
            type="list",
            formula1='"0,1"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="0 or 1",
            error="Enter 0 (code does not apply) or 1 (code applies).",
        )
        dv.add(f"{get_column_letter(first)}2:{get_column_letter(last)}{len(units) + 1}")
        ws.add_data_validation(dv)
    ws.freeze_panes = f"{get_column_letter(first)}2"
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 30
    ws.column_dimensions["C"].width = 80
    for i in range(first, last + 2):
        ws.column_dimensions[get_column_letter(i)].width = 12
    for row in ws.iter_rows(min_row=2, min_col=3, max_col=3):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")

    cb_ws = wb.create_sheet(SHEET_CODEBOOK)
    cb_ws.append(
        [
            "code",
            "dimension",
            "label_zh",
            "label_en",
            "definition",
            "report wording",
            "include",
            "exclusions",
            "anchors",
        ]
    )
    for cell in cb_ws[1]:
        cell.font = Font(bold=True)
    for c in codebook.codes:
        dim = codebook.dimensions.get(c.dimension, {})
        quote = c.definition_quote or {}
        cb_ws.append(
            [
                c.id,
                f"{dim.get('label_zh', c.dimension)} ({c.dimension})",
                c.label_zh,
                c.label_en,
                c.definition,
                f"{quote.get('unit_id', '')}: {quote.get('text', '')}" if quote else "",
                "\n".join(f"- {x}" for x in c.include),
                "\n".join(f"- {x}" for x in c.exclusions),
                "\n".join(f"- {a.get('unit_id', '')}: {a.get('text', '')}" for a in c.anchors),
            ]
        )
    for col, width in zip("ABCDEFGHI", (20, 22, 12, 22, 60, 50, 60, 60, 70)):
        cb_ws.column_dimensions[col].width = width
    for row in cb_ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    ins = wb.create_sheet(SHEET_INSTRUCTIONS)
    ins["A1"] = "Second-coder sheet"
    ins["A1"].font = Font(bold=True)
    ins["A3"] = "coder id:"
    ins[SHEET_CODER_CELL] = None
    for i, line in enumerate(_instructions(codebook), start=5):
        ins.cell(row=i, column=1, value=line)
    ins.column_dimensions["A"].width = 120

    wb.properties.creator = "helpers.reliability"
    return workbook_save(wb, p)


def _cell_value(v) -> int | None | str:
    """0/1 for a valid code cell, None for an empty one, the text of anything else."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float)) and v in (0, 1):
        return int(v)
    if isinstance(v, str) and v.strip() in ("0", "1"):
        return int(v.strip())
    return str(v)


def sheet_read(
    path: str | Path,
    codebook: Codebook,
    units: pd.DataFrame | Iterable[str],
    *,
    coder: str | None = None,
    uncoded: str = "error",
) -> pd.DataFrame:
    """Read a returned second-coder sheet; return its codings in the long layout.

    Checks, each failure a :class:`SheetError` naming the sheet and cell (``sheet 'coding', cell D7:
    value '2' is not 0 or 1``): the ``coding`` sheet exists; the header has ``unit_id`` and one
    column per code, no renamed, unknown or repeated columns (``heading_path``, ``text`` and
    ``note`` are allowed and ignored); every unit id is one of ``units`` (a DataFrame with
    ``unit_id`` or the ids) and appears once; every code cell holds 0 or 1. A formula whose value
    was not saved with the sheet (a sheet written by a script, or saved by a program that does not
    calculate) is reported as such, not as an empty cell.

    Empty cells: by default (``uncoded="error"``) every code cell must be filled, and every unit of
    ``units`` must be in the sheet, so that a forgotten cell or a deleted row is never taken as 0.
    With ``uncoded="skip"`` a unit whose code cells are *all* empty, or that is missing from the
    sheet, is "not coded" and gets no rows (missing data for the statistics); a row filled in part
    is still an error. The coder id is ``coder``, else the instructions sheet's coder cell, else
    ``second-coder``. Returns columns coder, unit_id, code, value.
    """
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    if uncoded not in ("error", "skip"):
        raise ValueError(f"uncoded must be 'error' or 'skip', not {uncoded!r}")
    p = path_resolve(path)
    if not p.exists():
        raise SheetError(p, "file not found")
    try:
        wb = load_workbook(p, data_only=True)
    except Exception as exc:
        raise SheetError(p, f"not a readable xlsx workbook: {exc}") from None
    if SHEET_CODING not in wb.sheetnames:
        raise SheetError(p, f"no sheet {SHEET_CODING!r} (sheets are {wb.sheetnames})")
    ws = wb[SHEET_CODING]
    known = list(units["unit_id"]) if isinstance(units, pd.DataFrame) else list(units)
    known_set = set(known)
    codes = codebook.ids
    allowed = {*SHEET_UNIT_COLUMNS, SHEET_NOTE_COLUMN}
    rows = list(ws.iter_rows(min_row=1, values_only=False))
    if not rows:
        raise SheetError(p, "the sheet is empty", sheet=SHEET_CODING)
    col_of: dict[str, int] = {}
    for cell in rows[0]:
        name = "" if cell.value is None else str(cell.value).strip()
        if not name:
            continue
        if name in col_of:
            raise SheetError(
                p,
                f"column {name!r} appears twice (first in {get_column_letter(col_of[name] + 1)}1)",
                sheet=SHEET_CODING,
                cell=cell.coordinate,
            )
        if name not in codes and name not in allowed:
            missing = [
                c
                for c in codes
                if c not in {str(x.value).strip() for x in rows[0] if x.value is not None}
            ]
            hint = f"; missing code column(s): {', '.join(missing)}" if missing else ""
            raise SheetError(
                p,
                f"column {name!r} is not a code of the codebook (renamed?){hint}",
                sheet=SHEET_CODING,
                cell=cell.coordinate,
            )
        col_of[name] = cell.column - 1
    for need in ["unit_id", *codes]:
        if need not in col_of:
            raise SheetError(
                p, f"no column {need!r} in the header row (row 1)", sheet=SHEET_CODING, cell=None
            )
    who = coder
    if who is None and SHEET_INSTRUCTIONS in wb.sheetnames:
        v = wb[SHEET_INSTRUCTIONS][SHEET_CODER_CELL].value
        who = str(v).strip() if v is not None and str(v).strip() else None
    who = who or SHEET_DEFAULT_CODER
    formulas = None  # the sheet as saved, formulas and not their values: read once, if needed

    def formula_check(cell) -> None:
        """A cell empty in the values may hold a formula whose value was never saved."""
        nonlocal formulas
        if formulas is None:
            formulas = load_workbook(p, data_only=False)[SHEET_CODING]
        saved = formulas[cell.coordinate]
        if saved.data_type == "f":
            text = saved.value if isinstance(saved.value, str) else getattr(saved.value, "text", "")
            raise SheetError(
                p,
                f"the cell holds a formula ({text}) without a saved value (the sheet was saved by "
                "a program that does not calculate formulas): open the sheet in Excel or "
                "LibreOffice and save it again, or type 0 or 1 instead of the formula",
                sheet=SHEET_CODING,
                cell=cell.coordinate,
            )

    out: list[tuple] = []
    seen: dict[str, str] = {}
    for row in rows[1:]:
        id_cell = row[col_of["unit_id"]] if col_of["unit_id"] < len(row) else None
        uid = "" if id_cell is None or id_cell.value is None else str(id_cell.value).strip()
        cells = [row[col_of[c]] if col_of[c] < len(row) else None for c in codes]
        values = [None if c is None else _cell_value(c.value) for c in cells]
        for cell, empty in ((id_cell, not uid), *((c, v is None) for c, v in zip(cells, values))):
            if empty and cell is not None:
                formula_check(cell)
        if not uid:
            if all(v is None for v in values):
                continue  # an empty row
            raise SheetError(
                p,
                "empty unit id in a row with codes",
                sheet=SHEET_CODING,
                cell=f"{get_column_letter(col_of['unit_id'] + 1)}{row[0].row}",
            )
        if uid not in known_set:
            raise SheetError(
                p, f"unknown unit id {uid!r}", sheet=SHEET_CODING, cell=id_cell.coordinate
            )
        if uid in seen:
            raise SheetError(
                p,
                f"unit id {uid!r} appears twice (first in {seen[uid]})",
                sheet=SHEET_CODING,
                cell=id_cell.coordinate,
            )
        seen[uid] = id_cell.coordinate
        if uncoded == "skip" and all(v is None for v in values):
            continue
        for code, cell, v in zip(codes, cells, values):
            where = (
                cell.coordinate
                if cell is not None
                else f"{get_column_letter(col_of[code] + 1)}{row[0].row}"
            )
            if v is None:
                raise SheetError(
                    p,
                    f"empty cell for code {code!r} of unit {uid!r}: enter 0 or 1",
                    sheet=SHEET_CODING,
                    cell=where,
                )
            if isinstance(v, str):
                raise SheetError(p, f"value {v!r} is not 0 or 1", sheet=SHEET_CODING, cell=where)
            out.append((who, uid, code, v))
    if uncoded == "error":
        absent = [u for u in known if u not in seen]
        if absent:
            raise SheetError(
                p,
                f"{len(absent)} unit(s) missing from the sheet (rows deleted?): "
                f"{', '.join(absent[:5])}{' …' if len(absent) > 5 else ''}",
                sheet=SHEET_CODING,
            )
    order = {u: i for i, u in enumerate(known)}
    df = pd.DataFrame(out, columns=CODING_COLUMNS)
    df = df.assign(_u=df["unit_id"].map(order)).sort_values("_u", kind="stable").drop(columns="_u")
    df["value"] = df["value"].astype("int64")
    return df.reset_index(drop=True)


def sheet_agreement_write(
    sheet: str | Path,
    codebook: Codebook,
    units: pd.DataFrame | Iterable[str],
    codings: pd.DataFrame,
    path: str | Path,
    *,
    reference: str,
    coders: Sequence[str],
    **kwargs,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a returned second-coder sheet, write its agreement to ``path``; return both.

    The agreement is :func:`second_coder_agreement` (``kwargs`` passed on). Returns the sheet's
    codings (:func:`sheet_read`) and the agreement table.

    When the sheet cannot be used (a :class:`SheetError`) or anything else fails, the table an
    earlier run wrote to ``path`` is removed before the error is raised: left in place it would
    look like this run's result, for a sheet that was not read.
    """
    out = path_resolve(path)
    try:
        second = sheet_read(sheet, codebook, units)
        agreement = second_coder_agreement(
            codings, second, reference=reference, coders=coders, **kwargs
        )
        table_write(agreement, out)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return second, agreement
