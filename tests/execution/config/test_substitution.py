from pathlib import Path

import pytest

from steptemplates.errors import StepsError
from steptemplates.execution.config.substitution import substitute_file
from steptemplates.variables.engine import Evaluator

VALUES = Evaluator.of_values({"Name": "Wörld", "Port": "8080"})


def run(path: Path, **options: object) -> tuple[list[str], object]:
    warnings: list[str] = []
    result = substitute_file(path, VALUES, warn=warnings.append, **options)  # type: ignore[arg-type]
    return warnings, result


def test_tokens_replaced_unknown_and_malformed_kept(tmp_path: Path) -> None:
    path = tmp_path / "app.conf"
    path.write_bytes(b"name=#{Name}\r\nport=#{Port}\r\nother=#{Missing}\r\nbad=#{dog\r\n")

    warnings, result = run(path)

    assert path.read_bytes() == (
        "name=Wörld\r\nport=8080\r\nother=#{Missing}\r\nbad=#{dog\r\n".encode()
    )
    assert warnings == []
    assert result.changed and result.problems  # type: ignore[attr-defined]


def test_encoding_and_bom_are_kept(tmp_path: Path) -> None:
    utf16 = tmp_path / "utf16.txt"
    utf16.write_bytes(b"\xff\xfe" + "hi #{Name}\n".encode("utf-16-le"))
    latin = tmp_path / "latin.txt"
    latin.write_bytes("café #{Port}\n".encode("cp1252"))

    run(utf16)
    run(latin)

    assert utf16.read_bytes() == b"\xff\xfe" + "hi Wörld\n".encode("utf-16-le")
    assert latin.read_bytes() == "café 8080\n".encode("cp1252")


def test_output_encoding_is_applied_or_falls_back(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("#{Name}\n", encoding="utf-8")
    run(path, output_encoding="utf-16-le")
    assert path.read_bytes() == "Wörld\n".encode("utf-16-le")

    path.write_text("#{Name}\n", encoding="utf-8")
    warnings, _ = run(path, output_encoding="us-ascii")
    assert path.read_bytes() == "Wörld\n".encode()
    assert warnings == [f"{path}: the substituted text cannot be written in us-ascii; writing it as UTF-8"]

    path.write_text("#{Port}\n", encoding="utf-8")
    warnings, _ = run(path, output_encoding="klingon")
    assert path.read_bytes() == b"8080\n"
    assert "unknown output encoding 'klingon'" in warnings[0]


def test_unchanged_file_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text("nothing to do\n")
    before = path.stat().st_mtime_ns

    _, result = run(path)

    assert not result.changed  # type: ignore[attr-defined]
    assert path.stat().st_mtime_ns == before


def test_fail_on_error_names_the_file_and_position(tmp_path: Path) -> None:
    path = tmp_path / "app.conf"
    path.write_text("ok=#{Name}\nmissing=#{Nope}\n")

    with pytest.raises(StepsError) as raised:
        run(path, fail_on_error=True)

    assert str(path) in str(raised.value)
    assert ":2:9" in str(raised.value)
    assert path.read_text() == "ok=#{Name}\nmissing=#{Nope}\n"  # nothing written
