"""The built-in filters, called directly.

The ``*_VECTORS`` tables hold every ``filt-`` and ``ver-`` case of the Octostache conformance
vectors, keeping their ids: the variable's value becomes the argument (a missing or null
variable reaches the filter as None or ""), nested ``#{...}`` options appear already evaluated,
and a case Octostache echoes becomes a FilterRejected.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from steptemplates.variables.filters import (
    FILTER_NAMES,
    FilterRejected,
    UnknownFilter,
    apply_filter,
)

FOX = "The quick brown fox jumps over the lazy dog"
FOX_DOT = FOX + "."
FOX_COG = "The quick brown fox jumps over the lazy cog"
FOX_BASE64 = "VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVyIHRoZSBsYXp5IGRvZw=="
THREE_LINES = "Octopus Deploy\nOctopus Deploy\nOctopus Deploy"
SAMPLE_URI = "https://user:secret@Octopus.com:8443/docs/a%20b/../guides?filter=faq#top"


def run(name: str, argument: str | None, *options: str) -> str | None:
    return apply_filter(name, argument, options)


@pytest.fixture
def central_european_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run as a machine in Central European time (+01:00, +02:00 in summer)."""
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# ---------------------------------------------------------------------------------------------
# Conformance vectors

ESCAPING_VECTORS = [
    pytest.param("ToUpper", "Abc", [], "ABC", id="filt-ws-0"),
    pytest.param("ToUpper", "Abc", [], "ABC", id="filt-ws-4"),
    pytest.param("ToUpper", "Abc", [], "ABC", id="filt-ws-5"),
    pytest.param("ToUpper", "Abc", [], "ABC", id="filt-ws-7"),
    pytest.param("HtmlEscape", "A&'bc", [], "A&amp;&apos;bc", id="filt-html-0"),
    pytest.param("UriDataEscape", "", [], "", id="filt-uridata-1"),
    pytest.param("UriDataEscape", "", [], "", id="filt-uridata-2"),
    pytest.param("UriEscape", "A b:c+d/e", [], "A%20b:c+d/e", id="filt-uri-0"),
    pytest.param("UriEscape", "", [], "", id="filt-uri-2"),
    pytest.param("JsonEscape", "Test\nTest", [], "Test\\nTest", id="filt-json-2"),
    pytest.param("JsonEscape", "Test\tTest", [], "Test\\tTest", id="filt-json-3"),
    pytest.param(
        "YamlSingleQuoteEscape", "a\n\tb\n\tc\n\td", [], "a\n\n\tb\n\n\tc\n\n\td", id="filt-yaml1-2"
    ),
    pytest.param("YamlSingleQuoteEscape", "a\r\nb", [], "a\r\n\r\nb", id="filt-yaml1-3"),
    pytest.param("YamlSingleQuoteEscape", "", [], "", id="filt-yaml1-5"),
    pytest.param("YamlSingleQuoteEscape", "", [], "", id="filt-yaml1-6"),
    pytest.param(
        "YamlDoubleQuoteEscape", "a\n\tb\n\tc\n\td", [], "a\\n\\tb\\n\\tc\\n\\td", id="filt-yaml2-6"
    ),
    pytest.param("YamlDoubleQuoteEscape", "", [], "", id="filt-yaml2-10"),
    pytest.param("PropertiesKeyEscape", ":", [], "\\:", id="filt-propkey-1"),
    pytest.param("PropertiesKeyEscape", "\\", [], "\\\\", id="filt-propkey-3"),
    pytest.param("PropertiesKeyEscape", "\r", [], "\\r", id="filt-propkey-4"),
    pytest.param("PropertiesKeyEscape", "\n", [], "\\n", id="filt-propkey-5"),
    pytest.param("PropertiesKeyEscape", "\t", [], "\\t", id="filt-propkey-6"),
    pytest.param("PropertiesKeyEscape", " a \n b ", [], "\\ a\\ \\n\\ b\\ ", id="filt-propkey-7"),
    pytest.param(
        "PropertiesKeyEscape", "我叫章鱼", [], "\\u6211\\u53eb\\u7ae0\\u9c7c", id="filt-propkey-11"
    ),
    pytest.param("PropertiesKeyEscape", "÷ü", [], "÷ü", id="filt-propkey-12"),
    pytest.param("PropertiesValueEscape", " ", [], "\\ ", id="filt-propval-2"),
    pytest.param("PropertiesValueEscape", "a ", [], "a ", id="filt-propval-3"),
    pytest.param("PropertiesValueEscape", "\\", [], "\\\\", id="filt-propval-4"),
    pytest.param("PropertiesValueEscape", "\r", [], "\\r", id="filt-propval-5"),
    pytest.param("PropertiesValueEscape", "\n", [], "\\n", id="filt-propval-6"),
    pytest.param("PropertiesValueEscape", "\t", [], "\\t", id="filt-propval-7"),
    pytest.param("PropertiesValueEscape", " a \n b ", [], "\\ a \\n b ", id="filt-propval-8"),
    pytest.param("PropertiesValueEscape", "0123456789", [], "0123456789", id="filt-propval-11"),
    pytest.param("PropertiesValueEscape", "÷ü", [], "÷ü", id="filt-propval-13"),
]

DATE_VECTORS = [
    pytest.param(
        "Format",
        "2030/05/22 09:05:00",
        ["Date", "HH dd-MMM-yyy"],
        "09 22-May-2030",
        id="filt-date-format",
    ),
    pytest.param(
        "AddHours",
        "2030-05-22 09:05:00",
        ["8"],
        "2030-05-22T17:05:00.0000000",
        id="filt-addhours-var",
    ),
]

TEXT_VECTORS = [
    pytest.param("Replace", "abc", ["abc", "def"], "def", id="filt-replace"),
    pytest.param("Replace", "abc", ["a"], "bc", id="filt-replace-empty"),
    pytest.param("Replace", "ABC", ["abc", "def"], "ABC", id="filt-replace-case"),
    pytest.param("Replace", "ab c", ["ab c", "d ef"], "d ef", id="filt-replace-spaces"),
    pytest.param("Replace", "abc", ["b", "x"], "axc", id="filt-replace-varopts"),
    pytest.param("Replace", 'a"b', ['a"', '"c'], '"cb', id="filt-replace-dq-nested"),
    pytest.param("Replace", "a'b", ["a'b", "d'e"], "d'e", id="filt-replace-sq"),
    pytest.param("Replace", "a'b", ["[a-z]+", "1"], "1'1", id="filt-replace-range"),
    pytest.param("Replace", "ababa", ["a", "x"], "xbxbx", id="filt-replace-multi"),
    pytest.param("Replace", "ababa", ["^a", "x"], "xbaba", id="filt-replace-start"),
    pytest.param(
        "Substring", "Octopus Deploy", ["20"], "Octopus Deploy", id="filt-substring-beyond"
    ),
    pytest.param("Substring", "Octopus Deploy", ["14", "5"], "", id="filt-substring-at-end"),
    pytest.param("Substring", "Octopus Deploy", ["8", "7"], "Deploy", id="filt-substring-clamp"),
    pytest.param("Truncate", "Octopus Deploy", ["50"], "Octopus Deploy", id="filt-truncate-long"),
    pytest.param("Truncate", "Octopus Deploy", ["7"], "Octopus...", id="filt-truncate-7"),
    pytest.param(
        "Truncate", "Octopus Deploy", ["7", ""], "Octopus", id="filt-truncate-empty-suffix"
    ),
    pytest.param("Trim", " Octopus Deploy ", ["End"], " Octopus Deploy", id="filt-trim-end"),
    pytest.param("Indent", "", [], "", id="filt-indent-empty"),
    pytest.param("Indent", "Octopus Deploy", [], "    Octopus Deploy", id="filt-indent-default"),
    pytest.param(
        "Indent",
        THREE_LINES,
        ["3/2"],
        "   Octopus Deploy\n  Octopus Deploy\n  Octopus Deploy",
        id="filt-indent-3-2",
    ),
    pytest.param(
        "Indent",
        THREE_LINES,
        ["//"],
        "//Octopus Deploy\n//Octopus Deploy\n//Octopus Deploy",
        id="filt-indent-custom",
    ),
    pytest.param(
        "Indent",
        THREE_LINES,
        ["255"],
        (" " * 255 + "Octopus Deploy\n") * 2 + " " * 255 + "Octopus Deploy",
        id="filt-indent-255",
    ),
    pytest.param(
        "Indent",
        THREE_LINES,
        ["255/3"],
        " " * 255 + "Octopus Deploy\n   Octopus Deploy\n   Octopus Deploy",
        id="filt-indent-255-3",
    ),
    pytest.param(
        "Indent",
        THREE_LINES,
        ["256/3"],
        "256/3Octopus Deploy\n256/3Octopus Deploy\n256/3Octopus Deploy",
        id="filt-indent-256-3",
    ),
    pytest.param(
        "Indent",
        THREE_LINES,
        ["# "],
        "# Octopus Deploy\n# Octopus Deploy\n# Octopus Deploy",
        id="filt-indent-hash",
    ),
    pytest.param("Append", "bar", ["value"], "barvalue", id="filt-append-0"),
    pytest.param("Append", "bar", ["value1", "value2"], "barvalue1value2", id="filt-append-1"),
    pytest.param("Prepend", "bar", ["value"], "valuebar", id="filt-prepend-0"),
    pytest.param(
        "Prepend", "bar", ["value1", " ", "value2"], "value1 value2bar", id="filt-prepend-2"
    ),
]

COMPARISON_VECTORS = [
    pytest.param("Match", "abc def", ["def"], "true", id="filt-match-var"),
    pytest.param("StartsWith", "abc def", ["abc"], "true", id="filt-startswith-var"),
    pytest.param("EndsWith", "abc def", ["def"], "true", id="filt-endswith-var"),
    pytest.param("Match", "abc def", ["cba"], "false", id="filt-match-1"),
    pytest.param("Match", "abc def", ["ABC"], "false", id="filt-match-4"),
    pytest.param("Match", "abc(def", ["c\\(d"], "true", id="filt-match-9"),
    pytest.param("StartsWith", "abc def", ["bc"], "false", id="filt-startswith-1"),
    pytest.param("StartsWith", "abc def", ["abc d"], "true", id="filt-startswith-5"),
    pytest.param("StartsWith", "abc'def", ["abc'"], "true", id="filt-startswith-6"),
    pytest.param("EndsWith", "abc def", ["def"], "true", id="filt-endswith-0"),
    pytest.param("EndsWith", "abc def", ["c def"], "true", id="filt-endswith-5"),
    pytest.param("EndsWith", "abc'def", ["'def"], "true", id="filt-endswith-6"),
    pytest.param("Contains", "abc def", ["de"], "true", id="filt-contains-0"),
    pytest.param("Contains", "abc def", ["c de"], "true", id="filt-contains-5"),
    pytest.param("Contains", "abc'def", ["'de"], "true", id="filt-contains-6"),
]

URI_PART_VECTORS = [
    pytest.param(
        "UriPart",
        "/docs",
        ["Host"],
        "[UriPart Host error: This operation is not supported for a relative URI.]",
        id="filt-uripart-0",
    ),
    pytest.param(
        "UriPart",
        "https://octopus.com/docs",
        [],
        "[UriPart error: no argument given]",
        id="filt-uripart-1",
    ),
    pytest.param(
        "UriPart", "https://octopus.com/docs", ["AbsolutePath"], "/docs", id="filt-uripart-3"
    ),
    pytest.param(
        "UriPart", "https://octopus.com/docs", ["DnsSafeHost"], "octopus.com", id="filt-uripart-6"
    ),
    pytest.param(
        "UriPart", "https://octopus.com/docs#filters", ["Fragment"], "#filters", id="filt-uripart-7"
    ),
    pytest.param(
        "UriPart", "https://octopus.com/docs", ["Host"], "octopus.com", id="filt-uripart-8"
    ),
    pytest.param(
        "UriPart", "https://octopus.com/docs", ["HostNameType"], "Dns", id="filt-uripart-10"
    ),
    pytest.param(
        "UriPart", "https://octopus.com/docs", ["IsAbsoluteUri"], "true", id="filt-uripart-11"
    ),
    pytest.param("UriPart", "https://octopus.com/docs", ["IsFile"], "false", id="filt-uripart-13"),
    pytest.param(
        "UriPart", "https://octopus.com/docs", ["IsLoopback"], "false", id="filt-uripart-14"
    ),
    pytest.param(
        "UriPart",
        "https://octopus.com/docs?filter=faq",
        ["PathAndQuery"],
        "/docs?filter=faq",
        id="filt-uripart-17",
    ),
    pytest.param("UriPart", "https://octopus.com/docs", ["Port"], "443", id="filt-uripart-18"),
    pytest.param(
        "UriPart",
        "https://username:password@octopus.com",
        ["UserInfo"],
        "username:password",
        id="filt-uripart-22",
    ),
]

HASH_VECTORS = [
    pytest.param("Md5", "", [], "d41d8cd98f00b204e9800998ecf8427e", id="filt-md5-0"),
    pytest.param("Md5", FOX, [], "9e107d9d372bb6826bd81d3542a419d6", id="filt-md5-1"),
    pytest.param("Md5", "", ["4"], "d41d8cd9", id="filt-md5-size-0"),
    pytest.param("Md5", FOX, ["3"], "9e107d", id="filt-md5-size-1"),
    pytest.param("Md5", FOX_DOT, ["800"], "e4d909c290d0fb1ca068ffaddf22cbd0", id="filt-md5-size-2"),
    pytest.param("Md5", FOX, ["unicode"], "b0986ae6ee1eefee8a4a399090126837", id="filt-md5-enc-3"),
    pytest.param("Md5", FOX_DOT, ["utf8"], "e4d909c290d0fb1ca068ffaddf22cbd0", id="filt-md5-enc-4"),
    pytest.param(
        "Md5", FOX_BASE64, ["base64"], "9e107d9d372bb6826bd81d3542a419d6", id="filt-md5-enc-5"
    ),
    pytest.param("Md5", "", ["utf8", "4"], "d41d8cd9", id="filt-md5-enc-size-0"),
    pytest.param("Md5", "", ["4", "utf8"], "d41d8cd9", id="filt-md5-size-enc-0"),
    pytest.param("Md5", "", ["utf-8", "5"], "d41d8cd98f", id="filt-md5-enc-size-1"),
    pytest.param("Md5", "", ["5", "utf-8"], "d41d8cd98f", id="filt-md5-size-enc-1"),
    pytest.param("Md5", "", ["unicode", "3"], "d41d8c", id="filt-md5-enc-size-2"),
    pytest.param(
        "Md5", FOX, ["unicode", "800"], "b0986ae6ee1eefee8a4a399090126837", id="filt-md5-enc-size-3"
    ),
    pytest.param(
        "Md5", FOX, ["800", "unicode"], "b0986ae6ee1eefee8a4a399090126837", id="filt-md5-size-enc-3"
    ),
    pytest.param("Md5", FOX_DOT, ["2", "utf8"], "e4d9", id="filt-md5-size-enc-4"),
    pytest.param("Sha1", "", [], "da39a3ee5e6b4b0d3255bfef95601890afd80709", id="filt-sha1-0"),
    pytest.param("Sha1", FOX, [], "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12", id="filt-sha1-1"),
    pytest.param("Sha1", "", ["4"], "da39a3ee", id="filt-sha1-size-0"),
    pytest.param("Sha1", FOX, ["3"], "2fd4e1", id="filt-sha1-size-1"),
    pytest.param(
        "Sha1", FOX_COG, ["800"], "de9f2c7fd25e1b3afad3e85a0bd17d9b100db4b3", id="filt-sha1-size-2"
    ),
    pytest.param(
        "Sha1", "", ["utf8"], "da39a3ee5e6b4b0d3255bfef95601890afd80709", id="filt-sha1-enc-0"
    ),
    pytest.param(
        "Sha1", "", ["unicode"], "da39a3ee5e6b4b0d3255bfef95601890afd80709", id="filt-sha1-enc-2"
    ),
    pytest.param(
        "Sha1", FOX, ["unicode"], "bd136cb58899c93173c33a90dde95ead0d0cf6df", id="filt-sha1-enc-3"
    ),
    pytest.param(
        "Sha1", FOX_COG, ["utf8"], "de9f2c7fd25e1b3afad3e85a0bd17d9b100db4b3", id="filt-sha1-enc-4"
    ),
    pytest.param(
        "Sha1",
        FOX_BASE64,
        ["base64"],
        "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
        id="filt-sha1-enc-5",
    ),
    pytest.param("Sha1", "", ["utf8", "4"], "da39a3ee", id="filt-sha1-enc-size-0"),
    pytest.param("Sha1", "", ["4", "utf8"], "da39a3ee", id="filt-sha1-size-enc-0"),
    pytest.param("Sha1", "", ["3", "unicode"], "da39a3", id="filt-sha1-size-enc-2"),
    pytest.param(
        "Sha1",
        FOX,
        ["unicode", "800"],
        "bd136cb58899c93173c33a90dde95ead0d0cf6df",
        id="filt-sha1-enc-size-3",
    ),
    pytest.param(
        "Sha256",
        FOX,
        [],
        "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592",
        id="filt-sha256-1",
    ),
    pytest.param(
        "Sha256",
        FOX_DOT,
        [],
        "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c",
        id="filt-sha256-2",
    ),
    pytest.param("Sha256", FOX, ["3"], "d7a8fb", id="filt-sha256-size-1"),
    pytest.param(
        "Sha256",
        "",
        ["utf-8"],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        id="filt-sha256-enc-1",
    ),
    pytest.param(
        "Sha256",
        "",
        ["unicode"],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        id="filt-sha256-enc-2",
    ),
    pytest.param(
        "Sha256",
        FOX,
        ["unicode"],
        "3b5b0eac46c8f0c16fa1b9c187abc8379cc936f6508892969d49234c6c540e58",
        id="filt-sha256-enc-3",
    ),
    pytest.param(
        "Sha256",
        FOX_DOT,
        ["utf8"],
        "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c",
        id="filt-sha256-enc-4",
    ),
    pytest.param(
        "Sha256",
        FOX_BASE64,
        ["base64"],
        "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592",
        id="filt-sha256-enc-5",
    ),
    pytest.param("Sha256", "", ["3", "unicode"], "e3b0c4", id="filt-sha256-size-enc-2"),
    pytest.param(
        "Sha256",
        FOX,
        ["800", "unicode"],
        "3b5b0eac46c8f0c16fa1b9c187abc8379cc936f6508892969d49234c6c540e58",
        id="filt-sha256-size-enc-3",
    ),
    pytest.param("Sha256", FOX_DOT, ["utf8", "2"], "ef53", id="filt-sha256-enc-size-4"),
    pytest.param(
        "Sha384",
        "",
        [],
        "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
        id="filt-sha384-0",
    ),
    pytest.param("Sha384", "", ["4"], "38b060a7", id="filt-sha384-size-0"),
    pytest.param("Sha384", FOX, ["3"], "ca737f", id="filt-sha384-size-1"),
    pytest.param(
        "Sha384",
        "",
        ["utf8"],
        "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
        id="filt-sha384-enc-0",
    ),
    pytest.param(
        "Sha384",
        "",
        ["utf-8"],
        "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
        id="filt-sha384-enc-1",
    ),
    pytest.param(
        "Sha384",
        "",
        ["unicode"],
        "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
        id="filt-sha384-enc-2",
    ),
    pytest.param(
        "Sha384",
        FOX,
        ["unicode"],
        "882ab99315b04348e3c7d0bcef46ec8ee7e6b418c5f1180f2dd2b0f86b7d26a6b080d25b180e5e96a7d9912abdd831dd",
        id="filt-sha384-enc-3",
    ),
    pytest.param(
        "Sha384",
        FOX_BASE64,
        ["base64"],
        "ca737f1014a48f4c0b6dd43cb177b0afd9e5169367544c494011e3317dbf9a509cb1e5dc1e85a941bbee3d7f2afbc9b1",
        id="filt-sha384-enc-5",
    ),
    pytest.param("Sha384", "", ["utf-8", "5"], "38b060a751", id="filt-sha384-enc-size-1"),
    pytest.param("Sha384", "", ["5", "utf-8"], "38b060a751", id="filt-sha384-size-enc-1"),
    pytest.param("Sha384", "", ["unicode", "3"], "38b060", id="filt-sha384-enc-size-2"),
    pytest.param("Sha384", "", ["3", "unicode"], "38b060", id="filt-sha384-size-enc-2"),
    pytest.param(
        "Sha384",
        FOX,
        ["unicode", "800"],
        "882ab99315b04348e3c7d0bcef46ec8ee7e6b418c5f1180f2dd2b0f86b7d26a6b080d25b180e5e96a7d9912abdd831dd",
        id="filt-sha384-enc-size-3",
    ),
    pytest.param(
        "Sha384",
        FOX,
        ["800", "unicode"],
        "882ab99315b04348e3c7d0bcef46ec8ee7e6b418c5f1180f2dd2b0f86b7d26a6b080d25b180e5e96a7d9912abdd831dd",
        id="filt-sha384-size-enc-3",
    ),
    pytest.param("Sha384", FOX_DOT, ["utf8", "2"], "ed89", id="filt-sha384-enc-size-4"),
    pytest.param(
        "Sha512",
        "",
        [],
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
        id="filt-sha512-0",
    ),
    pytest.param("Sha512", FOX, ["3"], "07e547", id="filt-sha512-size-1"),
    pytest.param(
        "Sha512",
        FOX_DOT,
        ["800"],
        "91ea1245f20d46ae9a037a989f54f1f790f0a47607eeb8a14d12890cea77a1bbc6c7ed9cf205e67b7f2b8fd4c7dfd3a7a8617e45f3c463d481c7e586c39ac1ed",
        id="filt-sha512-size-2",
    ),
    pytest.param(
        "Sha512",
        "",
        ["utf8"],
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
        id="filt-sha512-enc-0",
    ),
    pytest.param(
        "Sha512",
        "",
        ["utf-8"],
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
        id="filt-sha512-enc-1",
    ),
    pytest.param(
        "Sha512",
        "",
        ["unicode"],
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
        id="filt-sha512-enc-2",
    ),
    pytest.param(
        "Sha512",
        FOX_DOT,
        ["utf8"],
        "91ea1245f20d46ae9a037a989f54f1f790f0a47607eeb8a14d12890cea77a1bbc6c7ed9cf205e67b7f2b8fd4c7dfd3a7a8617e45f3c463d481c7e586c39ac1ed",
        id="filt-sha512-enc-4",
    ),
    pytest.param(
        "Sha512",
        FOX_BASE64,
        ["base64"],
        "07e547d9586f6a73f73fbac0435ed76951218fb7d0c8d788a309d785436bbb642e93a252a954f23912547d1e8a3b5ed6e1bfd7097821233fa0538f3db854fee6",
        id="filt-sha512-enc-5",
    ),
    pytest.param("Sha512", "", ["4", "utf8"], "cf83e135", id="filt-sha512-size-enc-0"),
    pytest.param("Sha512", "", ["5", "utf-8"], "cf83e1357e", id="filt-sha512-size-enc-1"),
    pytest.param("Sha512", "", ["unicode", "3"], "cf83e1", id="filt-sha512-enc-size-2"),
    pytest.param("Sha512", "", ["3", "unicode"], "cf83e1", id="filt-sha512-size-enc-2"),
    pytest.param(
        "Sha512",
        FOX,
        ["800", "unicode"],
        "568a357630e3113c3932290749f4323eacee0c46ca02189c52d168ed35e0feeaa79e1a7ae725991df6e7d5e5c8f0877b8f51ab244ba7bde173033ad4de7c36de",
        id="filt-sha512-size-enc-3",
    ),
    pytest.param("Sha512", FOX_DOT, ["utf8", "2"], "91ea", id="filt-sha512-enc-size-4"),
]

REJECTED_VECTORS = [
    pytest.param("ToBazooka", "Abc", [], id="filt-unknown"),
    pytest.param("ToBazooka", "Abc", ["6"], id="filt-unknown-opts"),
    pytest.param("AddHours", "2030-05-22 09:05:00", [], id="filt-dateadd-echo-0"),
    pytest.param("AddHours", "2030-05-22 09:05:00", ["2", "3"], id="filt-dateadd-echo-1"),
    pytest.param("AddHours", "2030-05-22 09:05:00", ["abc"], id="filt-dateadd-echo-2"),
    pytest.param("AddHours", "hello World", ["2"], id="filt-dateadd-echo-3"),
    pytest.param("AddHours", None, ["2"], id="filt-dateadd-echo-4"),
    pytest.param("AddDays", "hello World", ["2"], id="filt-dateadd-echo-7"),
    pytest.param("Replace", "abc", [], id="filt-replace-noargs"),
    pytest.param("Substring", "ababa", [], id="filt-substring-noargs"),
    pytest.param("Substring", "ababa", ["1", "2", "3"], id="filt-substring-3args"),
    pytest.param("Truncate", "Octopus Deploy", [], id="filt-truncate-noargs"),
    pytest.param("Truncate", "Octopus Deploy", ["a"], id="filt-truncate-nonnum"),
    pytest.param("Truncate", "Octopus Deploy", ["-1"], id="filt-truncate-neg"),
    pytest.param("Indent", "foo", ["abc", "123", "def"], id="filt-indent-invalid"),
    pytest.param("Indent", None, [], id="filt-indent-noarg"),
    pytest.param("Match", "abc def", [], id="filt-match-2"),
    pytest.param("StartsWith", "abc def", [], id="filt-startswith-2"),
    pytest.param("Md5", "bar", ["bar"], id="filt-md5-invalid-2"),
    pytest.param("Md5", "bar", ["bar", "12"], id="filt-md5-invalid-5"),
    pytest.param("Md5", "bar", ["12", "bar"], id="filt-md5-invalid-6"),
    pytest.param("Md5", None, [], id="filt-md5-invalid-10"),
    pytest.param("Sha1", "bar", ["utf8", "0"], id="filt-sha1-invalid-3"),
    pytest.param("Sha1", "bar", ["0", "utf8"], id="filt-sha1-invalid-4"),
    pytest.param("Sha1", "bar", ["bar", "12"], id="filt-sha1-invalid-5"),
    pytest.param("Sha1", "bar", ["12", "bar"], id="filt-sha1-invalid-6"),
    pytest.param("Sha1", "bar", ["utf8", "12", "extra"], id="filt-sha1-invalid-7"),
    pytest.param("Sha1", "bar", ["base64"], id="filt-sha1-invalid-9"),
    pytest.param("Sha1", None, [], id="filt-sha1-invalid-10"),
    pytest.param("Sha256", "bar", ["0"], id="filt-sha256-invalid-1"),
    pytest.param("Sha256", "bar", ["bar"], id="filt-sha256-invalid-2"),
    pytest.param("Sha256", "bar", ["utf8", "0"], id="filt-sha256-invalid-3"),
    pytest.param("Sha256", "bar", ["0", "utf8"], id="filt-sha256-invalid-4"),
    pytest.param("Sha256", "bar", ["bar", "12"], id="filt-sha256-invalid-5"),
    pytest.param("Sha256", "bar", ["12", "utf8", "extra"], id="filt-sha256-invalid-8"),
    pytest.param("Sha384", "bar", ["-1"], id="filt-sha384-invalid-0"),
    pytest.param("Sha384", "bar", ["0"], id="filt-sha384-invalid-1"),
    pytest.param("Sha384", "bar", ["bar"], id="filt-sha384-invalid-2"),
    pytest.param("Sha384", "bar", ["bar", "12"], id="filt-sha384-invalid-5"),
    pytest.param("Sha384", "bar", ["12", "bar"], id="filt-sha384-invalid-6"),
    pytest.param("Sha384", "bar", ["utf8", "12", "extra"], id="filt-sha384-invalid-7"),
    pytest.param("Sha384", "bar", ["12", "utf8", "extra"], id="filt-sha384-invalid-8"),
    pytest.param("Sha384", "bar", ["base64"], id="filt-sha384-invalid-9"),
    pytest.param("Sha512", "bar", ["-1"], id="filt-sha512-invalid-0"),
    pytest.param("Sha512", "bar", ["0"], id="filt-sha512-invalid-1"),
    pytest.param("Sha512", "bar", ["bar"], id="filt-sha512-invalid-2"),
    pytest.param("Sha512", "bar", ["utf8", "0"], id="filt-sha512-invalid-3"),
    pytest.param("Sha512", "bar", ["0", "utf8"], id="filt-sha512-invalid-4"),
    pytest.param("Sha512", "bar", ["bar", "12"], id="filt-sha512-invalid-5"),
    pytest.param("Sha512", "bar", ["12", "bar"], id="filt-sha512-invalid-6"),
    pytest.param("Sha512", "bar", ["utf8", "12", "extra"], id="filt-sha512-invalid-7"),
    pytest.param("Sha512", "bar", ["base64"], id="filt-sha512-invalid-9"),
    pytest.param("Sha512", None, [], id="filt-sha512-invalid-10"),
]


@pytest.mark.parametrize(
    ("name", "argument", "options", "expected"),
    ESCAPING_VECTORS
    + TEXT_VECTORS
    + COMPARISON_VECTORS
    + URI_PART_VECTORS
    + HASH_VECTORS
    + DATE_VECTORS,
)
def test_vector_results(name: str, argument: str, options: list[str], expected: str) -> None:
    assert apply_filter(name, argument, options) == expected


@pytest.mark.parametrize(("name", "argument", "options"), REJECTED_VECTORS)
def test_vector_rejections(name: str, argument: str | None, options: list[str]) -> None:
    with pytest.raises(FilterRejected):
        apply_filter(name, argument, options)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("ToUpper", id="filt-unmatched-0"),
        pytest.param("HtmlEscape", id="filt-unmatched-1"),
        pytest.param("ToUpper", id="filt-unmatched-2"),
        pytest.param("Markdown", id="filt-unmatched-3"),
        pytest.param("MarkdownToHtml", id="filt-unmatched-4"),
    ],
)
def test_vector_unresolved_argument_rejected(name: str) -> None:
    # An unresolved variable reaches the filter as no argument at all.
    with pytest.raises(FilterRejected):
        run(name, None)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param([("AddHours", "2")], "2030-05-22 11:05:00", id="filt-addhours-0"),
        pytest.param([("AddHours", "-2")], "2030-05-22 07:05:00", id="filt-addhours-1"),
        pytest.param([("AddHours", "0")], "2030-05-22 09:05:00", id="filt-addhours-2"),
        pytest.param([("AddHours", "1.5")], "2030-05-22 10:35:00", id="filt-addhours-3"),
        pytest.param([("AddHours", "24")], "2030-05-23 09:05:00", id="filt-addhours-4"),
        pytest.param([("AddDays", "1")], "2030-05-23 09:05:00", id="filt-adddays-0"),
        pytest.param([("AddDays", "10")], "2030-06-01 09:05:00", id="filt-adddays-2"),
        pytest.param([("AddHours", "8")], "2030-05-22 17:05:00", id="filt-addhours-wrapped"),
    ],
)
def test_vector_date_arithmetic_then_format(
    filters: list[tuple[str, str]], expected: str, central_european_time: None
) -> None:
    value: str | None = "2030-05-22 09:05:00"
    for name, option in filters:
        value = run(name, value, option)
    assert run("Format", value, "yyyy-MM-dd HH:mm:ss") == expected


def test_vector_substring_then_trim() -> None:  # filt-trim-chained
    assert run("Trim", run("Substring", "Octopus Deploy", "8")) == "Octopus"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param(["7", "<|>"], "Octopus<|>", id="filt-truncate-suffix"),
        pytest.param(["50", "<|>"], "Octopus Deploy", id="filt-truncate-suffix-notrunc"),
    ],
)
def test_vector_truncate_suffix(options: list[str], expected: str) -> None:
    assert apply_filter("Truncate", "Octopus Deploy", options) == expected


def test_vector_null_filter_gives_null() -> None:  # filt-null
    assert run("null", None) is None


@pytest.mark.parametrize(
    ("name", "markdown", "html"),
    [
        pytest.param("Markdown", "_yeah!_", "<p><em>yeah!</em></p>", id="filt-md-0"),
        pytest.param("MarkdownToHtml", "_yeah!_", "<p><em>yeah!</em></p>", id="filt-md-1"),
        pytest.param(
            "MarkdownToHtml",
            "[Some link](https://octopus.com)",
            '<p><a href="https://octopus.com">Some link</a></p>',
            id="filt-md-link-3",
        ),
        pytest.param(
            "Markdown",
            "|Header1|Header2|\n|-|-|\n|Cell1|Cell2|",
            "<table>\n<thead>\n<tr>\n<th>Header1</th>\n<th>Header2</th>\n</tr>\n</thead>\n"
            "<tbody>\n<tr>\n<td>Cell1</td>\n<td>Cell2</td>\n</tr>\n</tbody>\n</table>",
            id="filt-md-table-0",
        ),
    ],
)
def test_vector_markdown(name: str, markdown: str, html: str) -> None:
    # Octostache appends a line break to the renderer's output, which ends with its own.
    assert run(name, markdown) == html + "\n\n"


# fmt: off
VERSIONS = [
    # version, major, minor, patch, revision, pre-release, its prefix, its counter, metadata
    ("1", "1", "0", "0", "0", "", "", "", ""),
    ("1.2", "1", "2", "0", "0", "", "", "", ""),
    ("1.2.3", "1", "2", "3", "0", "", "", "", ""),
    ("1.2.3.4", "1", "2", "3", "4", "", "", "", ""),
    ("1.2.3.4-branch.1", "1", "2", "3", "4", "branch.1", "branch", "1", ""),
    ("1.2.3.4-branch.1+meta", "1", "2", "3", "4", "branch.1", "branch", "1", "meta"),
    ("v1.2.3.4-branch.1+meta", "1", "2", "3", "4", "branch.1", "branch", "1", "meta"),
    ("V1.2.3.4-branch.1+meta", "1", "2", "3", "4", "branch.1", "branch", "1", "meta"),
    ("V1.2.3.4-branch.hithere+meta", "1", "2", "3", "4", "branch.hithere", "branch", "hithere", "meta"),
    ("V1.2.3.4-branch-hithere+meta", "1", "2", "3", "4", "branch-hithere", "branch", "hithere", "meta"),
    ("V1.2.3.4-branch_hithere+meta", "1", "2", "3", "4", "branch_hithere", "branch", "hithere", "meta"),
    ("19.0.0.Final", "19", "0", "0", "0", "Final", "Final", "", ""),
    ("284.0.0-debian_component_based", "284", "0", "0", "0", "debian_component_based", "debian", "component_based", ""),
    ("latest", "0", "0", "0", "0", "latest", "latest", "", ""),
    ("v1", "1", "0", "0", "0", "", "", "", ""),
    ("v1.2.3", "1", "2", "3", "0", "", "", "", ""),
]
# fmt: on
VERSION_FILTERS = (
    "VersionMajor",
    "VersionMinor",
    "VersionPatch",
    "VersionRevision",
    "VersionPreRelease",
    "VersionPreReleasePrefix",
    "VersionPreReleaseCounter",
    "VersionMetadata",
)


@pytest.mark.parametrize(
    ("name", "version", "expected"),
    [
        pytest.param(name, row[0], part, id=f"ver-{number}-{name.lower()}")
        for number, row in enumerate(VERSIONS)
        for name, part in zip(VERSION_FILTERS, row[1:], strict=True)
    ],
)
def test_vector_version_parts(name: str, version: str, expected: str) -> None:
    assert run(name, version) == expected


# ---------------------------------------------------------------------------------------------
# Looking filters up

SPEC_FILTERS = {
    "ToLower", "ToUpper", "ToBase64", "FromBase64", "HtmlEscape", "XmlEscape", "JsonEscape",
    "YamlSingleQuoteEscape", "YamlDoubleQuoteEscape", "PropertiesKeyEscape",
    "PropertiesValueEscape", "Markdown", "MarkdownToHtml", "UriEscape", "UriDataEscape",
    "NowDate", "NowDateUtc", "AddHours", "AddDays", "Format", "Replace", "Trim", "Substring",
    "Truncate", "Indent", "UriPart", "Match", "StartsWith", "EndsWith", "Contains", "Append",
    "Prepend", "Md5", "Sha1", "Sha256", "Sha384", "Sha512", "VersionMajor", "VersionMinor",
    "VersionPatch", "VersionRevision", "VersionPreRelease", "VersionPreReleasePrefix",
    "VersionPreReleaseCounter", "VersionMetadata", "null",
}  # fmt: skip


def test_filter_names_lists_every_built_in_filter() -> None:
    assert set(FILTER_NAMES) == SPEC_FILTERS


def test_filter_names_ignore_case() -> None:
    assert run("toupper", "abc") == "ABC"
    assert run("TOBASE64", "Foo Bar") == "Rm9vIEJhcg=="


def test_unknown_filter_suggests_close_names() -> None:
    with pytest.raises(UnknownFilter, match=r"'ToUper'.*did you mean 'ToUpper'"):
        run("ToUper", "abc")


def test_unknown_filter_without_close_names_suggests_nothing() -> None:
    with pytest.raises(UnknownFilter) as raised:
        run("Length", "abc")
    assert "did you mean" not in str(raised.value)


def test_unknown_filter_is_a_rejection_the_engine_echoes() -> None:
    with pytest.raises(FilterRejected):
        run("Base64Encode", "abc")


# ---------------------------------------------------------------------------------------------
# Missing arguments and option counts

# Options each filter accepts, so that only the missing argument can be the problem.
VALID_OPTIONS = {
    "AddDays": ["1"], "AddHours": ["1"], "Contains": ["a"], "EndsWith": ["a"], "Format": ["N2"],
    "Match": ["a"], "Replace": ["a"], "StartsWith": ["a"], "Substring": ["1"], "Truncate": ["1"],
    "UriPart": ["Host"],
}  # fmt: skip
WORK_WITHOUT_ARGUMENT = {"NowDate", "NowDateUtc", "Append", "Prepend", "null"}


@pytest.mark.parametrize("name", sorted(SPEC_FILTERS - WORK_WITHOUT_ARGUMENT))
def test_filters_reject_a_missing_argument(name: str) -> None:
    with pytest.raises(FilterRejected, match="needs a value"):
        apply_filter(name, None, VALID_OPTIONS.get(name, []))


@pytest.mark.parametrize("name", ["Append", "Prepend"])
def test_append_and_prepend_without_argument_give_the_options(name: str) -> None:
    assert run(name, None, "a", "b") == "ab"


@pytest.mark.parametrize(
    "name",
    [
        "ToLower", "ToUpper", "HtmlEscape", "XmlEscape", "JsonEscape", "YamlSingleQuoteEscape",
        "YamlDoubleQuoteEscape", "PropertiesKeyEscape", "PropertiesValueEscape", "Markdown",
        "MarkdownToHtml", "UriEscape", "UriDataEscape",
    ],
)  # fmt: skip
def test_filters_without_options_reject_any(name: str) -> None:
    with pytest.raises(FilterRejected, match="takes no options"):
        run(name, "abc", "x")


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("ToBase64", ["utf8", "utf8"]),
        ("FromBase64", ["utf8", "utf8"]),
        ("Format", []),
        ("Format", ["Int", "N0", "extra"]),
        ("Trim", ["Start", "End"]),
        ("Truncate", ["3", "...", "extra"]),
        ("Contains", ["a", "b"]),
        ("EndsWith", []),
        ("Match", ["a", "b"]),
        ("Append", []),
        ("Prepend", []),
        ("AddDays", []),
    ],
)
def test_wrong_option_counts_are_rejected(name: str, options: list[str]) -> None:
    with pytest.raises(FilterRejected):
        apply_filter(name, "2030-05-22", options)


# ---------------------------------------------------------------------------------------------
# Case and base64


def test_case_changes_one_character_at_a_time() -> None:
    # 'ß' has no single-character upper case, so .NET leaves it alone.
    assert run("ToUpper", "straße") == "STRAßE"
    assert run("ToLower", "ÀBC") == "àbc"


@pytest.mark.parametrize(
    ("options", "encoded"),
    [([], "Rm9vIEJhcg=="), (["utf-8"], "Rm9vIEJhcg=="), (["Unicode"], "RgBvAG8AIABCAGEAcgA=")],
)
def test_base64_round_trips_in_each_encoding(options: list[str], encoded: str) -> None:
    assert apply_filter("ToBase64", "Foo Bar", options) == encoded
    assert apply_filter("FromBase64", encoded, options) == "Foo Bar"


def test_from_base64_ignores_whitespace() -> None:
    assert run("FromBase64", "Rm9v IEJh\ncg==") == "Foo Bar"


@pytest.mark.parametrize(
    ("name", "argument", "option"),
    [
        ("ToBase64", "Foo", "ascii"),
        ("FromBase64", "Rm9v", "latin1"),
        ("FromBase64", "Rm9vIEJhcg", "utf8"),  # unpadded
        ("FromBase64", "not base64!", "utf8"),
    ],
)
def test_base64_rejects_bad_encodings_and_input(name: str, argument: str, option: str) -> None:
    with pytest.raises(FilterRejected):
        run(name, argument, option)


# ---------------------------------------------------------------------------------------------
# Escaping


@pytest.mark.parametrize(
    ("name", "argument", "expected"),
    [
        (
            "HtmlEscape",
            "<a href=\"/x\">Tom & 'Jerry'</a>",
            "&lt;a href=&quot;&#x2F;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;&#x2F;a&gt;",
        ),
        (
            "XmlEscape",
            "<a href=\"/x\">Tom & 'Jerry'</a>",
            "&lt;a href=&quot;/x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;",
        ),
        ("JsonEscape", 'Test"Test', 'Test\\"Test'),
        ("JsonEscape", "Test\rTest", "Test\\rTest"),
        ("JsonEscape", "Test\\Test", "Test\\\\Test"),
        ("JsonEscape", "Test\x08/é", "Test\x08/é"),  # other characters are left alone
        ("YamlSingleQuoteEscape", "It's", "It''s"),
        ("YamlSingleQuoteEscape", "a\n\nb", "a\n\n\nb"),
        ("YamlSingleQuoteEscape", "a\rb", "a\rb"),  # a lone CR is not a line break here
        ("YamlDoubleQuoteEscape", 'say "hi" \\ bye', 'say \\"hi\\" \\\\ bye'),
        ("YamlDoubleQuoteEscape", "é\x7f", "\\u00e9\\u007f"),
        ("YamlDoubleQuoteEscape", "😀", "\\ud83d\\ude00"),  # UTF-16 halves, as .NET sees it
        ("PropertiesKeyEscape", "a=b", "a\\=b"),
        ("PropertiesKeyEscape", "þÿ", "þ\\u00ff"),  # ISO-8859-1 stops short of U+00FF
        ("PropertiesValueEscape", "a=b:c", "a=b:c"),
        ("PropertiesValueEscape", "  a", "\\  a"),
        ("UriEscape", "100% é?q=a b#x", "100%25%20%C3%A9?q=a%20b#x"),
        ("UriDataEscape", "a-b_c.d~e f/g?h", "a-b_c.d~e%20f%2Fg%3Fh"),
        ("UriDataEscape", "A b:c+d/e", "A%20b%3Ac%2Bd%2Fe"),
    ],
)
def test_escapes(name: str, argument: str, expected: str) -> None:
    assert run(name, argument) == expected


# ---------------------------------------------------------------------------------------------
# Markdown


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("http://octopus.com", '<p><a href="http://octopus.com">http://octopus.com</a></p>'),
        (
            "see https://octopus.com/docs.",
            '<p>see <a href="https://octopus.com/docs">https://octopus.com/docs</a>.</p>',
        ),
        ("www.octopus.com", '<p><a href="http://www.octopus.com">www.octopus.com</a></p>'),
        ("mailto:me@octopus.com", '<p><a href="mailto:me@octopus.com">me@octopus.com</a></p>'),
        ("(http://octopus.com)", '<p>(<a href="http://octopus.com">http://octopus.com</a>)</p>'),
        ("[docs](http://octopus.com)", '<p><a href="http://octopus.com">docs</a></p>'),
        ("http://localhost", "<p>http://localhost</p>"),
        ("~~gone~~", "<p><del>gone</del></p>"),
        ("\n\n  # Title  \n\n", "<h1>Title</h1>"),
    ],
)
def test_markdown_links_bare_urls_as_markdig_does(markdown: str, html: str) -> None:
    assert run("Markdown", markdown) == html + "\n\n"


def test_markdown_table_alignment_is_written_as_markdig_does() -> None:
    html = run("MarkdownToHtml", "|a|b|c|\n|:-|-:|:-:|\n|1|2|3|")
    assert html is not None
    assert '<th style="text-align: left;">a</th>' in html
    assert '<td style="text-align: right;">2</td>' in html
    assert '<td style="text-align: center;">3</td>' in html


# ---------------------------------------------------------------------------------------------
# Text manipulation


@pytest.mark.parametrize(
    ("argument", "options", "expected"),
    [
        ("opuocts", ["o(.+)o([a-z]*)s", "o$2o$1s"], "octopus"),
        ("ababa", ["a$", "x"], "ababx"),
        ("a(b", ["a\\(b", "d(e"], "d(e"),
        (
            "2030-05-22",
            [r"(?<year>\d+)-(?<month>\d+)-(?<day>\d+)", "${day}/${month}/${year}"],
            "22/05/2030",
        ),
        ("abc", ["(?<name>b)(c)", "[$1|$2]"], "a[c|b]"),  # .NET numbers named groups last
        ("abc", ["b", "[$&|$0|$$|$9|\\1]"], "a[b|b|$|$9|\\1]c"),
        ("abc", ["(b)", "$10"], "ab0c"),  # the longest prefix that names a group
        ("abc", ["b", "<$`|$'>"], "a<a|c>c"),
        ("a\nb\n", [r"b\Z", "x"], "a\nx\n"),
    ],
)
def test_replace_uses_dotnet_regex_and_substitutions(
    argument: str, options: list[str], expected: str
) -> None:
    assert apply_filter("Replace", argument, options) == expected


@pytest.mark.parametrize("name", ["Replace", "Match"])
def test_invalid_regular_expressions_are_rejected(name: str) -> None:
    with pytest.raises(FilterRejected, match="regular expression"):
        run(name, "abc", "(unclosed")


@pytest.mark.parametrize(
    ("options", "expected"),
    [(["Start"], "x  "), (["end"], "  x"), ([], "x"), (["START"], "x  ")],
)
def test_trim(options: list[str], expected: str) -> None:
    assert apply_filter("Trim", "  x  ", options) == expected


def test_trim_uses_dotnet_whitespace() -> None:
    assert run("Trim", "\u3000x\xa0") == "x"
    assert run("Trim", "\x1fx") == "\x1fx"  # not whitespace to .NET


def test_trim_rejects_other_sides() -> None:
    with pytest.raises(FilterRejected, match="Start or End"):
        run("Trim", " x ", "Middle")


@pytest.mark.parametrize(
    ("options", "expected"),
    [(["3"], "Oct"), (["8", "3"], "Dep"), (["0"], ""), (["+3"], "Oct"), (["14"], "Octopus Deploy")],
)
def test_substring(options: list[str], expected: str) -> None:
    assert apply_filter("Substring", "Octopus Deploy", options) == expected


@pytest.mark.parametrize("options", [["15", "1"], ["-1"], ["1.5"], ["a", "1"]])
def test_substring_rejects_bad_positions(options: list[str]) -> None:
    with pytest.raises(FilterRejected):
        apply_filter("Substring", "Octopus Deploy", options)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["0"], "a\nb"),
        (["/2"], "a\n  b"),
        (["2/0"], "  a\nb"),
        (["> ", "  "], "> a\n  b"),
        (["\t"], "\ta\n\tb"),
        (["1000"], "1000a\n1000b"),  # four digits are not a size
    ],
)
def test_indent(options: list[str], expected: str) -> None:
    assert apply_filter("Indent", "a\nb", options) == expected


def test_indent_of_empty_text_is_empty_whatever_the_options() -> None:
    assert run("Indent", "", "a", "b", "c") == ""


def test_truncate_to_zero_keeps_only_the_suffix() -> None:
    assert run("Truncate", "Octopus", "0") == "..."


# ---------------------------------------------------------------------------------------------
# UriPart


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        ("AbsolutePath", "/docs/guides"),
        ("AbsoluteUri", "https://user:secret@octopus.com:8443/docs/guides?filter=faq#top"),
        ("Authority", "octopus.com:8443"),
        ("DnsSafeHost", "octopus.com"),
        ("Fragment", "#top"),
        ("Host", "octopus.com"),
        ("HostAndPort", "octopus.com:8443"),
        ("HostNameType", "Dns"),
        ("IsAbsoluteUri", "true"),
        ("IsDefaultPort", "false"),
        ("IsFile", "false"),
        ("IsLoopback", "false"),
        ("IsUnc", "false"),
        ("Path", "/docs/guides"),
        ("PathAndQuery", "/docs/guides?filter=faq"),
        ("Port", "8443"),
        ("Query", "?filter=faq"),
        ("Scheme", "https"),
        ("SchemeAndServer", "https://octopus.com:8443"),
        ("UserInfo", "user:secret"),
        ("hOsT", "octopus.com"),
    ],
)
def test_uri_parts(part: str, expected: str) -> None:
    assert run("UriPart", SAMPLE_URI, part) == expected


@pytest.mark.parametrize(
    ("uri", "part", "expected"),
    [
        ("http://octopus.com", "AbsolutePath", "/"),
        ("http://octopus.com", "IsDefaultPort", "true"),
        ("http://octopus.com/a%20b", "Path", "/a b"),
        ("http://127.0.0.1:8080/", "HostNameType", "IPv4"),
        ("http://127.0.0.1:8080/", "IsLoopback", "true"),
        ("http://[::1]/", "HostNameType", "IPv6"),
        ("http://[::1]/", "DnsSafeHost", "::1"),
        ("file:///C:/temp/a.txt", "Path", "C:\\temp\\a.txt"),
        ("file:///C:/temp/a.txt", "IsFile", "true"),
        ("\\\\server\\share\\a.txt", "IsUnc", "true"),
        ("\\\\server\\share\\a.txt", "Path", "\\\\server\\share\\a.txt"),
        ("C:\\temp\\a.txt", "AbsoluteUri", "file:///C:/temp/a.txt"),
        ("mailto:me@octopus.com", "Host", "octopus.com"),
        ("/docs", "IsAbsoluteUri", "false"),
        (
            "/docs",
            "Path",
            "[UriPart Path error: This operation is not supported for a relative URI.]",
        ),
        ("https://octopus.com", "Bar", "[UriPart Bar error: argument 'Bar' not supported]"),
        ("http://", "Host", "http://"),  # not an address .NET reads: passed through
        ("http://octopus.com:99999/", "Port", "http://octopus.com:99999/"),
    ],
)
def test_uri_parts_of_other_addresses(uri: str, part: str, expected: str) -> None:
    assert run("UriPart", uri, part) == expected


# ---------------------------------------------------------------------------------------------
# Comparisons and hashes


def test_match_searches_anywhere_with_dotnet_named_groups() -> None:
    assert run("Match", "version 1.2", r"(?<major>\d+)\.(?<minor>\d+)") == "true"
    assert run("Match", "abc", "^b") == "false"


def test_comparisons_are_ordinal_and_case_sensitive() -> None:
    assert run("StartsWith", "Abc", "a") == "false"
    assert run("EndsWith", "abC", "c") == "false"
    assert run("Contains", "abc", "") == "true"


def test_hash_digest_size_is_clamped_to_the_digest() -> None:
    assert run("Md5", "", "17") == "d41d8cd98f00b204e9800998ecf8427e"


@pytest.mark.parametrize("options", [["utf8", "unicode"], ["4", "4"], ["base64", "base64"]])
def test_hash_rejects_an_option_given_twice(options: list[str]) -> None:
    with pytest.raises(FilterRejected):
        apply_filter("Sha256", "YmFy", options)


def test_hashes_read_text_as_utf8_unless_told_otherwise() -> None:
    assert run("Sha1", "é") == "bf15be717ac1b080b4f1c456692825891ff5073d"
    assert run("Sha1", "é", "unicode") == "29cb44b6fba6968e58a7088a126fedc445f76645"


# ---------------------------------------------------------------------------------------------
# Current time


def test_now_date_is_this_machines_time_without_a_zone() -> None:
    value = run("NowDate", None)
    assert value is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}", value)
    assert abs(datetime.fromisoformat(value[:26]) - datetime.now()).total_seconds() < 60


def test_now_date_utc_is_marked_as_utc() -> None:
    value = run("NowDateUtc", None)
    assert value is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", value)


def test_now_date_takes_a_format() -> None:
    assert run("NowDate", None, "yyyy") == str(datetime.now().year)


def test_now_date_utc_formats_with_a_zero_offset() -> None:
    assert run("Format", run("NowDateUtc", None), "DateTimeOffset", "zz") == "+00"


def test_now_date_formats_with_this_machines_offset(central_european_time: None) -> None:
    assert run("Format", run("NowDate", None), "DateTimeOffset", "zz") in ("+01", "+02")


@pytest.mark.parametrize(
    ("argument", "options"),
    [("", []), ("2030", []), (None, ["yyyy", "MM"]), (None, ["K"]), (None, ["fffffffff"])],
)
@pytest.mark.parametrize("name", ["NowDate", "NowDateUtc"])
def test_now_date_rejects_an_argument_extra_options_and_bad_formats(
    name: str, argument: str | None, options: list[str]
) -> None:
    with pytest.raises(FilterRejected):
        apply_filter(name, argument, options)


# ---------------------------------------------------------------------------------------------
# Date arithmetic


@pytest.mark.parametrize(
    ("name", "date", "amount", "expected"),
    [
        ("AddHours", "2030-05-22T09:05:00Z", "1", "2030-05-22T10:05:00.0000000Z"),
        ("AddHours", "2030-05-22T09:05:00+02:00", "1", "2030-05-22T10:05:00.0000000+02:00"),
        ("AddDays", "2030-05-22T09:05:00.1234567-05:30", "-1", "2030-05-21T09:05:00.1234567-05:30"),
        ("AddHours", "2030-05-22T17:05:00.0000000", "1e1", "2030-05-23T03:05:00.0000000"),
        ("AddDays", "22 May 2030", "0.5", "2030-05-22T12:00:00.0000000"),
        ("AddDays", "2030/05/22 09:05:00", "-365", "2029-05-22T09:05:00.0000000"),
    ],
)
def test_date_arithmetic_keeps_the_kind_of_time(
    name: str, date: str, amount: str, expected: str, central_european_time: None
) -> None:
    assert run(name, date, amount) == expected


@pytest.mark.parametrize(
    ("name", "date", "amount"),
    [
        ("AddHours", "2030-05-22", "1,5"),
        ("AddHours", "2030-05-22", "NaN"),
        ("AddHours", "2030-05-22", "Infinity"),
        ("AddDays", "9999-12-31", "1"),
        ("AddDays", "0001-01-01", "-1"),
        ("AddDays", "2030-02-30", "1"),
    ],
)
def test_date_arithmetic_rejects_bad_amounts_dates_and_overflow(
    name: str, date: str, amount: str
) -> None:
    with pytest.raises(FilterRejected):
        run(name, date, amount)


# ---------------------------------------------------------------------------------------------
# Format: numbers


@pytest.mark.parametrize(
    ("argument", "options", "expected"),
    [
        # standard formats, en-US
        ("23.4", ["C"], "$23.40"),
        ("23.4", ["Double", "C"], "$23.40"),
        ("-23.4", ["C0"], "-$23"),
        ("1234.5678", ["N"], "1,234.57"),
        ("1234.5678", ["n0"], "1,235"),
        ("1234.5678", ["F1"], "1234.6"),
        ("0.4567", ["P1"], "45.7%"),
        ("1234.5678", ["E2"], "1.23E+003"),
        ("1234.5678", ["e"], "1.234568e+003"),
        ("23.40", ["G"], "23.40"),
        ("12345.678", ["G4"], "1.235E+04"),
        ("1e15", ["Double", "G"], "1E+15"),
        ("0.00001", ["Double", "G"], "1E-05"),
        ("0.1", ["Double", "R"], "0.1"),
        ("42", ["Int", "D5"], "00042"),
        ("-42", ["Int32", "D5"], "-00042"),
        ("255", ["int", "X4"], "00FF"),
        ("-1", ["Int", "x"], "ffffffff"),
        # what decimal.TryParse accepts
        ("1,234.5", ["N2"], "1,234.50"),
        (" 5- ", ["0.0"], "-5.0"),
        # custom formats
        ("2.5", ["0"], "3"),
        ("1234567.891", ["#,##0.00"], "1,234,567.89"),
        ("0.5", ["#.##"], ".5"),
        ("0", ["#.##"], ""),
        ("1.2", ["00.000"], "01.200"),
        ("1234567890", ["(###) ###-####"], "(123) 456-7890"),
        ("0.1234", ["0.0%"], "12.3%"),
        ("1234567", ["#,##0,,"], "1"),
        ("-5", ["0;(0);zero"], "(5)"),
        ("0", ["0;(0);zero"], "zero"),
        ("12345", ["0.00E+00"], "1.23E+04"),
        ("42", ["'#'0"], "#42"),
        ("42", ["\\#0"], "#42"),
        ("-0.001", ["Double", "0.00"], "-0.00"),
        ("-0.001", ["0.00"], "0.00"),
        ("0.1", ["Double", "0.0000000000000000"], "0.1000000000000000"),
        # A number is tried first, so a date format applied to a number is mostly literal text.
        ("2030", ["yyyy"], "yyyy"),
    ],
)
def test_format_numbers(argument: str, options: list[str], expected: str) -> None:
    assert apply_filter("Format", argument, options) == expected


@pytest.mark.parametrize(
    ("argument", "options"),
    [
        ("abc", ["N2"]),
        ("12", ["D"]),  # D and X are for integers; a lone format reads the value as a decimal
        ("12", ["Decimal", "X"]),
        ("12", ["Int", "Q"]),
        ("1.5", ["Int", "N0"]),
        ("12", ["Money", "N0"]),
        ("2147483648", ["Int", "N0"]),
    ],
)
def test_format_rejects_unreadable_numbers_and_formats(argument: str, options: list[str]) -> None:
    with pytest.raises(FilterRejected):
        apply_filter("Format", argument, options)


# ---------------------------------------------------------------------------------------------
# Format: dates


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("d", "5/22/2030"),
        ("D", "Wednesday, May 22, 2030"),
        ("f", "Wednesday, May 22, 2030 9:05 AM"),
        ("F", "Wednesday, May 22, 2030 9:05:00 AM"),
        ("g", "5/22/2030 9:05 AM"),
        ("G", "5/22/2030 9:05:00 AM"),
        ("M", "May 22"),
        ("O", "2030-05-22T09:05:00.0000000"),
        ("R", "Wed, 22 May 2030 09:05:00 GMT"),
        ("s", "2030-05-22T09:05:00"),
        ("t", "9:05 AM"),
        ("T", "9:05:00 AM"),
        ("u", "2030-05-22 09:05:00Z"),
        ("y", "May 2030"),
        ("dd/MM/yy", "22/05/30"),
        ("ddd d MMM", "Wed 22 May"),
        ("dddd, MMMM", "Wednesday, May"),
        ("hh:mm tt", "09:05 AM"),
        ("h:m:s t", "9:5:0 A"),
        ("yyyyy", "02030"),
        ("yyyy-MM-ddTHH:mm:ss.fff", "2030-05-22T09:05:00.000"),
        ("HH:mm:ss.FFF", "09:05:00"),
        ("'Day' d", "Day 22"),
        ('"at" H\\h', "at 9h"),
        ("%d", "22"),
        ("%M", "5"),
        ("%K", ""),  # no zone: nothing to show
        ("gg yyyy", "A.D. 2030"),
    ],
)
def test_format_dates(fmt: str, expected: str) -> None:
    assert run("Format", "2030-05-22 09:05:00", "Date", fmt) == expected


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("fff", "123"), ("FFFFFFF", "1234567"), ("ss.ffff", "00.1234"), ("ss.FFFF", "00.1234")],
)
def test_format_fractions_of_a_second(fmt: str, expected: str) -> None:
    assert run("Format", "2030-05-22T09:05:00.1234567", "DateTime", fmt) == expected


@pytest.mark.parametrize(
    "date",
    [
        "2030-05-22 21:05",
        "2030/05/22 21:05:00",
        "2030-05-22T21:05:00.0000000",
        "05/22/2030 9:05 PM",
        "5/22/30 21:05",
        "22 May 2030 21:05",
        "May 22, 2030 9:05 pm",
        "Wednesday, May 22, 2030 9:05:00 PM",
    ],
)
def test_format_reads_dates_as_dotnet_does(date: str) -> None:
    assert run("Format", date, "Date", "yyyy-MM-dd HH:mm") == "2030-05-22 21:05"


@pytest.mark.parametrize(
    ("argument", "options"),
    [
        ("2030-02-30", ["Date", "yyyy"]),
        ("Thu, 22 May 2030", ["Date", "yyyy"]),  # 22 May 2030 is a Wednesday
        ("2030-05-22 25:00", ["Date", "yyyy"]),
        ("hello World", ["DateTimeOffset", "yyyy"]),
        ("2030-05-22", ["Date", "K"]),  # one letter: a standard format, and K is none
        ("2030-05-22", ["Date", "ffffffff"]),
        ("2030-05-22", ["Date", "'unclosed"]),
        ("2030-05-22", ["Date", "yyyy\\"]),
        ("2030-05-22", ["DateTimeOffset", "U"]),
    ],
)
def test_format_rejects_unreadable_dates_and_formats(argument: str, options: list[str]) -> None:
    with pytest.raises(FilterRejected):
        apply_filter("Format", argument, options)


@pytest.mark.parametrize(
    ("argument", "options", "expected"),
    [
        # DateTime converts a time with a zone to this machine's time
        ("2030-05-22T09:05:00Z", ["Date", "HH:mm %K"], "11:05 +02:00"),
        ("2030-05-22T09:05:00-05:00", ["DateTime", "HH:mm zzz"], "16:05 +02:00"),
        # DateTimeOffset keeps the zone it is given, and gives this machine's to the others
        ("2030-05-22T09:05:00+05:30", ["DateTimeOffset", "HH:mm zzz"], "09:05 +05:30"),
        ("2030-05-22 09:05:00", ["DateTimeOffset", "zzz"], "+02:00"),
        ("2030-01-22 09:05:00", ["DateTimeOffset", "%z"], "+1"),
        ("2030-05-22T09:05:00+05:30", ["DateTimeOffset", "u"], "2030-05-22 03:35:00Z"),
        ("2030-05-22 09:05:00", ["Date", "U"], "Wednesday, May 22, 2030 7:05:00 AM"),
        # a lone format reads dates as DateTimeOffset
        ("2030-05-22T09:05:00+05:30", ["O"], "2030-05-22T09:05:00.0000000+05:30"),
        ("2030-05-22 09:05:00", ["yyyy-MM-ddTHH:mmzzz"], "2030-05-22T09:05+02:00"),
    ],
)
def test_format_dates_with_zones(
    argument: str, options: list[str], expected: str, central_european_time: None
) -> None:
    assert apply_filter("Format", argument, options) == expected


# ---------------------------------------------------------------------------------------------
# Versions


@pytest.mark.parametrize("version", ["", "   ", "1.2.3-be ta", "1.2.3!", "9999999999.1"])
def test_unreadable_versions_are_rejected(version: str) -> None:
    with pytest.raises(FilterRejected, match="could not read a version"):
        run("VersionMajor", version)
