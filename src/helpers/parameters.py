"""The parameters a run gives each notebook: read from ``-p NAME VALUE`` and checked before it runs.

A value must fit the type of the notebook's default (:func:`parameters_typecheck`), so a typo fails
in a second rather than after the first notebooks ran; where outputs may go is checked by
:func:`helpers.outputs.outputs_where_check`.
"""

from __future__ import annotations

from typing import Any

import yaml

from helpers.notebooks import notebook_parameter_types
from helpers.pipeline import NotebookStep, PipelineConfig, PipelineError


def parameters_parse(pairs: list[tuple[str, str]] | None) -> dict:
    """Return command-line ``-p NAME VALUE`` pairs as a dict of typed values (later pairs win).

    Values are read as YAML so numbers, booleans and lists arrive typed: ``50`` -> 50,
    ``false`` -> False, ``"[闽宁协作, 乡村振兴]"`` -> a list. Text stays exactly as typed (YAML
    would drop a `` #...`` tail as a comment or turn ``a: b`` into a mapping); quote it in YAML
    style (``"'50'"``) to force a string. An empty value gives ``""``.
    """
    out: dict = {}
    for name, text in pairs or []:
        if not name.isidentifier():
            raise PipelineError(f"-p {name}: not a valid parameter name")
        if text.strip() == "":
            out[name] = ""
            continue
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise PipelineError(f"-p {name}: cannot read {text!r} as a value: {err}") from err
        quoted = text.lstrip()[:1] in {"'", '"'}
        if (
            isinstance(value, str)
            and not quoted
            or isinstance(value, dict)
            and not text.lstrip().startswith("{")
        ):
            value = text
        out[name] = value
    return out


def _default_value(source: str) -> tuple[bool, Any]:
    """Return ``(True, value)`` for a literal default of a parameter, else ``(False, None)``."""
    import ast

    try:
        return True, ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _type_name(value: Any) -> str:
    """Return how a value's type is called in messages: text, whole number, number, …"""
    names = {bool: "true/false", int: "whole number", float: "number", str: "text", list: "list"}
    names |= {tuple: "list", dict: "mapping"}
    return names.get(type(value), type(value).__name__)


def value_fits(value: Any, default: Any) -> bool:
    """Return whether ``value`` may replace a parameter whose default is ``default``.

    Same type as the default, with three allowances: a None default accepts anything, a None
    value is accepted (the notebook's own "not given"), and a whole number stands for a float
    (``confidence_level 1`` is 1.0). ``True`` is not a whole number here, nor ``1`` a boolean.
    """
    if default is None or value is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    if isinstance(default, list | tuple):
        return isinstance(value, list | tuple)
    return isinstance(value, type(default))


def parameters_typecheck(
    step: NotebookStep,
    defaults: dict[str, str],
    params: dict,
    overrides: dict,
    config: PipelineConfig,
) -> None:
    """Raise PipelineError when a parameter's value does not fit its default's type.

    ``defaults`` are the notebook's declarations (:func:`notebook_parameters`); defaults that are
    not literals (an expression) are not checked. The message names the parameter, the notebook,
    where the value came from, the expected type and the value, so ``-p sample_size abc`` fails
    before any notebook runs instead of inside notebook 01.
    """
    annotated = notebook_parameter_types(step.path)
    for name, value in params.items():
        if name not in defaults:
            continue
        if name in annotated:
            if any(value_fits(value, t()) for t in annotated[name] if t is not type(None)):
                continue
            if value is None:
                continue
        literal, default = _default_value(defaults[name])
        if not literal or (name not in annotated and value_fits(value, default)):
            continue
        origin = (
            f"-p {name}"
            if name in overrides
            else f"{config.source.name}, {step.name}'s parameters"
            if name in step.parameters
            else f"{config.source.name}, parameters"
        )
        expected = (
            " or ".join("None" if t is type(None) else _type_name(t()) for t in annotated[name])
            if name in annotated
            else _type_name(default)
        )
        raise PipelineError(
            f"parameter {name} of {step.name}: expected a {expected} like its default "
            f"{defaults[name]}, got {value!r} (a {_type_name(value)}) from {origin}"
            + (
                "; quote it in YAML style to pass text, e.g. -p NAME \"'50'\""
                if isinstance(default, str)
                else ""
            )
        )
