"""How .NET strings differ from Python's: UTF-16 code units and ``char.IsWhiteSpace``."""

from __future__ import annotations

# What .NET's String.Trim removes (char.IsWhiteSpace), which is not quite Python's str.strip.
WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


def well_formed(text: str) -> str:
    """Text as .NET encoders see it: a lone surrogate becomes U+FFFD."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def utf16_units(text: str) -> list[int]:
    """.NET strings are UTF-16: per-character escapes see both halves of a surrogate pair."""
    data = text.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]
