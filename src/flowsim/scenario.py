"""Scenario files: YAML -> a validated, immutable :class:`~flowsim.params.Scenario`.

A scenario file sets only what differs from the defaults in :mod:`flowsim.params`,
or from another scenario it ``extends:`` (a path relative to the extending file)::

    extends: baseline.yaml
    name: data-sandbox
    policy:
      corridors:
        GD-HK:
          data: {approval: 0.7, delay_days: 15}

:func:`load_scenario` follows the ``extends`` chain, merges it onto the defaults and
validates the result once. Every problem in the files is reported together in one
:class:`~flowsim.yamlio.ConfigError`, each naming the file, line and column that set
the offending value (a parent's line when the value came from a parent), the key
path, what is allowed and, for a misspelt key, the closest allowed one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from flowsim.params import Scenario, deep_merge, scenario_defaults, set_path
from flowsim.yamlio import (
    ConfigError,
    LoadedYaml,
    Path_,
    Problem,
    load_scalar_text,
    load_yaml,
    missing_reason,
    problems_from_validation,
    suggest,
)

EXTENDS = "extends"
"""The key that names a parent scenario file; it is not a scenario field."""

MAX_EXTENDS_DEPTH = 32
"""Longest ``extends`` chain accepted (a guard against runaway chains of distinct files)."""


def _problem_at(loaded: LoadedYaml, path: Path_, message: str, hint: str | None = None) -> Problem:
    line, column = loaded.mark(path)
    return Problem(loaded.file, line, column, ".".join(map(str, path)), message, hint=hint)


def _read_file(
    path: Path, child: LoadedYaml | None, referenced_by: str | None = None
) -> LoadedYaml:
    """Parse one file of the chain; a parent's problems say which file extends it.

    A file another file points at (``extends:``, a sweep's ``base:``) that is not a
    scenario is reported as such, without echoing its content.
    """
    referrer = child.file if child is not None else referenced_by
    try:
        loaded = load_yaml(path)
    except ConfigError as err:
        if referrer is None:
            raise
        how = "extended" if child is not None else "used as the base"
        note = f"this file is {how} by {referrer}"
        raise ConfigError(
            [
                dataclasses.replace(p, hint=f"{p.hint}; {note}" if p.hint else note)
                for p in err.problems
            ]
        ) from None
    if loaded.data == {}:
        raise ConfigError(
            [
                Problem(
                    loaded.file,
                    1,
                    1,
                    "",
                    "the scenario file is empty",
                    hint="write at least `name: my-scenario`, or `extends: baseline.yaml` "
                    "and the keys that differ",
                )
            ]
        )
    if referrer is not None and not _looks_like_scenario(loaded.data):
        raise ConfigError(
            [
                Problem(
                    loaded.file,
                    None,
                    None,
                    "",
                    "is not a scenario file (none of its top-level keys is a scenario key); "
                    "its content is not shown",
                    hint=f"{referrer} points at it; point it at a scenario YAML file",
                )
            ]
        )
    if not isinstance(loaded.data, dict):
        if isinstance(loaded.data, list):
            kind = "a list"
        elif isinstance(loaded.data, str):
            kind = f"the text {_short(loaded.data)}"
        else:
            kind = f"the value {_short(loaded.data)}"
        raise ConfigError(
            [
                _problem_at(
                    loaded,
                    (),
                    f"a scenario must be a mapping of `key: value` lines, not {kind}",
                    hint="start with `name: my-scenario` at the left margin",
                )
            ]
        )
    return loaded


def _looks_like_scenario(data: object) -> bool:
    """A mapping with at least one scenario key (or ``extends``)."""
    if not isinstance(data, dict):
        return False
    keys = {name for name in Scenario.model_fields} | {
        f.alias for f in Scenario.model_fields.values() if f.alias
    }
    return bool(set(data) & (keys | {EXTENDS}))


def _short(value: object, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters: enough to recognise, never a whole file."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 5] + "...'"


def _unusable_file(path: Path) -> str | None:
    """Why ``path`` cannot be read as a scenario file, or None if it can."""
    try:
        if path.is_file():
            path.resolve()
            return None
        if path.is_dir():
            return f"{path} is a folder, not a scenario file"
        if path.exists():
            return f"{path} is not a regular file (a FIFO, device or socket); give a YAML file"
        reason = missing_reason(path)
        return f"no such file {path}" if reason == "no such file" else f"{path} {reason}"
    except (OSError, ValueError) as exc:  # too long, a NUL byte, no permission...
        reason = getattr(exc, "strerror", None) or exc
        return f"cannot be used as a file name ({exc.__class__.__name__}: {reason})"


def read_chain(path: str | Path, referenced_by: str | None = None) -> list[LoadedYaml]:
    """The file at ``path`` and every file it extends, the given file first.

    Raises:
        ConfigError: a file cannot be read or parsed, an ``extends`` target is missing
            or not a file name, or the chain is cyclic.
    """
    chain: list[LoadedYaml] = []
    seen: list[Path] = []
    current = Path(path)
    child: LoadedYaml | None = None
    while True:
        loaded = _read_file(current, child, referenced_by)
        chain.append(loaded)
        seen.append(current.resolve())
        target = loaded.data.get(EXTENDS)
        if target is None:
            return chain
        if not isinstance(target, str) or not target.strip():
            raise ConfigError(
                [
                    _problem_at(
                        loaded,
                        (EXTENDS,),
                        f"must be a file name, not {target!r}",
                        hint="e.g. `extends: baseline.yaml` (relative to this file)",
                    )
                ]
            )
        parent = current.parent / target
        unusable = _unusable_file(parent)
        if unusable:
            raise ConfigError(
                [
                    _problem_at(
                        loaded,
                        (EXTENDS,),
                        f"{target!r}: {unusable}",
                        hint="the path is relative to the folder of the extending file",
                    )
                ]
            )
        if parent.resolve() in seen:
            names = " -> ".join([c.file for c in chain] + [str(parent)])
            raise ConfigError(
                [
                    _problem_at(
                        loaded,
                        (EXTENDS,),
                        f"makes a cycle: {names}",
                        hint="remove `extends:` from one of these files",
                    )
                ]
            )
        if len(chain) >= MAX_EXTENDS_DEPTH:
            raise ConfigError(
                [
                    _problem_at(
                        loaded, (EXTENDS,), f"the chain is longer than {MAX_EXTENDS_DEPTH} files"
                    )
                ]
            )
        current, child = parent, loaded


def _own_keys(loaded: LoadedYaml) -> dict[str, Any]:
    return {k: v for k, v in loaded.data.items() if k != EXTENDS}


def resolve_scenario_dict(path: str | Path) -> dict[str, Any]:
    """The merged plain dictionary of a scenario file: defaults, then each ancestor, then the file.

    The result is not validated; see :func:`load_scenario`.
    """
    return _merge(read_chain(path))


def _merge(chain: list[LoadedYaml]) -> dict[str, Any]:
    merged = scenario_defaults()
    for loaded in reversed(chain):
        merged = deep_merge(merged, _own_keys(loaded))
    return merged


def _known_prefix(loaded: LoadedYaml, path: Path_) -> int:
    """Length of the longest prefix of ``path`` that ``loaded`` sets (0: none)."""
    for n in range(len(path), 0, -1):
        if tuple(path[:n]) in loaded.marks:
            return n
    return 0


def _locator(chain: list[LoadedYaml], overridden: tuple[str, ...] = (), source: str = ""):
    """``locate(path) -> (file, line, column)``: the file of the chain that set ``path``.

    The file that sets the longest prefix of the path wins; among equals the one
    nearest the given file, because its value overrides its ancestors'. A path set by
    an override (``overridden``, dotted) is located at ``source``.
    """

    def locate(path: Path_) -> tuple[str, int | None, int | None]:
        text = ".".join(map(str, path))
        if any(text == key or text.startswith(key + ".") for key in overridden):
            return source, None, None
        best, best_len = chain[0], 0
        for loaded in chain:
            n = _known_prefix(loaded, path)
            if n > best_len:
                best, best_len = loaded, n
        line, column = best.mark(tuple(path[:best_len])) if best_len else best.mark(())
        return best.file, line, column

    return locate


def parse_settings(settings: list[str]) -> dict[str, Any]:
    """``["talent.move_rate=0.02"]`` -> ``{"talent.move_rate": 0.02}``, each value read as YAML.

    Values are read with flowsim's YAML rules (:func:`flowsim.yamlio.load_scalar_text`):
    ``1e-3`` is a number, ``010`` is ten, ``yes`` is text.

    Raises:
        ConfigError: a setting without ``=`` or whose value is not valid YAML.
    """
    out: dict[str, Any] = {}
    problems = []
    for setting in settings:
        key, sep, text = setting.partition("=")
        if not sep or not key.strip():
            problems.append(
                Problem(
                    "command line",
                    None,
                    None,
                    f"--set {setting}",
                    "expected KEY=VALUE",
                    hint="e.g. --set policy.corridors.GD-HK.data.approval=0.7",
                )
            )
            continue
        try:
            out[key.strip()] = load_scalar_text(text) if text.strip() else None
        except ConfigError as err:
            problems.append(
                Problem(
                    "command line",
                    None,
                    None,
                    f"--set {setting}",
                    f"the value is not valid YAML ({err.problems[0].message})",
                )
            )
    if problems:
        raise ConfigError(problems)
    return out


def load_scenario(
    path: str | Path,
    overrides: dict[str, Any] | None = None,
    settings: list[str] | None = None,
    source: str = "command line",
    referenced_by: str | None = None,
) -> Scenario:
    """Read, merge and validate a scenario file.

    Args:
        path: the scenario file.
        overrides: dotted-path values applied on top of the file (e.g. ``{"scale": 0.01}``).
        settings: ``KEY=VALUE`` texts (``flowsim run --set``), applied like ``overrides``.
        source: what the problems of ``overrides`` and ``settings`` name as their file.
        referenced_by: the file that points at ``path`` (a sweep file's ``base:``), if any.

    Raises:
        ConfigError: with every problem of the file (and of the files it extends) and of
            the overrides, together.
    """
    extra: list[Problem] = []
    values: dict[str, Any] = {}
    if settings:
        try:
            values = parse_settings(settings)
        except ConfigError as err:
            extra = list(err.problems)
    values.update(overrides or {})
    try:
        chain = read_chain(path, referenced_by)
    except ConfigError as err:
        raise ConfigError([*err.problems, *extra]) from None
    merged = _merge(chain)
    for dotted_path, value in values.items():
        merged = set_path(merged, dotted_path, value)
    try:
        scenario = Scenario.model_validate(merged, strict=True)
    except ValidationError as err:
        locate = _locator(chain, tuple(values), source)
        problems = problems_from_validation(err, chain[0], Scenario, locate=locate)
        problems = [_at_named_key(p, locate) for p in problems]
        problems = [_inherited_hint(_extends_hint(p), chain[0].file) for p in problems]
        raise ConfigError([*problems, *extra]) from None
    if extra:
        raise ConfigError(extra)
    conflict = rule_conflict(scenario, _locator(chain, tuple(values), source))
    if conflict is not None:
        raise ConfigError([conflict])
    return scenario


def rule_conflict(scenario: Scenario, locate) -> Problem | None:
    """The conflict of two border rules at equal specificity, located, or None.

    ``locate(path) -> (file, line, column)`` finds where each rule is written.
    """
    from flowsim.geography import load_geography
    from flowsim.policy import RuleConflict, compile_rules

    try:
        compile_rules(scenario.policy, load_geography(), scenario.scale)
    except RuleConflict as err:
        where = []
        for rule in (err.first, err.second):
            file, line, column = locate(rule.path)
            where.append(f"{rule.label} at {file}:{line}:{column}")
        file, line, column = locate(err.first.path)
        return Problem(
            file,
            line,
            column,
            ".".join(map(str, err.first.path)),
            f"{where[0]} and {where[1]} both match some flow at specificity "
            f"{err.first.specificity} and set {err.quantity} to "
            f"{err.first.values[err.quantity]:g} and {err.second.values[err.quantity]:g}",
            hint="give them the same value, make one rule more specific (add a selector), "
            "or narrow one so that no flow matches both (docs/rules.md, precedence)",
        )
    return None


def _at_named_key(problem: Problem, locate) -> Problem:
    """Locate a whole-scenario problem at the key its message starts with, if it names one.

    A check across fields (``timing.start`` against ``steps``) is raised for the whole
    scenario; its message names the key (``timing.start 2040-01 is outside the run``), so
    the problem is placed where that key is written: its line in a file, or the override
    (``--set``) that gave it.
    """
    if problem.path:
        return problem
    first = problem.message.split(" ", 1)[0]
    if "." not in first or not all(part.isidentifier() for part in first.split(".")):
        return problem
    file, line, column = locate(tuple(first.split(".")))
    if line is None:  # set by an override: named by its key, as --set problems are
        message = problem.message[len(first) :].strip()
        return dataclasses.replace(
            problem, file=file, line=None, column=None, path=first, message=message
        )
    return dataclasses.replace(problem, file=file, line=line, column=column)


def _inherited_hint(problem: Problem, file: str) -> Problem:
    """Say which file inherits a problem that sits in a file it extends."""
    if problem.file in (file, "command line"):  # a --set value is nobody's inheritance
        return problem
    note = f"{file} inherits this value through `extends:`"
    return dataclasses.replace(problem, hint=f"{problem.hint}; {note}" if problem.hint else note)


def _extends_hint(problem: Problem) -> Problem:
    """Point a misspelt top-level ``extends`` at the right key (it is not a Scenario field)."""
    if (
        "." in problem.path
        or not problem.message.startswith("unknown key")
        or not suggest(problem.path, [EXTENDS])
    ):
        return problem
    return dataclasses.replace(
        problem, allowed=f"{problem.allowed}, {EXTENDS}", hint=f"did you mean {EXTENDS!r}?"
    )


def apply_overrides(
    scenario: Scenario, overrides: dict[str, Any], source: str = "command line"
) -> Scenario:
    """A new scenario with dotted-path overrides (``{"scale": 0.01}``) applied and validated.

    Raises:
        ConfigError: naming ``source`` and the key path of each bad value.
    """
    data = scenario.model_dump(by_alias=True, mode="json")
    for dotted_path, value in overrides.items():
        data = set_path(data, dotted_path, value)
    try:
        return Scenario.model_validate(data, strict=True)
    except ValidationError as err:
        raise ConfigError(
            problems_from_validation(err, LoadedYaml(source, data, {}), Scenario)
        ) from None


def scenario_dict(scenario: Scenario) -> dict[str, Any]:
    """The fully resolved scenario as plain data, keys as written in YAML."""
    return scenario.model_dump(by_alias=True, mode="json")


def dump_scenario(scenario: Scenario) -> str:
    """YAML of the fully resolved scenario, in the field order of :mod:`flowsim.params`."""
    return yaml.safe_dump(scenario_dict(scenario), sort_keys=False, allow_unicode=True, width=100)


def scenario_hash(scenario: Scenario) -> str:
    """sha256 of a canonical JSON of the resolved scenario: equal iff the scenarios are equal."""
    canonical = json.dumps(
        scenario_dict(scenario), sort_keys=True, separators=(",", ":"), ensure_ascii=True
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ annotated YAML (describe)


def _inline(value: Any) -> str:
    """One YAML scalar or flow collection on one line."""
    text = yaml.safe_dump([value], default_flow_style=True, allow_unicode=True, width=10**9).strip()
    return text[1:-1]


def _annotated(model: BaseModel, indent: int, defaults: BaseModel | None) -> list[str]:
    lines: list[str] = []
    pad = " " * indent
    for name, info in type(model).model_fields.items():
        key = _inline(info.alias or name)
        value = getattr(model, name)
        default = getattr(defaults, name) if defaults is not None else None
        note = info.description or ""
        if isinstance(value, BaseModel):
            lines.append(f"{pad}{key}:" + (f"  # {note}" if note else ""))
            lines += _annotated(
                value, indent + 2, default if isinstance(default, BaseModel) else None
            )
            continue
        if defaults is not None and value != default:
            note = f"{note} [default: {_inline(_plain(default))}]".strip()
        plain = _plain(value)
        if isinstance(plain, list) and plain:
            lines.append(f"{pad}{key}:" + (f"  # {note}" if note else ""))
            lines += [f"{pad}  - {_inline(item)}" for item in plain]
        else:
            lines.append(f"{pad}{key}: {_inline(plain)}" + (f"  # {note}" if note else ""))
    return lines


def _plain(value: Any) -> Any:
    if not isinstance(value, list | dict):
        return value

    def model(item: Any) -> Any:  # a rule or a whitelist: its YAML keys
        return item.model_dump(by_alias=True, mode="json")

    return json.loads(json.dumps(value, default=model))


def describe_scenario(scenario: Scenario) -> str:
    """Annotated YAML of the resolved scenario, every default shown.

    Each value carries its meaning and unit as a comment, and the default where the
    scenario changes it. Loading the text back gives the same scenario.
    """
    header = (
        f"# scenario {scenario.name!r}, fully resolved (every default shown)\n"
        f"# sha256 {scenario_hash(scenario)}\n"
    )
    return header + "\n".join(_annotated(scenario, 0, Scenario())) + "\n"


__all__ = [
    "EXTENDS",
    "apply_overrides",
    "describe_scenario",
    "dump_scenario",
    "load_scenario",
    "parse_settings",
    "read_chain",
    "resolve_scenario_dict",
    "scenario_dict",
    "scenario_hash",
]
