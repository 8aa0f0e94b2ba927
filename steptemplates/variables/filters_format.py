"""Filters for dates and numbers, read and formatted as .NET does: ``NowDate``, ``AddDays``,
``AddHours`` and ``Format``."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import timedelta
from decimal import Decimal

from steptemplates.variables.dotnet import DotnetFormatError, dates, numbers
from steptemplates.variables.filters_arguments import FilterRejected, needs_argument, one_option


def _now(name: str, argument: str | None, options: Sequence[str]) -> str:
    if argument is not None:
        raise FilterRejected(f"{name} takes no value: write #{{ | {name}}}")
    if len(options) > 1:
        raise FilterRejected(f"{name} takes at most one option, the format")
    moment = dates.now_utc() if name == "NowDateUtc" else dates.now_local()
    return _format_date(name, moment, options[0] if options else "O")


def now_date(argument: str | None, options: Sequence[str]) -> str | None:
    return _now("NowDate", argument, options)


def now_date_utc(argument: str | None, options: Sequence[str]) -> str | None:
    return _now("NowDateUtc", argument, options)


def _format_date(name: str, value: dates.DotnetDateTime, fmt: str) -> str:
    try:
        return dates.format_datetime(value, fmt)
    except DotnetFormatError as error:
        raise FilterRejected(f"{name} cannot use the format '{fmt}': {error}") from error


def _add_time(name: str, unit: timedelta, argument: str | None, options: Sequence[str]) -> str:
    amount_text = one_option(name, options, "the amount to add")
    amount = numbers.parse_double(amount_text, allow_thousands=False)
    if amount is None or not math.isfinite(amount):
        raise FilterRejected(f"{name} needs a number to add, not '{amount_text}'")
    text = needs_argument(name, argument)
    # A time without a zone stays without one and a 'Z' time stays UTC; an explicit offset
    # is kept as written rather than converted to this machine's.
    moment = dates.parse_datetime(text, keep_utc=True)
    if moment is None or moment.kind is dates.DateKind.LOCAL:
        moment = dates.parse_datetime_offset(text)
    if moment is None:
        raise FilterRejected(f"{name} needs a date, not '{text}'")
    try:
        return dates.format_datetime(dates.shift(moment, unit * amount), "O")
    except OverflowError as error:
        raise FilterRejected(f"{name} would go beyond the years 1 to 9999") from error


def add_hours(argument: str | None, options: Sequence[str]) -> str | None:
    return _add_time("AddHours", timedelta(hours=1), argument, options)


def add_days(argument: str | None, options: Sequence[str]) -> str | None:
    return _add_time("AddDays", timedelta(days=1), argument, options)


def _number_reader(
    parse: Callable[[str], int | float | Decimal | None], kind: numbers.NumberKind
) -> Callable[[str, str], str | None]:
    def read(text: str, fmt: str) -> str | None:
        value = parse(text)
        return None if value is None else numbers.format_number(value, kind, fmt)

    return read


def _date_reader(
    parse: Callable[[str], dates.DotnetDateTime | None],
) -> Callable[[str, str], str | None]:
    def read(text: str, fmt: str) -> str | None:
        value = parse(text)
        return None if value is None else dates.format_datetime(value, fmt)

    return read


# `Format <type> <format>`: how each type reads the value; None when it cannot.
_FORMAT_READERS: dict[str, Callable[[str, str], str | None]] = {
    "int32": _number_reader(numbers.parse_int32, numbers.NumberKind.INT32),
    "int": _number_reader(numbers.parse_int32, numbers.NumberKind.INT32),
    "double": _number_reader(numbers.parse_double, numbers.NumberKind.DOUBLE),
    "decimal": _number_reader(numbers.parse_decimal, numbers.NumberKind.DECIMAL),
    "date": _date_reader(dates.parse_datetime),
    "datetime": _date_reader(dates.parse_datetime),
    "datetimeoffset": _date_reader(dates.parse_datetime_offset),
}


def format_value(argument: str | None, options: Sequence[str]) -> str | None:
    text = needs_argument("Format", argument)
    readers: tuple[str, ...]
    if len(options) == 1:
        # Without a type: a number if it reads as a decimal, otherwise a date.
        fmt, readers, what = options[0], ("decimal", "datetimeoffset"), "a number or a date"
    elif len(options) == 2:
        type_name, fmt = options
        readers, what = (type_name.lower(),), f"a {type_name}"
        if readers[0] not in _FORMAT_READERS:
            raise FilterRejected(
                f"Format cannot convert to '{type_name}'; "
                "use Int32, Int, Double, Decimal, Date, DateTime or DateTimeOffset"
            )
    else:
        raise FilterRejected("Format takes a format, or a type and a format")
    for reader in readers:
        try:
            result = _FORMAT_READERS[reader](text, fmt)
        except DotnetFormatError as error:
            raise FilterRejected(f"Format cannot use the format '{fmt}': {error}") from error
        if result is not None:
            return result
    raise FilterRejected(f"Format could not read '{text}' as {what}")
