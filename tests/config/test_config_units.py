"""`gomodel.config.units`: the parsers behind every duration, size and boolean setting."""

from __future__ import annotations

import math

import pytest

from gomodel.config.units import parse_bool, parse_duration, parse_size


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30s", 30.0),
        ("5m", 300.0),
        ("2h", 7200.0),
        ("250ms", 0.25),
        ("1.5s", 1.5),
        ("90", 90.0),
        (" 10 s ", 10.0),
        (7, 7.0),
        (0.5, 0.5),
    ],
)
def test_parse_duration_accepts_units_and_numbers(value: object, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["", "soon", "5d", "-5s", "1e3s", "s", "5 minutes"])
def test_parse_duration_rejects_malformed_text(value: str) -> None:
    with pytest.raises(ValueError, match="expected a duration like 30s"):
        parse_duration(value)


@pytest.mark.parametrize("value", [0, 0.0, "0s", "0ms", -1])
def test_parse_duration_rejects_zero_and_negative(value: object) -> None:
    with pytest.raises(ValueError, match="positive duration"):
        parse_duration(value)


@pytest.mark.parametrize("value", [True, False])
def test_parse_duration_rejects_booleans(value: bool) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(value)


def test_parse_duration_rejects_nan() -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(math.nan)


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("10M", 10 * 1024**2),
        ("512K", 512 * 1024),
        ("512KB", 512 * 1024),
        ("1G", 1024**3),
        ("2GiB", 2 * 1024**3),
        ("10mb", 10 * 1024**2),
        ("100", 100),
        ("100B", 100),
        (" 4 K ", 4096),
        (1024, 1024),
    ],
)
def test_parse_size_accepts_binary_multiples_and_ints(value: object, size: int) -> None:
    assert parse_size(value) == size


@pytest.mark.parametrize("value", ["", "lots", "1.5M", "10T", "-1K", 1.5, "M"])
def test_parse_size_rejects_malformed_values(value: object) -> None:
    with pytest.raises(ValueError, match="expected a size like 10M"):
        parse_size(value)


@pytest.mark.parametrize("value", [0, "0", "0K", -5])
def test_parse_size_rejects_zero_and_negative(value: object) -> None:
    with pytest.raises(ValueError, match="positive size"):
        parse_size(value)


def test_parse_size_rejects_booleans() -> None:
    with pytest.raises(ValueError, match="size"):
        parse_size(True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("1", True),
        (1, True),
        ("false", False),
        ("No", False),
        ("off", False),
        ("0", False),
        (0, False),
    ],
)
def test_parse_bool_accepts_common_spellings(value: object, expected: bool) -> None:
    assert parse_bool(value) is expected


@pytest.mark.parametrize("value", ["maybe", "", "2", "enabled", 2])
def test_parse_bool_rejects_anything_else(value: object) -> None:
    with pytest.raises(ValueError, match="expected true or false"):
        parse_bool(value)
