"""Reliability coefficients of coders × units matrices, and their bootstrap for many resamples.

Per code: percent agreement, Holsti's CR, Cohen's kappa (Light's mean pairwise kappa for three or
more coders), Fleiss' kappa, Krippendorff's alpha (nominal, from the ``krippendorff`` package) and,
against a reference coder, precision, recall and F1 (:func:`code_statistics`). Every statistic is a
function of per-unit counts, so the statistics of many bootstrap resamples come from one matrix
product of the resample weights with those counts (:func:`statistics_resampled`). The tables
built from them (per code, macro average, intervals, notes):
:func:`helpers.agreement.codings_agreement`.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd

#: Statistics of :func:`helpers.agreement.codings_agreement`, in column order; each has
#: ``_ci_low``/``_ci_high`` columns.
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


def code_statistics(m: np.ndarray, reference: bool) -> dict[str, float]:
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


def code_counts(m: np.ndarray) -> dict[str, object]:
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


def code_notes(m: np.ndarray, stats: dict[str, float], reference: bool) -> list[str]:
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


def codings_array(
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


def weights_draw(
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
    """``num / den``, NaN where ``den`` is 0 (without a warning)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.true_divide(num, den)
    out = np.asarray(out, dtype=np.float64)
    zero = np.asarray(den) == 0
    if zero.any():
        out[np.broadcast_to(zero, out.shape)] = np.nan
    return out


def _nanmean_rows(arr: np.ndarray) -> np.ndarray:
    """Mean over axis 0 ignoring NaN; NaN (without a warning) where every value is NaN."""
    ok = ~np.isnan(arr)
    n = ok.sum(axis=0)
    return _divide(np.where(ok, arr, 0.0).sum(axis=0), n.astype(float))


def _indicators(
    m: np.ndarray, reference: bool, cats: np.ndarray | None = None
) -> tuple[np.ndarray, dict]:
    """Return per-unit columns whose weighted sums give each statistic of one code, and the layout.

    ``m`` is the code's coders × units matrix (NaN = not coded). Each statistic of
    :func:`code_statistics` is a function of sums over units of these columns (counts of agreement,
    of each category, of coincidences …), so a resample that draws unit u ``w[u]`` times has the
    sums ``w @ columns``: see :func:`_weighted_statistics`. ``cats`` (default: the values in ``m``)
    gives every code of a table the same layout: a category a code never got adds columns of zeros,
    which change no statistic.
    """
    n_coders = m.shape[0]
    coded = ~np.isnan(m)
    cats = np.unique(m[coded]) if cats is None else cats
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


def _sum_columns(columns: list[np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """``np.stack(columns, axis=-1).sum(axis=-1)`` (zeros of ``shape`` without columns), without
    the stack: numpy sums fewer than eight numbers one after the other, so adding the columns in
    order gives the same floats, and a sum over a short last axis (two categories) is several
    times slower than adding two arrays."""
    if not columns:
        return np.zeros(shape)
    if len(columns) >= 8:
        return np.stack(columns, axis=-1).sum(axis=-1)
    total = columns[0].copy()
    for column in columns[1:]:
        total += column
    return total


def _statistics_from_sums(s: np.ndarray, spec: dict) -> np.ndarray:
    """Every statistic from the weighted sums ``s`` (``… × columns`` of :func:`_indicators`: one
    row per resample, or resamples × codes when every code has the layout ``spec``)."""
    out = np.full((*s.shape[:-1], len(STATISTICS)), np.nan)
    # one contiguous array per column: a strided view of ``s`` (one number in every ``width``) is
    # several times slower to compute with, and a column is read several times
    by_column = np.ascontiguousarray(np.moveaxis(s, -1, 0))

    def col(part: slice) -> np.ndarray:
        return by_column[part.start]

    def cols(part: slice) -> list[np.ndarray]:
        return list(by_column[part])

    pa, cr, ck = [], [], []
    for p in spec["pairs"]:
        n, agree, decided = col(p["n"]), col(p["agree"]), col(p["decided"])
        p_o = _divide(agree, n)
        products = [a * b for a, b in zip(cols(p["na"]), cols(p["nb"]))]
        p_e = _divide(_sum_columns(products, n.shape), n * n)
        kappa = _divide(p_o - p_e, 1.0 - p_e)
        kappa[~(p_e < 1.0)] = np.nan
        pa.append(p_o)
        cr.append(_divide(2.0 * agree, decided))
        ck.append(kappa)
    if pa:
        out[..., 0], out[..., 1], out[..., 2] = (_nanmean_rows(np.array(x)) for x in (pa, cr, ck))
    if "fleiss" in spec:
        f, n_coders = spec["fleiss"], spec["n_coders"]
        n_units = col(f["n"])
        p_bar = _divide(col(f["p"]), n_units)
        per_rating = n_units * n_coders
        p_e = _sum_columns([_divide(k, per_rating) ** 2 for k in cols(f["k"])], n_units.shape)
        fleiss = _divide(p_bar - p_e, 1.0 - p_e)
        fleiss[~(p_e < 1.0) | (n_units == 0)] = np.nan
        out[..., 3] = fleiss
        a = spec["alpha"]
        n_c = cols(a["n_c"])
        total = _sum_columns(n_c, n_units.shape)
        d_e = total**2 - _sum_columns([c**2 for c in n_c], n_units.shape)
        alpha = 1.0 - _divide((total - 1.0) * (total - col(a["o_cc"])), d_e)
        alpha[~(d_e > 0)] = np.nan
        out[..., 4] = alpha
    if "prf" in spec:
        q = spec["prf"]
        tp, fp, fn = (col(q[k]) for k in ("tp", "fp", "fn"))
        out[..., 5], out[..., 6], out[..., 7] = (
            _divide(tp, tp + fp),
            _divide(tp, tp + fn),
            _divide(2 * tp, 2 * tp + fp + fn),
        )
    return out


def _weighted_statistics(m: np.ndarray, w: np.ndarray, reference: bool) -> np.ndarray:
    """Every statistic of one code's coders × units matrix under unit weights, for many resamples.

    ``w`` is ``n_resamples × n_units`` (how often each unit is drawn, :func:`weights_draw`); a
    resample is the matrix with unit u repeated ``w[b, u]`` times, so each statistic is a function
    of weighted sums ``w @ columns`` (:func:`_indicators`), one matrix product for all of them.
    Returns an ``n_resamples × len(STATISTICS)`` array, NaN where a statistic is undefined, with the
    definitions and undefined cases of :func:`code_statistics` (a test checks them resample by
    resample).
    """
    features, spec = _indicators(m, reference)
    return _statistics_from_sums(np.asarray(w, dtype=np.float64) @ features, spec)


def statistics_resampled(
    data: np.ndarray,
    reference: bool,
    n_bootstrap: int,
    rng: np.random.Generator,
    clusters: np.ndarray | None = None,
    *,
    max_cells: int = 2**22,
) -> np.ndarray:
    """Return every statistic of every code for ``n_bootstrap`` resamples of the units.

    ``data`` is the codes × coders × units array of :func:`codings_array`; the draws are those of
    :func:`weights_draw` with ``rng`` (over units, or over whole clusters with ``clusters``, the
    cluster number of each unit). Each statistic is a function of weighted sums of per-unit columns
    (:func:`_indicators`), so one matrix product gives every statistic of every code. With clusters
    the columns are first summed per cluster, and a resample's sums are its cluster counts times
    those: the resample weights are never spread over the units, so memory grows with the clusters,
    not with units × resamples. The resamples are drawn in chunks of at most ``max_cells`` weights
    (the same draws, in the same order, as one call). Returns an ``n_resamples × n_codes ×
    len(STATISTICS)`` array, NaN where a statistic is undefined in a resample.
    """
    # every code with the same columns (the categories of the whole table), so that the statistics
    # of all codes come from one set of array operations
    if not data.shape[0]:
        return np.full((n_bootstrap, 0, len(STATISTICS)), np.nan)
    cats = np.unique(data[~np.isnan(data)])
    parts = [_indicators(data[k], reference, cats) for k in range(data.shape[0])]
    n_codes, width = data.shape[0], parts[0][0].shape[1]
    features = np.hstack([f for f, _ in parts])
    if clusters is not None:
        n_clusters = int(clusters.max()) + 1
        per_cluster = np.zeros((n_clusters, features.shape[1]))
        np.add.at(per_cluster, clusters, features)
        features = per_cluster
    n = features.shape[0]
    rows = max(1, min(n_bootstrap, max_cells // max(n, 1)))
    sums = np.empty((n_bootstrap, features.shape[1]))
    for start in range(0, n_bootstrap, rows):
        stop = min(start + rows, n_bootstrap)
        sums[start:stop] = weights_draw(n, stop - start, rng).astype(np.float64) @ features
    return _statistics_from_sums(sums.reshape(n_bootstrap, n_codes, width), parts[0][1])
