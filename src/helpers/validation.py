"""Validation by document: a validation set of new documents, and a learned second-opinion coder.

A dictionary refined on some units of a document and tested on other units of the same document is
tested on text it has, in effect, already seen: the held-out units share the document's vocabulary,
phrasing and topics. What a researcher needs to know is how the dictionary codes a *new* document.
This module supports the document-level protocol of notebook 05:

- :func:`validation_read` reads a validation set (``data/validation/``): units of documents the
  dictionary was never refined on, a ``split`` by document (``tune``: may be used to refine the
  codebook; ``holdout``: only to report), and one or more independent codings of them.
- A **learned coder** (character n-grams of the simplified text, one logistic regression per code,
  scikit-learn) trained on a reference coding: :func:`coder_fit`, :func:`coder_predict`, and
  :func:`units_predict`, which predicts every unit from a model that never saw its fold, e.g. its
  document (leave-one-document-out). Its document-level agreement is reported beside the
  dictionary's; :func:`predictions_review` lists the units it would code and the dictionary did not,
  for a human to review. The dictionary stays the coder of record: the learned coder is a second
  opinion that points at what the dictionary's indicators miss.

Agreement itself (per code, with bootstrap intervals over units or over documents) is
:func:`helpers.agreement.codings_agreement`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.agreement import codings_agreement, codings_agreement_by, codings_disagreements
from helpers.annotations import (
    CODING_COLUMNS,
    DICTIONARY_CODER,
    AnnotationError,
    AnnotationWarning,
    codings_from_wide,
    codings_validate,
    codings_wide,
    csv_rows,
)
from helpers.codebook import Codebook
from helpers.coding import CodingResult, coding_table, units_code
from helpers.tables import path_resolve
from helpers.tokens import Segmenter

#: The units file of a validation set and its required columns.
VALIDATION_UNITS = "units.csv"
UNIT_REQUIRED = ("unit_id", "doc_id", "text")
#: The values of a validation set's ``split`` column (a split by document): ``tune`` (or ``dev``)
#: documents may be used to refine the codebook, ``holdout`` documents only to report.
DOCUMENT_SPLITS = ("tune", "dev", "holdout")
#: Coder files of a validation set: ``coder_*.csv`` in the same folder.
CODER_GLOB = "coder_*.csv"
#: The coder name given to the learned coder's coding.
LEARNED_CODER = "learned"
#: Seed of everything random in the learned coder (scikit-learn's ``random_state``).
LEARNED_SEED = 20261129


# --------------------------------------------------------------------------------------------------
# A validation set of new documents
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationSet:
    """Units of new documents with their split by document and the independent codings of them."""

    path: Path
    units: pd.DataFrame
    codings: pd.DataFrame

    @property
    def coders(self) -> list[str]:
        """The coders, in the order of their files."""
        return list(pd.unique(self.codings["coder"]))

    @property
    def documents(self) -> pd.Series:
        """doc_id per unit id."""
        return self.units.set_index("unit_id")["doc_id"]


def validation_units_read(path: str | Path) -> pd.DataFrame:
    """Read and check the units of a validation set (``units.csv``); return them as strings.

    Needs ``unit_id``, ``doc_id`` and ``text``; ``split`` (``tune`` or ``dev``/``holdout``, one
    value per document), ``genre``, ``script`` and any other column are kept. Errors name the file,
    the line and the column: a missing column, an empty or repeated unit id, an empty text, a split
    other than tune, dev or holdout, or a document with two splits.
    """
    p = path_resolve(path)
    if not p.exists():
        raise AnnotationError(p, "file not found")
    header, rows = csv_rows(p)
    for col in UNIT_REQUIRED:
        if col not in header:
            raise AnnotationError(p, f"missing column (columns are {header})", line=1, field=col)
    pos = {h: i for i, h in enumerate(header)}
    seen: dict[str, int] = {}
    doc_split: dict[str, tuple[str, int]] = {}
    for line, r in rows:
        uid = r[pos["unit_id"]]
        for col in UNIT_REQUIRED:
            if not r[pos[col]]:
                raise AnnotationError(p, "empty", line=line, field=col)
        if uid in seen:
            raise AnnotationError(
                p,
                f"unit id {uid!r} repeated (first on line {seen[uid]})",
                line=line,
                field="unit_id",
            )
        seen[uid] = line
        if "split" in pos:
            split, doc = r[pos["split"]], r[pos["doc_id"]]
            if split not in DOCUMENT_SPLITS:
                raise AnnotationError(
                    p,
                    f"split {split!r} is not one of {', '.join(DOCUMENT_SPLITS)}",
                    line=line,
                    field="split",
                )
            first = doc_split.setdefault(doc, (split, line))
            if first[0] != split:
                raise AnnotationError(
                    p,
                    f"document {doc!r} is split {first[0]!r} on line {first[1]} and "
                    f"{split!r} here: the split is by document",
                    line=line,
                    field="split",
                )
    if not rows:
        raise AnnotationError(p, "no units")
    return pd.DataFrame([r for _, r in rows], columns=header)


def validation_coding_read(
    path: str | Path, codebook: Codebook, unit_ids: Sequence[str]
) -> pd.DataFrame:
    """Read one coder's file of a validation set; return its codings in the long layout.

    The file has ``unit_id``, one 0/1 column per code of the codebook, and optionally ``coder``
    (one name; default: the file name without ``coder_``), ``doc_id``, ``split``, ``date``, ``note``
    and other columns, which are ignored. Errors name the file, line and column: an unknown or
    repeated unit id, a value other than 0 or 1 (an empty cell too). Units the coder left out have
    no rows (missing data, not 0); a code without a column is a warning, and not assessed.
    """
    p = path_resolve(path)
    if not p.exists():
        raise AnnotationError(p, "file not found")
    header, rows = csv_rows(p)
    if "unit_id" not in header:
        raise AnnotationError(p, f"missing column (columns are {header})", line=1, field="unit_id")
    codes = [c for c in codebook.ids if c in header]
    for c in codebook.ids:
        if c not in header:  # e.g. a code added to the codebook after the set was coded
            warnings.warn(
                f"{p.name}: no column for code {c!r}: it is not assessed on the validation set "
                "(add a 0/1 column for it to the coder files to assess it)",
                AnnotationWarning,
                stacklevel=2,
            )
    pos = {h: i for i, h in enumerate(header)}
    known = set(unit_ids)
    default = p.stem.removeprefix("coder_")
    out, seen = [], {}
    for line, r in rows:
        uid = r[pos["unit_id"]]
        coder = r[pos["coder"]] if "coder" in pos and r[pos["coder"]] else default
        if uid not in known:
            raise AnnotationError(
                p,
                f"unknown unit id {uid!r} (not in {VALIDATION_UNITS})",
                line=line,
                field="unit_id",
            )
        if (coder, uid) in seen:
            raise AnnotationError(
                p,
                f"unit {uid!r} coded twice (first on line {seen[coder, uid]})",
                line=line,
                field="unit_id",
            )
        seen[coder, uid] = line
        for c in codes:
            v = r[pos[c]]
            if v not in ("0", "1"):
                raise AnnotationError(
                    p, "empty" if v == "" else f"value {v!r} is not 0 or 1", line=line, field=c
                )
            out.append((coder, uid, c, int(v)))
    if not out:
        raise AnnotationError(p, "no coded units")
    if len({c for c, *_ in out}) > 1:
        raise AnnotationError(
            p, "several coders in one file: give each coder a file", field="coder"
        )
    df = pd.DataFrame(out, columns=CODING_COLUMNS)
    df["value"] = df["value"].astype("int64")
    return codings_validate(df)


def validation_read(
    directory: str | Path, codebook: Codebook, *, coder_files: Sequence[str | Path] | None = None
) -> ValidationSet:
    """Read a validation set: ``<directory>/units.csv`` and its coder files (``coder_*.csv``).

    See :func:`validation_units_read` and :func:`validation_coding_read` for the formats and checks.
    Raises ``FileNotFoundError`` naming the folder when there is no units file or no coder file, so
    a notebook can say what is missing.
    """
    d = path_resolve(directory)
    units_path = d / VALIDATION_UNITS
    if not units_path.exists():
        raise FileNotFoundError(f"{d}: no {VALIDATION_UNITS} (the validation set's units)")
    units = validation_units_read(units_path)
    files = (
        [path_resolve(f) for f in coder_files]
        if coder_files is not None
        else sorted(d.glob(CODER_GLOB))
    )
    if not files:
        raise FileNotFoundError(f"{d}: no coder files ({CODER_GLOB})")
    frames, first = [], {}
    for f in files:
        c = validation_coding_read(f, codebook, units["unit_id"])
        name = c["coder"].iloc[0]
        if name in first:
            raise AnnotationError(
                f,
                f"coder {name!r} also codes {first[name].name}: give each coder a name",
                field="coder",
            )
        first[name] = f
        frames.append(c)
    codings = pd.concat(frames, ignore_index=True)
    return ValidationSet(path=d, units=units, codings=codings)


# --------------------------------------------------------------------------------------------------
# A learned coder, for a second opinion
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LearnedCoder:
    """A fitted learned coder: the text features and, per code, a classifier or a constant.

    A code with only one value in the training units (nobody coded it, or every unit has it) cannot
    be learned; its entry in ``models`` is that value, predicted as the probability for every unit,
    and ``notes`` says so.
    """

    codes: tuple[str, ...]
    vectorizer: object
    models: dict
    notes: dict


def _texts_prepare(texts: Sequence[str]) -> list[str]:
    """Simplified script, so that a traditional-script document shares its features with others."""
    from helpers.text import text_simplify_aligned

    texts = [str(t).replace("\n", " ") for t in texts]
    simple = text_simplify_aligned("\n".join(texts))  # one OpenCC call; same length, so split back
    out, pos = [], 0
    for t in texts:
        out.append(simple[pos : pos + len(t)])
        pos += len(t) + 1
    return out


def coder_fit(
    texts: Sequence[str],
    labels: pd.DataFrame,
    codes: Sequence[str],
    *,
    ngram_range: tuple[int, int] = (1, 3),
    min_df: int = 2,
    c: float = 1.0,
    seed: int = LEARNED_SEED,
) -> LearnedCoder:
    """Fit one classifier per code on the texts and their reference labels (a 0/1 column per code).

    Features: TF-IDF of character n-grams (``ngram_range``, sublinear term frequency) of the
    simplified text that occur in at least ``min_df`` training units (a single unit's n-grams teach
    nothing about other units; all n-grams when too few units leave none). Character n-grams need no
    segmentation and no dictionary, so the coder is independent of the dictionary's indicators.
    Classifier: logistic regression with balanced class weights (a code with few positive units is
    not swamped by the negatives), L2 penalty ``c``, liblinear solver with ``random_state=seed``
    (deterministic, and several times faster than lbfgs on a few hundred short texts).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} label rows")
    prepared = _texts_prepare(texts)
    vec = TfidfVectorizer(
        analyzer="char",
        ngram_range=tuple(ngram_range),
        sublinear_tf=True,
        min_df=min_df,
        dtype=np.float64,
    )
    try:
        x = vec.fit_transform(prepared)
    except ValueError:  # no n-gram in min_df units
        vec.set_params(min_df=1)
        x = vec.fit_transform(prepared)
    models, notes = {}, {}
    for code in codes:
        if code not in labels.columns:  # e.g. a code added after the reference coding was made
            models[code] = float("nan")
            notes[code] = "not learned: the reference coding has no column for it"
            continue
        y = labels[code].to_numpy(dtype=int)
        values = np.unique(y)
        if len(values) < 2:
            models[code] = float(values[0]) if len(values) else 0.0
            notes[code] = f"not learned: every training unit is {int(models[code])}"
            continue
        clf = LogisticRegression(
            C=c, class_weight="balanced", solver="liblinear", random_state=seed
        )
        models[code] = clf.fit(x, y)
    return LearnedCoder(codes=tuple(codes), vectorizer=vec, models=models, notes=notes)


def coder_predict(coder: LearnedCoder, texts: Sequence[str]) -> pd.DataFrame:
    """Return the probability of every code for every text (a row per text, a column per code)."""
    x = coder.vectorizer.transform(_texts_prepare(texts))
    out = {}
    for code in coder.codes:
        m = coder.models[code]
        out[code] = np.full(x.shape[0], m) if isinstance(m, float) else m.predict_proba(x)[:, 1]
    return pd.DataFrame(out)


def folds_by_document(doc_ids: pd.Series, n_splits: int = 5) -> pd.Series:
    """Return a fold label per unit such that every document lies in exactly one fold.

    With as many documents as ``n_splits`` or fewer, each document is its own fold
    (leave-one-document-out); with more, scikit-learn's ``GroupKFold`` groups them into ``n_splits``
    folds of similar size (deterministic). The index is that of ``doc_ids``.
    """
    docs = pd.unique(doc_ids)
    if len(docs) < 2:  # nothing to train on without the document: no fold, nothing predicted
        warnings.warn(
            f"validation by document needs two or more documents, got {len(docs)}: the learned "
            "coder is not assessed",
            stacklevel=2,
        )
        return pd.Series(np.nan, index=doc_ids.index, name="fold", dtype=object)
    if len(docs) <= n_splits:
        return doc_ids.astype(str).rename("fold")
    from sklearn.model_selection import GroupKFold

    fold = np.empty(len(doc_ids), dtype=object)
    for k, (_, test) in enumerate(
        GroupKFold(n_splits=n_splits).split(np.zeros(len(doc_ids)), groups=doc_ids)
    ):
        fold[test] = f"fold {k + 1}"
    return pd.Series(fold, index=doc_ids.index, name="fold")


def units_predict(
    units: pd.DataFrame,
    reference: pd.DataFrame,
    codes: Sequence[str],
    folds: pd.Series,
    *,
    digits: int = 4,
    **fit_options,
) -> pd.DataFrame:
    """Predict each fold's units by a learned coder trained on the reference coding of the rest.

    ``units`` has ``unit_id`` and ``text`` (and ``doc_id``); ``reference`` is the reference coding
    as a wide table (``unit_id`` and a 0/1 column per code,
    :func:`helpers.annotations.codings_wide`); ``folds`` maps unit id → fold
    (:func:`folds_by_document` for leave-one-document-out). For each fold the coder is fitted on
    every reference-coded unit outside it, including units without a fold (NaN: training only), and
    predicts the units in it; so no unit is predicted by a model that saw its document. Unit-split
    validation is the same call with ``folds`` = ``"holdout"`` on the held-out units and NaN
    elsewhere.

    Returns unit_id, doc_id, fold, then the probability per code (rounded to ``digits``, so tables
    are identical across machines), in unit order, and a ``note`` per fold for codes that could not
    be learned.
    """
    ref = reference.drop_duplicates("unit_id").set_index("unit_id")
    u = units.drop_duplicates("unit_id").set_index("unit_id", drop=False)
    fold = pd.Series(folds).reindex(u.index)
    coded = u.index.isin(ref.index)
    rows = []
    for f in pd.unique(fold.dropna()):
        test = u.index[fold == f]
        train = u.index[coded & (fold != f).to_numpy()]
        if not len(train):
            continue
        coder = coder_fit(u.loc[train, "text"].tolist(), ref.loc[train], codes, **fit_options)
        prob = coder_predict(coder, u.loc[test, "text"].tolist()).round(digits)
        prob.insert(0, "unit_id", list(test))
        prob.insert(1, "fold", f)
        prob["note"] = "; ".join(f"{c}: {n}" for c, n in coder.notes.items())
        rows.append(prob)
    if not rows:  # no fold, or no reference-coded unit to learn from: nothing predicted
        return pd.DataFrame(columns=["unit_id", "doc_id", "fold", *codes, "note"])
    out = pd.concat(rows, ignore_index=True)
    out.insert(1, "doc_id", out["unit_id"].map(u["doc_id"]) if "doc_id" in u else "")
    order = {uid: i for i, uid in enumerate(u.index)}
    out = (
        out.assign(_u=out["unit_id"].map(order)).sort_values("_u", kind="stable").drop(columns="_u")
    )
    return out.reset_index(drop=True)


def predictions_to_codings(
    predictions: pd.DataFrame,
    codes: Sequence[str],
    *,
    coder: str = LEARNED_CODER,
    threshold: float = 0.5,
) -> pd.DataFrame:
    """Return the learned coder's decisions (probability ≥ ``threshold`` → 1) in the long layout.

    A code the coder could not learn (probability NaN) has no decision: no row, so it is "not
    assessed" rather than coded 0.
    """
    wide = predictions[["unit_id", *codes]].copy()
    long = wide.melt(id_vars="unit_id", var_name="code", value_name="value")
    long = long[pd.to_numeric(long["value"], errors="coerce").notna()]
    long["value"] = (pd.to_numeric(long["value"]) >= threshold).astype("int64")
    order = {c: i for i, c in enumerate(codes)}
    units_order = {u: i for i, u in enumerate(wide["unit_id"])}
    long = long.assign(_u=long["unit_id"].map(units_order), _c=long["code"].map(order))
    long = long.sort_values(["_u", "_c"], kind="stable").drop(columns=["_u", "_c"])
    long.insert(0, "coder", coder)
    return codings_validate(long.reset_index(drop=True)[CODING_COLUMNS])


def predictions_review(
    predictions: pd.DataFrame,
    dictionary: pd.DataFrame,
    units: pd.DataFrame,
    codes: Sequence[str],
    *,
    reference: pd.DataFrame | None = None,
    threshold: float = 0.5,
) -> pd.DataFrame:
    """Return the units the learned coder would code and the dictionary did not: a table to review.

    ``predictions`` from :func:`units_predict`; ``dictionary`` the dictionary's wide coding
    (``coding_units.csv``: unit_id and a 0/1 column per code); ``units`` gives the text. With
    ``reference`` (the reference coder's wide coding) the column ``reference`` says whether the
    reference coder has the code (1: a real miss of the dictionary; 0: the learned coder is wrong
    too); without it the column is empty. Sorted by code (``codes`` order), then by probability,
    highest first. Columns: code, unit_id, doc_id, probability, reference, text, note.
    """
    d = dictionary.drop_duplicates("unit_id").set_index("unit_id")
    text = units.drop_duplicates("unit_id").set_index("unit_id")["text"]
    ref = (
        reference.drop_duplicates("unit_id").set_index("unit_id") if reference is not None else None
    )
    frames = []
    for k, code in enumerate(codes):
        if code not in predictions:
            continue
        p = predictions[["unit_id", "doc_id", code]].rename(columns={code: "probability"})
        p["probability"] = pd.to_numeric(p["probability"], errors="coerce")
        coded_by_dict = p["unit_id"].map(d[code]) if code in d else pd.Series(0, index=p.index)
        hit = p[(p["probability"] >= threshold) & (coded_by_dict.fillna(0) == 0).to_numpy()].copy()
        hit.insert(0, "code", code)
        hit["reference"] = (  # a code the reference coding lacks: not known (NA)
            hit["unit_id"].map(ref[code]).astype("Int64")
            if ref is not None and code in ref
            else pd.NA
        )
        hit["_k"] = k
        frames.append(hit)
    out = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["code", "unit_id", "doc_id", "probability", "reference", "_k"])
    )
    out["text"] = out["unit_id"].map(text)
    out["note"] = "dictionary did not code"
    out = out.sort_values(
        ["_k", "probability", "unit_id"], ascending=[True, False, True], kind="stable"
    )
    cols = ["code", "unit_id", "doc_id", "probability", "reference", "text", "note"]
    return out[cols].reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Notebook 05's protocol: the validation set evaluated; the units for refining and for review
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationEvaluation:
    """A validation set coded by the dictionary and the learned coder, with every agreement of both.

    ``codings`` holds the set's own codings and the dictionary's (long layout), ``learned`` the
    set's codings and the learned coder's; ``split`` is the split per unit, ``predictions`` the
    learned coder's out-of-document probabilities (:func:`units_predict`, corpus units included in
    training), ``reference`` the reference coder's wide coding. ``agreements`` maps (evaluation,
    coder) to a table of :func:`helpers.agreement.codings_agreement`, ``agreement_by`` is the
    agreement on the held-out documents by genre, script and document, ``disagreements`` those of
    the dictionary with the reference coder.
    """

    validation: ValidationSet
    reference_coder: str
    coding: CodingResult
    codings: pd.DataFrame
    learned: pd.DataFrame
    split: pd.Series
    predictions: pd.DataFrame
    reference: pd.DataFrame
    agreements: dict[tuple[str, str], pd.DataFrame]
    agreement_by: pd.DataFrame
    disagreements: pd.DataFrame

    @property
    def units(self) -> pd.DataFrame:
        return self.validation.units

    @property
    def documents(self) -> pd.Series:
        return self.validation.documents

    def coding_table(self) -> pd.DataFrame:
        """The dictionary's coding with doc_id and text (``validation_coding_units.csv``)."""
        return coding_table(self.coding).merge(
            self.units[["unit_id", "doc_id", "text"]], on="unit_id"
        )

    def describe(self) -> str:
        """One line: units, documents per split, the reference coder and the coders."""
        per_split = self.split.groupby(self.documents).first().value_counts().to_dict()
        return (
            f"validation set: {len(self.units)} units in {self.documents.nunique()} documents "
            f"({per_split}); reference coder {self.reference_coder}; coders "
            f"{', '.join(self.validation.coders)}"
        )


def validation_evaluate(
    validation: ValidationSet,
    codebook: Codebook,
    segmenter: Segmenter,
    corpus_units: pd.DataFrame,
    corpus_reference: pd.DataFrame,
    *,
    reference_coder: str | None = None,
    n_splits: int = 5,
    threshold: float = 0.5,
    **agreement_options,
) -> ValidationEvaluation:
    """Code a validation set with the dictionary and the learned coder; compute every agreement.

    The dictionary codes the set's units as notebook 03 codes the corpus
    (:func:`helpers.coding.units_code`). The learned coder is trained on the corpus units
    (``corpus_units`` with their ``corpus_reference``, wide) and on the set's other documents, in
    folds by document (:func:`folds_by_document`), and predicts each document left out. Agreement
    with ``reference_coder`` (default: the coder of the first file) per split (``holdout``, then
    ``tune``, ``dev``), for the dictionary and the learned coder, with the bootstrap over documents;
    on the held-out documents by genre and script (over documents) and per document; between the
    set's coders on all documents (two coders or more). ``agreement_options`` go to
    :func:`helpers.agreement.codings_agreement` (``n_bootstrap``, ``seed``, ``confidence``).
    """
    units, ids = validation.units, codebook.ids
    ref = reference_coder or validation.coders[0]
    coding = units_code(units, codebook, segmenter)
    codings = pd.concat(
        [validation.codings, codings_from_wide(coding.wide, DICTIONARY_CODER, ids)],
        ignore_index=True,
    )
    docs = validation.documents
    split = (
        units.set_index("unit_id")["split"]
        if "split" in units
        else pd.Series("holdout", index=docs.index)
    )
    pair = [ref, DICTIONARY_CODER]
    # the learned coder: corpus units always train; validation documents in folds by document
    reference = codings_wide(validation.codings, ref)
    columns = ["unit_id", "doc_id", "text"]
    predictions = units_predict(
        pd.concat([corpus_units[columns], units[columns]], ignore_index=True),
        pd.concat([corpus_reference, reference], ignore_index=True),
        ids,
        folds_by_document(docs, n_splits=n_splits),
    )
    learned = pd.concat(
        [validation.codings, predictions_to_codings(predictions, ids, threshold=threshold)],
        ignore_index=True,
    )
    options = {"reference": ref, "clusters": docs, **agreement_options}
    agreements = {}
    for part in ("holdout", "tune", "dev"):
        part_units = split.index[split == part]
        if len(part_units):
            agreements[f"validation set, {part} documents", DICTIONARY_CODER] = codings_agreement(
                codings, coders=pair, units=part_units, **options
            )
            agreements[f"validation set, {part} documents", LEARNED_CODER] = codings_agreement(
                learned, coders=[ref, LEARNED_CODER], units=part_units, **options
            )
    held = split.index[split == "holdout"]
    by = [
        codings_agreement_by(
            codings, units.set_index("unit_id")[column], units=held, coders=pair, **options
        ).assign(by=column)
        for column in ("genre", "script")
        if column in units
    ]
    by.append(
        codings_agreement_by(
            codings, docs, units=held, coders=pair, reference=ref, **agreement_options
        ).assign(by="doc_id")
    )
    if len(validation.coders) >= 2:
        agreements["validation set, all documents (human–human)", "+".join(validation.coders)] = (
            codings_agreement(
                validation.codings, coders=validation.coders, clusters=docs, **agreement_options
            )
        )
    disagreements = codings_disagreements(
        codings, units, human=ref, evidence=coding.evidence, codes=ids
    )
    disagreements.insert(2, "split", disagreements["unit_id"].map(split))
    return ValidationEvaluation(
        validation=validation,
        reference_coder=ref,
        coding=coding,
        codings=codings,
        learned=learned,
        split=split,
        predictions=predictions,
        reference=reference,
        agreements=agreements,
        agreement_by=pd.concat(by, ignore_index=True),
        disagreements=disagreements,
    )


@dataclass(frozen=True)
class CodedUnits:
    """Units (unit_id, doc_id, text), the reference coder's and the dictionary's wide codings and
    the dictionary's evidence: what the codebook suggestions and the second-opinion table read.
    """

    units: pd.DataFrame
    reference: pd.DataFrame
    dictionary: pd.DataFrame
    evidence: pd.DataFrame


def units_for_refining(
    corpus: CodedUnits,
    unit_split: pd.Series,
    codes: Sequence[str],
    evaluation: ValidationEvaluation | None = None,
) -> CodedUnits:
    """Return the units that may be used to refine the codebook, never held-out ones.

    The corpus's ``dev`` units (``unit_split``: unit id → dev, holdout or mixed) and, with a
    validation set, the units of its ``tune`` (or ``dev``) documents, each with the reference
    coding. The dictionary's coding and evidence are those of every unit (the suggestions look
    them up by unit id).
    """
    refine = unit_split.index[unit_split == "dev"]
    units = corpus.units[corpus.units["unit_id"].isin(refine)][["unit_id", "doc_id", "text"]]
    reference = corpus.reference[corpus.reference["unit_id"].isin(refine)]
    if evaluation is None:
        return CodedUnits(units, reference, corpus.dictionary, corpus.evidence)
    tune = evaluation.split.index[evaluation.split != "holdout"]
    v_units = evaluation.units
    return CodedUnits(
        units=pd.concat(
            [units, v_units[v_units["unit_id"].isin(tune)][["unit_id", "doc_id", "text"]]]
        ),
        reference=pd.concat(
            [reference, evaluation.reference[evaluation.reference["unit_id"].isin(tune)]]
        ),
        dictionary=pd.concat(
            [
                corpus.dictionary[["unit_id", *codes]],
                evaluation.coding.wide[["unit_id", *codes]],
            ]
        ),
        evidence=pd.concat([corpus.evidence, evaluation.coding.evidence], ignore_index=True),
    )


def second_opinion_list(
    corpus: CodedUnits,
    predictions: pd.DataFrame,
    codes: Sequence[str],
    evaluation: ValidationEvaluation | None = None,
    *,
    threshold: float = 0.5,
) -> pd.DataFrame:
    """Return :func:`predictions_review` over the corpus and, with one, the validation set.

    ``predictions`` are the learned coder's out-of-document predictions for the corpus units; the
    validation set's come from ``evaluation``. Every unit × code the learned coder would code and
    the dictionary did not, with the reference coder's value (``reliability_second_opinion.csv``).
    """
    if evaluation is None:
        return predictions_review(
            predictions,
            corpus.dictionary,
            corpus.units,
            codes,
            reference=corpus.reference,
            threshold=threshold,
        )
    v_units, v_pred = evaluation.units, evaluation.predictions
    columns = ["unit_id", "doc_id", "text"]
    return predictions_review(
        pd.concat(
            [predictions, v_pred[v_pred["unit_id"].isin(v_units["unit_id"])]], ignore_index=True
        ),
        pd.concat(
            [corpus.dictionary[["unit_id", *codes]], evaluation.coding.wide[["unit_id", *codes]]]
        ),
        pd.concat([corpus.units[columns], v_units[columns]]),
        codes,
        reference=pd.concat([corpus.reference, evaluation.reference]),
        threshold=threshold,
    )
