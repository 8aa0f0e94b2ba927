"""Tag parsing, ordering, ranges, selection and no-match messages."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steptemplates.versions import (
    Version,
    caret_range_for,
    parse_range,
    parse_version,
    version_from_tag,
)


def v(text: str) -> Version:
    return parse_version(text)


def vs(*texts: str) -> list[Version]:
    return [parse_version(t) for t in texts]


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "release", "prerelease", "build", "shown"),
    [
        ("1.2.3", (1, 2, 3), (), "", "1.2.3"),
        ("v1.2.3", (1, 2, 3), (), "", "1.2.3"),
        ("V2.0", (2, 0, 0), (), "", "2.0.0"),
        ("1.2", (1, 2, 0), (), "", "1.2.0"),
        ("7", (7, 0, 0), (), "", "7.0.0"),
        ("1.2.3.4", (1, 2, 3, 4), (), "", "1.2.3.4"),
        ("1.2.3.0", (1, 2, 3), (), "", "1.2.3"),
        ("1.2.3-beta.1", (1, 2, 3), ("beta", 1), "", "1.2.3-beta.1"),
        ("1.2.3-1", (1, 2, 3), (1,), "", "1.2.3-1"),
        ("1.2.3-x-y.0a", (1, 2, 3), ("x-y", "0a"), "", "1.2.3-x-y.0a"),
        ("1.2.3--", (1, 2, 3), ("-",), "", "1.2.3--"),
        ("1.2.3+build.5", (1, 2, 3), (), "build.5", "1.2.3"),
        ("1.2.3-rc.1+sha.abc", (1, 2, 3), ("rc", 1), "sha.abc", "1.2.3-rc.1"),
        ("1.2.3rc1", (1, 2, 3), ("rc", 1), "", "1.2.3-rc.1"),
        ("1.2.3b2", (1, 2, 3), ("b", 2), "", "1.2.3-b.2"),
        ("1.2a10", (1, 2, 0), ("a", 10), "", "1.2.0-a.10"),
        ("1.2.3RC1", (1, 2, 3), ("rc", 1), "", "1.2.3-rc.1"),
        ("1.2.3.4-beta", (1, 2, 3, 4), ("beta",), "", "1.2.3.4-beta"),
        ("01.002.3", (1, 2, 3), (), "", "1.2.3"),
    ],
)
def test_tags_that_are_versions(
    tag: str, release: tuple[int, ...], prerelease: tuple[int | str, ...], build: str, shown: str
) -> None:
    version = version_from_tag(tag)
    assert version is not None
    assert version.release == release
    assert version.prerelease == prerelease
    assert version.build == build
    assert str(version) == shown
    assert version.is_prerelease == bool(prerelease)


@pytest.mark.parametrize(
    "tag",
    [
        "",
        "v",
        "latest",
        "release-1.2",
        "1.2.3-",
        "1.2.3+",
        "1.2.3-beta..1",
        "1.2.3-beta.",
        "1.2.3+build..5",
        "1.2.3.4.5",
        "1..2",
        "1.2.",
        ".1.2",
        "vv1.2.3",
        "1.2.3rc",
        "1.2.3c1",
        "1.2.3-beta_1",
        " 1.2.3",
        "1.2.3\n",
        "1.2.3-ü",
        "\u0661.\u0662.\u0663",  # Arabic-Indic digits, which int() would accept
        "refs/tags/v1.2.3",
    ],
)
def test_tags_that_are_not_versions(tag: str) -> None:
    assert version_from_tag(tag) is None
    with pytest.raises(ValueError, match="is not a version"):
        parse_version(tag)


def test_repr_shows_build_metadata() -> None:
    assert repr(v("v1.2.3+b.5")) == "Version('1.2.3+b.5')"


# --- ordering ------------------------------------------------------------------------------


def test_semver_spec_precedence_chain() -> None:
    chain = vs(
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
    )
    for lower, higher in itertools.pairwise(chain):
        assert lower < higher
        assert not higher < lower
        assert lower != higher
    assert sorted(reversed(chain)) == chain


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.2.3-1", "1.2.3"),
        ("1.2.3", "1.2.4"),
        ("1.2.9", "1.2.10"),
        ("1.9.0", "1.10.0"),
        ("1.2.3", "1.2.3.1"),
        ("1.2.3.1", "1.2.4"),
        ("1.2.3.4-rc.1", "1.2.3.4"),
        ("1.2.3-2", "1.2.3-10"),
        ("1.2.3-99", "1.2.3-a"),
        ("1.2.3-rc", "1.2.3-rc.1"),
        ("1.2.3rc1", "1.2.3rc2"),
        ("1.2.3b2", "1.2.3rc1"),
        ("0.9", "1"),
        ("1.0.0-ALPHA", "1.0.0-beta"),
        ("1.0.0-alpha", "1.0.0-BETA"),
    ],
)
def test_order(lower: str, higher: str) -> None:
    assert v(lower) < v(higher)
    assert v(higher) > v(lower)
    assert v(lower) <= v(higher)
    assert max(v(lower), v(higher)) == v(higher)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.2", "1.2.0"),
        ("v1.2.3", "1.2.3"),
        ("1.2.3.0", "1.2.3"),
        ("1.2.3+build.1", "1.2.3+build.2"),
        ("1.2.3+build.1", "1.2.3"),
        ("1.0.0-alpha", "1.0.0-Alpha"),
        ("1.0.0-RC.1", "1.0.0-rc.1"),
        ("1.2.3rc1", "1.2.3-rc.1"),
    ],
)
def test_equal_versions_hash_alike(a: str, b: str) -> None:
    assert v(a) == v(b)
    assert hash(v(a)) == hash(v(b))
    assert len({v(a), v(b)}) == 1


def test_compare_with_other_types() -> None:
    assert v("1.2.3") != "1.2.3"
    with pytest.raises(TypeError):
        _ = v("1.2.3") < "1.2.4"


def test_constructed_directly_compares_like_parsed() -> None:
    assert Version((1, 2)) == v("1.2.0")
    assert str(Version((1, 2))) == "1.2.0"
    assert str(Version((1, 2, 3, 0), ("beta", 2))) == "1.2.3-beta.2"


# --- ranges --------------------------------------------------------------------------------

AVAILABLE = vs(
    "0.0.3",
    "0.0.4",
    "0.1.0",
    "0.2.3",
    "0.2.9",
    "0.3.0",
    "1.0.0",
    "1.2.0",
    "1.2.3",
    "1.2.3.4",
    "1.2.5",
    "1.2.9",
    "1.3.0",
    "1.9.9",
    "2.0.0",
    "2.1.0",
    "2.1.1",
    "3.0.0",
)


def matching(range_text: str, candidates: list[Version] = AVAILABLE) -> list[str]:
    version_range = parse_range(range_text)
    return [str(c) for c in candidates if version_range.matches(c)]


@pytest.mark.parametrize(
    ("range_text", "expected"),
    [
        (">=2.1", ["2.1.0", "2.1.1", "3.0.0"]),
        (">2.1.0", ["2.1.1", "3.0.0"]),
        ("<0.2", ["0.0.3", "0.0.4", "0.1.0"]),
        ("<=0.1.0", ["0.0.3", "0.0.4", "0.1.0"]),
        ("==1.2.3", ["1.2.3"]),
        ("==1.2", ["1.2.0"]),
        (">=1.2.3, <1.3, !=1.2.5", ["1.2.3", "1.2.3.4", "1.2.9"]),
        ("==1.2.*", ["1.2.0", "1.2.3", "1.2.3.4", "1.2.5", "1.2.9"]),
        ("==1.2.3.*", ["1.2.3", "1.2.3.4"]),
        ("!=1.*, >=0.3", ["0.3.0", "2.0.0", "2.1.0", "2.1.1", "3.0.0"]),
        ("~=1.2", ["1.2.0", "1.2.3", "1.2.3.4", "1.2.5", "1.2.9", "1.3.0", "1.9.9"]),
        ("~=1.2.0", ["1.2.0", "1.2.3", "1.2.3.4", "1.2.5", "1.2.9"]),
        ("~=1.2.4", ["1.2.5", "1.2.9"]),
        ("~=2.1.0.5", []),
        ("^1.2.3", ["1.2.3", "1.2.3.4", "1.2.5", "1.2.9", "1.3.0", "1.9.9"]),
        ("^1.2", ["1.2.0", "1.2.3", "1.2.3.4", "1.2.5", "1.2.9", "1.3.0", "1.9.9"]),
        ("^0.2.3", ["0.2.3", "0.2.9"]),
        ("^0.0.3", ["0.0.3"]),
        ("^0", ["0.0.3", "0.0.4", "0.1.0", "0.2.3", "0.2.9", "0.3.0"]),
        ("^0.0", ["0.0.3", "0.0.4"]),
        ("^2", ["2.0.0", "2.1.0", "2.1.1"]),
        ("~1.2.3", ["1.2.3", "1.2.3.4", "1.2.5", "1.2.9"]),
        ("~1.2", ["1.2.0", "1.2.3", "1.2.3.4", "1.2.5", "1.2.9"]),
        ("~1", ["1.0.0", "1.2.0", "1.2.3", "1.2.3.4", "1.2.5", "1.2.9", "1.3.0", "1.9.9"]),
        ("~0.2.5", ["0.2.9"]),
        ("*", [str(c) for c in AVAILABLE]),
        ("1.*", ["1.0.0", "1.2.0", "1.2.3", "1.2.3.4", "1.2.5", "1.2.9", "1.3.0", "1.9.9"]),
        ("1.2.x", ["1.2.0", "1.2.3", "1.2.3.4", "1.2.5", "1.2.9"]),
        ("v2.X", ["2.0.0", "2.1.0", "2.1.1"]),
        ("x", [str(c) for c in AVAILABLE]),
        ("1.2.3", ["1.2.3"]),
        ("v1.2.3", ["1.2.3"]),
        ("1.2", ["1.2.0"]),
        ("1.2.3.4", ["1.2.3.4"]),
        ("1.2.3+anything", ["1.2.3"]),
        ("  >= 1.2.5 ,<  2 ", ["1.2.5", "1.2.9", "1.3.0", "1.9.9"]),
        (">=3,<2", []),
    ],
)
def test_range_forms(range_text: str, expected: list[str]) -> None:
    assert matching(range_text) == expected


@pytest.mark.parametrize(
    ("range_text", "inside", "outside"),
    [
        ("^1.2.3", "1.99.99.99", "2.0.0"),
        ("^0.2.3", "0.2.99", "0.3.0"),
        ("^0.0.3", "0.0.3.9", "0.0.4"),
        ("^1.2", "1.99.0", "2.0.0"),
        ("^0", "0.99.99", "1.0.0"),
        ("^0.0", "0.0.99", "0.1.0"),
        ("^0.0.0", "0.0.0.9", "0.0.1"),
        ("^1.2.3.4", "1.99.0", "2.0.0"),
        ("^0.0.0.4", "0.0.0.4", "0.0.0.5"),
        ("~1.2.3", "1.2.99", "1.3.0"),
        ("~1.2", "1.2.99", "1.3.0"),
        ("~1", "1.99.0", "2.0.0"),
        ("~1.2.3.4", "1.2.99", "1.3.0"),
    ],
)
def test_caret_and_tilde_upper_bounds(range_text: str, inside: str, outside: str) -> None:
    version_range = parse_range(range_text)
    assert version_range.matches(v(inside))
    assert not version_range.matches(v(outside))


def test_range_keeps_text_as_written() -> None:
    assert parse_range(" ^1.2 ").text == " ^1.2 "
    assert str(parse_range(">=1, <2")) == ">=1, <2"


@pytest.mark.parametrize(
    ("range_text", "detail"),
    [
        ("", "it is empty"),
        ("   ", "it is empty"),
        (">>1", "'>1' is not a version"),
        ("^", "'^' needs a version after it"),
        (">=", "'>=' needs a version after it"),
        ("1.2.3.4.5", "'1.2.3.4.5' is not a version"),
        ("~=1", "~= needs at least two release parts"),
        ("~=1.*", "not ~="),
        ("abc", "'abc' is not a version"),
        ("latest", "'latest' is not a version"),
        (">=1.2,", "a comparator between commas is empty"),
        (">=1.2,,<2", "a comparator between commas is empty"),
        (">=1.2 <2", "'1.2 <2' is not a version"),
        ("=1.2.3", "'=1.2.3' is not a version"),
        ("===1.2.3", "'=1.2.3' is not a version"),
        (">=1.*", "a wildcard works only on its own or after == or !=, not >="),
        ("^1.x", "not ^"),
        ("==*", "not =="),
        ("1.*.3", "'1.*.3' is not a version"),
        ("1.2.3.4.*", "'1.2.3.4.*' is not a version"),
        ("1.2 || 2.0", "is not a version"),
    ],
)
def test_bad_ranges_explain_the_accepted_forms(range_text: str, detail: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_range(range_text)
    message = str(raised.value)
    assert message.startswith(f"invalid version range {range_text!r}: ")
    assert detail in message
    assert "use 1.2.3 (exact), ^1.2 or ~1.2.3" in message
    assert "\n" not in message


# --- prereleases ---------------------------------------------------------------------------

WITH_PRERELEASES = vs("1.9.0", "2.0.0-rc.1", "2.0.0", "2.1.0-beta.1", "3.0.0-alpha", "3.0.0-rc.2")


def test_prereleases_are_excluded_by_default() -> None:
    assert matching(">=2", WITH_PRERELEASES) == ["2.0.0"]
    assert parse_range("*").select(WITH_PRERELEASES) == v("2.0.0")
    assert parse_range("^3").select(WITH_PRERELEASES) is None


def test_prereleases_allowed_by_the_caller() -> None:
    version_range = parse_range(">=2")
    assert version_range.select(WITH_PRERELEASES, prereleases=True) == v("3.0.0-rc.2")
    assert not version_range.names_prerelease


@pytest.mark.parametrize(
    ("range_text", "selected"),
    [
        (">=2.0.0-rc.1", "3.0.0-rc.2"),
        ("2.0.0-rc.1", "2.0.0-rc.1"),
        ("==2.1.0-BETA.1", "2.1.0-beta.1"),
        ("^2.0.0-rc.1", "2.1.0-beta.1"),
        (">=1.0, <3.0.0-rc.1", "3.0.0-alpha"),
        ("3.0.0rc2", "3.0.0-rc.2"),
    ],
)
def test_naming_a_prerelease_allows_them_for_the_whole_range(
    range_text: str, selected: str
) -> None:
    version_range = parse_range(range_text)
    assert version_range.names_prerelease
    assert version_range.select(WITH_PRERELEASES) == v(selected)


def test_upper_bound_keeps_out_prereleases_of_the_excluded_release() -> None:
    candidates = vs("1.9.0", "2.0.0-rc.1")
    assert parse_range("^1.0").select(candidates, prereleases=True) == v("1.9.0")
    assert parse_range("<2").select(candidates, prereleases=True) == v("1.9.0")
    assert parse_range("<=2").select(candidates, prereleases=True) == v("2.0.0-rc.1")
    assert parse_range("<2.0.0-rc.2").select(candidates) == v("2.0.0-rc.1")


def test_wildcards_do_not_name_prereleases() -> None:
    candidates = vs("1.0.0-rc.1")
    assert parse_range("1.*").select(candidates) is None
    assert parse_range("1.*").select(candidates, prereleases=True) == v("1.0.0-rc.1")


# --- select --------------------------------------------------------------------------------


def test_select_picks_the_highest_match() -> None:
    assert parse_range("^1.2").select(AVAILABLE) == v("1.9.9")
    assert parse_range("~1.2.3").select(AVAILABLE) == v("1.2.9")
    assert parse_range("^0.2.3").select(AVAILABLE) == v("0.2.9")
    assert parse_range("==1.2.3.*").select(AVAILABLE) == v("1.2.3.4")
    assert parse_range("^4").select(AVAILABLE) is None
    assert parse_range("*").select([]) is None


def test_select_accepts_any_iterable_in_any_order() -> None:
    shuffled = iter(reversed(AVAILABLE))
    assert parse_range("<2").select(shuffled) == v("1.9.9")


def test_callers_map_selection_back_to_tags() -> None:
    tags = ["v1.0.0", "1.1.0+build.7", "latest", "v2.0.0-rc.1", "release-3"]
    by_version = {version: tag for tag in tags if (version := version_from_tag(tag))}
    chosen = parse_range("^1").select(by_version)
    assert chosen is not None
    assert by_version[chosen] == "1.1.0+build.7"


# --- nearest and messages ------------------------------------------------------------------

SPARSE = vs("1.0.0", "2.4.1", "2.5.0", "4.0.0", "4.1.0")


def test_nearest_straddles_the_lower_bound_in_ascending_order() -> None:
    version_range = parse_range("^3.0")
    assert version_range.nearest(SPARSE, limit=3) == vs("2.4.1", "2.5.0", "4.0.0")
    assert version_range.nearest(SPARSE, limit=1) == vs("2.5.0")
    assert version_range.nearest(SPARSE, limit=2) == vs("2.5.0", "4.0.0")
    assert version_range.nearest(SPARSE) == SPARSE


def test_nearest_fills_from_one_side_when_the_other_runs_out() -> None:
    assert parse_range(">=5").nearest(SPARSE, limit=3) == vs("2.5.0", "4.0.0", "4.1.0")
    assert parse_range("==0.5").nearest(SPARSE, limit=2) == vs("1.0.0", "2.4.1")


def test_nearest_uses_the_upper_bound_then_the_top() -> None:
    assert parse_range("<1.0").nearest(SPARSE, limit=2) == vs("1.0.0", "2.4.1")
    assert parse_range("!=4.1.0, !=4.0.0").nearest(SPARSE, limit=2) == vs("4.0.0", "4.1.0")


def test_nearest_uses_the_tightest_lower_bound() -> None:
    assert parse_range(">=1, >=4.0.5").nearest(SPARSE, limit=2) == vs("4.0.0", "4.1.0")
    assert parse_range("~=3.1").nearest(SPARSE, limit=2) == vs("2.5.0", "4.0.0")
    assert parse_range("3.*").nearest(SPARSE, limit=2) == vs("2.5.0", "4.0.0")


def test_nearest_shows_prereleases_only_where_no_stable_version_is_nearer() -> None:
    candidates = [*SPARSE, *vs("2.4.2-rc.1", "2.6.0-beta", "3.0.0-rc.1", "4.0.1-beta")]
    assert parse_range("^3.0").nearest(candidates) == vs(
        "2.5.0", "2.6.0-beta", "3.0.0-rc.1", "4.0.0", "4.1.0"
    )
    assert parse_range("^3.0").nearest(candidates, limit=3) == vs(
        "2.6.0-beta", "3.0.0-rc.1", "4.0.0"
    )
    assert parse_range("==2.0").nearest(candidates, limit=3) == vs("1.0.0", "2.4.1", "2.5.0")


def test_nearest_with_prereleases_allowed_counts_them_all() -> None:
    candidates = [*SPARSE, *vs("2.4.2-rc.1", "4.0.1-beta")]
    assert parse_range("==2.0").nearest(candidates, limit=3, prereleases=True) == vs(
        "1.0.0", "2.4.1", "2.4.2-rc.1"
    )
    assert parse_range(">=3.9.0-rc.1").nearest(candidates, limit=2) == vs("2.5.0", "4.0.0")


def test_nearest_falls_back_to_prereleases_when_nothing_is_stable() -> None:
    candidates = vs("0.1.0-alpha", "0.2.0-beta", "5.0.0-rc.1")
    assert parse_range("^1").nearest(candidates, limit=2) == vs("0.2.0-beta", "5.0.0-rc.1")
    assert parse_range("*").nearest(candidates, limit=2) == vs("0.2.0-beta", "5.0.0-rc.1")


def test_nearest_ignores_duplicates_and_empty_input() -> None:
    assert parse_range("^3").nearest(vs("v2.0.0", "2.0.0", "2.0", "2.0.0+b")) == vs("2.0.0")
    assert parse_range("^3").nearest([]) == []


def test_message_lists_nearest_versions() -> None:
    message = parse_range("^3.0").describe_no_match(SPARSE[1:4])
    assert message == "no version matches '^3.0'; nearest available: 2.4.1, 2.5.0, 4.0.0"


def test_message_when_nothing_is_available() -> None:
    assert parse_range("^3.0").describe_no_match([]) == "no versions are available"


def test_message_when_only_prereleases_match() -> None:
    candidates = [*SPARSE, *vs("3.1.0-rc.1", "3.0.1-beta.2", "5.0.0-rc.1")]
    version_range = parse_range("^3.0")
    assert version_range.select(candidates) is None
    assert version_range.describe_no_match(candidates) == (
        "only prereleases match '^3.0': 3.0.1-beta.2, 3.1.0-rc.1 "
        "(allow them with prerelease = true)"
    )


def test_message_shows_prereleases_of_the_asked_release_among_the_nearest() -> None:
    # 3.0.0-rc.1 sorts below 3.0.0, so ^3.0 does not match it even with prereleases allowed.
    candidates = [*SPARSE, v("3.0.0-rc.1")]
    assert parse_range("^3.0").describe_no_match(candidates) == (
        "no version matches '^3.0'; nearest available: 2.4.1, 2.5.0, 3.0.0-rc.1, 4.0.0, 4.1.0"
    )


def test_message_when_prereleases_are_allowed_but_none_match() -> None:
    candidates = vs("1.0.0", "2.0.0-rc.1")
    message = parse_range("^3").describe_no_match(candidates, prereleases=True)
    assert message == "no version matches '^3'; nearest available: 1.0.0, 2.0.0-rc.1"


# --- caret_range_for -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("v1.2.3", "^1.2.3"),
        ("0.2.3", "^0.2.3"),
        ("0.0.3", "^0.0.3"),
        ("1.2", "^1.2.0"),
        ("1.2.3.4", "^1.2.3.4"),
        ("1.2.3+build.9", "^1.2.3"),
        ("2.0.0-rc.1", "^2.0.0-rc.1"),
    ],
)
def test_caret_range_for(version: str, expected: str) -> None:
    assert caret_range_for(v(version)) == expected


def test_caret_range_for_zero_major_stays_within_the_minor() -> None:
    version_range = parse_range(caret_range_for(v("0.2.3")))
    assert version_range.select(vs("0.2.3", "0.2.8", "0.3.0", "1.0.0")) == v("0.2.8")


# --- properties ----------------------------------------------------------------------------

_numbers = st.integers(min_value=0, max_value=30)
_words = st.text(alphabet="09azAZ-", min_size=1, max_size=5).filter(lambda w: not w.isdigit())
_identifiers = st.lists(st.one_of(_numbers.map(str), _words), min_size=1, max_size=3)


@st.composite
def version_texts(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(["", "v", "V"]))
    text += ".".join(map(str, draw(st.lists(_numbers, min_size=1, max_size=4))))
    kind = draw(st.sampled_from(["stable", "semver", "pep440"]))
    if kind == "semver":
        text += "-" + ".".join(draw(_identifiers))
    elif kind == "pep440":
        text += draw(st.sampled_from(["a", "b", "rc", "RC"])) + str(draw(_numbers))
    if draw(st.booleans()):
        text += "+" + ".".join(draw(_identifiers))
    return text


versions = version_texts().map(parse_version)


@given(versions)
def test_display_text_round_trips(version: Version) -> None:
    again = parse_version(str(version))
    assert str(again) == str(version)
    assert again == version


@given(versions, versions, versions)
def test_order_is_total_and_consistent_with_equality(a: Version, b: Version, c: Version) -> None:
    assert sum([a < b, a == b, a > b]) == 1
    assert (a <= b and b <= a) == (a == b)
    if a == b:
        assert hash(a) == hash(b)
    if a <= b and b <= c:
        assert a <= c


@given(versions)
def test_caret_range_selects_the_version_it_was_made_for(version: Version) -> None:
    version_range = parse_range(caret_range_for(version))
    assert version_range.select([version]) == version


@given(st.lists(versions, max_size=8), st.integers(min_value=0, max_value=6))
def test_nearest_returns_distinct_sorted_candidates(candidates: list[Version], limit: int) -> None:
    result = parse_range("^3.1").nearest(candidates, limit=limit)
    assert result == sorted(set(result))
    assert set(result) <= set(candidates)
    assert len(result) <= limit
    assert bool(result) == bool(candidates and limit)
    if not any(c.is_prerelease for c in candidates):
        assert len(result) == min(limit, len(set(candidates)))
