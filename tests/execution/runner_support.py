"""Building templates and step plans, and running them through the Runner API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from steptemplates.execution.report import StepRecord
from steptemplates.execution.runner import Runner, RunOutcome, RunSettings, StepPlan
from steptemplates.templates.model import (
    Parameter,
    ParameterType,
    Script,
    SelectOption,
    Template,
)

from .conftest import RecordingConsole


def parameter(
    name: str,
    type: ParameterType = ParameterType.TEXT,
    default: str | None = None,
    *,
    required: bool = False,
    options: Sequence[str] = (),
) -> Parameter:
    return Parameter(
        name=name,
        label=name,
        help="",
        type=type,
        default=default,
        required=required,
        options=tuple(SelectOption(o, o) for o in options),
    )


def template(
    root: Path,
    syntax: str,
    body: str,
    parameters: Sequence[Parameter] = (),
    *,
    name: str = "demo",
    script_parameters: str | None = None,
    file: str | None = None,
) -> Template:
    """A template whose files live in ``root`` (created if needed)."""
    root.mkdir(parents=True, exist_ok=True)
    if file is not None:
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        (root / file).write_text(body, encoding="utf-8")
    return Template(
        name=name,
        description="",
        category="",
        parameters=tuple(parameters),
        script=Script(syntax=syntax, body=body, file=file, parameters=script_parameters),
        root=root,
    )


def plan(
    name: str, used: Template, values: Mapping[str, str] | None = None, **fields: Any
) -> StepPlan:
    return StepPlan(
        name=name,
        template=used,
        template_label=used.name,
        parameters=dict(values or {}),
        **fields,
    )


@dataclass(frozen=True)
class Ran:
    outcome: RunOutcome
    console: RecordingConsole

    @property
    def out(self) -> str:
        return self.console.stdout

    @property
    def err(self) -> str:
        return self.console.stderr

    @property
    def steps(self) -> list[StepRecord]:
        return self.outcome.record.steps

    @property
    def step(self) -> StepRecord:
        (only,) = self.outcome.record.steps
        return only


def run_plans(project_dir: Path, plans: Sequence[StepPlan], **settings: Any) -> Ran:
    """Run ``plans`` as project ``shop`` in ``project_dir``; ``settings`` are RunSettings fields."""
    fields: dict[str, Any] = {
        "project_name": "shop",
        "project_dir": project_dir,
        "state_dir": project_dir / ".steps",
    }
    fields.update(settings)
    console = RecordingConsole()
    outcome = Runner(RunSettings(**fields), console).run(plans)
    return Ran(outcome, console)
