"""YAML with positions, and errors a newcomer can act on.

:func:`load_yaml` reads a YAML file into plain Python data and remembers the line
and column of every key and value, rejecting duplicate keys. :func:`problems_from_validation`
turns a pydantic ``ValidationError`` into :class:`Problem` s that name the file, line,
column, the key path, what is allowed, and a did-you-mean suggestion. Scenario
files and sweep files both go through here.

**What is read as what.** PyYAML implements YAML 1.1, whose implicit types surprise
people: ``1e-3`` is text, ``010`` is 8, ``1:30`` is 90, ``yes``/``no``/``on``/``off``
are booleans (as keys too). flowsim reads YAML with the YAML 1.2 core schema instead,
so what a person wrote is what they get:

- ``true``/``false`` (any case spelling ``True``, ``TRUE``) are booleans; ``yes``,
  ``no``, ``on``, ``off`` are text;
- ``~``, ``null`` and an empty value are null;
- whole numbers are decimal (``010`` is ten; ``0x1F``, ``0o17`` and ``0b101`` are hex,
  octal and binary); ``_`` may group digits (``1_000``);
- ``1e-3``, ``2.5``, ``.5``, ``1.5E+3``, ``.inf`` and ``.nan`` are numbers;
- ``1:30`` and ``2024-01-01`` are text (no sexagesimal numbers, no dates);
- tags other than the core ones (``!!str``, ``!!int``, ``!!float``, ``!!bool``,
  ``!!null``, ``!!map``, ``!!seq``) are errors, on scalars, mappings and lists alike;
  merge keys (``<<``) are errors too.

**Limits.** Every file is checked before it is parsed, and refused with the file
named (exit 2 on the command line) when it breaks one of these:

- it is not a regular file (a folder, a FIFO, a device such as ``/dev/zero``);
- it is larger than :data:`MAX_FILE_BYTES`;
- it nests mappings and lists deeper than :data:`MAX_DEPTH`;
- it holds more than :data:`MAX_NODES` values once aliases (``*name``) are expanded
  (a "billion laughs" alias bomb is refused after reading its few hundred bytes).

Text from a file is never printed raw: control characters (terminal escape codes)
are shown escaped (:func:`printable`).
"""

from __future__ import annotations

import dataclasses
import difflib
import errno
import math
import os
import re
import stat
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

Path_ = tuple[Any, ...]

MAX_FILE_BYTES = 1_000_000
"""Largest input file read, in bytes (shipped scenarios and sweeps are under 5 kB)."""

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists accepted (scenarios nest at most 6 levels)."""

MAX_NODES = 100_000
"""Most values (scalars, mappings, lists) a file may hold once its aliases are expanded."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\n\t]")


def printable(text: object) -> str:
    """``text`` with control characters (terminal escape codes, newlines) shown escaped."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))


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
        where = printable(self.file)
        if self.line is not None:
            where += f":{self.line}:{self.column}"
        path = printable(self.path)
        text = f"{where}: {path + ': ' if path else ''}{printable(self.message)}"
        if self.allowed:
            text += f"\n    allowed: {printable(self.allowed)}"
        if self.hint:
            text += f"\n    hint: {printable(self.hint)}"
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


class Loader(yaml.SafeLoader):
    """PyYAML's safe loader with the YAML 1.2 core schema's implicit types (module docstring)."""


Loader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^[-+]?(?:[0-9][0-9_]*|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:[0-9][0-9_]*\.?[0-9_]*|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("merge", r"^(?:<<)$", "<"),
):
    Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), list(_first))

_CORE = "tag:yaml.org,2002:"
_COLLECTION_TAGS = {f"{_CORE}map", f"{_CORE}seq"}


def _scalar(tag: str, text: str) -> Any:
    """The value of a core-schema scalar; ValueError if ``text`` is not one of ``tag``."""
    kind = tag.removeprefix(_CORE)
    if kind == "str":
        return text
    if kind == "null":
        if text not in ("", "~", "null", "Null", "NULL"):
            raise ValueError(f"{text!r} is not null")
        return None
    if kind == "bool":
        if text.lower() not in ("true", "false"):
            raise ValueError(f"{text!r} is not true or false")
        return text.lower() == "true"
    if kind == "int":
        digits = text.replace("_", "")
        sign = -1 if digits.startswith("-") else 1
        digits = digits.lstrip("+-")
        if digits[:2].lower() in ("0x", "0o", "0b"):
            return sign * int(digits, 0)
        return sign * int(digits, 10)
    if kind == "float":
        lowered = text.lower().replace("_", "")
        if lowered.endswith(".inf"):
            return -math.inf if lowered.startswith("-") else math.inf
        if lowered == ".nan":
            return math.nan
        return float(lowered)
    raise ValueError(f"could not determine a constructor for the tag {tag!r}")


def _tag_problem(file: str, node: yaml.Node, path: Path_, message: str) -> Problem:
    mark = node.start_mark
    return Problem(
        file,
        mark.line + 1,
        mark.column + 1,
        dotted(path),
        message,
        hint="write plain values; YAML tags (!!...) are not used",
    )


def _construct(
    node: yaml.Node, path: Path_, marks: dict, problems: list[Problem], file: str
) -> Any:
    marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _COLLECTION_TAGS:
        problems.append(
            _tag_problem(
                file, node, path, f"could not determine a constructor for the tag {node.tag!r}"
            )
        )
        return None
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
                    _at_key(file, key_node, path, f"a key must be a plain name, not {_short(key)}")
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
    try:
        return _scalar(node.tag, node.value)
    except ValueError as err:
        problems.append(_tag_problem(file, node, path, str(err)))
        return None


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "...'"


def _check_size(text: str, file: str) -> None:
    """Refuse a document nested deeper than MAX_DEPTH or larger than MAX_NODES expanded.

    One pass over the parser's events (libyaml where available), before anything is
    built: an alias adds the size of its anchor without expanding it.
    """
    parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    too_deep = Problem(
        file,
        None,
        None,
        "",
        f"nested deeper than {MAX_DEPTH} levels of mappings and lists",
        hint="a scenario nests at most a few levels; is this the right file?",
    )
    sizes: dict[str, int] = {}
    starts: list[tuple[int, str | None]] = []
    total = 0
    try:
        for event in yaml.parse(text, Loader=parser):
            if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                starts.append((total, event.anchor))
                total += 1
                if len(starts) > MAX_DEPTH:
                    mark = event.start_mark
                    raise ConfigError(
                        [dataclasses.replace(too_deep, line=mark.line + 1, column=mark.column + 1)]
                    )
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                start, anchor = starts.pop()
                if anchor is not None:
                    sizes[anchor] = total - start
            elif isinstance(event, yaml.ScalarEvent):
                total += 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                total += sizes.get(event.anchor, 1)
            if total > MAX_NODES:
                mark = event.start_mark
                raise ConfigError(
                    [
                        Problem(
                            file,
                            mark.line + 1,
                            mark.column + 1,
                            "",
                            f"holds more than {MAX_NODES:,} values once its aliases (*name) are "
                            "expanded",
                            hint="aliases that repeat aliases grow exponentially; write the "
                            "values out, or use `extends:`",
                        )
                    ]
                )
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):  # libyaml's own limit (1000 levels)
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else None
            raise ConfigError([dataclasses.replace(too_deep, line=line, column=1)]) from None
        return  # a syntax error: composing reports it with its position


def load_yaml_text(text: str, file: str = "<string>") -> LoadedYaml:
    """Parse YAML text; raise :class:`ConfigError` on syntax errors or duplicate keys."""
    _check_size(text, file)
    try:
        node = yaml.compose(text, Loader=Loader)
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
    except RecursionError:  # a last guard; _check_size refuses deep nesting first
        raise ConfigError(
            [Problem(file, None, None, "", f"nested deeper than {MAX_DEPTH} levels")]
        ) from None
    if node is None:
        return LoadedYaml(file, {}, {(): (1, 1)})
    marks: dict[Path_, tuple[int, int]] = {}
    problems: list[Problem] = []
    data = _construct(node, (), marks, problems, file)
    if problems:
        raise ConfigError(problems)
    return LoadedYaml(file, data, marks)


def load_scalar_text(text: str) -> Any:
    """One value written as YAML (e.g. a ``--set`` value), read as files are read."""
    return load_yaml_text(text, "command line").data


def missing_reason(path: str | Path, what: str = "file") -> str:
    """Why nothing usable is at ``path``: not there, a looping or a broken symbolic link.

    ``Path.exists()`` is False for all three; a user who made a link needs to be told
    it loops (``ELOOP``: it points to itself, directly or through other links) or where
    its missing target is, not "no such file".
    """
    path = Path(path)
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return (
                f"is a symbolic link that loops (it points to itself, directly or through "
                f"other links); make it point to the {what}"
            )
        if path.is_symlink():
            try:
                target = os.readlink(path)
            except OSError:
                target = "?"
            return f"is a symbolic link to {target}, which does not exist"
    except ValueError:
        pass
    return f"no such {what}"


def _refuse(path: Path, message: str, hint: str | None = None) -> ConfigError:
    return ConfigError([Problem(str(path), None, None, "", message, hint=hint)])


def read_text_bounded(path: str | Path, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes.

    Opens without blocking (a FIFO is refused, not waited on) and reads at most
    ``limit + 1`` bytes (``/dev/zero`` is refused, not read forever).

    Raises:
        ConfigError: naming the file: not found, not a regular file, too large,
            unreadable, not UTF-8.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        reason = missing_reason(path)
        raise _refuse(
            path,
            "file not found" if reason == "no such file" else reason,
            "check the path; it is relative to the current folder",
        ) from None
    except IsADirectoryError:
        raise _refuse(path, "is a folder, not a YAML file") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _refuse(path, missing_reason(path)) from None
        raise _refuse(path, f"cannot be read: {exc.strerror}") from None
    except ValueError as exc:  # e.g. a NUL byte in the name
        raise _refuse(path, f"cannot be read: {exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise _refuse(path, "is a folder, not a YAML file")
        if not stat.S_ISREG(info.st_mode):
            kind = (
                "a FIFO (named pipe)"
                if stat.S_ISFIFO(info.st_mode)
                else "a device"
                if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
                else "a socket"
                if stat.S_ISSOCK(info.st_mode)
                else "not a regular file"
            )
            raise _refuse(
                path,
                f"is {kind}, not a regular file; only regular files are read",
                hint="give the path of a YAML file",
            )
        if info.st_size > limit:
            raise _refuse(
                path,
                f"is {info.st_size:,} bytes; input files may be at most {limit:,} bytes",
                hint="is this the right file? scenario and sweep files are a few kB",
            )
        chunks = []
        size = 0
        while size <= limit:
            try:
                chunk = os.read(fd, min(1 << 16, limit + 1 - size))
            except OSError as exc:
                raise _refuse(path, f"cannot be read: {exc.strerror}") from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise _refuse(path, f"is larger than {limit:,} bytes, the most an input file may be")
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refuse(path, f"not UTF-8 text ({exc.reason})") from None


def load_yaml(path: str | Path) -> LoadedYaml:
    """Read and parse a YAML file within the limits (see :func:`load_yaml_text`)."""
    return load_yaml_text(read_text_bounded(path), str(path))


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
    if (flipped := "-".join(reversed(str(word).split("-")))) in choices:
        return flipped  # a corridor written the other way round: HK-GD -> GD-HK
    close = difflib.get_close_matches(str(word), choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if str(word).lower() in lowered:
            return lowered[str(word).lower()]
        return None
    return close[0]


def _yaml11_hint(value: Any, kind: str = "bool_type") -> str | None:
    """Why a text value may have been meant as something else (YAML 1.1 habits).

    ``kind`` is pydantic's error type: what was expected (``bool_type``, ``float_type``...).
    """
    if not isinstance(value, str):
        return None
    if not kind.startswith("bool") and value.lower() in ("yes", "no", "on", "off", "y", "n"):
        return f"flowsim reads {value} as text, not as a number or a switch; write the value"
    if re.fullmatch(r"[-+]?[0-9]+(?::[0-5]?[0-9])+(?:\.[0-9]*)?", value):
        return (
            f"flowsim reads {value} as text, not as a base-60 number (YAML 1.1 would read "
            "1:30 as 90); write the number itself"
        )
    if value.lower() in ("yes", "no", "on", "off", "y", "n"):
        return f"flowsim reads {value} as text; write true or false"
    if re.fullmatch(r"\s*[-+]?(?:[0-9][0-9_]*\.?[0-9_]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\s*", value):
        return f"{value!r} is quoted, so it is text; write the number without quotes"
    return None


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
            message = f"{_short(value)} has the wrong type: expected {expected}"
            hint = _yaml11_hint(value, kind)
            if hint is None and isinstance(value, bool) and "bool" not in kind:
                hint = f"write the value itself; {str(value).lower()} is a boolean, not a number"
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
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "Loader",
    "load_scalar_text",
    "load_yaml",
    "load_yaml_text",
    "printable",
    "missing_reason",
    "read_text_bounded",
    "model_at",
    "problems_from_validation",
    "suggest",
]
