"""Jupyter kernels and the execution of one notebook in them.

The kernelspec that runs this interpreter (:func:`kernel_ensure`), kernels started ahead of a
notebook's turn (:class:`NotebookTask`, their start-up log in ``.cache/kernels/``), the papermill
engine that runs a notebook in such a kernel, readable messages for failing and hanging cells, and
shutting every kernel down on Ctrl-C (:func:`kernels_kill`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from helpers import paths
from helpers.jupyter import iri_checks_skipped
from helpers.notebooks import cell_source, notebook_read
from helpers.pipeline import FAILED, RAN, NotebookStep, PipelineError

# paths already does this on import; repeated here so the kernels started below never write their
# caches to the user's home even if paths changes.
os.environ.setdefault("MPLCONFIGDIR", str(paths.CACHE / "matplotlib"))
os.environ.setdefault("IPYTHONDIR", str(paths.CACHE / "ipython"))


def _cache_dirs_ensure() -> None:
    """Create the matplotlib and IPython cache folders named in the environment.

    IPython falls back to a temporary folder (with a warning) when the parent of IPYTHONDIR is
    missing, which would put the kernels' caches outside the project again.
    """
    for variable in ("MPLCONFIGDIR", "IPYTHONDIR"):
        Path(os.environ[variable]).mkdir(parents=True, exist_ok=True)
    # The kernels' own log (ipykernel's "running over TCP without encryption" notice on every start,
    # nbconvert's alt-text remarks) is noise in a run's output; errors in cells are still reported.
    config = Path(os.environ["IPYTHONDIR"]) / "profile_default" / "ipython_kernel_config.py"
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("c.IPKernelApp.log_level = 'ERROR'\n", encoding="utf-8")


def _spec_is_this_python(argv: list[str]) -> bool:
    """Return whether a kernelspec command starts this interpreter.

    jupyter_client replaces a bare ``python``/``python3``/``python3.X`` with ``sys.executable``.
    """
    if not argv:
        return False
    bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    if argv[0] in bare:
        return True
    return os.path.abspath(argv[0]) == os.path.abspath(sys.executable)


def kernel_ensure(name: str) -> str:
    """Make sure kernelspec ``name`` runs this interpreter, installing it if needed; return name.

    Notebooks must run with the project's environment (the one running this code), not whatever
    ``python3`` kernel Jupyter finds first; installing into ``sys.prefix`` keeps it inside the env.
    """
    _cache_dirs_ensure()
    from ipykernel.kernelspec import install
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    def runs_here() -> bool:
        try:
            spec = KernelSpecManager().get_kernel_spec(name)
        except NoSuchKernel:
            return False
        return _spec_is_this_python(list(spec.argv))

    if runs_here():
        return name
    install(kernel_name=name, prefix=sys.prefix, display_name=f"Python ({name})")
    if not runs_here():
        found = KernelSpecManager().find_kernel_specs().get(name)
        raise PipelineError(
            f"kernel '{name}': the kernelspec at {found} runs another Python than "
            f"{sys.executable}; remove it (jupyter kernelspec remove {name}) and run again"
        )
    return name


#: The kernel manager of each notebook running now, so Ctrl-C can shut its kernel down.
_KERNELS: dict[str, Any] = {}
#: Set on Ctrl-C: kernels about to start are shut down at once.
KERNEL_STOP = threading.Event()
#: Name of the papermill engine registered by :func:`_engine_name`.
ENGINE = "minning-prestarted"


def _kernel_kill(name: str) -> None:
    """Stop the kernel process of notebook ``name`` (if it has one); its run then ends at once."""
    km = _KERNELS.get(name)
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is not None and process.poll() is None:
        process.kill()


def kernels_kill() -> None:
    """Stop the kernel process of every notebook running now (Ctrl-C); their runs end at once."""
    for name in list(_KERNELS):
        _kernel_kill(name)


def _engine_name() -> str:
    """Register (once) and return a papermill engine that runs a notebook in a started kernel.

    papermill's own engine only shuts down kernels it started itself; this one is given the kernel
    manager of a kernel started ahead (:class:`NotebookTask`) and shuts it down when done.
    """
    with iri_checks_skipped():
        from papermill.clientwrap import PapermillNotebookClient
        from papermill.engines import NBClientEngine, papermill_engines

    if ENGINE in papermill_engines._engines:
        return ENGINE

    class PrestartedEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            **kwargs,
        ):
            kwargs.pop("input_path", None)
            kwargs.pop("timeout", None)
            kwargs.pop("startup_timeout", None)
            client = PapermillNotebookClient(
                nb_man,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                **kwargs,
            )
            return client.execute(cleanup_kc=True)  # shut the given kernel down at the end

    papermill_engines.register(ENGINE, PrestartedEngine)
    return ENGINE


async def _kernel_start(km: Any, timeout: float = 60, log: Path | None = None) -> None:
    """Start the kernel of ``km`` in the repository root and wait until it answers.

    Waiting here (not only launching the process) makes ``kernel_start_seconds`` the real start-up
    (interpreter, IPython, the kernel's imports) and lets the notebook begin at once when its turn
    comes. papermill's ``cwd`` would change the folder of the whole process, shared by threads.
    """
    if log is None:
        await km._async_start_kernel(cwd=str(paths.ROOT))
    else:
        # the kernel process's own stderr (not the cells' output, which reaches the notebook) goes
        # to a log file: jupyter_client interrupts a kernel before shutting it down, and an idle
        # kernel then prints "KeyboardInterrupt caught in kernel" into the run's output
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w", encoding="utf-8") as stream:
            await km._async_start_kernel(cwd=str(paths.ROOT), stderr=stream)
    kc = km.client()
    kc.start_channels()
    try:
        await kc._async_wait_for_ready(timeout=timeout)
    finally:
        kc.stop_channels()


class NotebookTask:
    """One notebook's run in a worker thread: start its kernel at once, run the cells on ``go``.

    The kernel (1-2 s: the interpreter, IPython, the kernel's own imports) starts while the
    notebooks before it still run; the main thread then calls :meth:`go` once they are done and
    the notebook must run, or :meth:`cancel` (up to date, or the run stopped). Start-up and run
    happen in the same thread, on its one event loop, as jupyter_client needs.
    """

    def __init__(self, step: NotebookStep, kernel: str) -> None:
        self.step = step
        self.kernel = kernel
        self.kernel_seconds = 0.0
        self._decided = threading.Event()
        self._run: tuple | None = None  # (output, params, progress, cell_timeout) once go

    def go(self, output: Path, params: dict, progress: bool, cell_timeout: int | None) -> None:
        """Run the notebook now (its kernel is started or starting)."""
        self._run = (output, params, progress, cell_timeout)
        self._decided.set()

    def cancel(self) -> None:
        """Do not run it: shut its kernel down."""
        self._decided.set()

    def __call__(self) -> tuple[str, str | None, Exception | None] | None:
        """Start the kernel, wait for the decision; return what :func:`_execute` returns or None."""
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import run_sync

        name = self.step.name
        km = AsyncKernelManager(kernel_name=self.kernel)
        started = time.perf_counter()
        start_error: Exception | None = None
        try:
            if KERNEL_STOP.is_set():
                raise KeyboardInterrupt
            _KERNELS[name] = km
            run_sync(_kernel_start)(km, log=paths.CACHE / "kernels" / f"{name}.log")
        except (Exception, KeyboardInterrupt) as err:
            start_error = err
        self.kernel_seconds = time.perf_counter() - started
        self._decided.wait()
        try:
            if self._run is None or start_error is not None or KERNEL_STOP.is_set():
                if self._run is None or KERNEL_STOP.is_set():
                    return None
                return (
                    FAILED,
                    f"notebook {name} could not run: its kernel did not start: "
                    f"{type(start_error).__name__}: {start_error}",
                    start_error,
                )
            output, params, progress, cell_timeout = self._run
            return _execute(self.step, output, params, km, progress, cell_timeout)
        finally:
            _KERNELS.pop(name, None)
            if km.has_kernel:
                with contextlib.suppress(Exception):
                    run_sync(km._async_shutdown_kernel)(now=True)


def _cell_where(path: Path, err: Exception) -> str:
    """Return ``cell N ("first line")`` of the notebook cell a timeout names (best effort)."""
    text = str(err)
    preview = text.split("-------------------")[1].strip() if "-----" in text else ""
    first = preview.splitlines()[0].strip() if preview else ""
    try:
        cells = notebook_read(path)["cells"]
    except PipelineError:
        cells = []
    for i, cell in enumerate(cells):
        lines = [ln.strip() for ln in cell_source(cell).splitlines() if ln.strip()]
        if first and lines and lines[0] == first:
            return f'cell {i + 1} ("{first}")'
    return f'the cell starting "{first}"' if first else "a cell"


def _execute(
    step: NotebookStep,
    output: Path,
    params: dict,
    km: Any,
    progress: bool,
    cell_timeout: int | None = None,
) -> tuple[str, str | None, Exception | None]:
    """Run one notebook with papermill in the started kernel of ``km``.

    Return (status, error message or None, exception or None). The kernel was started in the
    repository root (papermill's ``cwd`` would change the folder of the whole process, which
    other notebooks' threads share).
    """
    with iri_checks_skipped():
        import papermill
        from nbclient.exceptions import CellTimeoutError
        from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(
            str(step.path),
            str(output),
            parameters=params,
            engine_name=_engine_name(),
            kernel_name=km.kernel_name,
            language="python",
            progress_bar=progress,
            request_save_on_cell_execute=False,
            execution_timeout=cell_timeout,
            km=km,
        )
    except PapermillExecutionError as err:
        return FAILED, _error_message(step, err, output), err
    except CellTimeoutError as err:
        error = (
            f"notebook {step.name}: {_cell_where(step.path, err)} ran longer than "
            f"cell_timeout ({cell_timeout} s, in pipeline.yaml); raise cell_timeout for a large "
            "corpus, or look at what the cell waits for (cells count from 1, as in JupyterLab)"
        )
        if output.exists():
            error += f"\n  executed copy: {output}"
        return FAILED, error, err
    except (Exception, KeyboardInterrupt) as err:  # kernel died or could not start, ...
        error = f"notebook {step.name} could not run: {type(err).__name__}: {err}"
        if output.exists():
            error += f"\n  executed copy: {output}"
        return FAILED, error, err
    return RAN, None, None


def _error_message(step: NotebookStep, err: Exception, output: Path) -> str:
    """Return a readable message for a cell error raised by papermill while running ``step``.

    The exception and its message come first: they name the cause (a helper's error says which file,
    line or field and what to do); where it happened and the executed copy follow.
    """
    evalue = str(err.evalue).strip() or "(no message)"
    return (
        f"notebook {step.name} failed: {err.ename}: {evalue}\n"
        f"  in cell {err.cell_index} (In [{err.exec_count}]) of the executed copy, with the "
        f"traceback: {output}\n"
        "  (cell numbers count from 0 in the executed copy, which has the injected parameters cell)"
    )
