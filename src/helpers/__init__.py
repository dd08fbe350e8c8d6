"""Helpers for the 闽宁协作 text-analysis notebooks.

One module per pipeline stage:

- ``paths``: where everything lives (the only place that builds project paths).
- ``corpus``: the corpus table (``data/corpus.csv``) and reading documents of any supported format.
- ``cleanup``: normalisation, page-break repair, boilerplate separation and structure (units).
- ``pipeline``: running the notebooks in order with papermill.
"""

__version__ = "0.1.0"
