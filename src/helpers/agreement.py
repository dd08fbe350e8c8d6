"""Agreement between codings: per code, with bootstrap intervals, and the tables read from it.

:func:`codings_agreement` compares two or more codings in the long layout of
:mod:`helpers.annotations` per code and macro-averaged over codes, with percentile bootstrap
intervals over units or over documents (the coefficients themselves: :mod:`helpers.reliability`);
:func:`codings_agreement_by` does it per document or genre. The agreement tables are then set
against targets (:func:`agreement_compare`, :func:`agreement_describe`), shown side by side
(:func:`agreements_tabulate`, :func:`agreements_stack`) or compactly (:func:`agreement_summary`).
:func:`codings_disagreements` lists the units where the dictionary and a human coder differ.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from helpers.annotations import (
    DICTIONARY_CODER,
    NOT_ASSESSED,
    AnnotationWarning,
    codings_validate,
)
from helpers.reliability import (
    STATISTICS,
    code_counts,
    code_notes,
    code_statistics,
    codings_array,
    statistics_resampled,
)

BOOTSTRAP_SEED = 20261123

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


def _cluster_note(n_clusters: int, min_clusters: int) -> str:
    if n_clusters < min_clusters:
        return (
            f"pooled over {n_clusters} documents; no interval: a bootstrap over fewer than "
            f"{min_clusters} documents does not give one"
        )
    return f"interval: bootstrap over {n_clusters} documents (whole documents resampled)"


def _intervals(samples: np.ndarray, tail: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the percentile interval of each column over its defined (non-NaN) resamples.

    ``samples`` is resamples × columns; returns the low and high ends (``tail`` and 100 − ``tail``
    percent; NaN for a column without a defined resample) and the number of resamples used. The
    columns defined in every resample go to one ``np.percentile`` call, the same figures as one call
    per column.
    """
    used = (~np.isnan(samples)).sum(axis=0)
    lo = np.full(samples.shape[1], np.nan)
    hi = np.full(samples.shape[1], np.nan)
    full = used == samples.shape[0]
    if samples.shape[0] and full.any():
        lo[full], hi[full] = np.percentile(samples[:, full], [tail, 100 - tail], axis=0)
    partial = np.flatnonzero(~full & (used > 0))
    if partial.size:
        # the other columns sorted once (NaN last), then one call per number of defined resamples:
        # a percentile reads order statistics, so the figures are those of one call per column
        ordered = np.sort(samples[:, partial], axis=0)
        n_used = used[partial]
        for k in np.unique(n_used):
            same = n_used == k
            lo[partial[same]], hi[partial[same]] = np.percentile(
                ordered[:k, same], [tail, 100 - tail], axis=0
            )
    return lo, hi, used


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
    prepared = _comparison_prepare(codings, coders, reference, codes)
    if isinstance(prepared, pd.DataFrame):  # not assessed, with a warning
        return prepared
    sub, coders, codes = prepared
    return _agreement(
        sub,
        coders,
        codes,
        reference=reference,
        units=units,
        n_bootstrap=n_bootstrap,
        seed=seed,
        confidence=confidence,
        clusters=clusters,
        min_clusters=min_clusters,
    )


def _comparison_prepare(
    codings: pd.DataFrame,
    coders: Sequence[str] | None,
    reference: str | None,
    codes: Sequence[str] | None,
) -> pd.DataFrame | tuple[pd.DataFrame, list[str], list[str]]:
    """Check a comparison of :func:`codings_agreement` on the whole table, once.

    Returns the rows of the compared coders, the coders (reference first) and the codes, or the
    "not assessed" table when the comparison cannot be made.
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
    codes = list(codes) if codes is not None else list(pd.unique(codings["code"]))
    return sub, coders, codes


def _agreement(
    sub: pd.DataFrame,
    coders: list[str],
    codes: list[str],
    *,
    reference: str | None,
    units: Iterable[str] | None,
    n_bootstrap: int,
    seed: int,
    confidence: float,
    clusters: pd.Series | dict | None,
    min_clusters: int,
) -> pd.DataFrame:
    """The table of :func:`codings_agreement` for the checked rows ``sub`` of the coders."""
    if units is not None:
        keep = list(dict.fromkeys(units))
        sub = sub[sub["unit_id"].isin(set(keep))]
        present = set(sub["unit_id"])  # once: a set per unit was quadratic in the units
        unit_ids = [u for u in keep if u in present]
    else:
        unit_ids = list(pd.unique(sub["unit_id"]))
    if not unit_ids:
        return _agreement_not_assessed(sub, coders, reference, codes, "no units to compare")
    data = codings_array(sub, coders, codes, unit_ids)
    has_ref = reference is not None
    label = " vs ".join(coders)

    point = [code_statistics(data[k], has_ref) for k in range(len(codes))]
    boot = np.full((0, len(codes), len(STATISTICS)), np.nan)  # resamples × codes × statistics
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
    # no unit coded by two of the coders (a document the reference coder never coded): nothing to
    # resample, every statistic is undefined (Holsti's CR of the resamples was 0 against an
    # undefined point estimate)
    comparable = bool(((~np.isnan(data)).sum(axis=1) >= 2).any())
    if n_bootstrap > 0 and comparable:
        rng = np.random.default_rng(seed)
        boot = statistics_resampled(data, has_ref, n_bootstrap, rng, cluster_ids)
    tail = (1 - confidence) / 2 * 100
    # every code × statistic at once: rows of (low, high, resamples used)
    flat = boot.reshape(boot.shape[0], len(codes) * len(STATISTICS))
    ci = np.stack(_intervals(flat, tail), axis=1)
    ci = ci.reshape(len(codes), len(STATISTICS), 3)

    shown = STATISTICS if has_ref else STATISTICS[:5]
    rows = []
    for k, code in enumerate(codes):
        row: dict[str, object] = {
            "comparison": label,
            "code": code,
            "n_coders": len(coders),
            **code_counts(data[k]),
        }
        notes = code_notes(data[k], point[k], has_ref)
        absent = [c for c, values in zip(coders, data[k]) if np.isnan(values).all()]
        if absent:  # e.g. a code added to the codebook after the annotation files were made
            notes = [
                f"{NOT_ASSESSED}: no coding of {code!r} by {', '.join(absent)} (add a column for "
                "it to the annotation file, or code it with the second-coder sheet)"
            ]
        short: dict[int, list[str]] = {}
        for j, name in enumerate(STATISTICS):
            lo, hi, used = float(ci[k, j, 0]), float(ci[k, j, 1]), int(ci[k, j, 2])
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
    # the mean over the defined codes of each statistic in each resample, as np.nanmean of each
    # statistic's column (NaN where no code has it), from one contiguous resamples × statistics ×
    # codes array
    by_statistic = np.ascontiguousarray(np.moveaxis(boot, 2, 1))
    defined = ~np.isnan(by_statistic)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_resample = np.true_divide(
            np.where(defined, by_statistic, 0.0).sum(axis=-1), defined.sum(axis=-1)
        )
    macro_lo, macro_hi, _ = _intervals(per_resample, tail)
    for j, name in enumerate(STATISTICS):
        vals = np.array([p[name] for p in point])
        macro[name] = float(np.nanmean(vals)) if (~np.isnan(vals)).any() else float("nan")
        macro[f"{name}_ci_low"], macro[f"{name}_ci_high"] = float(macro_lo[j]), float(macro_hi[j])
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
    of_coded = of[of.index.isin(coded)]
    members_of = {g: list(idx) for g, idx in of_coded.groupby(of_coded, sort=False).groups.items()}
    check = {k: kwargs.pop(k, None) for k in ("coders", "reference", "codes")}
    prepared = _comparison_prepare(codings, check["coders"], check["reference"], check["codes"])
    frames = []
    if isinstance(prepared, pd.DataFrame):  # not assessed: each group says so, as on its own
        kwargs.update(check)
        for group in pd.unique(of):
            if members_of.get(group):
                frames.append(
                    codings_agreement(codings, units=members_of[group], **kwargs).assign(
                        group=group
                    )
                )
    else:  # checked once; each group gets only its own rows
        sub, coders, codes = prepared
        options = {
            name: param.default
            for name, param in inspect.signature(codings_agreement).parameters.items()
            if param.kind is param.KEYWORD_ONLY and name not in check
        }
        options |= kwargs
        options.pop("units", None)
        rows_of = dict(tuple(sub.groupby(sub["unit_id"].map(of_coded), sort=False)))
        for group in pd.unique(of):
            if members_of.get(group):
                table = _agreement(
                    rows_of.get(group, sub.iloc[:0]),
                    coders,
                    codes,
                    reference=check["reference"],
                    units=members_of[group],
                    **options,
                )
                frames.append(table.assign(group=group))
        kwargs.update(check)
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


#: Columns of :func:`codings_disagreements`, with or without disagreements.
DISAGREEMENT_COLUMNS = [
    "code",
    "unit_id",
    "heading_path",
    "text",
    "human_value",
    "dictionary_value",
    "type",
    "evidence",
]


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
        return pd.DataFrame(columns=DISAGREEMENT_COLUMNS)
    both = pd.concat(
        [h.rename("human_value"), d.rename("dictionary_value")], axis=1, join="inner"
    ).reset_index()
    diff = both[both["human_value"] != both["dictionary_value"]].copy()
    diff["type"] = np.where(diff["dictionary_value"] == 1, "false positive", "false negative")
    fired: dict[tuple[str, str], list[str]] = {}
    if evidence is not None and len(evidence):
        # only the evidence of the units listed: the evidence table grows with the corpus
        wanted = set(zip(diff["unit_id"], diff["code"]))
        near = evidence[evidence["unit_id"].isin({u for u, _ in wanted})]
        for r in near.itertuples():
            if (r.unit_id, r.code) in wanted:
                fired.setdefault((r.unit_id, r.code), []).append(_evidence_text(r))
    diff["evidence"] = [
        "; ".join(fired[u, c]) if (u, c) in fired else "nothing fired"
        for u, c in zip(diff["unit_id"], diff["code"])
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
    return diff[DISAGREEMENT_COLUMNS].reset_index(drop=True)


def _evidence_text(r) -> str:
    start, end = getattr(r, "start", ""), getattr(r, "end", "")
    where = f"@{start}-{end}" if pd.notna(start) and str(start) != "" else ""
    return f"{r.indicator_type} {r.indicator}「{r.match}」{where}"
