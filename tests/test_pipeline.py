"""Tests for the notebook runner (helpers.runner, helpers.pipeline and the modules they use) and
``python -m helpers run`` (helpers.cli).

The notebooks are tiny ones built in ``tmp_path``; each writes the parameters it received to a JSON
file, so the tests can check exactly what every notebook got.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import nbformat
import pytest
import yaml

from helpers import paths
from helpers.cli import main
from helpers.kernels import kernel_ensure
from helpers.notebooks import notebook_parameters
from helpers.parameters import parameters_parse
from helpers.pipeline import NotebookStep, PipelineError, pipeline_read
from helpers.runner import pipeline_run

from .conftest import SMALL_RESAMPLES

KERNEL = "pytest-minning"


@pytest.fixture(scope="module", autouse=True)
def kernel_removed_afterwards():
    """Remove the test kernel these tests register, so it stays out of the JupyterLab launcher."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
        existed = True
    except NoSuchKernel:
        existed = False
    yield
    if not existed:
        # none registered when only other tests ran
        with contextlib.suppress(NoSuchKernel, KeyError, OSError):
            KernelSpecManager().remove_kernel_spec(KERNEL)


def notebook_write(path: Path, parameters: str, body: str | None = None) -> Path:
    """Write a notebook with a cell tagged ``parameters`` and a cell dumping them; return its path.

    The dump goes to ``<out_dir>/<stem>.json`` (``out_dir`` must be one of the parameters), holding
    every parameter name declared in ``parameters`` with its value at run time.
    """
    names = [line.split("=")[0].strip() for line in parameters.splitlines() if "=" in line]
    dump = (
        "import json, pathlib\n"
        f"values = {{name: globals()[name] for name in {names!r}}}\n"
        f"pathlib.Path(out_dir, {path.stem!r} + '.json').write_text("
        "json.dumps(values, ensure_ascii=False), encoding='utf-8')"
    )
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "P3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# {path.stem}"))
    nb.cells.append(nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    if body is not None:
        nb.cells.append(nbformat.v4.new_code_cell(body))
    nb.cells.append(nbformat.v4.new_code_cell(dump))
    nbformat.write(nb, path)
    return path


def config_write(path: Path, data: dict) -> Path:
    """Write ``data`` as a pipeline YAML file; return its path."""
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def dump_read(out_dir: Path, stem: str) -> dict:
    """Return the parameters notebook ``stem`` wrote while running."""
    return json.loads((out_dir / f"{stem}.json").read_text(encoding="utf-8"))


@pytest.fixture
def two_notebooks(tmp_path: Path) -> tuple[Path, Path]:
    """A pipeline of two notebooks with different parameters; return (config path, dump dir)."""
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    nb_dir = tmp_path / "nb"
    nb_dir.mkdir()
    first = notebook_write(
        nb_dir / "01_first.ipynb", 'greeting = "hi"  # text to print\nn = 1\nout_dir = ""'
    )
    second = notebook_write(nb_dir / "02_second.ipynb", 'n = 1\nlabel = "b"\nout_dir = ""')
    cfg = config_write(
        tmp_path / "pipeline.yaml",
        {
            "kernel": KERNEL,
            "parameters": {"greeting": "你好", "n": 2, "label": "shared", "out_dir": str(dumps)},
            "notebooks": [
                {"path": str(first), "parameters": {}},
                {"path": str(second), "parameters": {"label": "second's own"}},
            ],
        },
    )
    return cfg, dumps


@pytest.fixture
def failing_pipeline(tmp_path: Path) -> tuple[Path, Path]:
    """A pipeline whose second of three notebooks raises; return (config path, dump dir)."""
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    nbs = [
        notebook_write(tmp_path / "01_ok.ipynb", 'out_dir = ""'),
        notebook_write(tmp_path / "02_bad.ipynb", 'out_dir = ""', "raise ValueError('坏数据')"),
        notebook_write(tmp_path / "03_after.ipynb", 'out_dir = ""'),
    ]
    cfg = config_write(
        tmp_path / "pipeline.yaml",
        {
            "kernel": KERNEL,
            "parameters": {"out_dir": str(dumps)},
            "notebooks": [{"path": str(p)} for p in nbs],
        },
    )
    return cfg, dumps


# --- configuration ---------------------------------------------------------------------------


def test_pipeline_read_valid(two_notebooks):
    cfg, dumps = two_notebooks
    config = pipeline_read(cfg)
    assert config.kernel == KERNEL
    assert config.source == cfg.resolve()
    assert [s.path.name for s in config.steps] == ["01_first.ipynb", "02_second.ipynb"]
    assert config.steps[1].parameters == {"label": "second's own"}
    assert config.parameters["out_dir"] == str(dumps)


def test_pipeline_read_missing_notebook(tmp_path):
    cfg = config_write(
        tmp_path / "p.yaml",
        {"kernel": KERNEL, "notebooks": [{"path": str(tmp_path / "99_missing.ipynb")}]},
    )
    with pytest.raises(PipelineError) as err:
        pipeline_read(cfg)
    message = str(err.value)
    assert str(cfg) in message
    assert "field 'notebooks[0].path': notebook not found" in message
    assert "99_missing.ipynb" in message
    assert (err.value.path, err.value.field) == (cfg.resolve(), "notebooks[0].path")


def test_pipeline_read_unknown_key(tmp_path):
    nb = notebook_write(tmp_path / "01_a.ipynb", 'out_dir = ""')
    cfg = config_write(
        tmp_path / "p.yaml",
        {"kernel": KERNEL, "notebooks": [{"path": str(nb)}], "parametres": {"n": 1}},
    )
    with pytest.raises(PipelineError, match="parametres") as err:
        pipeline_read(cfg)
    assert str(cfg) in str(err.value)


def test_pipeline_read_unknown_step_key(tmp_path):
    nb = notebook_write(tmp_path / "01_a.ipynb", 'out_dir = ""')
    cfg = config_write(
        tmp_path / "p.yaml", {"kernel": KERNEL, "notebooks": [{"path": str(nb), "params": {}}]}
    )
    with pytest.raises(PipelineError, match=r"notebooks\[0\].*params"):
        pipeline_read(cfg)


def test_pipeline_read_missing_notebooks(tmp_path):
    cfg = config_write(tmp_path / "p.yaml", {"kernel": KERNEL, "parameters": {"n": 1}})
    with pytest.raises(PipelineError, match="field 'notebooks': key is missing") as err:
        pipeline_read(cfg)
    assert str(cfg) in str(err.value)


def test_pipeline_read_parameters_not_mapping(tmp_path):
    nb = notebook_write(tmp_path / "01_a.ipynb", 'out_dir = ""')
    cfg = config_write(
        tmp_path / "p.yaml",
        {"kernel": KERNEL, "parameters": ["n", 1], "notebooks": [{"path": str(nb)}]},
    )
    with pytest.raises(PipelineError, match="field 'parameters': must be a mapping"):
        pipeline_read(cfg)


def test_pipeline_read_missing_file(tmp_path):
    with pytest.raises(PipelineError, match="not found"):
        pipeline_read(tmp_path / "nope.yaml")


def test_pipeline_yaml_of_the_project_parses():
    """The shipped pipeline.yaml has only known keys (its notebooks may not exist yet)."""
    from helpers import paths
    from helpers.pipeline import CONFIG_KEYS

    raw = yaml.safe_load(paths.PIPELINE_CONFIG.read_text(encoding="utf-8"))
    assert set(raw) <= CONFIG_KEYS == {"kernel", "parameters", "notebooks", "cell_timeout"}
    assert raw["notebooks"] and raw["cell_timeout"] == 600


# --- parameters ------------------------------------------------------------------------------


def test_parameters_parse_types():
    parsed = parameters_parse(
        [
            ("top_n", "50"),
            ("hmm", "false"),
            ("keywords", "[闽宁协作, 乡村振兴]"),
            ("unit", "sentence"),
            ("title", "闽宁协作"),
            ("ratio", "0.5"),
            ("note", "闽宁: 协作 #1"),
            ("code", "'50'"),
            ("empty", ""),
        ]
    )
    assert parsed == {
        "top_n": 50,
        "hmm": False,
        "keywords": ["闽宁协作", "乡村振兴"],
        "unit": "sentence",
        "title": "闽宁协作",
        "ratio": 0.5,
        "note": "闽宁: 协作 #1",
        "code": "50",
        "empty": "",
    }
    assert type(parsed["top_n"]) is int


def test_parameters_parse_rejects_bad_name_and_value():
    with pytest.raises(PipelineError, match="top-n"):
        parameters_parse([("top-n", "5")])
    with pytest.raises(PipelineError, match="keywords"):
        parameters_parse([("keywords", "[闽宁协作, ")])


def test_notebook_parameters(tmp_path):
    nb = notebook_write(tmp_path / "01_a.ipynb", 'greeting = "hi"  # text to print\nn = 1')
    assert notebook_parameters(nb) == {"greeting": '"hi"', "n": "1"}


def test_notebook_parameters_requires_tagged_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "P3", "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell("n = 1"))
    path = tmp_path / "01_untagged.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(PipelineError, match="01_untagged.*no cell tagged 'parameters'"):
        notebook_parameters(path)


def test_kernel_ensure_runs_this_python():
    import sys

    from jupyter_client.kernelspec import KernelSpecManager

    assert kernel_ensure(KERNEL) == KERNEL
    spec = KernelSpecManager().get_kernel_spec(KERNEL)
    assert spec.argv[0] == sys.executable


# --- running ---------------------------------------------------------------------------------


@pytest.mark.notebooks
def test_pipeline_run_passes_declared_parameters(two_notebooks, tmp_path, capsys):
    cfg, dumps = two_notebooks
    executed = tmp_path / "executed"
    summary = pipeline_run(
        pipeline_read(cfg), {"n": 3, "greeting": "闽宁"}, output_dir=executed, progress=False
    )

    # shared < step < -p; a notebook only receives what it declares
    assert dump_read(dumps, "01_first") == {"greeting": "闽宁", "n": 3, "out_dir": str(dumps)}
    assert dump_read(dumps, "02_second") == {"n": 3, "label": "second's own", "out_dir": str(dumps)}
    injected = nbformat.read(executed / "02_second.ipynb", as_version=4).cells
    injected = [c for c in injected if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert "greeting" not in injected[0].source
    assert 'label = "second\'s own"' in injected[0].source

    assert list(summary.columns) == [
        "notebook",
        "status",
        "why",
        "seconds",
        "output",
        "parameters",
        "written",
    ]
    assert summary["parameters"].tolist()[1]["label"] == "second's own"
    assert summary["notebook"].tolist() == ["01_first", "02_second"]
    assert summary["status"].tolist() == ["ran", "ran"]
    assert summary["output"].tolist() == [
        str(executed / "01_first.ipynb"),
        str(executed / "02_second.ipynb"),
    ]
    # only the executed copies are written to the output folder
    assert sorted(p.name for p in executed.iterdir()) == ["01_first.ipynb", "02_second.ipynb"]
    err = capsys.readouterr().err
    assert "[1/2] 01_first … ran (" in err and "why: no record of an earlier run" in err
    assert "[2/2] 02_second … ran (" in err


@pytest.mark.notebooks
def test_pipeline_run_without_overrides_uses_shared_then_step(two_notebooks, tmp_path):
    cfg, dumps = two_notebooks
    pipeline_run(pipeline_read(cfg), only=["02"], output_dir=tmp_path / "ex", progress=False)
    assert not (dumps / "01_first.json").exists()
    assert dump_read(dumps, "02_second") == {"n": 2, "label": "second's own", "out_dir": str(dumps)}


def test_pipeline_run_rejects_undeclared_override(two_notebooks, tmp_path):
    cfg, dumps = two_notebooks
    with pytest.raises(PipelineError) as err:
        pipeline_run(pipeline_read(cfg), {"top_n": 5}, output_dir=tmp_path / "ex", progress=False)
    message = str(err.value)
    assert "top_n" in message
    for name in ("greeting", "label", "n", "out_dir"):
        assert name in message
    assert not list(dumps.iterdir())  # checked before anything ran

    # declared only by a notebook that is not selected
    with pytest.raises(PipelineError, match="greeting"):
        pipeline_run(
            pipeline_read(cfg),
            {"greeting": "x"},
            only=["02_second"],
            output_dir=tmp_path / "ex",
            progress=False,
        )


def test_pipeline_run_rejects_unknown_only(two_notebooks, tmp_path):
    cfg, _ = two_notebooks
    with pytest.raises(PipelineError, match="03.*01_first, 02_second"):
        pipeline_run(pipeline_read(cfg), only=["03"], output_dir=tmp_path / "ex", progress=False)


@pytest.mark.notebooks
def test_pipeline_run_stops_at_failing_notebook(failing_pipeline, tmp_path):
    cfg, dumps = failing_pipeline
    executed = tmp_path / "executed"
    with pytest.raises(PipelineError) as err:
        pipeline_run(pipeline_read(cfg), output_dir=executed, progress=False)
    message = str(err.value)
    assert "02_bad" in message
    assert "ValueError" in message and "坏数据" in message
    # cells: 0 markdown, 1 parameters, 2 injected parameters, 3 the raising one (3rd executed)
    assert "cell 3 (In [3])" in message
    # the cause comes first, not the cell's first line
    assert message.splitlines()[0] == "notebook 02_bad failed: ValueError: 坏数据"
    copy = executed / "02_bad.ipynb"
    assert str(copy) in message
    assert copy.exists()
    assert "坏数据" in copy.read_text(encoding="utf-8")

    assert (dumps / "01_ok.json").exists()
    assert not (dumps / "03_after.json").exists()
    assert not (executed / "03_after.ipynb").exists()
    summary = err.value.summary
    assert summary["status"].tolist() == ["ran", "failed", "not run"]


# --- command line ----------------------------------------------------------------------------


@pytest.mark.notebooks
def test_cli_run(two_notebooks, tmp_path, capsys):
    cfg, dumps = two_notebooks
    code = main(
        [
            "run",
            "--config",
            str(cfg),
            "-p",
            "n",
            "3",
            "--output-dir",
            str(tmp_path / "ex"),
            "--no-progress",
        ]
    )
    assert code == 0
    assert dump_read(dumps, "01_first")["n"] == 3
    assert dump_read(dumps, "02_second")["n"] == 3
    out = capsys.readouterr().out
    assert "01_first" in out and "02_second" in out and "total:" in out
    assert "no record of an earlier run" in out

    # unchanged: nothing runs, nothing is written, and the summary says so
    args = [
        "run",
        "--config",
        str(cfg),
        "-p",
        "n",
        "3",
        "--output-dir",
        str(tmp_path / "ex"),
        "--no-progress",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    rows = [line.split("  ")[0] for line in out.splitlines() if "  up to date" in line]
    assert (
        rows == ["01_first", "02_second"]
        and "written: nothing (every notebook was up to date)" in out
    )


@pytest.mark.notebooks
def test_cli_run_failure(tmp_path, capsys):
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    bad = notebook_write(tmp_path / "01_bad.ipynb", 'out_dir = ""', "raise ValueError('坏数据')")
    cfg = config_write(
        tmp_path / "p.yaml",
        {
            "kernel": KERNEL,
            "parameters": {"out_dir": str(dumps)},
            "notebooks": [{"path": str(bad)}],
        },
    )
    out_dir = str(tmp_path / "ex")
    code = main(["run", "--config", str(cfg), "--output-dir", out_dir, "--no-progress"])
    assert code == 1
    err = capsys.readouterr().err
    assert "error: notebook 01_bad failed" in err
    assert "坏数据" in err


def test_cli_run_config_error(tmp_path, capsys):
    cfg = config_write(tmp_path / "p.yaml", {"kernel": KERNEL})
    assert main(["run", "--config", str(cfg)]) == 1
    assert "error:" in capsys.readouterr().err


def test_cli_run_undeclared_override(two_notebooks, tmp_path, capsys):
    cfg, _ = two_notebooks
    code = main(["run", "--config", str(cfg), "-p", "top_n", "5", "--output-dir", str(tmp_path)])
    assert code == 1
    assert "top_n" in capsys.readouterr().err


def test_pipeline_run_rejects_undeclared_step_parameter(tmp_path):
    nb = notebook_write(tmp_path / "01_a.ipynb", 'out_dir = ""')
    cfg = config_write(
        tmp_path / "p.yaml",
        {"kernel": KERNEL, "notebooks": [{"path": str(nb), "parameters": {"top_n": 5}}]},
    )
    with pytest.raises(PipelineError, match="top_n of 01_a.*declares: out_dir") as err:
        pipeline_run(pipeline_read(cfg), output_dir=tmp_path / "ex", progress=False)
    assert str(cfg) in str(err.value)


# --- incremental runs ------------------------------------------------------------------------

STAGE_ONE = (
    "import pathlib\n"
    "text = pathlib.Path(in_file).read_text(encoding='utf-8')\n"
    "pathlib.Path(work, 'a.txt').write_text(text.splitlines()[0] * scale, encoding='utf-8')\n"
    "with open(pathlib.Path(log_dir, 'runs.log'), 'a', encoding='utf-8') as f:\n"
    "    f.write('01\\n')"
)
STAGE_TWO = (
    "import pathlib\n"
    "a = pathlib.Path(work, 'a.txt').read_text(encoding='utf-8')\n"
    "pathlib.Path(work, 'b.txt').write_text(a + '!', encoding='utf-8')\n"
    "with open(pathlib.Path(log_dir, 'runs.log'), 'a', encoding='utf-8') as f:\n"
    "    f.write('02\\n')"
)


@pytest.fixture
def chain(tmp_path: Path) -> dict:
    """Two notebooks, 02 reading what 01 writes, each logging its runs; return their paths."""
    nb_dir, work, logs, dumps = (tmp_path / d for d in ("nb", "work", "logs", "dumps"))
    for d in (nb_dir, work, logs, dumps):
        d.mkdir()
    params = (
        'in_file = ""  # input\nwork = ""  # products\nlog_dir = ""  # run log\n'
        'out_dir = ""  # dumps'
    )
    first = notebook_write(nb_dir / "01_first.ipynb", params + "\nscale = 1  # repeat", STAGE_ONE)
    second = notebook_write(nb_dir / "02_second.ipynb", params, STAGE_TWO)
    source = tmp_path / "input.txt"
    source.write_text("闽宁协作\n第二行\n", encoding="utf-8")
    cfg = config_write(
        tmp_path / "pipeline.yaml",
        {
            "kernel": KERNEL,
            "parameters": {
                "in_file": str(source),
                "work": str(work),
                "log_dir": str(logs),
                "out_dir": str(dumps),
            },
            "notebooks": [
                {"path": str(first), "reads": ["in_file"], "writes": ["work/a.txt"]},
                {"path": str(second), "reads": ["work/a.txt"], "writes": ["work/b.txt"]},
            ],
        },
    )
    return {
        "cfg": cfg,
        "source": source,
        "work": work,
        "log": logs / "runs.log",
        "first": first,
        "executed": tmp_path / "executed",
        "manifest": tmp_path / "manifest.json",
    }


def run_chain(chain: dict, overrides: dict | None = None, **kwargs) -> dict[str, str]:
    """Run the chain; return {notebook: status} and check the log agrees with what ran."""
    before = chain["log"].read_text().split() if chain["log"].exists() else []
    summary = pipeline_run(
        pipeline_read(chain["cfg"]),
        overrides,
        output_dir=chain["executed"],
        progress=False,
        **kwargs,
    )
    ran = chain["log"].read_text().split()[len(before) :] if chain["log"].exists() else []
    status = dict(zip(summary["notebook"], summary["status"]))
    assert sorted(ran) == sorted(n[:2] for n, s in status.items() if s == "ran")
    chain["why"] = dict(zip(summary["notebook"], summary["why"]))
    return status


@pytest.mark.notebooks
def test_unchanged_rerun_executes_nothing(chain, capsys):
    assert run_chain(chain) == {"01_first": "ran", "02_second": "ran"}
    assert run_chain(chain) == {"01_first": "up to date", "02_second": "up to date"}
    assert "[2/2] 02_second … up to date" in capsys.readouterr().err
    manifest = json.loads(chain["manifest"].read_text(encoding="utf-8"))
    first = manifest["notebooks"][0]
    assert first["notebook"] == "01_first" and first["status"] == "ran"
    assert list(first["key"]["inputs"]) == [chain["source"].as_posix()]
    assert set(first["key"]["code"]) == {
        "src/helpers/__init__.py"
    }  # the notebook imports no helpers
    assert str(chain["work"] / "a.txt") in first["products"]


@pytest.mark.notebooks
def test_changed_input_reruns_the_notebook_and_what_its_products_feed(chain):
    run_chain(chain)
    chain["source"].write_text("东西部协作\n", encoding="utf-8")
    assert run_chain(chain) == {"01_first": "ran", "02_second": "ran"}
    assert chain["why"]["01_first"] == "input.txt changed"
    assert chain["why"]["02_second"] == "a.txt changed"
    assert (chain["work"] / "b.txt").read_text(encoding="utf-8") == "东西部协作!"


@pytest.mark.notebooks
def test_upstream_rerun_with_identical_products_leaves_downstream_alone(chain):
    run_chain(chain)
    chain["source"].write_text(
        "闽宁协作\n另一行\n", encoding="utf-8"
    )  # a.txt holds the first line only
    assert run_chain(chain) == {"01_first": "ran", "02_second": "up to date"}


@pytest.mark.notebooks
def test_parameter_notebook_edit_missing_product_and_force_rerun(chain):
    run_chain(chain)
    assert run_chain(chain, {"scale": 2}) == {"01_first": "ran", "02_second": "ran"}
    assert chain["why"]["01_first"] == "parameter scale changed"
    (chain["work"] / "b.txt").unlink()
    assert run_chain(chain, {"scale": 2}) == {"01_first": "up to date", "02_second": "ran"}
    assert chain["why"]["02_second"] == "b.txt missing"
    (chain["work"] / "b.txt").write_text("edited by hand", encoding="utf-8")
    assert run_chain(chain, {"scale": 2})["02_second"] == "ran"
    assert "altered since it ran" in chain["why"]["02_second"]

    # outputs saved into the notebook (as JupyterLab does) are not a change; an edited cell is
    nb = nbformat.read(chain["first"], as_version=4)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="saved output")]
    nb.cells[2].execution_count = 3
    nbformat.write(nb, chain["first"])
    assert run_chain(chain, {"scale": 2})["01_first"] == "up to date"
    nb.cells[0].source = "# 01 first, retitled"
    nbformat.write(nb, chain["first"])
    assert run_chain(chain, {"scale": 2})["01_first"] == "ran"
    assert chain["why"]["01_first"] == "the notebook changed"
    assert run_chain(chain, {"scale": 2}, force=True) == {"01_first": "ran", "02_second": "ran"}
    assert chain["why"]["01_first"] == "--force"


@pytest.mark.notebooks
def test_partial_run_merges_into_the_manifest(chain):
    run_chain(chain)
    chain["source"].write_text("东西部协作\n", encoding="utf-8")
    pipeline_run(
        pipeline_read(chain["cfg"]), only=["01"], output_dir=chain["executed"], progress=False
    )
    manifest = json.loads(chain["manifest"].read_text(encoding="utf-8"))
    assert [e["notebook"] for e in manifest["notebooks"]] == ["01_first", "02_second"]
    assert run_chain(chain) == {"01_first": "up to date", "02_second": "ran"}


@pytest.mark.notebooks
def test_failed_notebook_is_rerun_and_upstream_is_not(chain):
    run_chain(chain)
    (chain["work"] / "a.txt").unlink()
    chain["source"].write_text("", encoding="utf-8")  # 01 fails: no first line
    with pytest.raises(PipelineError, match="IndexError"):
        run_chain(chain)
    chain["source"].write_text("闽宁协作\n", encoding="utf-8")
    assert run_chain(chain) == {"01_first": "ran", "02_second": "up to date"}
    assert chain["why"]["01_first"] == "it failed last time"


@pytest.mark.notebooks
def test_undeclared_write_is_reported(chain, capsys):
    cfg = yaml.safe_load(chain["cfg"].read_text(encoding="utf-8"))
    cfg["notebooks"][1]["writes"] = []
    config_write(chain["cfg"], cfg)
    run_chain(chain)
    err = capsys.readouterr().err
    assert "warning: 02_second wrote files that its 'writes'" in err and "b.txt" in err


def test_reads_and_writes_must_name_declared_parameters(chain):
    cfg = yaml.safe_load(chain["cfg"].read_text(encoding="utf-8"))
    cfg["notebooks"][0]["reads"] = ["input_file"]
    config_write(chain["cfg"], cfg)
    with pytest.raises(
        PipelineError, match="reads of 01_first: input_file must start with a parameter"
    ):
        run_chain(chain)


def test_helpers_modules_follow_the_imports_of_each_notebook():
    from helpers.notebooks import helpers_modules

    names = {p.stem: {m.name for m in helpers_modules(p)} for p in paths.NOTEBOOKS.glob("*.ipynb")}
    expected = {"reliability.py", "qdpx.py", "codebook.py", "tables.py", "__init__.py"}
    assert expected <= names["05_coding_reliability"]
    assert "reliability.py" not in names["02_segmentation_and_frequency"]
    assert "tokens.py" in names["02_segmentation_and_frequency"]
    assert (
        "summaries.py" not in names["03_thematic_coding"]
        and "coding.py" in names["03_thematic_coding"]
    )


def test_project_pipeline_declares_reads_and_writes_of_every_notebook():
    config = pipeline_read()
    for step in config.steps:
        assert step.writes, step.name
        declared = set(notebook_parameters(step.path)) | {"notebooks_dir"}
        assert {e.split("/")[0] for e in (*step.reads, *step.writes)} <= declared, step.name


def test_one_meaning_per_parameter_name():
    """A parameter declared by several notebooks has one default everywhere (one -p, one sense)."""
    defaults: dict[str, set[str]] = {}
    for nb in paths.NOTEBOOKS.glob("*.ipynb"):
        for name, value in notebook_parameters(nb).items():
            defaults.setdefault(name, set()).add(value.strip())
    shared = yaml.safe_load(paths.PIPELINE_CONFIG.read_text(encoding="utf-8"))["parameters"]
    differing = {n: v for n, v in defaults.items() if len(v) > 1 and n not in shared}
    assert not differing, (
        f"same name, different defaults, not set once in pipeline.yaml: {differing}"
    )
    assert shared["random_seed"] == 42


# --- check-outputs ---------------------------------------------------------------------------


def test_outputs_check_prints_a_summary_then_a_bounded_diff_without_svg(tmp_path):
    import subprocess

    from helpers.outputs import outputs_diff

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "ci@example.org")
    git("config", "user.name", "ci")
    tables, figures = tmp_path / "outputs" / "tables", tmp_path / "outputs" / "figures"
    tables.mkdir(parents=True)
    figures.mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "codebook.yaml").write_text("codes: []\n", encoding="utf-8")
    rows = "".join(f"unit{i},0\n" for i in range(500))
    (tables / "coding_units.csv").write_text("unit_id,economic\n" + rows, encoding="utf-8")
    (tables / "old.csv").write_text("a\n1\n", encoding="utf-8")
    (figures / "summary_shares.svg").write_text("<svg><path d='M 0 0'/></svg>\n", encoding="utf-8")
    git("add", "-A")
    git("commit", "-q", "-m", "outputs")

    (tmp_path / "data" / "codebook.yaml").write_text("codes: [digital]\n", encoding="utf-8")
    (tables / "coding_units.csv").write_text(
        "unit_id,economic,digital\n" + rows.replace(",0", ",0,1"), encoding="utf-8"
    )
    (tables / "old.csv").unlink()
    (tables / "coding_new.csv").write_text("b\n2\n", encoding="utf-8")
    (figures / "summary_shares.svg").write_text(
        "<svg><path d='M 1 1 L 2 2'/></svg>\n", encoding="utf-8"
    )
    same, report = outputs_diff(tmp_path, max_lines=40)
    assert not same
    lines = report.splitlines()
    assert lines[0].startswith(
        "outputs differ from the committed ones: 2 changed, 1 added, 1 removed"
    )
    assert "which holds the committed outputs: data/codebook.yaml" in report
    assert "summary_shares.svg" in report and "path d=" not in report  # named, not diffed
    assert "-unit_id,economic" in report and "coding_units.csv | 1002" in report
    assert len(lines) < 60 and "more lines" in lines[-1]


# --- legitimate edits, end to end on the corpus ----------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> dict:
    """A copy of the project's inputs in a temporary folder and a first full run on it.

    Every notebook of pipeline.yaml runs through helpers.pipeline (papermill) with paths pointing
    into the copy, so edits to the copy never touch the repository's data or outputs.
    """
    import shutil

    root = tmp_path_factory.mktemp("project")
    shutil.copytree(paths.RAW, root / "raw")
    shutil.copy(paths.CORPUS_TABLE, root / "corpus.csv")
    shutil.copy(paths.DATA / "codebook.yaml", root / "codebook.yaml")
    shutil.copytree(paths.DATA / "annotations", root / "annotations")
    overrides = {
        "corpus_table": str(root / "corpus.csv"),
        "raw_dir": str(root / "raw"),
        "processed_dir": str(root / "processed"),
        "tables_dir": str(root / "tables"),
        "figures_dir": str(root / "figures"),
        "report_dir": str(root / "report"),
        "codebook_path": str(root / "codebook.yaml"),
        "annotations": [str(root / "annotations" / f) for f in ("coder_A.csv", "coder_B.csv")],
        **SMALL_RESAMPLES,
    }
    project = {"root": root, "overrides": overrides}
    assert set(project_run(project).values()) == {"ran"}
    return project


def project_run(project: dict, **kwargs) -> dict[str, str]:
    """Run the pipeline on the copy (incrementally); return {notebook: status}, every one must pass.

    Two notebooks at a time (as ``make run``) unless ``jobs`` says otherwise; the copy is outside
    the repository, hence ``allow_outside``.
    """
    kwargs.setdefault("jobs", 2)
    summary = pipeline_run(
        pipeline_read(),
        project["overrides"] | kwargs.pop("overrides", {}),
        output_dir=project["root"] / "notebooks",
        progress=False,
        allow_outside=True,
        **kwargs,
    )
    assert (project["root"] / "report" / "index.html").is_file()
    return dict(zip(summary["notebook"], summary["status"]))


def codebook_edit(project: dict, edit) -> None:
    path = project["root"] / "codebook.yaml"
    book = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(book)
    path.write_text(yaml.safe_dump(book, allow_unicode=True, sort_keys=False), encoding="utf-8")


def ran(statuses: dict[str, str]) -> list[str]:
    return [name[:2] for name, status in statuses.items() if status == "ran"]


@pytest.mark.notebooks
def test_unchanged_project_is_up_to_date(project):
    assert set(project_run(project).values()) == {"up to date"}


@pytest.mark.notebooks
def test_adding_a_code_reruns_03_to_06_and_reports_it_not_assessed(project):
    def add(book):
        book["codes"].append(
            {
                "id": "digital",
                "dimension": "logic",
                "label_zh": "数字逻辑",
                "label_en": "digital logic",
                "definition": "以数字经济、电商和互联网平台推动协作。",
                "indicators": {"keywords": ["数字经济", "数字化", "电商", "互联网"]},
            }
        )

    codebook_edit(project, add)
    statuses = project_run(project)
    assert ran(statuses) == ["03", "04", "05", "06"]
    tables = project["root"] / "tables"
    import pandas as pd

    assert "digital" in pd.read_csv(tables / "coding_units.csv", nrows=1).columns
    for name in ("reliability_human.csv", "reliability_dictionary_holdout.csv"):
        notes = pd.read_csv(tables / name, keep_default_na=False).set_index("code")["note"]
        assert notes["digital"].startswith("not assessed: no coding of 'digital' by annotator-A"), (
            name
        )
    copy = (project["root"] / "notebooks" / "05_coding_reliability.ipynb").read_text(
        encoding="utf-8"
    )
    assert "AnnotationWarning" in copy and "no column for code(s) 'digital'" in copy
    report = (project["root"] / "report" / "index.html").read_text(encoding="utf-8")
    assert "not assessed: no coding of" in report and "digital" in report


@pytest.mark.notebooks
def test_renaming_and_removing_codes_run_to_the_report(project):
    def edit(book):
        book["codes"] = [c for c in book["codes"] if c["id"] != "cultural"]  # removed
        for c in book["codes"]:
            if c["id"] == "social_participation":
                c["id"] = "participation"  # renamed

    codebook_edit(project, edit)
    assert ran(project_run(project)) == ["03", "04", "05", "06"]
    import pandas as pd

    human = pd.read_csv(project["root"] / "tables" / "reliability_human.csv", keep_default_na=False)
    assert "cultural" not in set(human["code"])
    assert human.set_index("code").loc["participation", "note"].startswith("not assessed")


@pytest.mark.notebooks
def test_adding_and_removing_documents_run_to_the_report(project):
    import shutil

    import pandas as pd

    root = project["root"]
    corpus = pd.read_csv(root / "corpus.csv", keep_default_na=False, dtype=str)
    opinion = corpus[corpus["doc_id"] == "opinion2021"].iloc[0]
    shutil.copy(root / "raw" / opinion["file"], root / "raw" / "opinion_copy.txt")
    added = opinion.copy()
    added["doc_id"], added["file"] = "opinion_copy", "opinion_copy.txt"
    corpus = pd.concat(
        [corpus[corpus["doc_id"] != "report2024"], added.to_frame().T], ignore_index=True
    )
    corpus.to_csv(root / "corpus.csv", index=False)
    assert ran(project_run(project)) == ["01", "02", "03", "04", "05", "06"]
    units = pd.read_csv(root / "processed" / "units_sentence.csv", keep_default_na=False)
    assert set(units["doc_id"]) == {"opinion2021", "opinion_copy"}
    executed = (root / "notebooks" / "05_coding_reliability.ipynb").read_text(encoding="utf-8")
    assert "are not units of the corpus, left out" in executed  # report2024's annotations


@pytest.mark.notebooks
def test_no_annotations_run_to_the_report(project):
    import pandas as pd

    statuses = project_run(project, overrides={"annotations": []})
    assert ran(statuses) == ["05", "06"]
    human = pd.read_csv(project["root"] / "tables" / "reliability_human.csv", keep_default_na=False)
    assert human["note"].str.startswith("not assessed").all()
    executed = (project["root"] / "notebooks" / "05_coding_reliability.ipynb").read_text(
        encoding="utf-8"
    )
    assert "no annotation files" in executed


@pytest.mark.notebooks
def test_incremental_outputs_equal_a_full_run(project):
    """After the edits above (parallel, incremental), a serial full run gives identical files."""
    import hashlib

    def snapshot() -> dict[str, str]:
        return {
            p.relative_to(project["root"]).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for d in ("tables", "figures", "processed")
            for p in sorted((project["root"] / d).rglob("*"))
            if p.is_file()
        }

    before = snapshot()
    # the edits ran two notebooks at a time; this full run goes one after the other, in order
    statuses = project_run(project, overrides={"annotations": []}, force=True, jobs=1)
    assert set(statuses.values()) == {"ran"}
    after = snapshot()
    assert after == before, [k for k in after if before.get(k) != after[k]]


@pytest.mark.notebooks
def test_a_broken_codebook_stops_the_run_naming_the_cause(project):
    path = project["root"] / "codebook.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("dimension: logic", "dimension: logik", 1),
        encoding="utf-8",
    )
    with pytest.raises(PipelineError) as err:
        project_run(project)
    first = str(err.value).splitlines()[0]
    assert first.startswith("notebook 03_thematic_coding failed: CodebookError: ")
    assert "codebook.yaml" in first and "logik" in first
    statuses = dict(zip(err.value.summary["notebook"], err.value.summary["status"]))
    assert (
        statuses["03_thematic_coding"] == "failed"
        and statuses["04_statistical_summaries"] == "not run"
    )


# --- checks before running: parameter types, output folders ----------------------------------


def test_value_fits_the_type_of_the_default():
    from helpers.parameters import value_fits

    assert value_fits(20, 8) and not value_fits("abc", 8) and not value_fits(2.5, 8)
    assert value_fits(1, 0.95) and value_fits(0.9, 0.95)  # a whole number stands for a float
    assert not value_fits(True, 8) and not value_fits(1, True) and value_fits(False, True)
    assert value_fits("anything", None) and value_fits([1], None) and value_fits(None, "x")
    assert value_fits(["a.csv"], ["b.csv"]) and not value_fits("a.csv", ["b.csv"])


def test_a_parameter_of_the_wrong_type_stops_the_run_before_any_notebook(two_notebooks, tmp_path):
    cfg, dumps = two_notebooks
    with pytest.raises(PipelineError) as err:
        pipeline_run(pipeline_read(cfg), {"n": "abc"}, output_dir=tmp_path / "ex", progress=False)
    message = str(err.value)
    assert message.startswith("parameter n of 01_first: expected a whole number like its default 1")
    assert "'abc'" in message and "-p n" in message
    assert not list(dumps.iterdir()) and not (tmp_path / "ex").exists()


def test_cli_wrong_type_names_parameter_notebook_type_and_value(capsys):
    code = main(["run", "-p", "sample_size", "abc", "--only", "01"])
    assert code == 1
    err = capsys.readouterr().err
    assert (
        "parameter sample_size of 01_text_cleanup: expected a whole number like its default 8"
        in (err)
    )
    assert "got 'abc' (a text) from -p sample_size" in err


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("data/raw", "inside raw_dir"),
        ("data/raw/sub", "inside raw_dir"),
        ("data", "holds or is inside raw_dir"),  # processed_dir = data would hold data/raw
        (str(paths.ROOT.parent / "elsewhere-tables"), "outside the project"),
    ],
)
def test_outputs_never_go_into_raw_dir_nor_outside_the_project(value, expected, capsys):
    code = main(["run", "-p", "tables_dir", value, "--only", "01", "--no-progress"])
    assert code == 1
    err = capsys.readouterr().err
    assert expected in err and "-p tables_dir" in err and "01_text_cleanup" in err
    if "outside" in expected:
        assert "--allow-outside" in err


def test_allow_outside_never_allows_raw_dir(tmp_path):
    from helpers.outputs import outputs_where_check

    config = pipeline_read()
    step = config.steps[0]
    params = {"raw_dir": str(tmp_path / "raw"), "tables_dir": str(tmp_path / "t")}
    params |= {"processed_dir": str(tmp_path / "p")}
    outputs_where_check([step], {step.name: params}, {}, project=paths.ROOT, allow_outside=True)
    params["processed_dir"] = str(tmp_path / "raw" / "processed")
    with pytest.raises(PipelineError, match="processed_dir.*inside raw_dir"):
        outputs_where_check([step], {step.name: params}, {}, project=paths.ROOT, allow_outside=True)


# --- order: the graph of reads and writes ----------------------------------------------------


def test_the_project_graph_lets_02_and_03_then_04_and_05_run_side_by_side():
    from helpers.pipeline import steps_graph

    config = pipeline_read()
    declared = {s.name: notebook_parameters(s.path) for s in config.steps}
    params = {
        s.name: {k: v for k, v in config.parameters.items() if k in declared[s.name]}
        for s in config.steps
    }
    graph = {
        k[:2]: {n[:2] for n in v}
        for k, v in steps_graph(config.steps, params, paths.EXECUTED_NOTEBOOKS).items()
    }
    assert graph["01"] == set()
    assert graph["02"] == {"01"} and graph["03"] == {"01"}  # 02 and 03 independent
    assert graph["04"] == {"01", "03"}  # coding_units.csv, units
    assert "04" not in graph["05"] and "03" in graph["05"]  # 04 and 05 independent
    assert graph["06"] == {"01", "02", "03", "04", "05"}  # tables, figures, executed copies


def test_graph_edges_follow_reads_writes_and_patterns(tmp_path):
    from helpers.pipeline import steps_graph

    def step(name, reads, writes):
        return NotebookStep(tmp_path / f"{name}.ipynb", {}, tuple(reads), tuple(writes))

    steps = [
        step("01_a", ["src"], ["d/units_*.csv"]),
        step("02_b", ["d/units_sentence.csv"], ["d/tokens.csv"]),  # reads a's units
        step("03_c", ["d/units_*.csv"], ["t/coding_*"]),  # reads a's units, not b's tokens
        step("04_d", ["t/coding_units.csv"], ["t/summary_*"]),  # reads c's coding tables
        step("05_e", ["src"], ["d/tokens.csv"]),  # writes what b writes: after b
        step("06_f", ["other"], ["src"]),  # writes what a, e read: after them
    ]
    params = {"src": str(tmp_path / "in"), "d": str(tmp_path / "d"), "t": str(tmp_path / "t")}
    params["other"] = str(tmp_path / "o")
    graph = steps_graph(steps, {s.name: params for s in steps}, tmp_path / "ex")
    assert graph == {
        "01_a": set(),
        "02_b": {"01_a"},
        "03_c": {"01_a"},
        "04_d": {"03_c"},
        "05_e": {"02_b"},
        "06_f": {"01_a", "05_e"},
    }


@pytest.mark.notebooks
def test_jobs_run_independent_notebooks_side_by_side(tmp_path):
    """Two notebooks that each wait for the other's marker file can only finish side by side."""
    work = tmp_path / "work"
    work.mkdir()
    body = (
        "import pathlib, time\n"
        "pathlib.Path(work, mine).write_text('x')\n"
        "deadline = time.time() + 60\n"
        "while not pathlib.Path(work, other).exists() and time.time() < deadline:\n"
        "    time.sleep(0.1)\n"
        "assert pathlib.Path(work, other).exists(), 'ran alone'"
    )
    params = 'work = ""\nout_dir = ""\nmine = ""\nother = ""'
    nbs = [notebook_write(tmp_path / f"0{i}_side.ipynb", params, body) for i in (1, 2)]
    cfg = config_write(
        tmp_path / "pipeline.yaml",
        {
            "kernel": KERNEL,
            "parameters": {"work": str(work), "out_dir": str(tmp_path)},
            "notebooks": [
                {
                    "path": str(nbs[0]),
                    "parameters": {"mine": "a", "other": "b"},
                    "writes": ["work/a"],
                },
                {
                    "path": str(nbs[1]),
                    "parameters": {"mine": "b", "other": "a"},
                    "writes": ["work/b"],
                },
            ],
        },
    )
    summary = pipeline_run(pipeline_read(cfg), output_dir=tmp_path / "ex", progress=False, jobs=2)
    assert summary["status"].tolist() == ["ran", "ran"]
    assert summary["notebook"].tolist() == ["01_side", "02_side"]  # configuration order


# --- unfinished runs: manifest status, refusal downstream, time limit -------------------------


@pytest.mark.notebooks
def test_failed_upstream_is_marked_and_downstream_alone_is_refused(chain):
    run_chain(chain)
    chain["source"].write_text("", encoding="utf-8")  # 01 fails: no first line
    with pytest.raises(PipelineError, match="IndexError"):
        run_chain(chain)
    manifest = json.loads(chain["manifest"].read_text(encoding="utf-8"))
    entry = {e["notebook"]: e for e in manifest["notebooks"]}["01_first"]
    assert entry["status"] == "failed" and entry["failed_at"].endswith("UTC")
    assert entry["unfinished_products"] == [str((chain["work"] / "a.txt").resolve())]
    with pytest.raises(PipelineError) as err:
        run_chain(chain, only=["02"], force=True)
    message = str(err.value)
    assert message.startswith("02_second reads the products of 01_first, which did not finish")
    assert "(failed at " in message and "--only 01" in message and "make run" in message


@pytest.mark.notebooks
def test_a_cell_over_the_time_limit_names_notebook_and_cell(tmp_path):
    slow = notebook_write(
        tmp_path / "01_slow.ipynb", 'out_dir = ""', "import time\ntime.sleep(60)  # waits"
    )
    cfg = config_write(
        tmp_path / "pipeline.yaml",
        {
            "kernel": KERNEL,
            "cell_timeout": 2,
            "parameters": {"out_dir": str(tmp_path)},
            "notebooks": [{"path": str(slow)}],
        },
    )
    with pytest.raises(PipelineError) as err:
        pipeline_run(pipeline_read(cfg), output_dir=tmp_path / "ex", progress=False)
    first = str(err.value).splitlines()[0]
    assert first.startswith('notebook 01_slow: cell 3 ("import time") ran longer than cell_timeout')
    assert "(2 s, in pipeline.yaml)" in first


def test_cell_timeout_must_be_seconds(tmp_path):
    nb = notebook_write(tmp_path / "01_a.ipynb", 'out_dir = ""')
    cfg = config_write(
        tmp_path / "p.yaml",
        {"kernel": KERNEL, "cell_timeout": "ten", "notebooks": [{"path": str(nb)}]},
    )
    with pytest.raises(PipelineError, match="field 'cell_timeout': must be a number of seconds"):
        pipeline_read(cfg)


def small_project(root: Path, figures: bool = True) -> list[str]:
    """Copy the project's inputs into ``root``; return the -p arguments pointing into the copy."""
    import shutil

    shutil.copytree(paths.RAW, root / "raw")
    shutil.copy(paths.CORPUS_TABLE, root / "corpus.csv")
    shutil.copy(paths.DATA / "codebook.yaml", root / "codebook.yaml")
    params = {
        "corpus_table": root / "corpus.csv",
        "raw_dir": root / "raw",
        "processed_dir": root / "processed",
        "tables_dir": root / "tables",
        "figures_dir": root / "figures",
        "codebook_path": root / "codebook.yaml",
    }
    if not figures:  # notebooks 01 and 03 write none
        del params["figures_dir"]
    return [a for name, value in params.items() for a in ("-p", name, str(value))]


@pytest.mark.notebooks
def test_ctrl_c_in_notebook_03_marks_it_interrupted_and_04_then_refuses(tmp_path):
    """SIGINT while 03 runs: one line, kernels gone, manifest: interrupted; --only 04 refuses."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = tmp_path / "project"
    root.mkdir()
    first = small_project(root, figures=False)
    args = ["--output-dir", str(root / "notebooks"), "--allow-outside", "--no-progress"]
    # notebook 03 takes about 2 s: each cell is held 0.5 s (an IPython start-up file in the kernels'
    # profile), so the signal below lands while its cells run, not after they ended
    ipython_dir = tmp_path / "ipython"
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-slow-cells.py").write_text(
        "import time\nget_ipython().events.register('pre_run_cell', lambda *_: time.sleep(0.5))\n",
        encoding="utf-8",
    )
    env = os.environ | {
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),  # kernels findable
        "IPYTHONDIR": str(ipython_dir),
    }
    command = [sys.executable, "-m", "helpers", "run", "--only", "01", "--only", "03"]
    proc = subprocess.Popen(
        [*command, *first, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # as from a terminal: a test run started in the background (`cmd &` in a script) ignores
        # SIGINT, and Python keeps a signal ignored at start-up, so Ctrl-C would never arrive
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    manifest = root / "manifest.json"
    deadline = time.time() + 240
    status = None
    while time.time() < deadline and proc.poll() is None:
        if manifest.exists():
            entries = json.loads(manifest.read_text(encoding="utf-8"))["notebooks"]
            status = {e["notebook"]: e["status"] for e in entries}.get("03_thematic_coding")
            if status == "running":
                break
        time.sleep(0.2)
    assert status == "running", proc.communicate()
    time.sleep(1.5)  # inside 03: kernel started, cells running
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: interrupted (Ctrl-C) while running 03_thematic_coding"), err
    entries = {e["notebook"]: e for e in json.loads(manifest.read_text("utf-8"))["notebooks"]}
    assert entries["01_text_cleanup"]["status"] == "ran"
    assert entries["03_thematic_coding"]["status"] == "interrupted"
    # the kernel is shut down: no process left with a connection file of this run
    runtime = str(tmp_path / "runtime")
    time.sleep(1)
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if runtime in cmdline:
            left.append(cmdline.replace("\0", " "))
    assert not left, left

    given = {"processed_dir": "processed", "tables_dir": "tables", "figures_dir": "figures"}
    given["codebook_path"] = "codebook.yaml"
    later = [a for name, sub in given.items() for a in ("-p", name, str(root / sub))]
    refused = subprocess.run(
        [sys.executable, "-m", "helpers", "run", "--only", "04", *later, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert refused.returncode == 1
    assert (
        "04_statistical_summaries reads the products of 03_thematic_coding, which did not finish "
        "(interrupted at " in refused.stderr
    ), refused.stderr
    assert "python -m helpers run --only 03" in refused.stderr
    assert not (root / "notebooks" / "04_statistical_summaries.ipynb").exists()
    assert not (root / "tables" / "summary_codes.csv").exists()


@pytest.mark.notebooks
def test_problems_are_summarised_and_fail_the_run_only_with_strict(tmp_path, capsys):
    """A document that cannot be read: the run goes on, says so at the end; --strict exits 1."""
    import pandas as pd

    root = tmp_path / "project"
    root.mkdir()
    args = small_project(root, figures=False)[:-3]  # without codebook_path (01 has none)
    corpus = pd.read_csv(root / "corpus.csv", dtype=str, keep_default_na=False)
    broken = corpus.iloc[[0]].assign(doc_id="broken2022", file="broken2022.docx")
    pd.concat([corpus, broken]).to_csv(root / "corpus.csv", index=False)
    (root / "raw" / "broken2022.docx").write_bytes(b"PK\x03\x04 not a real archive")
    common = ["run", "--only", "01", *args, "--output-dir", str(root / "nb"), "--allow-outside"]
    assert main([*common, "--no-progress"]) == 0
    out = capsys.readouterr().out
    summary = [line for line in out.splitlines() if line.startswith("problems: ")]
    assert summary and summary[0].startswith("problems: 1 document(s) need a look"), out
    assert "cleanup_problems.csv" in summary[0] and "--strict" in summary[0]
    assert "broken2022" in out.split(summary[0])[1]  # the first problems follow the summary
    assert main([*common, "--no-progress", "--strict"]) == 1  # up to date, still reported
    captured = capsys.readouterr()
    assert "up to date" in captured.out and "--strict: cleanup found" in captured.err


def test_an_annotated_parameter_takes_any_type_it_names(tmp_path):
    """``figure_documents = 6  # type: int|list|None`` takes 3 or [doc ids], but not text."""
    from helpers.notebooks import notebook_parameter_types
    from helpers.parameters import value_fits

    nb = notebook_write(
        tmp_path / "a.ipynb", "figure_documents = 6  # type: int|list|None N or doc ids\nn = 1"
    )
    types = notebook_parameter_types(nb)
    assert types == {"figure_documents": (int, list, type(None))}
    fits = [
        any(value_fits(v, t()) for t in types["figure_documents"] if t is not type(None))
        for v in (3, ["000_a", "001_b"], "many")
    ]
    assert fits == [True, True, False]
