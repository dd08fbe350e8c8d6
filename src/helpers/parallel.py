"""Running the per-document stages over many documents: serially, or on a Dask cluster.

Cleanup, segmentation and coding of one document depend on that document alone, so they can run in
parallel. :func:`documents_map` is the one switch: ``engine="serial"`` (the default, in-process) or
``engine="dask"`` (a ``dask.distributed`` LocalCluster on this machine, or the cluster at
``address``). Results come back in input order, so the output tables are identical whichever engine
ran them. Dask writes its scratch files under ``.cache/dask`` in the project.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any, TypeVar

from helpers import paths

T = TypeVar("T")
R = TypeVar("R")

ENGINES = ("serial", "dask")

_PROCESS_STATE: dict[str, Any] = {}


def process_state(key: str, factory: Callable[[], R]) -> R:
    """Return the object this process keeps under ``key``, built by ``factory`` on first use.

    For tools that are costly to build (a segmenter with its dictionary, a compiled codebook) and
    must be built once per worker process, not once per task. Dask ships functions defined in a
    script by value, so a cache on the function itself (``lru_cache``) is new in every copy; this
    store lives in an imported module and is shared by all of them.
    """
    if key not in _PROCESS_STATE:
        _PROCESS_STATE[key] = factory()
    return _PROCESS_STATE[key]


def documents_map(
    func: Callable[[T], R],
    items: Iterable[T],
    *,
    engine: str = "serial",
    n_workers: int = 2,
    address: str | None = None,
    progress: bool = False,
    desc: str = "documents",
    chunksize: int = 1,
) -> list[R]:
    """Return ``[func(item) for item in items]``, computed serially or on Dask workers.

    Args:
        func: a pure function of one item (picklable for ``engine="dask"``: a module-level function
            or a ``functools.partial`` of one).
        items: the items, e.g. ``(doc_id, text, title)`` triples.
        engine: ``"serial"`` or ``"dask"``.
        n_workers: worker processes of the local cluster (``engine="dask"`` without ``address``).
        address: scheduler address of an existing Dask cluster, to run beyond this machine.
        progress: show a progress bar (serial) or Dask's progress (dask).
        chunksize: items per Dask task; many small documents run faster in fewer, larger tasks,
            since each task costs the scheduler about a millisecond.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    items = list(items)
    if engine == "serial" or not items:
        if progress:
            from tqdm import tqdm

            items = tqdm(items, desc=desc, unit="doc")
        return [func(x) for x in items]
    if chunksize > 1:
        chunks = [items[i : i + chunksize] for i in range(0, len(items), chunksize)]
        done = _dask_map(
            partial(_chunk_apply, func),
            chunks,
            n_workers=n_workers,
            address=address,
            progress=progress,
            desc=desc,
            sizes=[len(c) for c in chunks],
        )
        return [r for chunk in done for r in chunk]
    return _dask_map(
        func, items, n_workers=n_workers, address=address, progress=progress, desc=desc
    )


def _chunk_apply(func: Callable[[T], R], chunk: Sequence[T]) -> list[R]:
    """Apply ``func`` to every item of a chunk (one Dask task)."""
    return [func(x) for x in chunk]


def _dask_map(
    func: Callable,
    items: Sequence[Any],
    *,
    n_workers: int,
    address: str | None,
    progress: bool,
    desc: str = "documents",
    sizes: Sequence[int] | None = None,
) -> list:
    """Map ``func`` over ``items`` on a Dask cluster; return the results in input order.

    The progress bar is tqdm's, as for the serial engine, advanced by ``sizes[i]`` documents when
    task ``i`` is done: Dask's own bar is an ipywidgets widget inside a notebook, a package the
    project does not need otherwise (``No module named 'ipywidgets'`` in a fresh environment).
    """
    import dask
    from distributed import Client, LocalCluster

    scratch = paths.CACHE / "dask"
    scratch.mkdir(parents=True, exist_ok=True)
    with dask.config.set({"temporary-directory": str(scratch), "distributed.worker.daemon": False}):
        if address:
            client = Client(address)
            cluster = None
        else:
            cluster = LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                local_directory=str(scratch),
                silence_logs=40,
            )
            client = Client(cluster)
        try:
            futures = client.map(func, items, pure=False)
            if progress:
                from distributed import as_completed
                from tqdm import tqdm

                weight = dict(zip(futures, sizes or [1] * len(futures), strict=True))
                with tqdm(total=sum(weight.values()), desc=desc, unit="doc") as bar:
                    for future in as_completed(futures):
                        bar.update(weight[future])
            return client.gather(futures)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
