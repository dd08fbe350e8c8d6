"""Running the per-document stages over many documents: serially, on forked processes or on a
Dask cluster.

Cleanup, segmentation and coding of one document depend on that document alone, so they can run in
parallel. :func:`documents_map` is the one switch: ``engine="serial"`` (the default, in-process) or
``engine="dask"`` (a ``dask.distributed`` LocalCluster on this machine, or the cluster at
``address``). Results come back in input order, so the output tables are identical whichever engine
ran them. Dask writes its scratch files under ``.cache/dask`` in the project.

On top of it, the stages of the notebooks that work on the units table document by document:
:func:`documents_segment` (notebook 02's :func:`helpers.tokens.tokens_segment`) and
:func:`documents_code` (notebook 03's segmentation for word boundaries and
:func:`helpers.coding.units_code`). Each splits the units into runs of whole documents, one task a
run, builds the segmenter once per worker process and gives the same table as the serial call.
:func:`fork_map` (``engine="fork"``) is a process pool on this machine whose workers inherit what
the parent built; ``helpers clean --jobs`` cleans on it and ``helpers code --jobs`` codes blocks of
whole documents on it (:func:`units_code_write`).
:func:`peak_rss_mb` is a worker's peak memory (``client.run(peak_rss_mb)``: one figure a worker).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from helpers import paths
from helpers.tokens import SEGMENT_CACHE

if TYPE_CHECKING:
    import pandas as pd

    from helpers.codebook import Codebook
    from helpers.coding import CodingResult

T = TypeVar("T")
R = TypeVar("R")

ENGINES = ("serial", "dask", "fork")

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
        engine: ``"serial"``, ``"dask"`` or ``"fork"`` (:func:`fork_map`: a process pool on
            this machine whose workers inherit the parent's state; serial without fork).
        n_workers: worker processes of the local cluster (``engine="dask"`` without ``address``)
            or of the pool (``engine="fork"``).
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
    if engine == "fork":
        return fork_map(func, items, n_workers)
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


#: What ``auto`` jobs means: up to this many worker processes (None: the CPUs this process may use)
JOBS_MAX: int | None = None


def jobs_resolve(jobs: int | str, n_items: int, minimum: int) -> int:
    """The number of worker processes for ``n_items`` items: ``jobs`` itself when it is a number
    (1: serial), else (``"auto"``) 1 below ``minimum`` items (a pool costs more than it saves
    on a small input) and otherwise the CPUs this process may use; never more than the items."""
    if jobs == "auto":
        if n_items < minimum:
            return 1
        jobs = JOBS_MAX or _cpus()
    return max(1, min(int(jobs), n_items))


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def fork_available() -> bool:
    """Whether this platform starts processes by fork (Linux, and macOS when asked)."""
    return "fork" in multiprocessing.get_all_start_methods()


#: What the workers of :func:`fork_map` inherit instead of receiving it with each task: objects
#: that are costly to pickle or do not pickle at all (a segmenter with its dictionary).
FORK_STATE: dict[str, Any] = {}


def fork_map(func: Callable[[T], R], items: Sequence[T], jobs: int) -> list[R]:
    """Return ``[func(item) for item in items]``, on ``jobs`` forked worker processes.

    The workers are forks of this process: they inherit everything built before the call (the
    compiled cleanup rules, :data:`FORK_STATE`), and only the items and the results are pickled.
    Results come back in input order. Serial when ``jobs`` is 1, for fewer than two items, or
    where the platform cannot fork (Windows).
    """
    items = list(items)
    jobs = min(jobs, len(items))
    if jobs <= 1 or not fork_available():
        return [func(x) for x in items]
    from concurrent.futures import ProcessPoolExecutor

    # a few tasks per worker, so that a worker done early takes on more
    chunksize = max(1, -(-len(items) // (jobs * TASKS_PER_WORKER)))
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        return list(pool.map(func, items, chunksize=chunksize))


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


# --------------------------------------------------------------------------------------------------
# Segmentation and coding, document by document
# --------------------------------------------------------------------------------------------------

#: Tasks per worker for the units-table stages: enough for the workers to share the documents
#: evenly, few enough that the per-task cost (the segmenter's lookup, the codebook's automaton)
#: stays small against the work.
TASKS_PER_WORKER = 4


def units_chunks(units: pd.DataFrame, n_chunks: int) -> list[pd.DataFrame]:
    """Split ``units`` into at most ``n_chunks`` tables of whole documents, in document order.

    Documents are taken in the order they first appear and keep their rows in table order; the
    chunks hold about the same number of units each. Without ``doc_id`` the table is one chunk.
    """
    if "doc_id" not in units or units.empty or n_chunks <= 1:
        return [units]
    import numpy as np

    codes, docs = units["doc_id"].factorize(sort=False)
    sizes = np.bincount(codes, minlength=len(docs))
    before = np.cumsum(sizes) - sizes  # units of the documents before each one
    chunk_of_doc = before * n_chunks // len(units)
    chunk = chunk_of_doc[codes]
    return [units[chunk == c] for c in np.unique(chunk_of_doc)]


def process_segmenter(user_dict: str | Path | None, backend: str = "auto", hmm: bool = True):
    """This process's segmenter for ``user_dict``, ``backend`` and ``hmm`` (the arguments of
    :func:`helpers.tokens.segmenter_make`; ``user_dict`` None: its default dictionary), built on
    first use and then kept (:func:`process_state`). To build it on every worker ahead of the work
    (a benchmark that should not count it), ``client.run`` a function that calls this and returns
    None: a segmenter does not pickle."""
    from helpers import tokens

    key = f"segmenter:{user_dict}:{backend}:{hmm}"
    if user_dict is None:
        return process_state(key, lambda: tokens.segmenter_make(backend=backend, hmm=hmm))
    return process_state(key, lambda: tokens.segmenter_make(user_dict, backend=backend, hmm=hmm))


def _segmenter_of(spec):
    """A segmenter given as itself (serial) or as ``(user_dict, backend, hmm)`` (one a worker)."""
    return process_segmenter(*spec) if isinstance(spec, tuple) else spec


def _chunk_segment(spec, cache_dir, progress: bool, chunk: pd.DataFrame) -> pd.DataFrame:
    from helpers import tokens

    seg = _segmenter_of(spec)
    return tokens.tokens_segment(chunk, seg, cache_dir=cache_dir, progress=progress)


def _chunk_code(spec, cache_dir, codebook, progress: bool, chunk: pd.DataFrame):
    from helpers import coding, tokens

    # word boundaries only: no POS tags, so jieba's tokenizer is never loaded for coding
    toks = tokens.tokens_segment(chunk, _segmenter_of(spec), cache_dir=cache_dir, pos=False)
    result = coding.units_code(chunk, codebook, tokens=toks, progress=progress)
    return result.units, result.evidence, result.wide


def _plan(units: pd.DataFrame, segmenter, user_dict, backend, hmm, engine, n_workers):
    """The chunks of ``units`` and the segmenter spec for ``engine``."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, not {engine!r}")
    if engine == "serial":
        spec = segmenter if segmenter is not None else (user_dict, backend, hmm)
        return [units], spec
    return units_chunks(units, max(1, n_workers) * TASKS_PER_WORKER), (user_dict, backend, hmm)


def documents_segment(
    units: pd.DataFrame,
    segmenter=None,
    *,
    user_dict: str | Path | None = None,
    backend: str = "auto",
    hmm: bool = True,
    engine: str = "serial",
    n_workers: int = 2,
    address: str | None = None,
    cache_dir: str | Path | None = SEGMENT_CACHE,
    progress: bool = False,
) -> pd.DataFrame:
    """Return :func:`helpers.tokens.tokens_segment` of ``units``, computed document by document.

    ``engine="serial"`` is ``tokens_segment(units, segmenter)`` in this process (``segmenter``
    None: one built from ``user_dict``, ``backend`` and ``hmm``). ``engine="dask"`` segments runs
    of whole documents on ``n_workers`` worker processes (or the cluster at ``address``), each
    with its own segmenter built from ``user_dict``, ``backend`` and ``hmm`` (the arguments of
    :func:`helpers.tokens.segmenter_make`, which must be those of ``segmenter``); the token table
    is the serial one, row for row. ``cache_dir`` as for ``tokens_segment`` (None: no cache).
    """
    import pandas as pd

    chunks, spec = _plan(units, segmenter, user_dict, backend, hmm, engine, n_workers)
    frames = documents_map(
        partial(_chunk_segment, spec, cache_dir, progress and engine == "serial"),
        chunks,
        engine=engine,
        n_workers=n_workers,
        address=address,
        progress=progress and engine != "serial",
        desc="segmentation",
    )
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def documents_code(
    units: pd.DataFrame,
    codebook: Codebook,
    segmenter=None,
    *,
    user_dict: str | Path | None = None,
    backend: str = "auto",
    hmm: bool = True,
    engine: str = "serial",
    n_workers: int = 2,
    address: str | None = None,
    cache_dir: str | Path | None = SEGMENT_CACHE,
    progress: bool = False,
) -> CodingResult:
    """Return the coding of ``units`` as notebook 03 makes it, computed document by document.

    The same as ``coding.units_code(units, codebook, tokens=toks)`` with ``toks =
    tokens.tokens_segment(units, seg, pos=False)`` and the segmenter as for
    :func:`documents_segment`: every run of whole documents is segmented (for word boundaries) and
    coded on a worker (``engine="dask"``), and the evidence and the unit × code table are put back
    in the order of ``units``. A keyword or pattern never matches across units, so coding a
    document alone gives the evidence it gets in the corpus.
    """
    import pandas as pd

    from helpers.coding import CodingResult

    chunks, spec = _plan(units, segmenter, user_dict, backend, hmm, engine, n_workers)
    parts = documents_map(
        partial(_chunk_code, spec, cache_dir, codebook, progress and engine == "serial"),
        chunks,
        engine=engine,
        n_workers=n_workers,
        address=address,
        progress=progress and engine != "serial",
        desc="coding",
    )
    if len(parts) == 1:
        u, evidence, wide = parts[0]
        return CodingResult(codebook=codebook, units=u, evidence=evidence, wide=wide)
    u = pd.concat([p[0] for p in parts], ignore_index=True)
    evidence = pd.concat([p[1] for p in parts], ignore_index=True)
    wide = pd.concat([p[2] for p in parts], ignore_index=True)
    # runs of documents are contiguous in ``units`` unless a document's units are scattered:
    # restore the serial order (by unit position; evidence keeps its order within a unit)
    position = pd.Series(range(len(units)), index=units["unit_id"].to_numpy())
    order = position.reindex(u["unit_id"].to_numpy()).to_numpy()
    if (order[1:] < order[:-1]).any():
        u = u.iloc[order.argsort(kind="stable")].reset_index(drop=True)
        wide = wide.iloc[position.reindex(wide["unit_id"]).to_numpy().argsort(kind="stable")]
        wide = wide.reset_index(drop=True)
        ev_pos = position.reindex(evidence["unit_id"]).to_numpy()
        evidence = evidence.iloc[ev_pos.argsort(kind="stable")].reset_index(drop=True)
    return CodingResult(codebook=codebook, units=u, evidence=evidence, wide=wide)


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB; on Dask, one worker's:
    ``client.run(peak_rss_mb)`` gives ``{worker address: MB}``.

    Linux's ``VmHWM`` (``/proc/self/status``): the high-water mark of this program since it
    started. Not ``ru_maxrss``, which a process started by fork and exec inherits from its parent
    (a worker of a 600 MB notebook would report at least 600 MB). Elsewhere ``ru_maxrss``.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------------------------------
# The coded table of ``helpers code``, on forked workers
# --------------------------------------------------------------------------------------------------


def units_blocks(units: pd.DataFrame, n_blocks: int) -> list[pd.DataFrame]:
    """Split ``units`` into at most ``n_blocks`` contiguous runs of rows of about the same size,
    each cut where ``doc_id`` changes, at the change nearest an even cut (without ``doc_id``:
    anywhere between two units).

    Unlike :func:`units_chunks` the blocks keep the table's order as it is, so putting their
    results one after the other gives the order of the whole table.
    """
    n = len(units)
    if n_blocks <= 1 or n < 2:
        return [units]
    import numpy as np

    if "doc_id" in units:
        doc = units["doc_id"].to_numpy()
        starts = np.flatnonzero(doc[1:] != doc[:-1]) + 1  # the first row of every run but one
    else:
        starts = np.arange(1, n)
    wanted = [n * k // n_blocks for k in range(1, n_blocks)]
    if not len(starts):
        return [units]
    # the document start nearest each wanted cut
    after = np.minimum(np.searchsorted(starts, wanted), len(starts) - 1)
    before = np.maximum(after - 1, 0)
    wanted = np.asarray(wanted)
    nearer = np.abs(starts[before] - wanted) < np.abs(starts[after] - wanted)
    cuts = sorted(set(np.where(nearer, starts[before], starts[after]).tolist()))
    bounds = [0, *cuts, n]
    return [units.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def _block_code_table(block: pd.DataFrame) -> tuple[pd.DataFrame, str | None, int]:
    """The coded table of one block, its CSV text (:func:`~helpers.tables.table_csv`) and how
    many of its units got a code (in a forked worker: the codebook and the segmenter are the
    parent's, from :data:`FORK_STATE`)."""
    from helpers.coding import units_code
    from helpers.coding_tables import coding_table
    from helpers.tables import table_csv

    codebook, segmenter, text_col, id_col, render = FORK_STATE["code"]
    result = units_code(block, codebook, segmenter, text_col=text_col, id_col=id_col)
    table = coding_table(result)
    return table, table_csv(table) if render else None, int((result.wide["n_codes"] > 0).sum())


def units_code_write(
    units: pd.DataFrame,
    codebook: Codebook,
    segmenter,
    path: str | Path,
    *,
    jobs: int = 1,
    text_col: str = "text",
    id_col: str = "unit_id",
) -> tuple[Path, int]:
    """Write ``coding_table(units_code(units, codebook, segmenter, ...))`` to ``path`` as
    :func:`~helpers.tables.table_write` does; return the path and the number of units coded with
    at least one code. Computed on ``jobs`` forked worker processes.

    The units are cut into ``jobs`` contiguous blocks of whole documents (:func:`units_blocks`);
    each worker codes its block, builds its rows of the table and renders them as CSV text, and
    the texts are written one after the other. A unit is coded from its own text, heading and word
    boundaries alone, so the file is the serial one, byte for byte. Where a block's text cannot be
    rendered on its own (:func:`~helpers.tables.table_csv`) or ``path`` has a budget, the blocks'
    tables are put together and written by ``table_write``. The workers inherit the codebook and
    the segmenter (with its loaded dictionary) from this process.
    """
    import pandas as pd

    from helpers.tables import table_write, table_write_csv

    unique = id_col not in units or not units[id_col].duplicated().any()
    blocks = units_blocks(units, jobs) if unique else [units]  # duplicates: the serial error
    render = len(blocks) > 1
    FORK_STATE["code"] = (codebook, segmenter, text_col, id_col, render)
    try:
        parts = fork_map(_block_code_table, blocks, len(blocks))
    finally:
        del FORK_STATE["code"]
    n = sum(p[2] for p in parts)
    texts = [p[1] for p in parts]
    if render and all(t is not None for t in texts):
        out = table_write_csv(texts, path)
        if out is not None:
            return out, n
    table = parts[0][0] if len(parts) == 1 else pd.concat([p[0] for p in parts], ignore_index=True)
    return table_write(table, path), n
