"""Helpers for the 闽宁协作 text-analysis notebooks.

One module per pipeline stage; a function's name says what it does to which object
(``corpus_read``, ``text_normalize``, ``tokens_segment``, ``codebook_read``, ``units_code`` …):

- ``corpus``: the corpus table (``data/corpus.csv``) and reading documents of any supported format;
  ``html``: saved web pages.
- ``text``: text helpers every stage uses (canonical form, script conversion, sentences).
- ``cleanup``: boilerplate separation, page-break repair and structure (units); its named rules
  in ``cleanup_rules``, its steps in ``cleanup_steps``, line repairs in ``lines``, structure in
  ``units``.
- ``tokens``: jieba segmentation with the user dictionary, stopwords, POS, KWIC.
- ``textstat``: frequencies, keyness, keywords, co-occurrence.
- ``plots``: the CJK font, word clouds, networks, saving figures.
- ``codebook`` and ``coding``: the YAML codebook and the coding engine.
- ``summaries``: statistics over the coded units and the numbers in the text.
- ``reliability`` and ``qdpx``: agreement statistics, coding sheets, REFI-QDA export.
- ``report``: the offline HTML report; its findings in words in ``findings``, its tables in
  ``report_tables``, the executed notebooks' pages and the CJK font in ``report_pages``.
- ``runner`` (``pipeline_run``) runs the notebooks of ``pipeline.yaml`` (read in ``pipeline``),
  with ``notebooks`` (a notebook's cells, parameters and imports), ``parameters`` (checks of the
  values passed), ``manifest`` (what is up to date) and ``kernels``; ``outputs``: where they may
  write, check-outputs.
- ``parallel``, ``cli``: the Dask switch, the command line.
- ``paths`` and ``tables``: where things live and how tables are written.
"""

__version__ = "0.1.0"
