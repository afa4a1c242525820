"""One number formatter: plain notation, sensible rounding, units said once."""

from __future__ import annotations

import pytest

from flowsim.numbers import (
    format_interval,
    format_number,
    format_p,
    format_percent,
    format_value,
)


@pytest.mark.parametrize(
    ("value", "signed", "text"),
    [
        (13071.4, True, "+13,071"),
        (-13071.4, True, "-13,071"),
        (1234567.8, False, "1,234,568"),
        (99.95, False, "100"),
        (16.3985, True, "+16.4"),
        (1.63985, False, "1.64"),
        (0.0163985, False, "0.0164"),
        (0.5, False, "0.5"),
        (0.0, True, "0"),
        (-0.0, True, "0"),
        (-5.5e-12, True, "0"),
        (2.0, False, "2"),
        (float("nan"), True, "n/a"),
        (float("inf"), False, "n/a"),
    ],
)
def test_format_number(value, signed, text):
    assert format_number(value, signed=signed) == text


def test_never_scientific_notation():
    for exponent in range(-8, 12):
        text = format_number(1.2345 * 10.0**exponent, signed=True)
        assert "e" not in text.lower(), f"1.2345e{exponent} printed as {text}"


def test_units_and_shares():
    assert format_number(3.2, "%") == "3.2%", "percent sticks to the number"
    assert format_number(1500.0, "RMB m", signed=True) == "+1,500 RMB m"
    assert format_value("cross_border_collaboration_share", 0.0123) == "1.23%"
    assert (
        format_value("cross_border_collaboration_share", 0.000163985, difference=True)
        == "+0.0164 pp"
    ), "a share's difference in percentage points, rounded"
    assert format_value("papers", 13071.4, difference=True) == "+13,071", "counts: no unit"
    assert format_value("vc_volume", -250.0, difference=True) == "-250 RMB m"
    assert format_interval("papers", -1234.5, 567.89) == "[-1,234, +568]"
    assert format_interval("gii_cluster_score", -0.001, 0.002) == "[-0.1, +0.2] pp"
    assert format_interval("papers", float("nan"), 1.0) == "[n/a]"


def test_percent_and_p():
    assert format_percent(-18.333) == "-18.3%"
    assert format_percent(2.0) == "+2.0%"
    assert format_percent(0.0123) == "+0.012%"
    assert format_percent(250.0) == "+250%"
    assert format_p(0.0004) == "<0.001" and format_p(0.0312) == "0.031"
    assert format_p(float("nan")) == "n/a"
