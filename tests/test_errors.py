"""One error type for bad input: message format, paths relative to the project, pickling."""

from __future__ import annotations

import pickle

import pytest

from helpers import paths
from helpers.errors import InputError, path_display


def test_message_names_every_part_given_in_one_order():
    err = InputError(
        paths.ROOT / "data" / "codebook.yaml",
        "must be a list of words",
        line=41,
        field="keywords",
        code="digital",
    )
    assert str(err) == (
        "data/codebook.yaml, line 41, field 'keywords', code 'digital': must be a list of words"
    )
    assert (err.line, err.field, err.code, err.reason) == (41, "keywords", "digital", err.reason)


def test_sheet_and_cell():
    err = InputError(
        "outputs/tables/second_coder_sheet.xlsx", "empty cell", sheet="编码", cell="D7"
    )
    assert str(err) == "outputs/tables/second_coder_sheet.xlsx, sheet '编码', cell D7: empty cell"


def test_is_a_value_error_so_conversion_guards_see_it():
    with pytest.raises(ValueError, match="line 2"):
        raise InputError("data/corpus.csv", "date is not a date", line=2)


def test_path_inside_project_is_relative_outside_as_given(tmp_path):
    assert path_display(paths.RAW / "a.txt") == "data/raw/a.txt"
    assert path_display("data/raw/a.txt") == "data/raw/a.txt"
    outside = tmp_path / "b.txt"
    assert path_display(outside) == str(outside)


def test_symlink_is_named_by_its_own_path_not_its_target(tmp_path):
    target = tmp_path / "elsewhere.txt"
    target.write_text("x", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    assert path_display(link) == str(link)


class _StageError(InputError):
    """A subclass keeps its name and the format."""


def test_subclass_survives_pickling_with_its_parts():
    err = _StageError("data/raw/x.txt", "cannot decode", line=3, field="text")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is _StageError
    assert str(back) == str(err) == "data/raw/x.txt, line 3, field 'text': cannot decode"
    assert back.line == 3


def _stage_errors():
    from helpers.annotations import AnnotationError
    from helpers.codebook import CodebookError
    from helpers.corpus import DocumentError
    from helpers.groups import GroupingError
    from helpers.sheets import SheetError
    from helpers.tokens import DictionaryError

    return [
        DocumentError,
        CodebookError,
        AnnotationError,
        SheetError,
        DictionaryError,
        GroupingError,
    ]


@pytest.mark.parametrize("cls", _stage_errors())
def test_every_stage_error_is_an_input_error_with_its_format(cls):
    err = cls(paths.DATA / "x.csv", "is empty", line=2, field="word")
    assert isinstance(err, InputError)
    assert str(err) == "data/x.csv, line 2, field 'word': is empty"


def test_pipeline_error_with_a_file_uses_the_same_format():
    from helpers.pipeline import PipelineError

    err = PipelineError("notebook not found", path=paths.ROOT / "pipeline.yaml", field="notebooks")
    assert str(err) == "pipeline.yaml, field 'notebooks': notebook not found"
    assert err.summary is None and err.reason == "notebook not found"
    assert str(PipelineError("-p x: not a valid parameter name")) == (
        "-p x: not a valid parameter name"
    )
