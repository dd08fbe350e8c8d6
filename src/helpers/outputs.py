"""The outputs of a run: where notebooks may write them, whether they reproduce the committed ones.

:func:`outputs_where_check` refuses, before anything runs, an output folder inside ``raw_dir`` or
outside the project; :func:`outputs_diff` compares the regenerated tables and figures with the
committed ones (``helpers check-outputs``).
"""

from __future__ import annotations

from pathlib import Path

from helpers import paths
from helpers.pipeline import NotebookStep, PipelineError, entry_spots


def outputs_where_check(
    steps: list[NotebookStep],
    params_of: dict[str, dict],
    overrides: dict,
    *,
    project: Path,
    allow_outside: bool = False,
) -> None:
    """Raise PipelineError when a notebook would write inside ``raw_dir`` or outside the project.

    The output parameters are those a step's ``writes`` start with (``tables_dir``,
    ``processed_dir``, …). The documents in ``raw_dir`` are never written, whatever the flags;
    a folder outside ``project`` (the folder of ``pipeline.yaml``) needs ``allow_outside``
    (``--allow-outside``), so a mistyped ``-p tables_dir ../..`` does not scatter files.
    """
    raw = {paths.RAW.resolve()}
    for params in params_of.values():
        raw |= {p for p, _ in entry_spots("raw_dir", params)}
    project = project.resolve()
    for step in steps:
        params = params_of[step.name]
        for entry in step.writes:
            name = entry.split("/", 1)[0]
            if name == "notebooks_dir":
                continue
            given = f"-p {name}" if name in overrides else f"parameter {name}"
            for where, _ in entry_spots(entry, params):
                inside = [r for r in raw if where == r or r in where.parents or where in r.parents]
                if inside:
                    raise PipelineError(
                        f"{given} = {params[name]}: {step.name} would write into {where}, which "
                        f"holds or is inside raw_dir ({inside[0]}); the documents are never "
                        "written: choose another folder"
                    )
                if not allow_outside and where != project and project not in where.parents:
                    raise PipelineError(
                        f"{given} = {params[name]}: {step.name} would write to {where}, outside "
                        f"the project ({project}); use a folder inside it, or pass "
                        "--allow-outside if that is intended"
                    )


#: Committed results that a re-run must reproduce byte for byte.
CHECKED_OUTPUTS = ("outputs/tables", "outputs/figures")
#: Committed results that are regenerated but not compared, with the reason (see README).
UNCHECKED_OUTPUTS: dict[str, str] = {}


#: What can change a result, for the "inputs changed since the last commit" line of outputs_diff.
RESULT_INPUTS = ("data", "notebooks", "src/helpers", "pipeline.yaml", "requirements.lock")
#: Lines of diff shown by outputs_diff after the summary.
DIFF_LINES = 200


def outputs_diff(
    root: str | Path = paths.ROOT,
    dirs: tuple[str, ...] = CHECKED_OUTPUTS,
    exclude: tuple[str, ...] = tuple(UNCHECKED_OUTPUTS),
    *,
    max_lines: int = DIFF_LINES,
) -> tuple[bool, str]:
    """Compare the regenerated results with the committed ones; return ``(same, report)``.

    Uses git: any file under ``dirs`` that is modified, deleted or new (untracked) after a run is a
    difference. The report starts with the verdict and a summary (files changed, added, removed,
    and the inputs — data, notebooks, ``helpers`` code, configuration — changed since the commit
    that holds the committed outputs, committed or not, which usually explain the difference), then
    at most ``max_lines`` lines of the diff of the changed CSV and Markdown files; SVG and other
    figure files are only named (their text is thousands of lines of path data). ``exclude`` lists
    pathspecs left out of the comparison.
    """
    import subprocess

    root = Path(root)
    specs = [*dirs, *(f":(exclude){e}" for e in exclude)]

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
        ).stdout

    status = git("status", "--porcelain", "--untracked-files=all", "--", *specs)
    if not status.strip():
        return True, "outputs reproduced: no committed table or figure changed"
    kinds: dict[str, list[str]] = {"changed": [], "added": [], "removed": []}
    for line in status.splitlines():
        code, name = line[:2], line[3:]
        kinds[
            "added" if "?" in code or "A" in code else "removed" if "D" in code else "changed"
        ].append(name)
    # inputs changed since the committed outputs were made: in later commits, or not committed yet
    made = git("log", "-1", "--format=%H", "--", *dirs).strip()
    inputs = sorted(
        set(git("diff", "--name-only", made, "--", *RESULT_INPUTS).split())
        if made
        else set()
        | {
            line[3:]
            for line in git(
                "status", "--porcelain", "--untracked-files=all", "--", *RESULT_INPUTS
            ).splitlines()
        }
    )
    lines = [
        f"outputs differ from the committed ones: {len(kinds['changed'])} changed, "
        f"{len(kinds['added'])} added, {len(kinds['removed'])} removed "
        "(commit them if the change is intended)"
    ]
    for kind, names in kinds.items():
        if names:
            lines.append(f"  {kind}: " + ", ".join(names))
    since = f"commit {made[:7]}, which holds the committed outputs" if made else "the last commit"
    lines.append(
        f"inputs changed since {since}: "
        + (", ".join(inputs) if inputs else "none (so the environment made the difference)")
    )
    text_specs = [
        f for f in kinds["changed"] if Path(f).suffix.lower() in {".csv", ".md", ".txt", ".json"}
    ]
    if text_specs:
        diff = (
            git("diff", "--no-color", "--stat", "--", *text_specs)
            + "\n"
            + git("diff", "--no-color", "--", *text_specs)
        )
        diff_lines = diff.rstrip().splitlines()
        shown = min(max_lines, len(diff_lines))
        lines += [
            "",
            f"diff of the changed tables (first {shown} of {len(diff_lines)} lines; figures are "
            "listed above, not diffed):",
            *diff_lines[:max_lines],
        ]
        if len(diff_lines) > max_lines:
            lines.append(
                f"… {len(diff_lines) - max_lines} more lines: git diff -- {' '.join(dirs)}"
            )
    return False, "\n".join(lines)
