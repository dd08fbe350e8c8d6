"""The Dask switch: per-document stages on a local cluster give exactly the serial result."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import parallel, paths
from helpers.cleanup import corpus_clean


def _square(x: int) -> int:
    return x * x


@pytest.mark.slow
def test_serial_and_dask_map_agree_and_keep_order():
    items = list(range(20))
    assert parallel.documents_map(_square, items) == [x * x for x in items]
    assert parallel.documents_map(_square, items, engine="dask", n_workers=2) == [
        x * x for x in items
    ]
    # chunks of 6 over 20 items: the last chunk is short, order is still kept
    assert parallel.documents_map(_square, items, engine="dask", n_workers=2, chunksize=6) == [
        x * x for x in items
    ]


@pytest.mark.slow
def test_cleanup_on_a_local_dask_cluster_equals_serial_cleanup():
    serial = corpus_clean()
    dask = corpus_clean(engine="dask")
    pd.testing.assert_frame_equal(serial.units, dask.units)
    pd.testing.assert_frame_equal(serial.audit, dask.audit)
    assert [d.text for d in serial.documents] == [d.text for d in dask.documents]


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="engine must be one of"):
        parallel.documents_map(_square, [1], engine="ray")


def _pid_and_tool(_):
    import os

    return os.getpid(), id(parallel.process_state("test_tool", object))


@pytest.mark.slow
def test_process_state_is_built_once_per_worker():
    # many tasks, two worker processes: each process builds its tool once and reuses it
    pairs = parallel.documents_map(_pid_and_tool, range(12), engine="dask", n_workers=2)
    tools_per_pid = {}
    for pid, tool in pairs:
        tools_per_pid.setdefault(pid, set()).add(tool)
    assert all(len(tools) == 1 for tools in tools_per_pid.values())
    assert parallel.process_state("test_tool_local", lambda: [1]) is parallel.process_state(
        "test_tool_local", list
    )


@pytest.mark.slow
def test_dask_progress_bar_needs_no_widget_package(capsys):
    """The bar inside a notebook is tqdm's text bar, not Dask's ipywidgets one."""
    items = list(range(7))
    got = parallel.documents_map(
        _square, items, engine="dask", n_workers=2, progress=True, desc="squares", chunksize=3
    )
    assert got == [x * x for x in items]
    err = capsys.readouterr().err
    assert "squares" in err and "7/7" in err


def _units(cleaned) -> pd.DataFrame:
    """The two documents' sentence units, each copied twice (four documents)."""
    frames = []
    for copy in range(2):
        for doc_id, doc in cleaned.items():
            u = pd.DataFrame(doc.unit_rows)
            u = u[u["level"] == "sentence"].copy()
            new = f"{doc_id}_{copy}"
            u["doc_id"] = new
            u["unit_id"] = new + u["unit_id"].str.removeprefix(doc_id)
            frames.append(u)
    return pd.concat(frames, ignore_index=True)


def test_units_chunks_hold_whole_documents_in_order(cleaned):
    units = _units(cleaned)
    chunks = parallel.units_chunks(units, 3)
    assert 1 < len(chunks) <= 3
    pd.testing.assert_frame_equal(pd.concat(chunks), units)
    docs = [set(c["doc_id"]) for c in chunks]
    assert all(a.isdisjoint(b) for i, a in enumerate(docs) for b in docs[i + 1 :])
    assert parallel.units_chunks(units, 1)[0] is units
    assert len(parallel.units_chunks(units, 100)) == units["doc_id"].nunique()


@pytest.mark.slow
def test_segmentation_and_coding_on_dask_workers_equal_the_serial_calls(cleaned, tmp_path):
    from helpers import codebook, coding, tokens

    units = _units(cleaned)
    # one document's units split in two places: the result still follows the units' order
    units = pd.concat([units.iloc[:40], units.iloc[200:], units.iloc[40:200]], ignore_index=True)
    book = codebook.codebook_read()
    seg = tokens.segmenter_make()
    serial_tokens = tokens.tokens_segment(units, seg, cache_dir=None)
    boundaries = tokens.tokens_segment(units, seg, cache_dir=None, pos=False)
    serial = coding.units_code(units, book, tokens=boundaries)
    opts = {"engine": "dask", "n_workers": 2, "cache_dir": tmp_path / "cache"}
    dask_tokens = parallel.documents_segment(units, **opts)
    pd.testing.assert_frame_equal(dask_tokens, serial_tokens)
    result = parallel.documents_code(units, book, **opts)
    pd.testing.assert_frame_equal(result.evidence, serial.evidence)
    pd.testing.assert_frame_equal(result.wide, serial.wide)
    pd.testing.assert_frame_equal(result.counts, serial.counts)
    assert len(serial.evidence) > 500  # the comparison covers real evidence
    # serial: the notebook's own segmenter, in this process
    again = parallel.documents_code(units, book, seg, cache_dir=tmp_path / "cache")
    pd.testing.assert_frame_equal(again.evidence, serial.evidence)
    pd.testing.assert_frame_equal(parallel.documents_segment(units, seg), serial_tokens)


def test_peak_memory_of_this_process_is_reported_in_mb():
    big = bytearray(64 * 2**20)  # 64 MiB touched: the peak is at least that
    big[::4096] = b"x" * len(big[::4096])
    assert parallel.peak_rss_mb() >= 64


@pytest.mark.notebooks
def test_notebook_01_runs_with_engine_dask_on_a_fresh_project(tmp_path):
    """``-p engine dask``: notebook 01 on a copy of the corpus gives the serial units."""
    import shutil

    from helpers.pipeline import pipeline_read
    from helpers.runner import pipeline_run

    for name in ("serial", "dask"):
        root = tmp_path / name
        shutil.copytree(paths.RAW, root / "raw")
        shutil.copy(paths.CORPUS_TABLE, root / "corpus.csv")
        overrides = {
            "engine": name,
            "corpus_table": str(root / "corpus.csv"),
            "raw_dir": str(root / "raw"),
            "processed_dir": str(root / "processed"),
            "tables_dir": str(root / "tables"),
        }
        summary = pipeline_run(
            pipeline_read(),
            overrides,
            only=["01"],
            output_dir=root / "notebooks",
            progress=False,
            allow_outside=True,
        )
        assert summary["status"].tolist() == ["ran"]
        executed = (root / "notebooks" / "01_text_cleanup.ipynb").read_text(encoding="utf-8")
        assert "ModuleNotFoundError" not in executed and "ipywidgets" not in executed
    for table in ("processed/units_sentence.csv", "tables/cleanup_audit.csv"):
        assert (tmp_path / "serial" / table).read_bytes() == (
            tmp_path / "dask" / table
        ).read_bytes()
