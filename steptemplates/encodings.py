"""Reading and writing text files the way Calamari substitutes them: encoding and BOM kept.

A file is decoded by its byte-order mark, else as strict UTF-8, else as windows-1252 (which
decodes any byte). Writing it back uses the same encoding and BOM, so substituting variables
never changes anything but the substituted text; line endings are never translated.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str
    bom: bytes = b""

    def encode(self, text: str) -> bytes:
        """``text`` in this file's encoding, with its byte-order mark."""
        errors = _LATIN1_FALLBACK if self.encoding == "windows-1252" else "strict"
        return self.bom + text.encode(self.encoding, errors)


def decode(data: bytes) -> DecodedText:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return DecodedText(data[len(bom) :].decode(encoding, "replace"), encoding, bom)
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        return DecodedText(data.decode("cp1252", _LATIN1_FALLBACK), "windows-1252")


def _latin1_fallback(error: UnicodeError) -> tuple[str | bytes, int]:
    """windows-1252 leaves five bytes undefined; like .NET, keep them as U+0081 and so on."""
    if isinstance(error, UnicodeDecodeError):
        return error.object[error.start : error.end].decode("latin-1"), error.end
    if isinstance(error, UnicodeEncodeError):
        text = error.object[error.start : error.end]
        if all(ord(char) in _UNDEFINED_1252 for char in text):
            return text.encode("latin-1"), error.end
    raise error


_UNDEFINED_1252 = frozenset({0x81, 0x8D, 0x8F, 0x90, 0x9D})
_LATIN1_FALLBACK = "steps-windows-1252"
codecs.register_error(_LATIN1_FALLBACK, _latin1_fallback)
