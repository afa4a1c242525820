"""Numbers as people read them: plain notation, sensible rounding, the unit said once.

One helper for every printed figure of a comparison (the terminal tables of
``flowsim compare`` and the labels of :mod:`flowsim.plots.comparison`), so that the
same effect reads the same everywhere: ``+13,071 papers`` and ``+1.6 pp``, never
``+1.307e+04`` or ``+0.0163985 pp``.

Rounding keeps three significant digits, but never rounds a whole number of 100 or
more (a count of 13,071 stays 13,071) and never switches to scientific notation.
"""

from __future__ import annotations

import math

from flowsim.outputs import SHARES, YEARLY_SHARES, unit_of

MISSING = "n/a"
"""What a missing or undefined value (NaN, infinite) prints as."""

SHARE_OUTPUTS: frozenset[str] = frozenset(SHARES + YEARLY_SHARES)
"""Outputs that are fractions: printed in percent, their differences in percentage points."""

SIGNIFICANT = 3
"""Significant digits kept below 100."""

SMALLEST_DECIMALS = 9
"""No more decimals than this; anything smaller prints as 0."""


def format_number(
    value: float, unit: str = "", *, signed: bool = False, digits: int = SIGNIFICANT
) -> str:
    """A number in plain notation with sensible rounding, and its unit.

    100 or more: a whole number with thousands separators (``13,071``); below 100:
    ``digits`` significant digits in fixed notation (``16.4``, ``0.0164``).

    Args:
        value: the number.
        unit: appended after a space (``papers``), or directly for ``%``.
        signed: write ``+`` before positive numbers (differences).
        digits: significant digits below 100.

    >>> format_number(13071.4, signed=True)
    '+13,071'
    >>> format_number(1.63985, "pp", signed=True)
    '+1.64 pp'
    >>> format_number(0.0163985)
    '0.0164'
    >>> format_number(float("nan"))
    'n/a'
    """
    if value is None or not math.isfinite(value):
        return MISSING
    size = abs(value)
    if size >= 100:
        text = f"{value:,.0f}"
    elif size == 0:
        text = "0"
    else:
        decimals = digits - 1 - math.floor(math.log10(size))
        decimals = max(0, min(decimals, SMALLEST_DECIMALS))
        text = f"{value:,.{decimals}f}"
        if float(text.replace(",", "")) == 0.0:
            text = "0"
        elif "." in text and decimals > 0:
            text = text.rstrip("0").rstrip(".")
    if text.startswith("-") and float(text.replace(",", "")) == 0.0:
        text = text[1:]
    if signed and not text.startswith("-") and text != "0":
        text = f"+{text}"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def format_percent(value: float, *, signed: bool = True) -> str:
    """A percentage (already in percent): one decimal from 1% up, two digits below.

    >>> format_percent(-18.333)
    '-18.3%'
    >>> format_percent(0.0123)
    '+0.012%'
    """
    if value is None or not math.isfinite(value):
        return MISSING
    if 1.0 <= abs(value) < 100.0:
        text = f"{value:.1f}"
        if signed and value > 0:
            text = f"+{text}"
        return f"{text}%"
    return format_number(value, "%", signed=signed, digits=2)


def output_unit(output: str, *, difference: bool = False) -> str:
    """The unit a value of ``output`` prints in: ``%`` or ``pp`` for shares, else its own.

    Counts print with no unit (the output's name says what is counted).
    """
    if output in SHARE_OUTPUTS:
        return "pp" if difference else "%"
    unit = unit_of(output)
    return "" if unit == "count" else unit


def format_value(output: str, value: float, *, difference: bool = False) -> str:
    """A level or a difference of an output, in its printed unit (shares in percent).

    >>> format_value("cross_border_collaboration_share", 0.000163985, difference=True)
    '+0.0164 pp'
    >>> format_value("vc_volume", 13071.4)
    '13,071 RMB m'
    """
    factor = 100.0 if output in SHARE_OUTPUTS else 1.0
    return format_number(
        factor * value, output_unit(output, difference=difference), signed=difference
    )


def format_interval(output: str, low: float, high: float) -> str:
    """A difference's interval, ``[+1.2, +3.4] pp``: the unit once, after the bracket."""
    factor = 100.0 if output in SHARE_OUTPUTS else 1.0
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"[{MISSING}]"
    unit = output_unit(output, difference=True)
    low_text = format_number(factor * low, signed=True)
    text = f"[{low_text}, {format_number(factor * high, signed=True)}]"
    return f"{text} {unit}" if unit else text


def format_p(value: float) -> str:
    """A p-value: three decimals, ``<0.001`` below that, ``n/a`` where there is none."""
    if value is None or not math.isfinite(value):
        return MISSING
    return "<0.001" if value < 0.001 else f"{value:.3f}"
