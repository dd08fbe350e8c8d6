"""Project paths, in one place, so notebooks and helpers never build paths from strings.

Importing this module also points the caches of matplotlib and IPython at folders inside the
project, so nothing is written to shared locations such as ``/tmp`` or the user's home, and fixes
``SOURCE_DATE_EPOCH`` so that file timestamps inside figures do not change between runs.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT: Path = Path(__file__).resolve().parents[2]
DATA: Path = ROOT / "data"
RAW: Path = DATA / "raw"
PROCESSED: Path = DATA / "processed"
CORPUS_TABLE: Path = DATA / "corpus.csv"
NOTEBOOKS: Path = ROOT / "notebooks"
OUTPUTS: Path = ROOT / "outputs"
TABLES: Path = OUTPUTS / "tables"
FIGURES: Path = OUTPUTS / "figures"
EXECUTED_NOTEBOOKS: Path = OUTPUTS / "notebooks"
CACHE: Path = ROOT / ".cache"
PIPELINE_CONFIG: Path = ROOT / "pipeline.yaml"

os.environ.setdefault("MPLCONFIGDIR", str(CACHE / "matplotlib"))
os.environ.setdefault("IPYTHONDIR", str(CACHE / "ipython"))
# Tools that stamp files with the time (fontTools in word-cloud SVGs, matplotlib in PDFs) use this
# fixed date instead, so that re-runs give byte-identical figures.
os.environ.setdefault("SOURCE_DATE_EPOCH", "946684800")


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if missing and return it, so callers can write into it."""
    path.mkdir(parents=True, exist_ok=True)
    return path
