"""Scoped variable values and Octopus's rule for picking one: the more specific scope wins.

A value may be scoped to environments, targets (machines), roles, tenants and steps. It
applies when, for every dimension it names, the run's context matches one of the names
(roles: the target has any of them). Of the values that apply to a name, the most specific
wins, with Octopus's order of importance: step, then target, then role, then tenant, then
environment; a value scoped on a more important dimension beats any number of scopes on less
important ones. Two applicable values with the same specificity: the one defined last wins
(steps.toml, then secrets, then variables files in command-line order).

Names are compared case-insensitively, as Octopus does. ``check_context`` and
``check_scopes`` catch misspelt names before a run, against the names ``steps.toml``
declares (``[project] environments``, ``tenants``, ``[targets.NAME]``) or, where a dimension
declares none, the names the scopes themselves use.
"""

from __future__ import annotations

import difflib
import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from steptemplates.errors import StepsError
from steptemplates.variables.collection import Variable

# Most important first: the order of Octopus's scope specificity.
DIMENSIONS = ("step", "target", "role", "tenant", "environment")

# The command-line option that picks each dimension of a context.
_OPTIONS = {
    "environment": "--environment",
    "target": "--target",
    "role": "--role",
    "tenant": "--tenant",
}
# Where steps.toml declares the names of a dimension, for messages.
_DECLARED_IN = {
    "environment": "[project] environments",
    "tenant": "[project] tenants",
    "target": "[targets]",
    "role": "the roles of [targets]",
    "step": "[[steps]]",
}
_PLURAL = {
    "environment": "environments",
    "target": "targets",
    "role": "roles",
    "tenant": "tenants",
    "step": "steps",
}
_LISTED = 8  # names shown when there is no close match; more would bury the message


@dataclass(frozen=True)
class Scope:
    """The names a value is limited to, per dimension; an empty tuple means any."""

    environment: tuple[str, ...] = ()
    target: tuple[str, ...] = ()
    role: tuple[str, ...] = ()
    tenant: tuple[str, ...] = ()
    step: tuple[str, ...] = ()

    def names(self, dimension: str) -> tuple[str, ...]:
        names: tuple[str, ...] = getattr(self, dimension)
        return names

    @property
    def is_empty(self) -> bool:
        return not any(self.names(d) for d in DIMENSIONS)

    def specificity(self) -> int:
        """Larger is more specific; each dimension outweighs all less important ones."""
        weight = 0
        for dimension in DIMENSIONS:
            weight = weight * 2 + (1 if self.names(dimension) else 0)
        return weight

    def describe(self) -> str:
        parts = [f"{d}={','.join(self.names(d))}" for d in DIMENSIONS if self.names(d)]
        return " ".join(parts) or "unscoped"


UNSCOPED = Scope()


@dataclass(frozen=True)
class ScopedVariable:
    name: str
    value: str
    sensitive: bool = False
    scope: Scope = UNSCOPED
    origin: str = ""  # where it was defined, for messages: "steps.toml", "vars.json"
    # The line in ``origin``, when known; only for messages, so it takes no part in equality.
    line: int | None = field(default=None, compare=False)

    @property
    def where(self) -> str:
        """``origin:line`` for messages (``origin`` alone when the line is unknown)."""
        return f"{self.origin}:{self.line}" if self.line else self.origin


@dataclass(frozen=True)
class Context:
    """Where a run deploys to: chosen with --environment, --target, --role and --tenant."""

    environment: str | None = None
    target: str | None = None
    roles: tuple[str, ...] = ()
    tenant: str | None = None

    def values(self, dimension: str, step: str | None) -> tuple[str, ...]:
        if dimension == "role":
            return self.roles
        value = step if dimension == "step" else getattr(self, dimension)
        return (value,) if value else ()


def applies(scope: Scope, context: Context, step: str | None) -> bool:
    for dimension in DIMENSIONS:
        wanted = scope.names(dimension)
        if not wanted:
            continue
        have = {name.casefold() for name in context.values(dimension, step)}
        if not any(name.casefold() in have for name in wanted):
            return False
    return True


def select(
    variables: Iterable[ScopedVariable], context: Context, step: str | None = None
) -> list[Variable]:
    """One value per name (first spelling kept): the most specific that applies."""
    return select_layers([variables], context, step)[0]


def select_layers(
    layers: Sequence[Iterable[ScopedVariable]], context: Context, step: str | None = None
) -> list[list[Variable]]:
    """The most specific value of each name across all ``layers`` (ties: the later one).

    Each winner is returned in the list of the layer it came from, so that a caller can
    put other values between layers: steps.toml's values sit below a step's parameters and
    variables files above them, yet a more specific steps.toml value beats a file's.
    """
    chosen: dict[str, tuple[int, int, ScopedVariable]] = {}
    spelling: dict[str, str] = {}
    sensitive: set[str] = set()
    for layer, variables in enumerate(layers):
        for variable in variables:
            key = variable.name.casefold()
            spelling.setdefault(key, variable.name)
            if variable.sensitive:
                # A name that is secret anywhere is masked everywhere.
                sensitive.add(key)
            if not applies(variable.scope, context, step):
                continue
            rank = variable.scope.specificity()
            current = chosen.get(key)
            if current is None or rank >= current[0]:
                chosen[key] = (rank, layer, variable)
    selected: list[list[Variable]] = [[] for _ in layers]
    for key, (_, layer, variable) in chosen.items():
        selected[layer].append(Variable(spelling[key], variable.value, key in sensitive))
    return selected


# --- known names: catching misspelt environments, targets, tenants and steps ---------------


@dataclass(frozen=True)
class KnownNames:
    """The names a project knows, per dimension, to check a context and scopes against.

    ``environments``, ``tenants`` and ``targets`` (with each target's roles) are what
    steps.toml declares; ``steps`` is the process (None where there is none, as for
    ``run-script``). ``scoped`` holds, per dimension, the names that scopes mention: they
    stand in for declarations in a dimension that declares none.
    """

    environments: tuple[str, ...] = ()
    tenants: tuple[str, ...] = ()
    targets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    steps: tuple[str, ...] | None = None
    scoped: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    manifest: str = "steps.toml"  # where the declarations live, for messages

    @classmethod
    def build(
        cls,
        *,
        environments: Iterable[str] = (),
        tenants: Iterable[str] = (),
        targets: Mapping[str, Iterable[str]] | None = None,
        steps: Iterable[str] | None = None,
        variables: Iterable[ScopedVariable] = (),
        manifest: str = "steps.toml",
    ) -> KnownNames:
        return cls(
            environments=tuple(environments),
            tenants=tuple(tenants),
            targets={name: tuple(roles) for name, roles in (targets or {}).items()},
            steps=None if steps is None else tuple(steps),
            scoped=_names_in_scopes(variables),
            manifest=manifest,
        )

    def declared(self, dimension: str) -> tuple[str, ...]:
        """The names steps.toml declares for ``dimension`` (roles: those of its targets)."""
        if dimension == "environment":
            return self.environments
        if dimension == "tenant":
            return self.tenants
        if dimension == "target":
            return tuple(self.targets)
        if dimension == "role":
            return _unique(role for roles in self.targets.values() for role in roles)
        return self.steps or ()

    def accepted(self, dimension: str) -> tuple[str, ...] | None:
        """The names a context may use for ``dimension``; None when any name will do."""
        mentioned = self.scoped.get(dimension, ())
        if dimension == "role":
            # Roles are not declared on their own: a role any target has or any scope uses.
            names = _unique((*self.declared("role"), *mentioned))
        else:
            names = self.declared(dimension) or mentioned
        return names or None

    def roles_of(self, target: str | None) -> tuple[str, ...]:
        if target is None:
            return ()
        folded = target.casefold()
        for name, roles in self.targets.items():
            if name.casefold() == folded:
                return roles
        return ()


def _names_in_scopes(variables: Iterable[ScopedVariable]) -> dict[str, tuple[str, ...]]:
    seen: dict[str, dict[str, str]] = {dimension: {} for dimension in DIMENSIONS}
    for variable in variables:
        scope = variable.scope
        if scope is UNSCOPED:
            continue
        for dimension in DIMENSIONS:
            for name in scope.names(dimension):
                seen[dimension].setdefault(name.casefold(), name)
    return {dimension: tuple(names.values()) for dimension, names in seen.items() if names}


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    """The names once each, case-insensitively, first spelling kept."""
    kept: dict[str, str] = {}
    for name in names:
        kept.setdefault(name.casefold(), name)
    return tuple(kept.values())


def check_context(context: Context, known: KnownNames) -> Context:
    """The context with names spelt as known and the target's declared roles added.

    A name must be known (declared, or used by a scope where its dimension declares
    nothing) unless the project knows no name at all for that dimension.
    """
    target = _spelt(context.target, "target", known)
    roles = tuple(_known(role, "role", known) for role in context.roles)
    return replace(
        context,
        environment=_spelt(context.environment, "environment", known),
        target=target,
        tenant=_spelt(context.tenant, "tenant", known),
        roles=_unique((*roles, *known.roles_of(target))),
    )


def _spelt(name: str | None, dimension: str, known: KnownNames) -> str | None:
    return None if name is None else _known(name, dimension, known)


def _known(name: str, dimension: str, known: KnownNames) -> str:
    accepted = known.accepted(dimension)
    if accepted is None:
        return name
    match = _find(name, accepted)
    if match is not None:
        return match
    raise StepsError(
        f"{_OPTIONS[dimension]} '{name}': {_unknown_because(dimension, known)}",
        hint=_suggestion(name, accepted) or _known_listing(dimension, accepted, known),
    )


def _unknown_because(dimension: str, known: KnownNames) -> str:
    if dimension == "role":
        return f"no target in {known.manifest} has that role and no variable is scoped to it"
    if known.declared(dimension):
        return f"no such {dimension} in {_DECLARED_IN[dimension]} of {known.manifest}"
    return f"no variable is scoped to that {dimension}"


def _known_listing(dimension: str, names: tuple[str, ...], known: KnownNames) -> str:
    plural = _PLURAL[dimension]
    if dimension != "role" and known.declared(dimension):
        return f"declared {plural}: {_listing(names)}"
    return (
        f"known {plural}: {_listing(names)}; to use another, "
        f"add it to {_DECLARED_IN[dimension]} in {known.manifest}"
    )


def check_scopes(variables: Iterable[ScopedVariable], known: KnownNames) -> None:
    """Fail on a scope naming an undeclared environment, tenant or target, or a step that
    is not in the process. Dimensions that declare nothing accept any name; roles are not
    checked, since a run may add any role with --role."""
    checked = {
        dimension: _folded(known.declared(dimension))
        for dimension in ("environment", "tenant", "target")
        if known.declared(dimension)
    }
    if known.steps is not None:
        checked["step"] = _folded(known.steps)
    if not checked:
        return
    for variable in variables:
        if variable.scope is UNSCOPED:
            continue
        for dimension, names in checked.items():
            for name in variable.scope.names(dimension):
                if name.casefold() not in names:
                    raise _undeclared(variable, dimension, name, known)


def _undeclared(
    variable: ScopedVariable, dimension: str, name: str, known: KnownNames
) -> StepsError:
    choices = known.declared(dimension)
    if dimension == "step":
        problem = f"which is not a step in {known.manifest}"
        fallback = f"steps: {_listing(choices)}" if choices else "the process has no steps"
    else:
        problem = f"which is not declared in {_DECLARED_IN[dimension]} of {known.manifest}"
        fallback = f"declared {_PLURAL[dimension]}: {_listing(choices)}"
    return StepsError(
        f"{variable.where}: variable '{variable.name}' is scoped to {dimension} '{name}', "
        f"{problem}",
        hint=_suggestion(name, choices) or fallback,
    )


def _folded(names: Iterable[str]) -> frozenset[str]:
    return frozenset(name.casefold() for name in names)


def _find(name: str, names: Iterable[str]) -> str | None:
    folded = name.casefold()
    return next((known for known in names if known.casefold() == folded), None)


def _suggestion(name: str, names: tuple[str, ...]) -> str | None:
    folded = name.casefold()
    by_folded = {known.casefold(): known for known in names}
    close = difflib.get_close_matches(folded, list(by_folded), n=1, cutoff=0.6)
    # An abbreviation ("prod") is too short for difflib; one name it begins is a fair guess.
    starting = [known for key, known in by_folded.items() if key.startswith(folded)]
    if not close and len(starting) == 1:
        return f"did you mean '{starting[0]}'?"
    return f"did you mean '{by_folded[close[0]]}'?" if close else None


def _listing(names: tuple[str, ...]) -> str:
    shown = ", ".join(names[:_LISTED])
    return f"{shown}, ..." if len(names) > _LISTED else shown


def context_variables(context: Context, project_name: str) -> dict[str, str]:
    """The system variables a run's context provides, under Octopus's names.

    Ids are readable and stable (``Environments-production``), since steps has no server to
    number them. Calamari also offers every environment variable as ``env:NAME``
    (``#{env:HOME}``).
    """
    machine = context.target or socket.gethostname()
    values = {f"env:{name}": value for name, value in os.environ.items()}
    values |= {
        "Octopus.Project.Name": project_name,
        "Octopus.Project.Slug": slug(project_name),
        "Octopus.Project.Id": _octopus_id("Projects", project_name),
        "Octopus.Environment.Name": context.environment or "",
        "Octopus.Environment.Id": _octopus_id("Environments", context.environment),
        "Octopus.Machine.Name": machine,
        "Octopus.Machine.Id": _octopus_id("Machines", machine),
        "Octopus.Machine.Roles": ",".join(context.roles),
        "Octopus.Deployment.Tenant.Name": context.tenant or "",
        "Octopus.Deployment.Tenant.Id": _octopus_id("Tenants", context.tenant),
    }
    if context.tenant:
        values["Octopus.Tenant.Name"] = context.tenant
        values["Octopus.Tenant.Id"] = values["Octopus.Deployment.Tenant.Id"]
    return values


def slug(name: str) -> str:
    """``name`` as Octopus writes it in URLs: lower case, words joined by ``-``."""
    words = "".join(c if c.isalnum() else " " for c in name.casefold()).split()
    return "-".join(words)


def _octopus_id(kind: str, name: str | None) -> str:
    """``Environments-production`` for ``Production``; "" without a name."""
    return f"{kind}-{slug(name)}" if name else ""
