"""Command line: ``python -m helpers run`` runs the notebooks, ``... clean`` cleans documents.

Exit codes: 0 success, 1 a notebook or some files failed, 2 nothing could be done (bad usage or no
input file readable).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from helpers import paths


def _parser() -> argparse.ArgumentParser:
    """Return the argument parser with one subcommand per task."""
    parser = argparse.ArgumentParser(
        prog="python -m helpers",
        description="Run the 闽宁协作 text-analysis pipeline or clean documents.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        help="execute the notebooks listed in pipeline.yaml in order",
        description=(
            "Execute the notebooks listed in the pipeline configuration in order with papermill. "
            "Each notebook gets the shared parameters it declares, then its own; -p overrides "
            "both. Executed copies are written to outputs/notebooks/."
        ),
    )
    run.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        default=[],
        help="override a parameter for every notebook declaring it; VALUE is read as YAML "
        '(50, false, "[闽宁协作, 乡村振兴]"); may be repeated',
    )
    run.add_argument(
        "--config",
        type=Path,
        default=paths.PIPELINE_CONFIG,
        metavar="PATH",
        help="pipeline configuration (default: pipeline.yaml at the repository root)",
    )
    run.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this notebook, by name (01_text_cleanup) or number (01); may be repeated",
    )
    run.add_argument(
        "--output-dir",
        type=Path,
        default=paths.EXECUTED_NOTEBOOKS,
        metavar="DIR",
        help="where executed copies go (default: outputs/notebooks)",
    )
    run.add_argument("--no-progress", action="store_true", help="hide the per-cell progress bars")
    run.set_defaults(func=_run)

    clean = sub.add_parser(
        "clean",
        help="clean documents and write their units (sentences) as a table",
        description=(
            "Read and clean the given documents and write one row per sentence unit to --out. "
            "Problems are reported as 'error: ...' on stderr; exit 1 if some files failed "
            "(the others are still written), 2 if none could be read."
        ),
    )
    clean.add_argument("files", nargs="+", type=Path, metavar="FILE", help="documents to clean")
    clean.add_argument(
        "--out", type=Path, required=True, metavar="UNITS.csv", help="table of units to write"
    )
    clean.set_defaults(func=_clean)
    return parser


def _run(args: argparse.Namespace) -> int:
    """Run the pipeline; print the summary to stdout and errors to stderr; return the exit code."""
    from helpers.pipeline import PipelineError, parameters_parse, pipeline_read, pipeline_run

    start = time.perf_counter()
    try:
        config = pipeline_read(args.config.resolve())
        overrides = parameters_parse([tuple(pair) for pair in args.parameter])
        summary = pipeline_run(
            config,
            overrides,
            only=args.only,
            output_dir=args.output_dir.resolve(),
            progress=not args.no_progress,
        )
    except PipelineError as err:
        if err.summary is not None:
            print(err.summary[["notebook", "status", "seconds"]].to_string(index=False))
            print(f"total: {time.perf_counter() - start:.1f} s")
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(summary[["notebook", "status", "seconds"]].to_string(index=False))
    print(f"total: {time.perf_counter() - start:.1f} s")
    return 0


def _clean(args: argparse.Namespace) -> int:
    """Clean the files and write their units; return 0, 1 (some failed) or 2 (none readable).

    ``helpers.cleanup`` is imported here so that ``run`` keeps working while cleanup is broken.
    """
    from helpers.cleanup import files_clean
    from helpers.tables import table_write

    files = [Path(f).resolve() for f in args.files]
    result = files_clean(files)
    problems = result.problems
    for problem in problems["problem"]:
        print(f"error: {problem}", file=sys.stderr)
    # by doc_id: a document failing after it was read has no file name in its problem row
    failed = problems["doc_id"].astype(str).nunique() if len(problems) else 0
    if failed and failed >= len(files):
        print("error: no file could be read; nothing written", file=sys.stderr)
        return 2
    out = table_write(result.sentences, args.out.resolve())
    print(f"{len(result.sentences)} units from {len(files) - failed} file(s) -> {out}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand and return its exit code."""
    args = _parser().parse_args(argv)
    return args.func(args)
