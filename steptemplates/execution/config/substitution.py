"""Substitute variables in files: the whole text of each target file is evaluated as a
template, in place, keeping its encoding, byte-order mark and line endings.

As in Octopus, a token that does not resolve or does not parse (``#{dog``) stays exactly as
written; the file is still written. With ``fail_on_error`` such a file fails the deployment.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from steptemplates import encodings, fsutil
from steptemplates.errors import StepsError
from steptemplates.variables.engine import Evaluator

Log = Callable[[str], None]


@dataclass(frozen=True)
class Substituted:
    path: Path
    changed: bool
    problems: tuple[str, ...]  # what could not be evaluated, with line:column


def substitute_file(
    path: Path,
    evaluator: Evaluator,
    *,
    output_encoding: str = "",
    fail_on_error: bool = False,
    warn: Log,
) -> Substituted:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise StepsError(f"cannot read {path}: {error.strerror or error}") from None
    decoded = encodings.decode(data)
    rendering = evaluator.evaluate(decoded.text, source=str(path), syntax="continue")
    problems = tuple(u.describe() for u in rendering.unresolved)
    if fail_on_error and problems:
        raise StepsError(
            f"substituting variables in {path} failed at {problems[0]}",
            hint="define the variable, or unset OctopusShouldFailDeploymentOnSubstitutionFails",
        )
    text = decoded.text if rendering.text is None else rendering.text
    output = _encode(path, decoded, text, output_encoding, warn)
    if output == data:
        return Substituted(path, False, problems)
    fsutil.write_bytes_atomic(path, output)
    return Substituted(path, True, problems)


def _encode(
    path: Path, decoded: encodings.DecodedText, text: str, wanted: str, warn: Log
) -> bytes:
    """The text in the file's own encoding, or the requested one when it is known."""
    if wanted.strip():
        try:
            codec = codecs.lookup(wanted.strip())
        except LookupError:
            warn(f"{path}: unknown output encoding '{wanted}'; keeping the file's own encoding")
        else:
            try:
                return text.encode(codec.name)
            except UnicodeEncodeError:
                warn(
                    f"{path}: the substituted text cannot be written in {wanted}; "
                    "writing it as UTF-8"
                )
                return text.encode("utf-8")
    try:
        return decoded.encode(text)
    except UnicodeEncodeError:
        warn(
            f"{path}: the substituted text cannot be written in {decoded.encoding}; "
            "writing it as UTF-8"
        )
        return text.encode("utf-8")
