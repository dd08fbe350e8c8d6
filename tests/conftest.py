"""Shared fixtures: the real corpus documents, read once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import paths

ROOT = paths.ROOT
FIXTURES = Path(__file__).parent / "fixtures"

#: doc_id -> (file in data/raw, title as in data/corpus.csv)
CORPUS = {
    "opinion2021": ("001_83a3073aa07e44bb.txt", "关于深化新发展阶段闽宁协作工作的意见"),
    "report2024": ("000_0539012bfd7f7529.txt", "深化和拓展闽宁协作模式的路径研究"),
}


#: Resample counts for whole-pipeline runs in tests (notebooks 04, 05): the code paths of the
#: project's 9,999 resamples in less time.
SMALL_RESAMPLES = {"n_bootstrap": 199, "n_permutations": 199, "agreement_bootstrap": 199}


@pytest.fixture(scope="session")
def raw_texts() -> dict[str, str]:
    """The two corpus documents as text, keyed by doc_id."""
    return {d: (paths.RAW / f).read_text(encoding="utf-8") for d, (f, _) in CORPUS.items()}


@pytest.fixture(scope="session")
def cleaned(raw_texts):
    """The two corpus documents cleaned with their titles, keyed by doc_id."""
    from helpers.cleanup import document_clean

    return {d: document_clean(raw_texts[d], d, title=CORPUS[d][1]) for d in CORPUS}
