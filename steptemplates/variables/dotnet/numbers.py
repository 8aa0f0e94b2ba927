"""``int``, ``double`` and ``decimal`` as .NET parses them and formats them with standard
(``N2``, ``E3``, ``G``) and custom (``#,##0.00``, ``0.###``, ``0%``) format strings, en-US.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal

from steptemplates.variables.dotnet import DotnetFormatError

_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1
_DECIMAL_MAX = Decimal(2**96 - 1)

# .NET number parsing skips only these around a number (NumberStyles.AllowLeading/TrailingWhite).
_NUMBER_SPACE = "[\t\n\v\f\r ]*"

# Wide enough that no quantize of a .NET-sized number runs out of digits.
_WIDE = Context(prec=1000, Emin=-999999, Emax=999999)

# ---------------------------------------------------------------------------------------------
# Parsing

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
# Standard formats ("N2", "E3", "G", "X8")


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


# ---------------------------------------------------------------------------------------------
# Custom formats ("#,##0.00", "0.###", "0%", "0.00E+00", "pos;neg;zero")


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
