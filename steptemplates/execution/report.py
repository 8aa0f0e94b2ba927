"""The JSON report of a run: what ran, how it ended, what it produced (sensitive values masked)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from steptemplates import fsutil
from steptemplates.masking import Masker

REPORT_FORMAT = 1


@dataclass(frozen=True)
class ArtifactRecord:
    name: str
    path: str
    size: int


@dataclass(frozen=True)
class StageRecord:
    """One stage of a package deployment (docs/packages.md)."""

    number: int  # 1-16 in Calamari's order; 0 is the extraction, 17 DeployFailed
    name: str
    status: str  # succeeded | skipped | failed | not-run
    detail: str | None = None


@dataclass(frozen=True)
class StepRecord:
    name: str
    template: str
    status: str  # succeeded | failed | timed-out | interrupted | skipped
    exit_code: int | None = None
    started: str | None = None
    duration_seconds: float | None = None
    message: str | None = None
    output_variables: dict[str, str] = field(default_factory=dict)
    artifacts: list[ArtifactRecord] = field(default_factory=list)
    workdir: str | None = None
    # Package steps only.
    stages: list[StageRecord] | None = None
    installation_directory: str | None = None
    deployment_id: int | None = None


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    project: str
    status: str  # succeeded | failed | interrupted
    exit_code: int
    started: str
    finished: str
    duration_seconds: float
    artifacts_dir: str
    steps: list[StepRecord]


def report_json(run: RunRecord, masker: Masker) -> str:
    """The report as JSON text; every string in it passes through the masker first."""
    data = {"format": REPORT_FORMAT, **asdict(run)}
    return json.dumps(_masked(data, masker), indent=2, ensure_ascii=False) + "\n"


def write_report(path: Path, run: RunRecord, masker: Masker) -> None:
    fsutil.write_text_atomic(path, report_json(run, masker))


def _masked(value: Any, masker: Masker) -> Any:
    if isinstance(value, str):
        return masker.mask(value)
    if isinstance(value, dict):
        return {masker.mask(k): _masked(v, masker) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, masker) for v in value]
    return value
