"""The .NET behaviours Octostache filters expose: number and date parsing and formatting,
and ``System.Uri``'s view of an address.

Octostache hands values to .NET's ``TryParse`` and ``ToString(format)``, so templates written for
Octopus rely on .NET's format strings (``yyyy-MM-dd``, ``HH:mm``, ``N2``, ``#,##0.00``, ``O``).
This module renders those strings the way .NET does for the en-US culture (``$`` currency,
``M/d/yyyy`` short dates), which is what Octopus servers and the Octostache tests use.

Dates keep .NET's distinction between a ``DateTime`` (naive, UTC or local) and a
``DateTimeOffset`` (a wall time with its offset): it decides what ``K``, ``zzz`` and ``O`` print.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal
from urllib.parse import unquote

# ---------------------------------------------------------------------------------------------
# Shared pieces


class DotnetFormatError(ValueError):
    """The format string is not one .NET accepts (.NET throws FormatException)."""


_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1
_DECIMAL_MAX = Decimal(2**96 - 1)

# .NET number parsing skips only these around a number (NumberStyles.AllowLeading/TrailingWhite).
_NUMBER_SPACE = "[\t\n\v\f\r ]*"

# Wide enough that no quantize of a .NET-sized number runs out of digits.
_WIDE = Context(prec=1000, Emin=-999999, Emax=999999)

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

# ---------------------------------------------------------------------------------------------
# Number parsing

_INT32_TEXT = re.compile(rf"{_NUMBER_SPACE}([+-]?[0-9]+){_NUMBER_SPACE}")
# NumberStyles.Number: a sign before or after, thousands separators, a decimal point, no exponent.
_DECIMAL_TEXT = re.compile(
    rf"{_NUMBER_SPACE}(?P<lead>[+-]?)(?P<number>[0-9][0-9,]*\.?[0-9]*|\.[0-9]+)"
    rf"(?P<trail>[+-]?){_NUMBER_SPACE}"
)
_FLOAT_TEXT = re.compile(
    rf"{_NUMBER_SPACE}(?P<number>[+-]?(?:[0-9][0-9,]*\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    rf"{_NUMBER_SPACE}"
)
_FLOAT_WORDS = {
    "infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf,
    "∞": math.inf, "+∞": math.inf, "-∞": -math.inf, "nan": math.nan,
}  # fmt: skip


def parse_int32(text: str) -> int | None:
    """``int.TryParse``: optional sign, ASCII digits, surrounding spaces, 32-bit range."""
    match = _INT32_TEXT.fullmatch(text)
    if match is None:
        return None
    value = int(match.group(1))
    return value if _INT32_MIN <= value <= _INT32_MAX else None


def parse_decimal(text: str) -> Decimal | None:
    """``decimal.TryParse`` with en-US rules (thousands separators, no exponent)."""
    match = _DECIMAL_TEXT.fullmatch(text)
    if match is None or (match.group("lead") and match.group("trail")):
        return None
    value = Decimal(match.group("number").replace(",", ""))
    if abs(value) > _DECIMAL_MAX:
        return None
    negative = "-" in (match.group("lead"), match.group("trail"))
    return -value if negative else value


def parse_double(text: str, *, allow_thousands: bool = True) -> float | None:
    """``double.TryParse``: decimal or exponent notation, and .NET's infinity and NaN words."""
    word = text.strip("\t\n\v\f\r ").lower()
    if word in _FLOAT_WORDS:
        return _FLOAT_WORDS[word]
    match = _FLOAT_TEXT.fullmatch(text)
    if match is None:
        return None
    number = match.group("number")
    if "," in number and not allow_thousands:
        return None
    return float(number.replace(",", ""))


# ---------------------------------------------------------------------------------------------
# Number formatting


class NumberKind(enum.Enum):
    """The .NET type being formatted: each accepts different standard formats."""

    INT32 = "Int32"
    DOUBLE = "Double"
    DECIMAL = "Decimal"


_STANDARD_NUMBER = re.compile(r"([A-Za-z])([0-9]{0,9})")
_MAX_PRECISION = 999


def format_number(value: int | float | Decimal, kind: NumberKind, fmt: str) -> str:
    """``value.ToString(fmt)`` for an Int32, Double or Decimal, en-US culture."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("-∞" if value < 0 else "∞")
    standard = _STANDARD_NUMBER.fullmatch(fmt or "G")
    if standard is None:
        return _format_custom_number(value, kind, fmt)
    letter = standard.group(1)
    precision = int(standard.group(2)) if standard.group(2) else None
    if precision is not None and precision > _MAX_PRECISION:
        # .NET would build a string of up to a billion digits; no template needs that.
        raise DotnetFormatError(f"a precision above {_MAX_PRECISION} is not supported")
    return _format_standard_number(value, kind, letter, precision)


def _exact(value: int | float | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def _is_negative(value: int | float | Decimal) -> bool:
    if isinstance(value, float):
        return math.copysign(1.0, value) < 0  # a double keeps the sign of -0.0
    return value < 0


def _rounding(kind: NumberKind) -> str:
    # A double is formatted from its exact binary value, where a true tie goes to the even
    # digit; Int32 and Decimal digits round half away from zero.
    return ROUND_HALF_EVEN if kind is NumberKind.DOUBLE else ROUND_HALF_UP


def _fixed_digits(magnitude: Decimal, places: int, rounding: str) -> tuple[str, str]:
    """The integer and fraction digits of a non-negative number rounded to ``places``."""
    rounded = magnitude.quantize(Decimal(1).scaleb(-places), rounding=rounding, context=_WIDE)
    text = format(rounded, "f")
    whole, _, fraction = text.partition(".")
    return whole, fraction


def _group_thousands(digits: str) -> str:
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return ",".join(groups)


def _signed(text: str, negative: bool, kind: NumberKind, digits: str) -> str:
    """Prefix a minus sign, dropping it from a zero result except for a double's -0."""
    if not negative:
        return text
    if kind is not NumberKind.DOUBLE and not digits.strip("0"):
        return text
    return "-" + text


def _format_standard_number(
    value: int | float | Decimal, kind: NumberKind, letter: str, precision: int | None
) -> str:
    upper = letter.upper()
    negative = _is_negative(value)
    magnitude = abs(_exact(value))
    rounding = _rounding(kind)
    if upper in "CFNP":
        places = 2 if precision is None else precision
        if upper == "P":
            magnitude = magnitude.scaleb(2)
        whole, fraction = _fixed_digits(magnitude, places, rounding)
        if upper in "CNP":
            whole = _group_thousands(whole)
        body = whole + ("." + fraction if fraction else "")
        body = {"C": "$" + body, "P": body + "%"}.get(upper, body)
        return _signed(body, negative, kind, whole + fraction)
    if upper == "E":
        places = 6 if precision is None else precision
        text = _exponential(magnitude, places, letter, rounding)
        return _signed(text, negative, kind, "1" if magnitude else "0")
    if upper == "G" or (upper == "R" and kind is NumberKind.DOUBLE):
        return _format_general(value, kind, letter, precision if upper == "G" else None)
    if upper in "DX" and kind is NumberKind.INT32:
        assert isinstance(value, int)
        minimum = precision or 0
        if upper == "D":
            return ("-" if value < 0 else "") + str(abs(value)).rjust(minimum, "0")
        hex_digits = format(value & 0xFFFFFFFF, "X" if letter == "X" else "x")
        return hex_digits.rjust(minimum, "0")
    raise DotnetFormatError(f"'{letter}' is not a format {kind.value} values accept")


def _exponential(magnitude: Decimal, places: int, letter: str, rounding: str) -> str:
    digits, exponent = _significant(magnitude, places + 1, rounding)
    mantissa = digits[0] + ("." + digits[1:] if places else "")
    sign = "-" if exponent < 0 else "+"
    return f"{mantissa}{letter}{sign}{abs(exponent):03d}"


def _significant(magnitude: Decimal, count: int, rounding: str) -> tuple[str, int]:
    """``count`` significant digits of a non-negative number and the power of ten of the first."""
    if magnitude == 0:
        return "0" * count, 0
    exponent = magnitude.adjusted()
    scaled = magnitude.scaleb(count - 1 - exponent).quantize(
        Decimal(1), rounding=rounding, context=_WIDE
    )
    digits = format(scaled, "f")
    if len(digits) > count:  # rounding carried into a new digit (9.99 -> 10.0)
        digits, exponent = digits[:count], exponent + 1
    return digits, exponent


def _format_general(
    value: int | float | Decimal, kind: NumberKind, letter: str, precision: int | None
) -> str:
    negative = _is_negative(value)
    if not precision:
        if kind is NumberKind.INT32:
            return str(value)
        if kind is NumberKind.DECIMAL:
            assert isinstance(value, Decimal)
            text = format(abs(value), "f")
            return _signed(text, negative, kind, text.replace(".", ""))
        # A double's shortest round-trip digits, in exponent form from 1E+15 up.
        shortest = Decimal(repr(abs(float(value))))
        digits = "".join(map(str, shortest.as_tuple().digits)).rstrip("0") or "0"
        exponent = shortest.adjusted() if shortest else 0
        text = _general_layout(digits, exponent, 15, "e" if letter in "gr" else "E")
        return _signed(text, negative, kind, digits)
    digits, exponent = _significant(abs(_exact(value)), precision, _rounding(kind))
    digits = digits.rstrip("0") or "0"
    text = _general_layout(digits, exponent, precision, "E" if letter == "G" else "e")
    return _signed(text, negative, kind, digits)


def _general_layout(digits: str, exponent: int, precision: int, marker: str) -> str:
    """Place significant ``digits`` in fixed or exponent notation as .NET's "G" does."""
    if digits == "0":
        return "0"
    if exponent >= precision or exponent < -4:  # from 0.00001 down, exponent notation
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        sign = "-" if exponent < 0 else "+"
        return f"{mantissa}{marker}{sign}{abs(exponent):02d}"
    if exponent < 0:
        return "0." + "0" * (-exponent - 1) + digits
    whole = digits[: exponent + 1].ljust(exponent + 1, "0")
    fraction = digits[exponent + 1 :]
    return whole + ("." + fraction if fraction else "")


# --- custom numeric formats ("#,##0.00", "0.###", "0%", "0.00E+00", "pos;neg;zero")


@dataclass(frozen=True)
class _NumberSection:
    """What one section of a custom numeric format asks for."""

    text: str
    integer_places: int  # digit placeholders before the decimal point
    minimum_integer: int  # of those, how many from the first '0' onwards
    fraction_places: int  # digit placeholders after the decimal point
    minimum_fraction: int  # up to and including the last '0' after the point
    grouped: bool  # a ',' between integer placeholders
    scale: int  # powers of ten from '%', '‰' and ',' just before the point
    exponent: tuple[str, int] | None  # ('E+', minimum digits) for scientific notation


def _split_sections(fmt: str) -> list[str]:
    sections, current, quote, index = [], [], "", 0
    while index < len(fmt):
        char = fmt[index]
        if char == "\\" and index + 1 < len(fmt):
            current.append(fmt[index : index + 2])
            index += 2
            continue
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == ";":
            sections.append("".join(current))
            current = []
            index += 1
            continue
        current.append(char)
        index += 1
    sections.append("".join(current))
    return sections


def _exponent_at(text: str, index: int) -> tuple[str, int, int] | None:
    """At an 'E'/'e': (marker with sign rule, minimum digits, length) if it starts an exponent."""
    end = index + 1
    if end < len(text) and text[end] in "+-":
        end += 1
    zeros = len(text[end:]) - len(text[end:].lstrip("0"))
    if zeros == 0:
        return None
    return text[index:end], zeros, end + zeros - index


def _analyse_section(text: str) -> _NumberSection:
    placeholders_before = placeholders_after = 0
    first_zero_before: int | None = None
    last_zero_after = 0
    seen_point = False
    comma_at: int | None = None
    commas_in_run = 0
    grouped = False
    scale = 0
    exponent: tuple[str, int] | None = None
    index = 0
    while index < len(text):
        char = text[index]
        if char in "0#":
            if seen_point:
                placeholders_after += 1
                if char == "0":
                    last_zero_after = placeholders_after
            else:
                if char == "0" and first_zero_before is None:
                    first_zero_before = placeholders_before
                placeholders_before += 1
        elif char == "." and not seen_point:
            seen_point = True
        elif char == "," and not seen_point and placeholders_before > 0:
            # Commas right after the last integer placeholder scale by 1000 each; any
            # other comma among the integer placeholders turns on grouping.
            if comma_at is not None and comma_at == placeholders_before:
                commas_in_run += 1
            else:
                if comma_at is not None:
                    grouped = True
                comma_at, commas_in_run = placeholders_before, 1
        elif char == "%":
            scale += 2
        elif char == "‰":
            scale += 3
        elif char in "Ee" and exponent is None and (found := _exponent_at(text, index)):
            exponent = (found[0], found[1])
            index += found[2]
            continue
        elif char == "\\":
            index += 1
        elif char in "'\"":
            closing = text.find(char, index + 1)
            index = len(text) if closing < 0 else closing
        index += 1
    if comma_at is not None:
        if comma_at == placeholders_before:
            scale -= 3 * commas_in_run
        else:
            grouped = True
    minimum_integer = 0 if first_zero_before is None else placeholders_before - first_zero_before
    return _NumberSection(
        text=text,
        integer_places=placeholders_before,
        minimum_integer=minimum_integer,
        fraction_places=placeholders_after,
        minimum_fraction=last_zero_after,
        grouped=grouped,
        scale=scale,
        exponent=exponent,
    )


def _format_custom_number(value: int | float | Decimal, kind: NumberKind, fmt: str) -> str:
    exact = _exact(value)
    if kind is NumberKind.DOUBLE and exact:
        # .NET formats a double from its 15 most significant digits in custom formats.
        digits, exponent = _significant(abs(exact), 15, ROUND_HALF_EVEN)
        exact = Decimal(digits).scaleb(exponent - 14).copy_sign(exact)
    negative = _is_negative(value)
    sections = _split_sections(fmt)
    index = 0
    if exact == 0 and len(sections) > 2 and sections[2]:
        index = 2
    elif negative and len(sections) > 1 and sections[1]:
        index = 1
    section = _analyse_section(sections[index])
    magnitude = abs(exact).scaleb(section.scale)
    if section.exponent is None:
        whole, fraction = _fixed_digits(magnitude, section.fraction_places, ROUND_HALF_UP)
        exponent_value = 0
    else:
        whole, fraction, exponent_value = _scientific_digits(magnitude, section)
    rounded_to_zero = not (whole + fraction).strip("0")
    if rounded_to_zero and index != 2 and len(sections) > 2 and sections[2]:
        # A value that rounds to zero is shown by the zero section, as a zero would be.
        return _format_custom_number(Decimal(0), NumberKind.DECIMAL, fmt)
    text = _render_number_section(section, whole.lstrip("0"), fraction, exponent_value)
    keeps_sign = kind is NumberKind.DOUBLE or not rounded_to_zero
    return "-" + text if negative and index == 0 and keeps_sign else text


def _scientific_digits(magnitude: Decimal, section: _NumberSection) -> tuple[str, str, int]:
    integer_places = max(section.integer_places, 1)
    count = integer_places + section.fraction_places
    digits, first_power = _significant(magnitude, count, ROUND_HALF_UP)
    exponent = first_power - (integer_places - 1) if magnitude else 0
    return digits[:integer_places], digits[integer_places:], exponent


def _render_number_section(
    section: _NumberSection, whole: str, fraction: str, exponent: int
) -> str:
    digits = whole.rjust(section.minimum_integer, "0")
    shown_fraction = max(section.minimum_fraction, len(fraction.rstrip("0")))
    out: list[str] = []
    integer_seen = fraction_seen = 0
    seen_point = False
    text = section.text
    index = 0

    def emit_digits(chunk: str, start: int) -> None:
        # ``start`` is the chunk's index within ``digits``, to place group separators.
        for offset, digit in enumerate(chunk):
            out.append(digit)
            left_of_point = len(digits) - (start + offset) - 1
            if section.grouped and left_of_point > 0 and left_of_point % 3 == 0:
                out.append(",")

    while index < len(text):
        char = text[index]
        if char in "0#":
            if seen_point:
                if fraction_seen < shown_fraction:
                    out.append(fraction[fraction_seen])
                fraction_seen += 1
            else:
                # Digits are right-aligned to the placeholders; the first takes any extra.
                position = len(digits) - section.integer_places + integer_seen
                if integer_seen == 0 and position >= 0:
                    emit_digits(digits[: position + 1], 0)
                elif position >= 0:
                    emit_digits(digits[position], position)
                integer_seen += 1
        elif char == ".":
            if not seen_point and section.integer_places == 0:
                emit_digits(digits, 0)  # no integer placeholders: the digits go before the point
            if not seen_point and shown_fraction > 0:
                out.append(".")
            seen_point = True
        elif char == ",":
            pass
        elif char in "Ee" and section.exponent and (found := _exponent_at(text, index)):
            marker, minimum, length = found
            sign = "-" if exponent < 0 else ("+" if marker.endswith("+") else "")
            out.append(marker[0] + sign + str(abs(exponent)).rjust(minimum, "0"))
            index += length
            continue
        elif char == "\\":
            index += 1
            if index < len(text):
                out.append(text[index])
        elif char in "'\"":
            closing = text.find(char, index + 1)
            closing = len(text) if closing < 0 else closing
            out.append(text[index + 1 : closing])
            index = closing
        else:
            out.append(char)
        index += 1
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Dates


class DateKind(enum.Enum):
    """``DateTime.Kind``: what the wall time is relative to."""

    UNSPECIFIED = "Unspecified"
    UTC = "Utc"
    LOCAL = "Local"


@dataclass(frozen=True)
class DotnetDateTime:
    """A .NET ``DateTime`` (``offset`` None) or ``DateTimeOffset`` (``offset`` set)."""

    wall: datetime  # naive wall-clock time
    kind: DateKind = DateKind.UNSPECIFIED
    offset: timedelta | None = None
    extra_ticks: int = 0  # .NET counts 100 ns ticks; datetime stops at microseconds

    @property
    def ticks_in_second(self) -> int:
        return self.wall.microsecond * 10 + self.extra_ticks


def now_local() -> DotnetDateTime:
    """``DateTime.Now`` with its kind dropped, as ``NowDate`` uses it."""
    return DotnetDateTime(datetime.now())


def now_utc() -> DotnetDateTime:
    return DotnetDateTime(datetime.now(UTC).replace(tzinfo=None), DateKind.UTC)


def shift(value: DotnetDateTime, delta: timedelta) -> DotnetDateTime:
    """Add ``delta``; raises OverflowError outside years 1 to 9999, as .NET does."""
    return replace(value, wall=value.wall + delta)


def _local_offset(wall: datetime) -> timedelta:
    """The machine's UTC offset at that local wall time."""
    try:
        offset = wall.astimezone().utcoffset()
    except (OverflowError, OSError, ValueError):
        offset = datetime.now().astimezone().utcoffset()
    return offset or timedelta(0)


def _utc_to_local(wall: datetime) -> datetime:
    return wall.replace(tzinfo=UTC).astimezone().replace(tzinfo=None)


# --- parsing: the forms DateTime.TryParse accepts in practice, en-US order for numeric dates

_TIME = (
    r"(?P<hour>\d{1,2}):(?P<minute>\d{1,2})(?::(?P<second>\d{1,2})(?:[.,](?P<fraction>\d+))?)?"
    r"(?:\s*(?P<ampm>[AaPp][Mm]?)\b)?"
)
_ZONE = r"(?P<zone>[Zz]|GMT|[+-]\d{1,2}(?::?\d{2})?)"
_WEEKDAY = r"(?:(?P<weekday>[A-Za-z]+)\.?,?\s+)?"
_DATE_FORMS = (
    r"(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})",
    r"(?P<month>\d{1,2})[-/.](?P<day>\d{1,2})[-/.](?P<year>\d{4}|\d{2})",
    r"(?P<day>\d{1,2})[\s-]+(?P<month_name>[A-Za-z]+)\.?[\s,-]+(?P<year>\d{4})",
    r"(?P<month_name>[A-Za-z]+)\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})",
)
_DATE_PATTERNS = (
    *(
        re.compile(rf"\s*{_WEEKDAY}{form}(?:(?:\s+|T){_TIME})?\s*{_ZONE}?\s*")
        for form in _DATE_FORMS
    ),
    re.compile(rf"\s*{_TIME}\s*{_ZONE}?\s*"),
)


@dataclass(frozen=True)
class _ParsedText:
    wall: datetime
    extra_ticks: int
    zone: timedelta | None  # None: no zone given
    utc_designator: bool  # 'Z' or 'GMT' rather than a numeric offset


def parse_datetime(text: str, *, keep_utc: bool = False) -> DotnetDateTime | None:
    """``DateTime.TryParse``. A zone converts to local time; with ``keep_utc`` (.NET's
    RoundtripKind) a 'Z' time stays UTC instead."""
    parsed = _parse_date_text(text)
    if parsed is None:
        return None
    if parsed.zone is None:
        return DotnetDateTime(parsed.wall, DateKind.UNSPECIFIED, None, parsed.extra_ticks)
    if keep_utc and parsed.utc_designator:
        return DotnetDateTime(parsed.wall, DateKind.UTC, None, parsed.extra_ticks)
    try:
        local = _utc_to_local(parsed.wall - parsed.zone)
    except (OverflowError, OSError, ValueError):
        return None
    return DotnetDateTime(local, DateKind.LOCAL, None, parsed.extra_ticks)


def parse_datetime_offset(text: str) -> DotnetDateTime | None:
    """``DateTimeOffset.TryParse``: a time without a zone gets the machine's offset."""
    parsed = _parse_date_text(text)
    if parsed is None:
        return None
    offset = _local_offset(parsed.wall) if parsed.zone is None else parsed.zone
    if abs(offset) > timedelta(hours=14):
        return None
    return DotnetDateTime(parsed.wall, DateKind.UNSPECIFIED, offset, parsed.extra_ticks)


def _parse_date_text(text: str) -> _ParsedText | None:
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match is not None:
            return _build_parsed(match)
    return None


def _build_parsed(match: re.Match[str]) -> _ParsedText | None:
    fields = match.groupdict()
    day_part = _date_part(fields)
    time_part = _time_part(fields)
    if day_part is None or time_part is None:
        return None
    weekday = fields.get("weekday")
    if weekday and _name_index(weekday, _DAY_NAMES) != day_part.weekday():
        return None  # .NET refuses a day name that does not match the date
    hour, minute, second, ticks = time_part
    wall = datetime(day_part.year, day_part.month, day_part.day, hour, minute, second, ticks // 10)
    zone, utc_designator = _zone_part(fields.get("zone"))
    return _ParsedText(wall, ticks % 10, zone, utc_designator)


def _date_part(fields: dict[str, str | None]) -> date | None:
    if "year" not in fields:  # a time on its own is today's
        return date.today()
    year_text, day_text = fields["year"] or "", fields["day"] or ""
    year = int(year_text)
    if len(year_text) == 2:  # .NET's two-digit year window ends at 2049
        year += 2000 if year <= 49 else 1900
    month_name = fields.get("month_name")
    month = _name_index(month_name, _MONTH_NAMES) + 1 if month_name else int(fields["month"] or 0)
    try:
        return date(year, month, int(day_text))
    except ValueError:
        return None


def _name_index(name: str, names: tuple[str, ...]) -> int:
    folded = name.lower()
    for index, full in enumerate(names):
        if folded in (full.lower(), full[:3].lower()):
            return index
    return -1


def _time_part(fields: dict[str, str | None]) -> tuple[int, int, int, int] | None:
    if fields.get("hour") is None:
        return 0, 0, 0, 0
    hour, minute = int(fields["hour"] or 0), int(fields["minute"] or 0)
    second = int(fields["second"] or 0)
    ticks = int((fields["fraction"] or "")[:7].ljust(7, "0"))
    marker = (fields.get("ampm") or "").upper()
    if marker:
        if hour > 12:
            return None
        hour = hour % 12 + (12 if marker.startswith("P") else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour, minute, second, ticks


def _zone_part(zone: str | None) -> tuple[timedelta | None, bool]:
    if zone is None:
        return None, False
    if zone.upper() in ("Z", "GMT"):
        return timedelta(0), True
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours, minutes = (digits[:-2], digits[-2:]) if len(digits) > 2 else (digits, "0")
    return sign * timedelta(hours=int(hours), minutes=int(minutes)), False


# --- formatting

_EN_US_PATTERNS = {
    "d": "M/d/yyyy",
    "D": "dddd, MMMM d, yyyy",
    "f": "dddd, MMMM d, yyyy h:mm tt",
    "F": "dddd, MMMM d, yyyy h:mm:ss tt",
    "g": "M/d/yyyy h:mm tt",
    "G": "M/d/yyyy h:mm:ss tt",
    "m": "MMMM d",
    "M": "MMMM d",
    "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    "t": "h:mm tt",
    "T": "h:mm:ss tt",
    "y": "MMMM yyyy",
    "Y": "MMMM yyyy",
}
_ROUND_TRIP = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff"
_RFC1123 = "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'"
_UNIVERSAL_SORTABLE = "yyyy'-'MM'-'dd HH':'mm':'ss'Z'"


def format_datetime(value: DotnetDateTime, fmt: str) -> str:
    """``value.ToString(fmt)``: a standard (one letter) or custom .NET date format, en-US."""
    fmt = fmt or "G"
    if len(fmt) > 1:
        return _format_custom_date(value, fmt)
    if fmt in "oO":
        zone = "zzz" if value.offset is not None else "K"
        return _format_custom_date(value, _ROUND_TRIP + zone)
    if fmt in "rR":
        if value.offset is not None or value.kind is DateKind.LOCAL:
            value = _to_utc(value)
        return _format_custom_date(value, _RFC1123)
    if fmt == "u":
        return _format_custom_date(_to_utc(value) if value.offset is not None else value,
                                   _UNIVERSAL_SORTABLE)  # fmt: skip
    if fmt == "U":
        if value.offset is not None:
            raise DotnetFormatError("'U' is not a format DateTimeOffset values accept")
        return _format_custom_date(_to_utc(value), _EN_US_PATTERNS["F"])
    if fmt in _EN_US_PATTERNS:
        return _format_custom_date(value, _EN_US_PATTERNS[fmt])
    raise DotnetFormatError(f"'{fmt}' is not a standard date format")


def _to_utc(value: DotnetDateTime) -> DotnetDateTime:
    if value.offset is not None:
        return replace(value, wall=value.wall - value.offset, offset=timedelta(0))
    if value.kind is DateKind.UTC:
        return value
    wall = value.wall - _local_offset(value.wall)
    return replace(value, wall=wall, kind=DateKind.UTC)


def _zone_offset(value: DotnetDateTime) -> timedelta:
    """The offset 'z' specifiers print: a DateTime that is not UTC reports the machine's."""
    if value.offset is not None:
        return value.offset
    if value.kind is DateKind.UTC:
        return timedelta(0)
    return _local_offset(value.wall)


def _offset_text(offset: timedelta, style: int) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    hours, minutes = divmod(minutes, 60)
    if style == 1:
        return f"{sign}{hours}"
    if style == 2:
        return f"{sign}{hours:02d}"
    return f"{sign}{hours:02d}:{minutes:02d}"


def _run_length(fmt: str, index: int) -> int:
    char, end = fmt[index], index
    while end < len(fmt) and fmt[end] == char:
        end += 1
    return end - index


def _format_custom_date(value: DotnetDateTime, fmt: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(fmt):
        char = fmt[index]
        if char in "'\"":
            closing, literal = _quoted(fmt, index)
            out.append(literal)
            index = closing + 1
        elif char == "\\":
            if index + 1 >= len(fmt):
                raise DotnetFormatError("a format string cannot end with '\\'")
            out.append(fmt[index + 1])
            index += 2
        elif char == "%":
            # '%x' is the single specifier x, so one-letter custom formats can be written.
            if index + 1 >= len(fmt) or fmt[index + 1] in "%'\"\\":
                raise DotnetFormatError("'%' must be followed by one format specifier")
            out.append(_date_field(value, fmt[index + 1], 1, out))
            index += 2
        else:
            count = 1 if char == "K" else _run_length(fmt, index)
            out.append(_date_field(value, char, count, out))
            index += count
    return "".join(out)


def _quoted(fmt: str, start: int) -> tuple[int, str]:
    """The closing quote's index and the literal text between the quotes."""
    quote, index = fmt[start], start + 1
    literal: list[str] = []
    while index < len(fmt):
        char = fmt[index]
        if char == quote:
            return index, "".join(literal)
        if char == "\\" and index + 1 < len(fmt):
            index += 1
            char = fmt[index]
        literal.append(char)
        index += 1
    raise DotnetFormatError(f"the quoted text starting at {start + 1} is not closed")


def _date_field(value: DotnetDateTime, char: str, count: int, out: list[str]) -> str:
    wall = value.wall
    if char in "fF":
        return _fraction(value, char, count, out)
    if char == "d":
        if count <= 2:
            return str(wall.day).rjust(count, "0")
        name = _DAY_NAMES[wall.weekday()]
        return name[:3] if count == 3 else name
    if char == "M":
        if count <= 2:
            return str(wall.month).rjust(count, "0")
        name = _MONTH_NAMES[wall.month - 1]
        return name[:3] if count == 3 else name
    if char == "y":
        year = wall.year % 100 if count <= 2 else wall.year
        return str(year).rjust(count, "0")
    if char in "hHms":
        number = {
            "h": wall.hour % 12 or 12,
            "H": wall.hour,
            "m": wall.minute,
            "s": wall.second,
        }[char]
        return str(number).rjust(min(count, 2), "0")
    if char == "t":
        marker = "AM" if wall.hour < 12 else "PM"
        return marker[:1] if count == 1 else marker
    if char == "g":
        return "A.D."
    if char == "z":
        return _offset_text(_zone_offset(value), min(count, 3))
    if char == "K":
        if value.offset is None and value.kind is DateKind.UNSPECIFIED:
            return ""
        if value.offset is None and value.kind is DateKind.UTC:
            return "Z"
        return _offset_text(_zone_offset(value), 3)
    return char * count  # ':' and '/' are en-US's own separators; anything else is literal


def _fraction(value: DotnetDateTime, char: str, count: int, out: list[str]) -> str:
    if count > 7:
        raise DotnetFormatError("fractions of a second go to seven digits at most")
    digits = str(value.ticks_in_second).rjust(7, "0")[:count]
    if char == "f":
        return digits
    digits = digits.rstrip("0")
    if not digits and out and out[-1].endswith("."):
        # .NET drops the decimal point when an 'F' fraction has no digits to show.
        out[-1] = out[-1][:-1]
    return digits


# ---------------------------------------------------------------------------------------------
# System.Uri


class UriOperationError(Exception):
    """The part does not exist for this address (.NET throws InvalidOperationException)."""


_DEFAULT_PORTS = {
    "http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21, "gopher": 70, "nntp": 119,
    "news": 119, "telnet": 23, "ldap": 389, "mailto": 25, "net.tcp": 808,
}  # fmt: skip
# Schemes .NET parses as host-based paths: it needs a host and reads '\' as '/'.
_HOST_SCHEMES = frozenset({"http", "https", "ws", "wss", "ftp"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]+):(.*)", re.DOTALL)
_DRIVE_PATH = re.compile(r"[A-Za-z]:[\\/].*", re.DOTALL)
_UNC_PATH = re.compile(r"\\\\([^\\/]+)(.*)", re.DOTALL)
_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])"
)
_DNS_NAME = re.compile(
    r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?"
)
_IPV6 = re.compile(r"\[[0-9A-Fa-f:.]+(?:%[\w.]+)?\]")
_HOST_CHARACTERS = re.compile(r"[\w.\-~%!$&'()*+,;=]*")
# What System.Uri percent-encodes in a path, query or fragment.
_URI_UNSAFE = re.compile(r"[\x00-\x20\"<>\\^`{|}\x7f-\U0010ffff]|%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class DotnetUri:
    """An address as ``new Uri(text, UriKind.RelativeOrAbsolute)`` sees it."""

    scheme: str = ""  # empty for a relative address
    user_info: str = ""
    host: str = ""
    port: int = -1
    path: str = ""
    query: str = ""
    fragment: str = ""
    has_authority: bool = False

    def part(self, name: str) -> str:
        """A ``Uri`` property by name (case-insensitive), booleans in lower case.

        Raises KeyError for a name that is not a supported part, and UriOperationError
        for any part but IsAbsoluteUri of a relative address."""
        lowered = name.lower()
        if lowered == "isabsoluteuri":
            return "true" if self.scheme else "false"
        read = _URI_PARTS[lowered]
        if not self.scheme:
            raise UriOperationError("This operation is not supported for a relative URI.")
        result = read(self)
        return ("true" if result else "false") if isinstance(result, bool) else str(result)

    @property
    def is_default_port(self) -> bool:
        return self.port == _DEFAULT_PORTS.get(self.scheme, -1)

    @property
    def port_suffix(self) -> str:
        return "" if self.is_default_port or self.port < 0 else f":{self.port}"

    @property
    def authority(self) -> str:
        return self.host + self.port_suffix

    @property
    def absolute_uri(self) -> str:
        tail = f"{self.path}{self.query}{self.fragment}"
        if self.has_authority or self.scheme == "mailto":
            user = f"{self.user_info}@" if self.user_info else ""
            slashes = "//" if self.has_authority else ""
            return f"{self.scheme}:{slashes}{user}{self.authority}{tail}"
        return f"{self.scheme}:{tail}"

    @property
    def host_name_type(self) -> str:
        if self.host.startswith("["):
            return "IPv6"
        if _IPV4.fullmatch(self.host):
            return "IPv4"
        if self.host and _DNS_NAME.fullmatch(self.host):
            return "Dns"
        return "Basic"

    @property
    def is_loopback(self) -> bool:
        if self.scheme == "file" and not self.host:
            return True
        return self.host in ("localhost", "[::1]") or self.host.startswith("127.")

    @property
    def local_path(self) -> str:
        path = unquote(self.path)
        if self.scheme != "file":
            return path
        if self.host:
            return "\\\\" + self.host + path.replace("/", "\\")
        if _DRIVE_PATH.fullmatch(path[1:]):
            return path[1:].replace("/", "\\")
        return path


_URI_PARTS: dict[str, Callable[[DotnetUri], object]] = {
    "absolutepath": lambda uri: uri.path,
    "absoluteuri": lambda uri: uri.absolute_uri,
    "authority": lambda uri: uri.authority,
    "dnssafehost": lambda uri: uri.host.strip("[]"),
    "fragment": lambda uri: uri.fragment,
    "host": lambda uri: uri.host,
    "hostandport": lambda uri: uri.authority,
    "hostnametype": lambda uri: uri.host_name_type,
    "isdefaultport": lambda uri: uri.is_default_port,
    "isfile": lambda uri: uri.scheme == "file",
    "isloopback": lambda uri: uri.is_loopback,
    "isunc": lambda uri: uri.scheme == "file" and bool(uri.host),
    "path": lambda uri: uri.local_path,
    "pathandquery": lambda uri: uri.path + uri.query,
    "port": lambda uri: uri.port,
    "query": lambda uri: uri.query,
    "scheme": lambda uri: uri.scheme,
    "schemeandserver": lambda uri: f"{uri.scheme}://{uri.authority}",
    "userinfo": lambda uri: uri.user_info,
}


def parse_uri(text: str) -> DotnetUri | None:
    """``Uri.TryCreate(text, UriKind.RelativeOrAbsolute)``: None when .NET refuses it."""
    stripped = text.strip(" \t\r\n")
    if _DRIVE_PATH.fullmatch(stripped):  # a Windows path is a file: address
        return _hierarchical("file", "", "/" + stripped)
    unc = _UNC_PATH.fullmatch(stripped)
    if unc is not None:
        return _hierarchical("file", unc.group(1), unc.group(2) or "/")
    scheme_match = _SCHEME.fullmatch(stripped)
    if scheme_match is None:
        return DotnetUri()  # relative
    scheme, rest = scheme_match.group(1).lower(), scheme_match.group(2)
    if rest.startswith("//") or (scheme in _HOST_SCHEMES and rest.startswith("\\\\")):
        return _with_authority(scheme, rest[2:])
    if scheme in _HOST_SCHEMES:
        return None  # "http:example.com" has no host
    if scheme == "mailto":
        return _mail_address(rest)
    path, query, fragment = _split_path(rest)
    return DotnetUri(scheme=scheme, path=_escape(path), query=query, fragment=fragment)


def _with_authority(scheme: str, rest: str) -> DotnetUri | None:
    stops = "/?#\\" if scheme in _HOST_SCHEMES or scheme == "file" else "/?#"
    end = next((i for i, char in enumerate(rest) if char in stops), len(rest))
    authority, remainder = rest[:end], rest[end:]
    user_info, _, host_and_port = authority.rpartition("@")
    if host_and_port.startswith("["):
        close = host_and_port.find("]")
        host, port_text = host_and_port[: close + 1], host_and_port[close + 1 :]
        if close < 0 or (port_text and not port_text.startswith(":")):
            return None
        port_text = port_text[1:]
    else:
        host, _, port_text = host_and_port.partition(":")
    if port_text and not (port_text.isascii() and port_text.isdigit() and int(port_text) <= 65535):
        return None
    valid_host = _IPV6.fullmatch(host) if host.startswith("[") else _HOST_CHARACTERS.fullmatch(host)
    if not valid_host or (not host and scheme in _HOST_SCHEMES):
        return None
    uri = _hierarchical(scheme, host.lower(), remainder)
    port = int(port_text) if port_text else _DEFAULT_PORTS.get(scheme, -1)
    return replace(uri, user_info=user_info, port=port)


def _hierarchical(scheme: str, host: str, remainder: str) -> DotnetUri:
    if scheme in _HOST_SCHEMES or scheme == "file":
        remainder = remainder.replace("\\", "/")
    path, query, fragment = _split_path(remainder)
    return DotnetUri(
        scheme=scheme,
        host=host,
        port=_DEFAULT_PORTS.get(scheme, -1),
        path=_escape(_remove_dot_segments(path) or "/"),
        query=query,
        fragment=fragment,
        has_authority=True,
    )


def _mail_address(rest: str) -> DotnetUri:
    address, query, fragment = _split_path(rest)
    user_info, _, host = address.rpartition("@")
    return DotnetUri("mailto", user_info, host.lower(), 25, "", query, fragment)


def _split_path(text: str) -> tuple[str, str, str]:
    """Path, "?query" and "#fragment" (each escaped as .NET shows them)."""
    before_fragment, hash_mark, fragment = text.partition("#")
    path, question_mark, query = before_fragment.partition("?")
    return path, _escape(question_mark + query), _escape(hash_mark + fragment)


def _escape(text: str) -> str:
    return _URI_UNSAFE.sub(
        lambda unsafe: "".join(f"%{b:02X}" for b in unsafe.group().encode("utf-8", "replace")),
        text,
    )


def _remove_dot_segments(path: str) -> str:
    output: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(output) > 1:
                output.pop()
        elif segment != ".":
            output.append(segment)
    if path.endswith(("/.", "/..")):
        output.append("")
    return "/".join(output)
