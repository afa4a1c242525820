"""The dashboard's controls, read from the pydantic models of :mod:`flowsim.params`.

Every number of a :class:`~flowsim.params.Scenario` is a lever the page can set. Its
label, unit, allowed range and default come from the field's declaration (its
``description``, its ``ge``/``le``/``gt``/``lt`` bounds and its default), so the page
never disagrees with the scenario loader and needs no list of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, get_args

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from flowsim.params import Scenario

RUN_FIELDS: tuple[str, ...] = ("seed", "steps", "scale", "warmup_steps", "start_year")
"""Top-level numbers that say how a scenario is run rather than what it assumes."""

BEHAVIOUR_GROUPS: tuple[str, ...] = (
    "talent",
    "research",
    "transfer",
    "capital",
    "commercialization",
    "population",
    "world",
)
"""Sections of behaviour parameters, in the order the page lists them."""

_UNIT = re.compile(r"\[([^\]]+)\]")


@dataclass(frozen=True)
class Lever:
    """One number of a scenario that the page can set.

    Attributes:
        path: dotted key as in YAML and ``--set`` (``policy.corridors.GD-HK.data.approval``).
        group: the section it is shown in (``corridor GD-HK``, ``zone Hetao``, ``talent``...).
        name: the field's own name within its group (``data.approval``, ``move_rate``).
        kind: ``float``, ``int`` or ``bool``.
        optional: whether the value may be empty (``null``: e.g. no quota, no zone override).
        unit: the unit from the description (``days``, ``RMB m``...), or ``share`` for [0, 1].
        description: the field's description in :mod:`flowsim.params`.
        low: the smallest allowed value (None: no bound).
        high: the largest allowed value (None: no bound).
        low_open: whether ``low`` itself is excluded (``gt``).
        high_open: whether ``high`` itself is excluded (``lt``).
        default: flowsim's default (:class:`~flowsim.params.Scenario` ()).
    """

    path: str
    group: str
    name: str
    kind: str
    optional: bool
    unit: str
    description: str
    low: float | None
    high: float | None
    low_open: bool
    high_open: bool
    default: Any

    @property
    def allowed(self) -> str:
        """The allowed range in words, e.g. ``0 <= x <= 1`` or ``x > 0``."""
        parts = []
        if self.low is not None:
            parts.append(f"{_num(self.low)} {'<' if self.low_open else '<='} x")
        if self.high is not None:
            bound = f"{'<' if self.high_open else '<='} {_num(self.high)}"
            parts = [f"{parts[0]} {bound}"] if parts else [f"x {bound}"]
        text = parts[0] if parts else "any number"
        if self.kind == "int":
            text += ", whole number"
        if self.optional:
            text += "; empty = none"
        return text

    @property
    def hint(self) -> str:
        """What the page writes under the control: meaning, unit, range and default."""
        unit = f" [{self.unit}]" if self.unit and "[" not in self.description else ""
        return f"{self.description}{unit}. Allowed: {self.allowed}. Default: {_show(self.default)}"


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _show(value: Any) -> str:
    return (
        "none" if value is None else _num(value) if isinstance(value, int | float) else str(value)
    )


def _kind(info: FieldInfo) -> tuple[str | None, bool]:
    """(``float``/``int``/``bool`` or None if not a number, whether None is allowed)."""
    annotation = info.annotation
    options = get_args(annotation) or (annotation,)
    optional = type(None) in options
    kinds = [t for t in options if t is not type(None)]
    if kinds == [bool]:
        return "bool", optional
    if kinds == [int]:
        return "int", optional
    if kinds == [float] or set(kinds) == {int, float}:
        return "float", optional
    return None, optional


def _bounds(info: FieldInfo) -> tuple[float | None, float | None, bool, bool]:
    low = high = None
    low_open = high_open = False
    for item in info.metadata:
        if isinstance(item, annotated_types.Ge):
            low = item.ge
        elif isinstance(item, annotated_types.Gt):
            low, low_open = item.gt, True
        elif isinstance(item, annotated_types.Le):
            high = item.le
        elif isinstance(item, annotated_types.Lt):
            high, high_open = item.lt, True
    return low, high, low_open, high_open


def _unit(description: str, low: float | None, high: float | None) -> str:
    found = _UNIT.search(description)
    if found and found.group(1) != "0-1":
        return found.group(1)
    if low == 0.0 and high == 1.0:
        return "share"
    return ""


def _group(keys: list[str]) -> tuple[str, str]:
    """(section, name in the section) of a key path."""
    if keys[:2] == ["policy", "corridors"]:
        return f"corridor {keys[2]}", ".".join(keys[3:])
    if keys[:2] == ["policy", "zones"]:
        return f"zone {keys[2]}", ".".join(keys[3:])
    if len(keys) == 1:
        return "run", keys[0]
    return keys[0], ".".join(keys[1:])


def _walk(model: type[BaseModel], value: BaseModel, keys: list[str]) -> list[Lever]:
    out: list[Lever] = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        current = getattr(value, name)
        if isinstance(current, BaseModel):
            out += _walk(type(current), current, [*keys, key])
            continue
        kind, optional = _kind(info)
        if kind is None:
            continue
        low, high, low_open, high_open = _bounds(info)
        path = [*keys, key]
        group, short = _group(path)
        description = info.description or short.replace("_", " ")
        out.append(
            Lever(
                path=".".join(path),
                group=group,
                name=short,
                kind=kind,
                optional=optional,
                unit=_unit(description, low, high),
                description=description,
                low=low,
                high=high,
                low_open=low_open,
                high_open=high_open,
                default=current,
            )
        )
    return out


def levers() -> list[Lever]:
    """Every number of a scenario, with its default from :class:`~flowsim.params.Scenario` ()."""
    return _walk(Scenario, Scenario(), [])


def groups(all_levers: list[Lever] | None = None) -> list[str]:
    """Sections in the order the page shows them: run, corridors, zones, behaviour."""
    found = list(dict.fromkeys(lever.group for lever in (all_levers or levers())))
    corridors = [g for g in found if g.startswith("corridor ")]
    zones = [g for g in found if g.startswith("zone ")]
    behaviour = [g for g in BEHAVIOUR_GROUPS if g in found]
    rest = [g for g in found if g not in {"run", *corridors, *zones, *behaviour}]
    return ["run", *corridors, *zones, *behaviour, *rest]


def value_at(data: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of a scenario dictionary (keys as in YAML)."""
    for key in path.split("."):
        data = data[key]
    return data


def slider_range(lever: Lever) -> tuple[float, float]:
    """A finite range for a slider: the allowed bounds, or a span around the default."""
    low = lever.low if lever.low is not None else 0.0
    if lever.high is not None:
        return float(low), float(lever.high)
    default = lever.default if isinstance(lever.default, int | float) else 0.0
    return float(low), float(max(4.0 * default, low + 1.0))


__all__ = ["Lever", "groups", "levers", "slider_range", "value_at"]
