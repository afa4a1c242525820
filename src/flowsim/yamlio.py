"""YAML with positions, and errors a newcomer can act on.

:func:`load_yaml` reads a YAML file into plain Python data and remembers the line
and column of every key and value, rejecting duplicate keys. :func:`problems_from_validation`
turns a pydantic ``ValidationError`` into :class:`Problem` s that name the file, line,
column, the key path, what is allowed, and a did-you-mean suggestion. Scenario
files and sweep files both go through here.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

Path_ = tuple[Any, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    allowed: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.column}"
        text = f"{where}: {self.path + ': ' if self.path else ''}{self.message}"
        if self.allowed:
            text += f"\n    allowed: {self.allowed}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text


class ConfigError(Exception):
    """One or more problems in input files; ``str()`` lists them all, one per paragraph."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(self.report())

    def report(self) -> str:
        """All problems, numbered when there are several."""
        if len(self.problems) == 1:
            return str(self.problems[0])
        lines = [f"{len(self.problems)} problems:"]
        lines += [str(p) for p in self.problems]
        return "\n".join(lines)


@dataclass
class LoadedYaml:
    """A YAML document as plain data plus the (line, column) of each key path, 1-based."""

    file: str
    data: Any
    marks: dict[Path_, tuple[int, int]]

    def mark(self, path: Path_) -> tuple[int | None, int | None]:
        """Position of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.marks:
                return self.marks[path]
            path = path[:-1]
        return self.marks.get((), (None, None))


def dotted(path: Path_) -> str:
    """``("policy", "corridors", "GD-HK")`` -> ``policy.corridors.GD-HK``; indices as ``[i]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _at_key(
    file: str, key_node: yaml.Node, path: Path_, message: str, hint: str | None = None
) -> Problem:
    """A problem positioned at a mapping key."""
    mark = key_node.start_mark
    return Problem(file, mark.line + 1, mark.column + 1, dotted(path), message, hint=hint)


def _construct(
    node: yaml.Node, path: Path_, marks: dict, problems: list[Problem], file: str
) -> Any:
    marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(
                    _at_key(
                        file,
                        key_node,
                        path,
                        "YAML merge keys (<<) are not supported",
                        hint="use `extends:` to reuse another file",
                    )
                )
                continue
            key = _construct(key_node, (*path, "<key>"), {}, problems, file)
            if not isinstance(key, str | int | float | bool) or key is None:
                problems.append(
                    _at_key(file, key_node, path, f"a key must be a plain name, not {key!r}")
                )
                continue
            key = str(key) if not isinstance(key, str) else key
            child = (*path, key)
            if key in out:
                first = marks.get(child, (None, None))
                problems.append(
                    _at_key(
                        file,
                        key_node,
                        child,
                        f"duplicate key {key!r} (first given at line {first[0]})",
                        hint="keep one of the two; YAML would silently use the last",
                    )
                )
                continue
            marks[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = _construct(value_node, child, marks, problems, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v, (*path, i), marks, problems, file) for i, v in enumerate(node.value)]
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    # a scalar on its own; re-serializing it is not safe (an empty null cannot be re-read)
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def load_yaml_text(text: str, file: str = "<string>") -> LoadedYaml:
    """Parse YAML text; raise :class:`ConfigError` on syntax errors or duplicate keys."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        raise ConfigError(
            [
                Problem(
                    file,
                    line,
                    column,
                    "",
                    f"not valid YAML: {exc.problem or exc}",
                    hint="check indentation and that every `key: value` has a space after the "
                    "colon",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(file, None, None, "", f"not valid YAML: {exc}")]) from None
    if node is None:
        return LoadedYaml(file, {}, {(): (1, 1)})
    marks: dict[Path_, tuple[int, int]] = {}
    problems: list[Problem] = []
    try:
        data = _construct(node, (), marks, problems, file)
    except yaml.MarkedYAMLError as exc:  # e.g. an unknown tag such as !!python/object
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(
            [
                Problem(
                    file,
                    mark.line + 1 if mark else None,
                    mark.column + 1 if mark else None,
                    "",
                    f"not valid here: {exc.problem or exc}",
                    hint="write plain values; YAML tags (!!...) are not used",
                )
            ]
        ) from None
    if problems:
        raise ConfigError(problems)
    return LoadedYaml(file, data, marks)


def load_yaml(path: str | Path) -> LoadedYaml:
    """Read and parse a YAML file (see :func:`load_yaml_text`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            [
                Problem(
                    str(path),
                    None,
                    None,
                    "",
                    "file not found",
                    hint="check the path; it is relative to the current folder",
                )
            ]
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            [Problem(str(path), None, None, "", "is a folder, not a YAML file")]
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [Problem(str(path), None, None, "", f"not UTF-8 text ({exc.reason})")]
        ) from None
    except OSError as exc:
        raise ConfigError(
            [Problem(str(path), None, None, "", f"cannot be read: {exc.strerror}")]
        ) from None
    except ValueError as exc:  # e.g. a NUL byte in the name
        raise ConfigError([Problem(str(path), None, None, "", f"cannot be read: {exc}")]) from None
    return load_yaml_text(text, str(path))


# ---------------------------------------------------------------------- validation errors


def _model_classes(annotation: Any) -> list[type[BaseModel]]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, tuple, dict):
        # a list's or a mapping's items: their model validates the item below the index or key
        return [c for a in typing.get_args(annotation) for c in _model_classes(a)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def model_at(model: type[BaseModel], path: Path_) -> type[BaseModel] | None:
    """The pydantic model class that validates the mapping at ``path`` (None if not a model)."""
    current: type[BaseModel] | None = model
    container = False  # the last field was a list or mapping: the next part is an index or key
    for part in path:
        if current is None:
            return None
        if container:
            container = False
            continue
        match = None
        for name, f in current.model_fields.items():
            if part in (name, f.alias):
                match = f
                break
        if match is None:
            return None
        classes = _model_classes(match.annotation)
        container = typing.get_origin(match.annotation) in (list, tuple, dict)
        current = classes[0] if classes else None
    return current


def suggest(word: str, choices: list[str]) -> str | None:
    """The closest allowed name to a misspelt one, if any is close."""
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if str(word).lower() in lowered:
            return lowered[str(word).lower()]
        return None
    return close[0]


def _describe_limit(ctx: dict[str, Any]) -> str | None:
    parts = []
    for key, text in (("ge", ">= {}"), ("gt", "> {}"), ("le", "<= {}"), ("lt", "< {}")):
        if key in ctx:
            parts.append(text.format(ctx[key]))
    return " and ".join(parts) if parts else None


def problems_from_validation(
    err: ValidationError,
    loaded: LoadedYaml,
    model: type[BaseModel],
    prefix: Path_ = (),
    locate: Callable[[Path_], tuple[str, int | None, int | None]] | None = None,
) -> list[Problem]:
    """One :class:`Problem` per pydantic error, positioned in the YAML file.

    ``prefix`` is prepended to error locations when the validated data sits below the
    document root. ``locate(path) -> (file, line, column)`` replaces ``loaded``'s
    positions when the data was merged from several files (``extends:``).
    """
    problems: list[Problem] = []
    for e in err.errors(include_url=False):
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        path = (*prefix, *loc)
        if locate is None:
            file = loaded.file
            line, column = loaded.mark(path)
        else:
            file, line, column = locate(path)
        kind = e["type"]
        allowed = hint = None
        value = e.get("input")
        if kind == "extra_forbidden":
            parent = model_at(model, loc[:-1])
            names = _field_names(parent) if parent else []
            key = loc[-1]
            message = f"unknown key {key!r}"
            allowed = ", ".join(names) if names else None
            close = suggest(str(key), names)
            if close:
                hint = f"did you mean {close!r}?"
        elif kind == "missing":
            message = "required key is missing"
            hint = f"add `{loc[-1]}:`"
        elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            message = f"{value!r} is out of range"
            allowed = _describe_limit(e.get("ctx", {}))
        elif kind.endswith("_type") or kind.endswith("_parsing") or kind == "model_type":
            expected = e["msg"].replace("Input should be ", "")
            if kind in ("model_type", "dict_type"):
                expected = "a mapping of `key: value` lines"
            message = f"{value!r} has the wrong type: expected {expected}"
            if kind == "model_type":
                parent = model_at(model, loc)
                if parent:
                    allowed = "a mapping with keys " + ", ".join(_field_names(parent))
        elif kind == "literal_error":
            message = f"{value!r} is not allowed"
            allowed = e["msg"].replace("Input should be ", "")
            options = [o.strip(" '\"") for o in allowed.replace(" or ", ", ").split(",")]
            close = suggest(str(value), options)
            if close:
                hint = f"did you mean {close!r}?"
        elif kind == "value_error" and "error" in e.get("ctx", {}):
            message = str(e["ctx"]["error"])  # a validator's own words, without pydantic's prefix
        else:
            message = e["msg"]
            if value is not None and not isinstance(value, dict | list):
                message += f" (got {value!r})"
        problems.append(Problem(file, line, column, dotted(path), message, allowed, hint))
    problems.sort(key=lambda p: (p.file, p.line or 0, p.column or 0))
    return problems


__all__ = [
    "ConfigError",
    "LoadedYaml",
    "Problem",
    "dotted",
    "load_yaml",
    "load_yaml_text",
    "model_at",
    "problems_from_validation",
    "suggest",
]
