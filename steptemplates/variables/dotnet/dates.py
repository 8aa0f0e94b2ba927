"""A .NET ``DateTime`` or ``DateTimeOffset``: parsed as ``TryParse`` does and formatted with
standard (``O``, ``d``, ``u``) and custom (``yyyy-MM-dd HH:mm``) format strings, en-US.

Dates keep .NET's distinction between a ``DateTime`` (naive, UTC or local) and a
``DateTimeOffset`` (a wall time with its offset): it decides what ``K``, ``zzz`` and ``O`` print.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from steptemplates.variables.dotnet import DotnetFormatError

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


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


# ---------------------------------------------------------------------------------------------
# Parsing: the forms DateTime.TryParse accepts in practice, en-US order for numeric dates

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


# ---------------------------------------------------------------------------------------------
# Formatting

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
