from __future__ import annotations

import pytest

from steptemplates.nuget.ids import id_from_name, id_problem, parse_package_version


@pytest.mark.parametrize(
    ("written", "normalised", "full", "lower"),
    [
        ("1.0", "1.0.0", "1.0.0", "1.0.0"),
        ("1", "1.0.0", "1.0.0", "1.0.0"),
        ("01.2.3", "1.2.3", "1.2.3", "1.2.3"),
        ("1.01.1", "1.1.1", "1.1.1", "1.1.1"),
        ("1.0.0.0", "1.0.0", "1.0.0", "1.0.0"),
        ("1.2.3.4", "1.2.3.4", "1.2.3.4", "1.2.3.4"),
        ("1.2.3.0-rc.1", "1.2.3-rc.1", "1.2.3-rc.1", "1.2.3-rc.1"),
        ("1.2.3-Beta.1", "1.2.3-Beta.1", "1.2.3-Beta.1", "1.2.3-beta.1"),
        ("1.0.0+build.5", "1.0.0", "1.0.0+build.5", "1.0.0"),
        ("2.1-RC.2+Sha.ABC", "2.1.0-RC.2", "2.1.0-RC.2+Sha.ABC", "2.1.0-rc.2"),
        ("v3.0", "3.0.0", "3.0.0", "3.0.0"),
        (" 1.2.3 ", "1.2.3", "1.2.3", "1.2.3"),
    ],
)
def test_version_forms(written: str, normalised: str, full: str, lower: str) -> None:
    version = parse_package_version(written)
    assert (version.normalised, version.full, version.lower) == (normalised, full, lower)


@pytest.mark.parametrize(
    "written", ["", "latest", "1.2.3.4.5", "1.2.3-", "1.2.3-beta..1", "2147483648.0.0", "1.x"]
)
def test_invalid_versions(written: str) -> None:
    with pytest.raises(ValueError):
        parse_package_version(written)


@pytest.mark.parametrize(
    "text", ["Acme.Web", "a", "A_b-c.d1", "_x", "Acme.Web.1.2", "x" * 100, "7zip"]
)
def test_valid_ids(text: str) -> None:
    assert id_problem(text) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "it is empty"),
        ("x" * 101, "it is longer than 100 characters"),
        (".Acme", "an id is letters"),
        ("Acme.", "an id is letters"),
        ("Acme..Web", "an id is letters"),
        ("Acme.-Web", "an id is letters"),
        ("Acme Web", "an id is letters"),
        ("Acme/Web", "an id is letters"),
        ("Dé", "an id is letters"),
    ],
)
def test_invalid_ids(text: str, problem: str) -> None:
    assert (id_problem(text) or "").startswith(problem)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("http-health-check", "http-health-check"),
        ("Deploy Web", "Deploy-Web"),
        ("My template (v2)!", "My-template-v2"),
        ("Déployer l'app", "Deployer-l-app"),
        ("a -- b", "a-b"),
        ("a..b", "a.b"),
        ("a. b", "a-b"),
        ("  .lead and trail.  ", "lead-and-trail"),
        ("under_score", "under_score"),
        ("!!!", None),
        ("日本語", None),
    ],
)
def test_id_from_name(name: str, expected: str | None) -> None:
    assert id_from_name(name) == expected


def test_id_from_a_long_name_is_cut_to_a_valid_id() -> None:
    derived = id_from_name("word " * 40)
    assert derived is not None
    assert len(derived) <= 100
    assert id_problem(derived) is None
    assert derived.startswith("word-word")
