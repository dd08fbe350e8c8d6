"""Command line: ``python -m helpers run`` runs the notebooks, ``... clean`` cleans documents,
``... code`` codes a table of units with the codebook.

Exit codes: 0 success, 1 a notebook or some files failed, 2 nothing could be done (bad usage or no
input file readable).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import time
from pathlib import Path

from helpers import paths
from helpers.errors import path_display

#: Below these sizes ``--jobs auto`` works in one process: starting a pool costs more than it saves
CLEAN_JOBS_MIN = 200  # documents
CODE_JOBS_MIN = 20_000  # units


def _jobs(value: str) -> int | str:
    """``--jobs``: ``auto`` or a whole number ≥ 1."""
    if value == "auto":
        return value
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected auto or a whole number ≥ 1, not {value!r}")
    return n


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
            "Execute the notebooks listed in the pipeline configuration with papermill, each after "
            "the notebooks whose products it reads (independent ones side by side, --jobs). "
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
    run.add_argument(
        "--force",
        action="store_true",
        help="run every selected notebook, even those that are up to date",
    )
    run.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=3,
        metavar="N",
        help="run up to N independent notebooks at once (default: 3; 1 runs them one after the "
        "other in the order of pipeline.yaml)",
    )
    run.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when the cleanup found problems (unreadable or dropped documents, …), "
        "not only list them",
    )
    run.add_argument(
        "--allow-outside",
        action="store_true",
        help="let -p put output folders outside the project (never inside raw_dir)",
    )
    run.add_argument(
        "--no-progress",
        action="store_true",
        help="hide the per-cell progress bars (shown only with --jobs 1 and when stderr is a "
        "terminal)",
    )
    run.set_defaults(func=_run)

    clean = sub.add_parser(
        "clean",
        help="clean documents and write their units (sentences) as a table",
        description=(
            "Read and clean the given documents (.txt, .docx, .pdf, .html) and write one row per "
            "sentence unit to --out and the cleanup tables to --tables. Problems are reported as "
            "'error: ...' on stderr; the run ends with a list of what needs a look. Exit 1 if "
            "some files failed (the others are still written), 2 if none could be read."
        ),
    )
    clean.add_argument("files", nargs="+", type=Path, metavar="FILE", help="documents to clean")
    clean.add_argument(
        "--out", type=Path, required=True, metavar="UNITS.csv", help="table of units to write"
    )
    clean.add_argument(
        "--tables",
        type=Path,
        default=None,
        metavar="DIR",
        help="where the cleanup tables go (audit, joins, metadata, summary, problems; default: "
        "a folder beside --out named after it, e.g. units_cleanup/); the list of what needs a "
        "look printed at the end points into them",
    )
    clean.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default="auto",
        metavar="N",
        help="clean the documents on up to N processes (default: auto: the CPUs, but one "
        f"below {CLEAN_JOBS_MIN} documents; 1: in this process); the output is the same",
    )
    clean.set_defaults(func=_clean)

    code = sub.add_parser(
        "code",
        help="code a table of units with the codebook (0/1 per code, with evidence)",
        description=(
            "Read any CSV with a unit id column and a text column (UTF-8 or GB18030), apply the "
            "codebook "
            "and write unit_id, one 0/1 column per code in codebook order, and an evidence column. "
            "A missing column, an empty or undecodable file, or an invalid codebook is an error "
            "(exit 2); units with an empty text are coded 0 with a warning."
        ),
    )
    code.add_argument("units", type=Path, metavar="UNITS.csv", help="table of units to code")
    code.add_argument(
        "--out", type=Path, required=True, metavar="CODED.csv", help="coded table to write"
    )
    code.add_argument(
        "--codebook",
        type=Path,
        default=paths.DATA / "codebook.yaml",
        metavar="PATH",
        help="codebook YAML (default: data/codebook.yaml)",
    )
    code.add_argument(
        "--text-col", default="text", metavar="NAME", help="text column (default: text)"
    )
    code.add_argument(
        "--id-col", default="unit_id", metavar="NAME", help="unit id column (default: unit_id)"
    )
    code.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default="auto",
        metavar="N",
        help="code the units on up to N processes, in blocks of whole documents (default: auto: "
        f"the CPUs, but one below {CODE_JOBS_MIN:,} units; 1: in this process); the output is "
        "the same",
    )
    code.set_defaults(func=_code)

    check = sub.add_parser(
        "check-outputs",
        help="fail when a regenerated table or figure differs from the committed one (CI)",
        description="Compare outputs/tables and outputs/figures with the committed versions "
        "(git); print the "
        "difference and exit 1 when they differ.",
    )
    check.set_defaults(func=_outputs_diff)
    return parser


def _outputs_diff(args: argparse.Namespace) -> int:
    """Print whether the regenerated outputs equal the committed ones; return 0 or 1."""
    from helpers.outputs import outputs_diff

    same, report = outputs_diff()
    print(report, file=sys.stdout if same else sys.stderr)
    return 0 if same else 1


def _code(args: argparse.Namespace) -> int:
    """Code a CSV of units; return 0, or 2 with an ``error:`` line for bad input."""
    from helpers.codebook import CodebookError, codebook_read
    from helpers.coding_tables import units_csv_read
    from helpers.parallel import jobs_resolve, units_code_write
    from helpers.tokens import segmenter_make

    try:
        codebook = codebook_read(args.codebook.resolve())
        units = units_csv_read(
            args.units.resolve(),
            id_col=args.id_col,
            text_col=args.text_col,
            keep=("doc_id", "heading_path"),  # all the coded table needs besides ids and texts
        )
    except (CodebookError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    texts = units[args.text_col].tolist()
    cjk = re.compile(r"[\u3400-\u9fff]").search
    if not any(map(cjk, texts)):  # stops at the first text with a Chinese character
        print(
            f"warning: {args.units}: column {args.text_col!r} holds no Chinese character in any "
            f"row; is it the text column? (columns: {units.attrs['columns']}; choose with "
            "--text-col)",
            file=sys.stderr,
        )
    empty = units.index[[not t.strip() for t in texts]]
    if len(empty):
        lines = ", ".join(str(i + 2) for i in empty[:5]) + (", …" if len(empty) > 5 else "")
        print(
            f"warning: {args.units}: {len(empty)} unit(s) with an empty {args.text_col!r} "
            f"(line {lines}) are written with every code 0 and no evidence",
            file=sys.stderr,
        )
    jobs = jobs_resolve(args.jobs, len(units), CODE_JOBS_MIN)
    out, n = units_code_write(
        units,
        codebook,
        segmenter_make(),
        args.out.resolve(),
        jobs=jobs,
        text_col=args.text_col,
        id_col=args.id_col,
    )
    print(
        f"{len(units)} units, {n} coded with at least one of {len(codebook.codes)} codes"
        + (f" ({len(empty)} empty)" if len(empty) else "")
        + f" -> {out}"
    )
    return 0


def _run(args: argparse.Namespace) -> int:
    """Run the pipeline; print the summary to stdout and errors to stderr; return the exit code.

    Exit codes: 0 done, 1 a notebook failed (or, with ``--strict``, cleanup found problems),
    130 interrupted with Ctrl-C.
    """
    from helpers.parameters import parameters_parse
    from helpers.pipeline import PipelineError, PipelineInterrupted, pipeline_read
    from helpers.runner import pipeline_run

    start = time.perf_counter()
    try:
        config = pipeline_read(args.config.resolve())
        overrides = parameters_parse([tuple(pair) for pair in args.parameter])
        summary = pipeline_run(
            config,
            overrides,
            only=args.only,
            output_dir=args.output_dir.resolve(),
            # progress bars redraw with carriage returns: a wall of text in a CI log or a file
            progress=not args.no_progress and sys.stderr.isatty(),
            force=args.force,
            jobs=args.jobs,
            allow_outside=args.allow_outside,
        )
    except PipelineError as err:
        if err.summary is not None:
            print(_summary_text(err.summary))
            print(f"total: {time.perf_counter() - start:.1f} s")
        print(f"error: {err}", file=sys.stderr)
        return 130 if isinstance(err, PipelineInterrupted) else 1
    except KeyboardInterrupt:  # before any notebook started (reading, checking, kernel set-up)
        print("error: interrupted (Ctrl-C) before any notebook ran", file=sys.stderr)
        return 130
    print(_summary_text(summary))
    print(f"total: {time.perf_counter() - start:.1f} s")
    print(_written(summary, args.output_dir.resolve().parent / "manifest.json"))
    found = _problems_print(summary)
    if args.strict and found:
        print(
            f"error: --strict: cleanup found {found} problem(s) (listed above); exit 1",
            file=sys.stderr,
        )
        return 1
    return 0


#: Problems listed at the end of a run; the rest are in the tables.
PROBLEMS_SHOWN = 5


def _problems_print(summary) -> int:
    """Print what needs a look, from the cleanup tables of the run; return how many problems.

    A short summary (documents concerned, the problems table, the first few) rather than the
    whole list: the tables hold all of it.
    """
    from helpers.problems import problems_format, problems_read

    used: dict[str, str] = {}
    for params in summary["parameters"]:
        for key in ("tables_dir", "processed_dir", "corpus_table"):
            if key in params:
                used.setdefault(key, str(params[key]))
    if "tables_dir" not in used or "processed_dir" not in used:
        return 0  # no notebook of this run writes cleanup tables
    found = problems_read(used["tables_dir"], used["processed_dir"], used.get("corpus_table"))
    if len(found):
        docs = found["doc_id"].where(found["doc_id"].astype(bool), found["file"])
        tables = ", ".join(sorted(set(found["table"].astype(str))))
        print(
            f"problems: {docs.nunique()} document(s) need a look, {len(found)} problem(s); "
            f"tables: {tables} (`--strict` makes this exit 1)"
        )
    print(problems_format(found, limit=PROBLEMS_SHOWN))
    return len(found)


def _summary_text(summary) -> str:
    """Return the run summary as aligned lines: notebook, status, seconds and why it ran."""
    width = max([len("notebook"), *map(len, summary["notebook"])])
    lines = [f"{'notebook':<{width}}  {'status':<10}  {'seconds':>7}  why"]
    for r in summary.itertuples(index=False):
        seconds = f"{r.seconds:.1f}" if r.status in ("ran", "failed") else ""
        lines.append(f"{r.notebook:<{width}}  {r.status:<10}  {seconds:>7}  {r.why}".rstrip())
    return "\n".join(lines)


def _written(summary, manifest: Path) -> str:
    """Describe what this run wrote: what the notebooks that ran produced, by folder, new or not."""
    from collections import Counter

    from helpers.tables import path_resolve

    folders = set()  # the folders the notebooks were given (tables_dir, figures_dir, ...)
    for params in summary["parameters"]:
        folders |= {
            path_resolve(v).resolve()
            for k, v in params.items()
            if k.endswith("_dir") and isinstance(v, str) and v.strip()
        }
    per_dir: Counter = Counter()
    changed: Counter = Counter()
    for written in summary["written"]:
        for path, state in written.items():
            full = path_resolve(path).resolve()
            inside = [f for f in folders if f in full.parents]
            folder = max(inside, key=lambda f: len(f.parts)) if inside else full.parent
            per_dir[folder] += 1
            changed[folder] += state != "same"
    lines = [] if per_dir else ["written: nothing (every notebook was up to date)"]
    for folder in sorted(per_dir):
        shown = path_display(folder)
        n = per_dir[folder]
        lines.append(
            f"written: {n} file{'s' * (n != 1)} in {shown} ({changed[folder]} new or changed)"
        )
    for written in summary["written"]:
        lines += [f"report: {path}" for path in written if Path(path).name == "index.html"]
    lines.append(f"manifest: {path_display(manifest)}")
    return "\n".join(lines)


def _clean(args: argparse.Namespace) -> int:
    """Clean the files and write their units; return 0, 1 (some failed) or 2 (none readable).

    ``helpers.cleanup`` is imported here so that ``run`` keeps working while cleanup is broken.
    """
    from helpers.cleanup import files_clean
    from helpers.parallel import jobs_resolve
    from helpers.problems import ProblemTables, problems_find, problems_format
    from helpers.tables import table_write

    files = [Path(f).resolve() for f in args.files]
    result = files_clean(files, jobs=jobs_resolve(args.jobs, len(files), CLEAN_JOBS_MIN))
    problems = result.problems
    for problem in problems["problem"]:
        print(f"error: {problem}", file=sys.stderr)
    # by doc_id: a document failing after it was read has no file name in its problem row
    failed = problems["doc_id"].astype(str).nunique() if len(problems) else 0
    if failed and failed >= len(files):
        print("error: no file could be read; nothing written", file=sys.stderr)
        return 2
    out = table_write(result.sentences, args.out.resolve())
    tables = (args.tables or out.with_name(f"{out.stem}_cleanup")).resolve()
    where = dataclasses.replace(ProblemTables.of(tables, tables), units=out)
    for name in ("problems", "summary", "joins", "metadata", "audit"):
        table_write(getattr(result, name), getattr(where, name))
    print(f"{len(result.sentences)} units from {len(files) - failed} file(s) -> {out}")
    print(f"cleanup tables -> {tables}")
    found = problems_find(result.problems, result.summary, result.metadata, result.sentences, where)
    print(problems_format(found))
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the subcommand and return its exit code."""
    args = _parser().parse_args(argv)
    return args.func(args)
