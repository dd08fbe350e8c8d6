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
