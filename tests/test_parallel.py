"""The Dask switch: per-document stages on a local cluster give exactly the serial result."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import parallel
from helpers.cleanup import corpus_clean


def _square(x: int) -> int:
    return x * x


def test_serial_and_dask_map_agree_and_keep_order():
    items = list(range(20))
    assert parallel.documents_map(_square, items) == [x * x for x in items]
    assert parallel.documents_map(_square, items, engine="dask", n_workers=2) == [x * x for x in items]


def test_cleanup_on_a_local_dask_cluster_equals_serial_cleanup():
    serial = corpus_clean()
    dask = corpus_clean(engine="dask")
    pd.testing.assert_frame_equal(serial.units, dask.units)
    pd.testing.assert_frame_equal(serial.audit, dask.audit)
    assert [d.text for d in serial.documents] == [d.text for d in dask.documents]


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="engine must be one of"):
        parallel.documents_map(_square, [1], engine="ray")
