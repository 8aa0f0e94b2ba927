from __future__ import annotations

from pathlib import Path

import pytest

from steptemplates.execution.artifacts import CollectedArtifact, collect_artifacts, safe_name
from steptemplates.execution.script import ArtifactRequest


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.txt", "report.txt"),
        ("../../etc/passwd", "passwd"),
        ("/etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("logs/", "logs"),
        ("", "source.log"),
        (".", "source.log"),
        ("..", "source.log"),
        ("../..", "source.log"),
        ("a\0b\nc.txt", "abc.txt"),
        ("\0", "source.log"),
        ("rapport é.txt", "rapport é.txt"),
    ],
)
def test_safe_name(name: str, expected: str) -> None:
    assert safe_name(name, "source.log") == expected


def test_safe_name_when_nothing_usable_is_left() -> None:
    assert safe_name("..", "/") == "artifact"


def test_collects_copies_with_unique_plain_names(tmp_path: Path) -> None:
    source = tmp_path / "work"
    source.mkdir()
    (source / "a.txt").write_text("first")
    (source / "b.txt").write_text("second!")
    dest = tmp_path / "artifacts" / "run"
    requests = [
        ArtifactRequest(source / "a.txt", "report.txt", 5),
        ArtifactRequest(source / "b.txt", "../report.txt", None),
        ArtifactRequest(source / "a.txt", "/tmp/report.txt", None),
        ArtifactRequest(source / "b.txt", "..", None),
    ]
    collected = collect_artifacts(requests, dest)
    assert collected == (
        CollectedArtifact("report.txt", dest / "report.txt", 5),
        CollectedArtifact("report-2.txt", dest / "report-2.txt", 7),
        CollectedArtifact("report-3.txt", dest / "report-3.txt", 5),
        CollectedArtifact("b.txt", dest / "b.txt", 7),
    )
    assert (dest / "report-2.txt").read_text() == "second!"
    assert sorted(p.name for p in dest.iterdir()) == [
        "b.txt",
        "report-2.txt",
        "report-3.txt",
        "report.txt",
    ]


def test_existing_files_are_never_overwritten(tmp_path: Path) -> None:
    dest = tmp_path / "artifacts"
    dest.mkdir()
    (dest / "log").write_text("earlier step")
    (tmp_path / "log").write_text("this step")
    collected = collect_artifacts([ArtifactRequest(tmp_path / "log", "log", None)], dest)
    assert collected == (CollectedArtifact("log-2", dest / "log-2", 9),)
    assert (dest / "log").read_text() == "earlier step"


def test_missing_or_non_file_sources_are_problems_not_errors(tmp_path: Path) -> None:
    requests = [
        ArtifactRequest(tmp_path / "missing.txt", "missing.txt", None),
        ArtifactRequest(tmp_path, "a directory", None),
    ]
    collected = collect_artifacts(requests, tmp_path / "artifacts")
    assert [artifact.problem for artifact in collected] == [
        f"artifact 'missing.txt' not collected: no file {tmp_path / 'missing.txt'}",
        f"artifact 'a directory' not collected: no file {tmp_path}",
    ]
    assert list((tmp_path / "artifacts").iterdir()) == []
