"""Coding reliability: human-coded samples, agreement statistics, second-coder sheets.

This module starts with the annotation sample itself; agreement statistics build on it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HOLDOUT_SEED = 20261123


def units_split(units: pd.DataFrame, *, holdout: float = 0.4, seed: int = HOLDOUT_SEED) -> pd.Series:
    """Return ``"dev"`` or ``"holdout"`` per unit, stratified by document and top-level section.

    Within each (doc_id, section) group the units are shuffled with ``seed`` and the first
    ``round(holdout × n)`` (at least one in groups of two or more) are held out. Run once; the result is
    recorded in the annotation files, which are then the reference, not this function.
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
