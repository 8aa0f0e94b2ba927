"""XML Document Transforms: every transform and locator, layout kept byte for byte, errors."""

from __future__ import annotations

import difflib
import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from steptemplates.errors import StepsError
from steptemplates.execution.config import xmlfiles
from steptemplates.execution.config.xdt import (
    TransformPair,
    apply_transform,
    parse_additional_transforms,
    transform_bytes,
    transform_pairs,
)

DATA = Path(__file__).parent / "data" / "xdt"
CASES = sorted(path.name for path in (DATA / "cases").iterdir())
XDT = 'xmlns:xdt="http://schemas.microsoft.com/XML-Document-Transform"'


def _transform(target: bytes | str, transform: bytes | str, **options: object) -> bytes:
    as_bytes = [t.encode() if isinstance(t, str) else t for t in (target, transform)]
    warnings: list[str] = []
    result = transform_bytes(*as_bytes, warn=warnings.append, **options)  # type: ignore[arg-type]
    assert list(result.warnings) == warnings
    return result.data


def _changed_lines(before: bytes, after: bytes) -> list[str]:
    diff = difflib.unified_diff(
        before.decode("utf-8-sig").splitlines(keepends=True),
        after.decode("utf-8-sig").splitlines(keepends=True),
        n=0,
    )
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


# -- transforms and locators ------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_each_case_gives_the_expected_document_byte_for_byte(case: str) -> None:
    folder = DATA / "cases" / case
    result = _transform(
        (folder / "source.config").read_bytes(), (folder / "transform.config").read_bytes()
    )
    assert result.decode() == (folder / "expected.config").read_text()


def test_a_typical_release_transform_changes_only_what_it_names() -> None:
    result = transform_bytes(
        (DATA / "Web.config").read_bytes(),
        (DATA / "Web.Release.config").read_bytes(),
        warn=pytest.fail,
    )
    assert result.data == (DATA / "Web.expected.config").read_bytes()
    assert result.changed
    assert result.applied[0] == (
        "SetAttributes /configuration/connectionStrings/add[@name='DefaultConnection']"
    )
    assert "Remove /configuration/system.webServer/httpErrors" in result.applied
    assert len(result.applied) == 10


def test_children_are_matched_after_their_parent_was_transformed() -> None:
    # The inserted <rules> is there by the time its child's SetAttributes runs.
    result = _transform(
        "<c>\n  <rewrite />\n</c>\n",
        f'<c {XDT}>\n  <rewrite>\n    <rules xdt:Transform="Insert">\n'
        f'      <clear />\n    </rules>\n    <rules enabled="false" '
        f'xdt:Transform="SetAttributes" />\n  </rewrite>\n</c>\n',
    )
    assert result.decode() == (
        '<c>\n  <rewrite>\n    <rules enabled="false">\n      <clear />\n    </rules>\n'
        "  </rewrite>\n</c>\n"
    )


def test_match_quotes_values_that_contain_apostrophes() -> None:
    source = '<c>\n  <add key="it\'s" value="1" />\n  <add key="other" value="1" />\n</c>\n'
    transform = f'<c {XDT}><add key="it\'s" value="2" xdt:Transform="SetAttributes(value)" xdt:Locator="Match(key)" /></c>'
    assert _transform(source, transform).decode() == source.replace('value="1"', 'value="2"', 1)


def test_relative_xpath_locator_extends_the_element_path() -> None:
    source = '<c>\n  <items>\n    <item name="a" />\n    <item name="b" />\n  </items>\n</c>\n'
    transform = (
        f'<c {XDT}><items xdt:Locator="XPath(item[@name=\'b\'])" xdt:Transform="Remove" /></c>'
    )
    # items/item[@name='b'] relative to /c/items: the located <item> is removed.
    assert _transform(source, transform).decode() == source.replace('    <item name="b" />\n', "")


def test_replacing_the_root_element_replaces_the_document_content() -> None:
    source = '<?xml version="1.0"?>\n<!-- kept -->\n<c a="1">\n  <old />\n</c>\n'
    transform = f'<c {XDT} xdt:Transform="Replace" b="2">\n  <new />\n</c>'
    assert _transform(source, transform).decode() == (
        '<?xml version="1.0"?>\n<!-- kept -->\n<c b="2">\n  <new />\n</c>\n'
    )


def test_transform_attributes_and_namespace_never_reach_the_output() -> None:
    transform = (
        f'<c {XDT}>\n  <new xdt:Transform="Insert" xdt:Locator="Condition(true())">\n'
        f'    <inner xdt:SupressWarnings="true" a="1" />\n  </new>\n</c>'
    )
    result = _transform("<c>\n  <old />\n</c>", transform).decode()
    assert "xdt" not in result
    assert result == '<c>\n  <old />\n  <new>\n    <inner a="1" />\n  </new>\n</c>'


def test_namespaced_attributes_copied_by_set_attributes_get_a_declaration() -> None:
    transform = f'<c {XDT} xmlns:x="urn:x"><a x:flag="on" xdt:Transform="SetAttributes" /></c>'
    result = _transform("<c>\n  <a />\n</c>", transform).decode()
    assert result == '<c>\n  <a xmlns:x="urn:x" x:flag="on" />\n</c>'
    assert etree.fromstring(result.encode())[0].get("{urn:x}flag") == "on"


# -- layout ----------------------------------------------------------------------------------


def test_changing_one_attribute_changes_exactly_one_line_and_keeps_bom_crlf_and_comments() -> None:
    source = (DATA / "preserved.config").read_bytes()
    transform = (
        f'<configuration {XDT}><appSettings><add key="Spacing" value="changed" '
        'xdt:Transform="SetAttributes" xdt:Locator="Match(key)" /></appSettings></configuration>'
    )
    result = _transform(source, transform)
    assert result.startswith(b"\xef\xbb\xbf<!-- Deployed")
    assert result.count(b"\r\n") == source.count(b"\r\n")
    assert b"\n" not in result.replace(b"\r\n", b"")
    assert _changed_lines(source, result) == [
        '-\t\t<add   key="Spacing"    value="kept" ></add>\r\n',
        '+\t\t<add   key="Spacing"    value="changed" ></add>\r\n',
    ]


def test_a_transform_that_changes_nothing_leaves_every_byte() -> None:
    source = (DATA / "preserved.config").read_bytes()
    transform = f'<configuration {XDT}><text xdt:Transform="RemoveAttributes(missing)" xdt:SupressWarnings="true" /></configuration>'
    result = transform_bytes(source, transform.encode(), warn=pytest.fail)
    assert result.data == source
    assert not result.changed


@pytest.mark.parametrize(
    "declaration",
    [
        b"",
        b'<?xml version="1.0"?>\n',
        b"<?xml version='1.0' encoding='iso-8859-1' standalone='yes' ?>\n",
    ],
)
def test_the_declaration_and_encoding_are_kept(declaration: bytes) -> None:
    encoding = "iso-8859-1" if b"iso" in declaration else "utf-8"
    source = declaration + '<c a="é">ü</c>\n'.encode(encoding)
    transform = f'<c {XDT} b="ß" xdt:Transform="SetAttributes(b)" />'.encode()
    result = _transform(source, transform)
    assert result == declaration + '<c a="é" b="ß">ü</c>\n'.encode(encoding)


def test_characters_the_encoding_cannot_hold_become_character_references() -> None:
    source = b"<?xml version='1.0' encoding='us-ascii'?>\n<c a='1'/>"
    transform = f'<c {XDT} a="€" xdt:Transform="SetAttributes" />'.encode()
    assert (
        _transform(source, transform)
        == b"<?xml version='1.0' encoding='us-ascii'?>\n<c a='&#8364;'/>"
    )


def test_utf16_files_stay_utf16_with_their_byte_order_mark() -> None:
    source = '<?xml version="1.0" encoding="utf-16"?>\r\n<c>\r\n  <a x="1" />\r\n</c>'.encode(
        "utf-16"
    )
    transform = f'<c {XDT}><a x="2" xdt:Transform="SetAttributes" /></c>'.encode()
    result = _transform(source, transform)
    assert (
        result.decode("utf-16")
        == '<?xml version="1.0" encoding="utf-16"?>\r\n<c>\r\n  <a x="2" />\r\n</c>'
    )
    assert result[:2] == source[:2]


def test_inserted_text_gets_the_target_line_endings() -> None:
    source = b"<c>\r\n  <a />\r\n</c>\r\n"
    transform = f'<c {XDT}>\n  <b xdt:Transform="Insert">\n    <d />\n  </b>\n</c>\n'.encode()
    assert (
        _transform(source, transform)
        == b"<c>\r\n  <a />\r\n  <b>\r\n    <d />\r\n  </b>\r\n</c>\r\n"
    )


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0" standalone="no"?>\n<!DOCTYPE c [\n  <!ENTITY co "Acme">\n  <!-- ] > -->\n]>\n<c>&co; &#169;<a/></c>',
        b"<c\n  a = 'x'\n  b=\"y\"\n><!-- c --><?p data?><![CDATA[<raw>]]>&amp;&gt;<d></d></c >\n\n",
        b'<p:c xmlns:p="urn:p" xmlns="urn:d"><p:a p:x="1"/><b xml:lang="en"/></p:c>',
    ],
)
def test_documents_round_trip_byte_for_byte(document: bytes) -> None:
    assert xmlfiles.to_bytes(xmlfiles.parse_xml(document, name="t")) == document


_SPACE = st.sampled_from([" ", "  ", "\n  ", "\r\n\t", "\n"])
_TEXT = st.lists(
    st.sampled_from(["a", " ", "\n", "\r\n", "&amp;", "&lt;", "&#233;", "&#x20AC;", ">", "é", "'"]),
    max_size=6,
).map("".join)
_VALUE = st.lists(
    st.sampled_from(["v", " ", "&amp;", "&quot;", "&#10;", ">", "é"]), max_size=4
).map("".join)


@st.composite
def _attributes(draw: st.DrawFn) -> str:
    names = draw(st.lists(st.sampled_from(["k", "v", "x:w", "xml:lang"]), unique=True, max_size=3))
    return "".join(
        f'{draw(_SPACE)}{name}{draw(st.sampled_from(["=", " = "]))}"{draw(_VALUE)}"'
        for name in names
    )


@st.composite
def _element(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(st.sampled_from(["a", "item", "x:b", "y.z"]))
    declarations = ' xmlns:x="urn:x"' if depth == 0 else ""
    before_close = draw(st.sampled_from(["", " ", "\n"]))
    start = f"<{name}{declarations}{draw(_attributes())}{before_close}"
    if depth > 2 or draw(st.booleans()):
        return start + "/>"
    parts = draw(
        st.lists(
            st.one_of(
                _TEXT,
                st.just("<!-- note -->"),
                st.just("<?pi some data?>"),
                st.just("<![CDATA[<raw> & ]]>"),
                _element(depth + 1),
            ),
            max_size=4,
        )
    )
    return f"{start}>{''.join(parts)}</{name}{draw(st.sampled_from(['', ' ']))}>"


@st.composite
def _document(draw: st.DrawFn) -> bytes:
    declaration = draw(
        st.sampled_from(
            ["", '<?xml version="1.0"?>\n', "<?xml version='1.0' encoding='utf-8' ?>\r\n"]
        )
    )
    before = draw(st.sampled_from(["", "<!-- top -->\n"]))
    after = draw(st.sampled_from(["", "\n", "\n<!-- end -->\n"]))
    text = declaration + before + draw(_element()) + after
    return draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + text.encode()


@settings(max_examples=150, deadline=None)
@given(_document())
def test_any_document_round_trips_byte_for_byte(document: bytes) -> None:
    assert xmlfiles.to_bytes(xmlfiles.parse_xml(document, name="t")) == document


@settings(max_examples=150, deadline=None)
@given(_document(), st.sampled_from(["plain", "q\"u'o<t>&e", "line\nbreak\ttab"]))
def test_edited_documents_read_back_as_the_edited_tree(document: bytes, value: str) -> None:
    parsed = xmlfiles.parse_xml(document, name="t")
    elements = [e for e in parsed.root.iter() if isinstance(e.tag, str)]
    for index, element in enumerate(elements):
        element.set("k" if index % 2 else "{urn:y}new", value)
        if len(element) == 0:
            element.text = value
    written = xmlfiles.to_bytes(parsed)
    assert etree.tostring(etree.fromstring(written), method="c14n") == etree.tostring(
        parsed.root, method="c14n"
    )


# -- no match: error or warning -----------------------------------------------------------------


_MISSING = f"""<configuration {XDT}>
  <system.web>
    <machineKey validation="SHA1" xdt:Transform="SetAttributes" />
  </system.web>
  <appSettings>
    <add key="b" value="2" xdt:Transform="Insert" />
  </appSettings>
</configuration>
"""
_TARGET = "<configuration>\n  <appSettings />\n</configuration>\n"


def test_a_path_that_matches_nothing_is_an_error_naming_both_files_the_line_and_the_path() -> None:
    with pytest.raises(StepsError) as raised:
        transform_bytes(
            _TARGET.encode(), _MISSING.encode(), target_name="Web.config",
            transform_name="Web.Release.config", warn=pytest.fail,
        )  # fmt: skip
    message = str(raised.value)
    assert message.startswith(
        "Web.Release.config:3: no element in Web.config matches '/configuration/system.web' "
        "(needed for '/configuration/system.web/machineKey'); "
    )
    assert "\n" not in message
    assert "TreatConfigTransformationWarningsAsErrors" in message


def test_without_warnings_as_errors_a_miss_is_a_warning_and_the_rest_still_applies() -> None:
    warnings: list[str] = []
    result = transform_bytes(
        _TARGET.encode(), _MISSING.encode(), target_name="Web.config",
        transform_name="Web.Release.config", warn=warnings.append, warnings_as_errors=False,
    )  # fmt: skip
    assert warnings == [
        "Web.Release.config:3: no element in Web.config matches '/configuration/system.web' "
        "(needed for '/configuration/system.web/machineKey')"
    ]
    assert result.warnings == tuple(warnings)
    assert result.data.decode() == (
        '<configuration>\n  <appSettings>\n    <add key="b" value="2" />\n  </appSettings>\n'
        "</configuration>\n"
    )


def test_a_locator_that_matches_nothing_names_its_own_path() -> None:
    transform = f'<c {XDT}>\n  <a x="9" xdt:Transform="Remove" xdt:Locator="Match(x)" />\n</c>'
    with pytest.raises(StepsError) as raised:
        _transform('<c><a x="1"/></c>', transform, target_name="Web.config")
    assert str(raised.value).startswith(
        "transform:2: no element in Web.config matches '/c/a[@x='9']'; fix the element path"
    )


def test_a_missing_insert_parent_names_the_outermost_missing_element() -> None:
    transform = (
        f'<c {XDT}>\n  <a>\n    <b>\n      <new xdt:Transform="Insert" />\n    </b>\n  </a>\n</c>'
    )
    with pytest.raises(
        StepsError,
        match=r"^transform:4: no element in target matches '/c/a' \(needed for '/c/a/b'\); ",
    ):
        _transform("<c/>", transform)


def test_insert_before_a_missing_sibling_is_a_miss() -> None:
    transform = f'<c {XDT}><new xdt:Transform="InsertBefore(/c/none)" /></c>'
    with pytest.raises(StepsError, match=r"^transform:1: no element in target matches '/c/none'"):
        _transform("<c><a/></c>", transform)


def test_suppressed_warnings_neither_fail_nor_warn() -> None:
    transform = f'<c {XDT}><none xdt:Transform="Remove" xdt:SupressWarnings="True" /></c>'
    assert _transform("<c><a/></c>", transform) == b"<c><a/></c>"


def test_remove_attributes_naming_absent_attributes_is_a_warning() -> None:
    warnings: list[str] = []
    transform_bytes(
        b"<c>\n  <compilation />\n</c>",
        f'<c {XDT}>\n  <compilation xdt:Transform="RemoveAttributes(debug)" />\n</c>'.encode(),
        target_name="Web.config", warn=warnings.append, warnings_as_errors=False,
    )  # fmt: skip
    assert warnings == [
        "transform:2: RemoveAttributes(debug): <compilation> at line 2 of Web.config has none "
        "of these attributes"
    ]


def test_arguments_to_a_transform_that_takes_none_and_unknown_xdt_attributes_warn() -> None:
    warnings: list[str] = []
    transform = (
        f'<c {XDT}>\n  <a xdt:Transfrom="Remove" />\n  <b xdt:Transform="Remove(x)" />\n</c>'
    )
    transform_bytes(
        b"<c><a/><b/></c>", transform.encode(), warn=warnings.append, warnings_as_errors=False
    )
    assert warnings == [
        "transform:2: unknown attribute xdt:Transfrom",
        "transform:3: xdt:Transform 'Remove' takes no arguments; 'x' is ignored",
    ]


# -- bad transforms and bad XML ---------------------------------------------------------------


def test_an_unknown_transform_is_an_error_with_the_file_and_line() -> None:
    transform = "\n".join(
        [
            f"<configuration {XDT}>",
            *["  <!-- padding -->"] * 10,
            '  <a xdt:Transform="Replase" />',
            "</configuration>",
        ]
    )
    with pytest.raises(StepsError) as raised:
        _transform(
            "<configuration><a/></configuration>", transform, transform_name="Web.Release.config"
        )
    assert str(raised.value) == (
        "Web.Release.config:12: unknown xdt:Transform 'Replase'; did you mean 'Replace'?"
    )


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        (
            'xdt:Locator="Match(key" xdt:Transform="Remove"',
            "transform:1: bad xdt:Locator 'Match(key'; ",
        ),
        (
            'xdt:Locator="Find(key)" xdt:Transform="Remove"',
            "transform:1: unknown xdt:Locator 'Find'; ",
        ),
        (
            'xdt:Locator="Match()" xdt:Transform="Remove"',
            "transform:1: xdt:Locator 'Match' needs attribute names; ",
        ),
        (
            'xdt:Locator="Match(name)" xdt:Transform="Remove"',
            "transform:1: xdt:Locator 'Match(name)' names 'name', which the element does not have; ",
        ),
        (
            'xdt:Locator="Condition()" xdt:Transform="Remove"',
            "transform:1: xdt:Locator 'Condition()' needs an argument; ",
        ),
        (
            'xdt:Locator="Condition(@a=)" xdt:Transform="Remove"',
            "transform:1: invalid XPath '/c/a[@a=]': ",
        ),
        (
            'xdt:Transform="InsertAfter"',
            "transform:1: xdt:Transform 'InsertAfter' needs an XPath; ",
        ),
        (
            'xdt:Transform="Remove" xdt:SupressWarnings="maybe"',
            "transform:1: xdt:SupressWarnings is 'maybe'; ",
        ),
    ],
)
def test_malformed_locators_and_transforms_are_errors(attributes: str, message: str) -> None:
    with pytest.raises(StepsError) as raised:
        _transform("<c><a/></c>", f"<c {XDT}><a {attributes} /></c>")
    assert str(raised.value).startswith(message)


def test_the_root_element_cannot_be_removed() -> None:
    with pytest.raises(StepsError, match=r"^transform:1: the root element cannot be removed"):
        _transform("<c/>", f'<c {XDT} xdt:Transform="Remove" />')


@pytest.mark.parametrize("which", ["target", "transform"])
def test_invalid_xml_in_either_file_names_the_file_line_and_column(which: str) -> None:
    broken = '<configuration>\n  <appSettings>\n    <add key="a" value="1">\n  </appSettings>\n</configuration>\n'
    files = {"target": "<configuration/>", "transform": f"<configuration {XDT}/>"}
    files[which] = broken
    with pytest.raises(StepsError) as raised:
        _transform(
            files["target"],
            files["transform"],
            target_name="Web.config",
            transform_name="Web.Release.config",
        )
    name = "Web.config" if which == "target" else "Web.Release.config"
    assert str(raised.value) == (
        f"{name}: invalid XML at line 4, column 17: Opening and ending tag mismatch: add line 3 "
        "and appSettings; fix the file"
    )


# -- files --------------------------------------------------------------------------------------


def test_apply_transform_writes_the_target_in_place(tmp_path: Path) -> None:
    target = tmp_path / "Web.config"
    shutil.copy(DATA / "Web.config", target)
    result = apply_transform(target, DATA / "Web.Release.config", warn=pytest.fail)
    assert target.read_bytes() == (DATA / "Web.expected.config").read_bytes() == result.data
    assert [p.name for p in tmp_path.iterdir()] == ["Web.config"]  # no temporary file left


def test_apply_transform_to_another_output_leaves_the_target(tmp_path: Path) -> None:
    output = tmp_path / "out" / "Web.config"
    apply_transform(
        DATA / "Web.config", DATA / "Web.Release.config", output=output, warn=pytest.fail
    )
    assert output.read_bytes() == (DATA / "Web.expected.config").read_bytes()


def test_a_target_the_transform_does_not_change_is_not_rewritten(tmp_path: Path) -> None:
    target = tmp_path / "Web.config"
    target.write_bytes(b"<c>\n  <a x='1' />\n</c>\n")
    os.utime(target, (1_000_000, 1_000_000))
    transform = tmp_path / "Web.Release.config"
    transform.write_text(f'<c {XDT}><a x="1" xdt:Transform="SetAttributes" /></c>')
    result = apply_transform(target, transform, warn=pytest.fail)
    assert not result.changed
    assert target.stat().st_mtime == 1_000_000


def test_a_missing_transform_file_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(StepsError, match=r"^cannot read .*Web\.Missing\.config: "):
        apply_transform(DATA / "Web.config", tmp_path / "Web.Missing.config", warn=pytest.fail)


# -- which transforms apply to which files ------------------------------------------------------


def _tree(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("<configuration />")


def _pairs(root: Path, **options: object) -> list[tuple[str, str]]:
    settings: dict[str, object] = {
        "environment": None, "tenant": None, "automatic": True, "additional": [],
        "already_applied": set(),
    }  # fmt: skip
    settings.update(options)
    found = transform_pairs(root, **settings)  # type: ignore[arg-type]
    return [
        (pair.transform.relative_to(root).as_posix(), pair.target.relative_to(root).as_posix())
        for pair in found
    ]


def test_release_then_environment_then_tenant(tmp_path: Path) -> None:
    _tree(
        tmp_path, "Web.config", "Web.Release.config", "Web.Production.config", "Web.Test.config",
        "Web.Acme.config", "Web.Debug.config",
    )  # fmt: skip
    assert _pairs(tmp_path, environment="Production", tenant="Acme") == [
        ("Web.Release.config", "Web.config"),
        ("Web.Production.config", "Web.config"),
        ("Web.Acme.config", "Web.config"),
    ]


def test_file_names_compare_without_case_and_every_folder_is_searched(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        "web.config",
        "Web.RELEASE.config",
        "bin/App.exe.config",
        "bin/App.exe.release.config",
    )
    assert _pairs(tmp_path) == [
        ("bin/App.exe.release.config", "bin/App.exe.config"),
        ("Web.RELEASE.config", "web.config"),
    ]


def test_without_automatic_only_the_additional_rules_apply(tmp_path: Path) -> None:
    _tree(tmp_path, "Web.config", "Web.Release.config", "Web.Custom.config")
    assert _pairs(tmp_path, automatic=False, additional=["Web.Custom.config => Web.config"]) == [
        ("Web.Custom.config", "Web.config")
    ]


def test_additional_rules_come_before_the_automatic_ones_in_the_order_given(tmp_path: Path) -> None:
    _tree(tmp_path, "Web.config", "Web.Release.config", "Web.B.config", "Web.A.config")
    assert _pairs(tmp_path, additional=["Web.B.config", "Web.A.config => Web.config"]) == [
        ("Web.B.config", "Web.config"),
        ("Web.A.config", "Web.config"),
        ("Web.Release.config", "Web.config"),
    ]


def test_a_bare_middle_name_works_like_the_automatic_rule(tmp_path: Path) -> None:
    _tree(tmp_path, "Web.config", "Web.Blue.config", "App.config", "App.Blue.config")
    assert _pairs(tmp_path, automatic=False, additional=["Blue"]) == [
        ("App.Blue.config", "App.config"),
        ("Web.Blue.config", "Web.config"),
    ]


def test_wildcards_on_both_sides_stand_for_the_same_text(tmp_path: Path) -> None:
    _tree(tmp_path, "foo.config", "bar.config", "foo.Transform.config", "bar.Transform.config")
    assert _pairs(tmp_path, automatic=False, additional=["*.Transform.config => *.config"]) == [
        ("bar.Transform.config", "bar.config"),
        ("foo.Transform.config", "foo.config"),
    ]


def test_a_wildcard_transform_applies_every_match_to_one_target(tmp_path: Path) -> None:
    _tree(tmp_path, "Target.config", "a.Transform.config", "b.Transform.config", "Other.config")
    assert _pairs(
        tmp_path, automatic=False, additional=["*.Transform.config => Target.config"]
    ) == [
        ("a.Transform.config", "Target.config"),
        ("b.Transform.config", "Target.config"),
    ]


def test_a_target_folder_in_the_rule_is_found_relative_to_the_transform(tmp_path: Path) -> None:
    _tree(tmp_path, "Transform.config", "Path/foo.config", "Path/bar.xml", "Else/foo.config")
    assert _pairs(tmp_path, automatic=False, additional=["Transform.config => Path/*.config"]) == [
        ("Transform.config", "Path/foo.config")
    ]


def test_a_transform_folder_in_the_rule_is_relative_to_the_target(tmp_path: Path) -> None:
    _tree(tmp_path, "site/Web.config", "site/transforms/Web.Prod.config")
    rules = ["transforms\\Web.Prod.config => Web.config"]
    assert _pairs(tmp_path, automatic=False, additional=rules) == [
        ("site/transforms/Web.Prod.config", "site/Web.config")
    ]


def test_an_absolute_transform_and_other_extensions(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    _tree(tmp_path, "elsewhere/Settings.Prod.xml", "app/Settings.xml")
    found = transform_pairs(
        tmp_path / "app", environment=None, tenant=None, automatic=True,
        additional=[f"{elsewhere}/Settings.Prod.xml => Settings.xml"], already_applied=set(),
    )  # fmt: skip
    assert found == [TransformPair(elsewhere / "Settings.Prod.xml", tmp_path / "app/Settings.xml")]


def test_transforms_already_applied_are_skipped(tmp_path: Path) -> None:
    _tree(tmp_path, "Web.config", "Web.Release.config", "Web.Production.config")
    applied = {tmp_path / "Web.Release.config"}
    assert _pairs(tmp_path, environment="Production", already_applied=applied) == [
        ("Web.Production.config", "Web.config")
    ]


def test_a_file_never_transforms_itself_and_a_pair_is_listed_once(tmp_path: Path) -> None:
    _tree(tmp_path, "Web.config", "Web.Release.config")
    # An environment called Release names the same pair again; "*.config => Web.config"
    # would make Web.config its own transform.
    assert _pairs(tmp_path, environment="Release", additional=["*.config => Web.config"]) == [
        ("Web.Release.config", "Web.config")
    ]


def test_a_transform_file_is_not_a_target_of_a_transform_derived_from_itself(
    tmp_path: Path,
) -> None:
    _tree(tmp_path, "Web.config", "Web.Release.config")
    pairs = _pairs(tmp_path, additional=["*.Release.config => *.config"])
    assert pairs == [("Web.Release.config", "Web.config")]


def test_additional_transforms_split_on_commas_and_line_breaks() -> None:
    text = " Web.A.config => Web.config,\r\n*.B.config => *.config\n\n , Blue "
    assert parse_additional_transforms(text) == [
        "Web.A.config => Web.config", "*.B.config => *.config", "Blue",
    ]  # fmt: skip
    assert parse_additional_transforms("") == []


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("=> Web.config", "additional XML transform '=> Web.config' is not a rule; "),
        (
            "a.config => /abs/Web.config",
            "additional XML transform 'a.config => /abs/Web.config' has an absolute target; ",
        ),
        (
            "*.*.config => *.config",
            "additional XML transform '*.*.config => *.config' has a '*' outside",
        ),
        (
            "dir*/a.config => a.config",
            "additional XML transform 'dir*/a.config => a.config' has a '*' outside",
        ),
    ],
)
def test_bad_additional_rules_are_errors(tmp_path: Path, rule: str, message: str) -> None:
    with pytest.raises(StepsError) as raised:
        _pairs(tmp_path, additional=[rule])
    assert str(raised.value).startswith(message)
    assert re.fullmatch(r"[^\n]+", str(raised.value))
