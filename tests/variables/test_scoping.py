"""Scoped values: Octopus's specificity rule, and catching misspelt names before a run."""

from __future__ import annotations

import pytest

from steptemplates.errors import StepsError
from steptemplates.variables.collection import Variable
from steptemplates.variables.scoping import (
    Context,
    KnownNames,
    Scope,
    ScopedVariable,
    check_context,
    check_scopes,
    select,
)


def value(text: str, **scope: str | tuple[str, ...]) -> ScopedVariable:
    names = {k: (v,) if isinstance(v, str) else v for k, v in scope.items()}
    return ScopedVariable("Url", text, scope=Scope(**names), origin="vars.json")


def chosen(variables: list[ScopedVariable], context: Context, step: str | None = None) -> str:
    (variable,) = select(variables, context, step)
    return variable.value


EVERYWHERE = Context(environment="Production", target="web-01", roles=("web",), tenant="Acme")


@pytest.mark.parametrize(
    ("winner", "loser"),
    [
        ({"step": "Deploy"}, {"target": "web-01"}),
        ({"target": "web-01"}, {"role": "web"}),
        ({"role": "web"}, {"tenant": "Acme"}),
        ({"tenant": "Acme"}, {"environment": "Production"}),
        ({"environment": "Production"}, {}),
        # A more important dimension beats any number of less important ones.
        ({"target": "web-01"}, {"role": "web", "tenant": "Acme", "environment": "Production"}),
        ({"step": "Deploy"}, {"target": "web-01", "role": "web", "environment": "Production"}),
        # Combined scopes beat a single one of the same top dimension.
        ({"target": "web-01", "environment": "Production"}, {"target": "web-01"}),
        ({"role": "web", "tenant": "Acme"}, {"role": "web"}),
    ],
)
def test_the_more_specific_value_wins(winner: dict[str, str], loser: dict[str, str]) -> None:
    variables = [value("winner", **winner), value("loser", **loser)]

    assert chosen(variables, EVERYWHERE, "Deploy") == "winner"
    assert chosen(variables[::-1], EVERYWHERE, "Deploy") == "winner"


def test_equally_specific_values_the_later_wins() -> None:
    first = value("first", environment="Production")
    second = value("second", environment=("Production", "DR"))

    assert chosen([first, second], EVERYWHERE) == "second"
    assert chosen([second, first], EVERYWHERE) == "first"


def test_a_value_applies_only_where_every_scope_matches() -> None:
    variables = [value("default"), value("uat-web", environment="UAT", role="web")]

    assert chosen(variables, Context(environment="UAT", roles=("web",))) == "uat-web"
    assert chosen(variables, Context(environment="UAT", roles=("db",))) == "default"
    assert chosen(variables, Context(environment="Production", roles=("web",))) == "default"
    assert chosen(variables, Context()) == "default"


def test_a_role_scope_matches_any_role_of_the_target() -> None:
    variables = [value("default"), value("cache", role=("cache", "queue"))]

    assert chosen(variables, Context(roles=("web", "queue"))) == "cache"
    assert chosen(variables, Context(roles=("web",))) == "default"


def test_a_step_scope_applies_to_that_step_only() -> None:
    variables = [value("default"), value("migrate", step="Migrate")]

    assert chosen(variables, Context(), "Migrate") == "migrate"
    assert chosen(variables, Context(), "Deploy") == "default"
    assert chosen(variables, Context()) == "default"


def test_names_and_scopes_are_case_insensitive() -> None:
    variables = [
        ScopedVariable("Url", "default"),
        ScopedVariable("URL", "prod", scope=Scope(environment=("production",), role=("WEB",))),
    ]

    assert select(variables, Context(environment="PRODUCTION", roles=("Web",))) == [
        Variable("Url", "prod")
    ]


def test_no_applicable_value_means_no_variable() -> None:
    assert select([value("uat", environment="UAT")], Context(environment="Production")) == []


def test_a_name_secret_anywhere_is_masked_everywhere() -> None:
    variables = [
        ScopedVariable("Key", "plain"),
        ScopedVariable("Key", "secret", sensitive=True, scope=Scope(environment=("UAT",))),
    ]

    assert select(variables, Context(environment="Production")) == [Variable("Key", "plain", True)]


def test_the_position_takes_no_part_in_equality() -> None:
    assert ScopedVariable("A", "1", origin="f", line=3) == ScopedVariable("A", "1", origin="f")
    assert ScopedVariable("A", "1", origin="f", line=3).where == "f:3"
    assert ScopedVariable("A", "1", origin="f").where == "f"


# --- check_context ------------------------------------------------------------------------

DECLARED = KnownNames.build(
    environments=["Development", "UAT", "Production"],
    tenants=["Acme", "Globex"],
    targets={"web-01": ["web", "cache"], "db-01": ["db"]},
    steps=["Migrate", "Deploy"],
)


def message(error: pytest.ExceptionInfo[StepsError]) -> str:
    text = str(error.value)
    assert "\n" not in text
    return text


def test_declared_names_are_accepted_and_spelt_as_declared() -> None:
    checked = check_context(
        Context(environment="production", target="WEB-01", tenant="acme"), DECLARED
    )

    assert checked == Context(
        environment="Production", target="web-01", roles=("web", "cache"), tenant="Acme"
    )


def test_a_target_adds_its_declared_roles_to_the_ones_given() -> None:
    checked = check_context(Context(target="db-01", roles=("Web",)), DECLARED)

    assert checked.roles == ("web", "db")


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (
            Context(environment="Prodution"),
            "--environment 'Prodution': no such environment in [project] environments of "
            "steps.toml; did you mean 'Production'?",
        ),
        (
            Context(environment="Staging"),
            "--environment 'Staging': no such environment in [project] environments of "
            "steps.toml; declared environments: Development, UAT, Production",
        ),
        (
            Context(target="web-1"),
            "--target 'web-1': no such target in [targets] of steps.toml; did you mean 'web-01'?",
        ),
        (
            Context(tenant="Globx"),
            "--tenant 'Globx': no such tenant in [project] tenants of steps.toml; "
            "did you mean 'Globex'?",
        ),
        (
            Context(roles=("cahce",)),
            "--role 'cahce': no target in steps.toml has that role and no variable is scoped "
            "to it; did you mean 'cache'?",
        ),
    ],
)
def test_an_unknown_name_is_refused_with_a_suggestion(context: Context, expected: str) -> None:
    with pytest.raises(StepsError) as raised:
        check_context(context, DECLARED)

    assert message(raised) == expected


def test_without_declarations_the_names_in_scopes_are_the_known_ones() -> None:
    known = KnownNames.build(
        variables=[value("a", environment="UAT"), value("b", environment="Production", role="web")]
    )

    assert check_context(Context(environment="uat"), known).environment == "UAT"
    assert check_context(Context(roles=("WEB",)), known).roles == ("web",)
    with pytest.raises(StepsError) as raised:
        check_context(Context(environment="Prod"), known)
    assert message(raised) == (
        "--environment 'Prod': no variable is scoped to that environment; "
        "did you mean 'Production'?"
    )
    with pytest.raises(StepsError) as raised:
        check_context(Context(environment="Test"), known)
    assert message(raised) == (
        "--environment 'Test': no variable is scoped to that environment; known environments: "
        "UAT, Production; to use another, add it to [project] environments in steps.toml"
    )


def test_declarations_take_precedence_over_names_in_scopes() -> None:
    known = KnownNames.build(environments=["UAT"], variables=[value("p", environment="Prod")])

    with pytest.raises(StepsError, match="no such environment"):
        check_context(Context(environment="Prod"), known)


def test_a_dimension_nobody_names_accepts_any_name() -> None:
    known = KnownNames.build(variables=[value("a", environment="UAT")])

    checked = check_context(Context(target="anything", tenant="Acme", roles=("x",)), known)

    assert checked == Context(target="anything", tenant="Acme", roles=("x",))


def test_roles_from_targets_and_from_scopes_are_both_known() -> None:
    known = KnownNames.build(targets={"web-01": ["web"]}, variables=[value("a", role="db")])

    assert check_context(Context(roles=("db", "web")), known).roles == ("db", "web")


# --- check_scopes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (
            {"environment": "Prodution"},
            "vars.json:7: variable 'Url' is scoped to environment 'Prodution', which is not "
            "declared in [project] environments of steps.toml; did you mean 'Production'?",
        ),
        (
            {"tenant": ("Acme", "Initech")},
            "vars.json:7: variable 'Url' is scoped to tenant 'Initech', which is not declared "
            "in [project] tenants of steps.toml; declared tenants: Acme, Globex",
        ),
        (
            {"target": "db01"},
            "vars.json:7: variable 'Url' is scoped to target 'db01', which is not declared in "
            "[targets] of steps.toml; did you mean 'db-01'?",
        ),
        (
            {"step": "Migrat"},
            "vars.json:7: variable 'Url' is scoped to step 'Migrat', which is not a step in "
            "steps.toml; did you mean 'Migrate'?",
        ),
    ],
)
def test_a_scope_naming_something_undeclared_is_refused(
    scope: dict[str, str | tuple[str, ...]], expected: str
) -> None:
    variable = ScopedVariable(
        "Url", "x", scope=value("", **scope).scope, origin="vars.json", line=7
    )

    with pytest.raises(StepsError) as raised:
        check_scopes([value("fine", environment="UAT"), variable], DECLARED)

    assert message(raised) == expected


def test_declared_names_in_scopes_pass_in_any_case() -> None:
    check_scopes(
        [
            value("a", environment="uat", tenant="ACME", target="Web-01", step="deploy"),
            value("b", role="a role nobody declares"),  # roles are open: --role adds any
        ],
        DECLARED,
    )


def test_undeclared_dimensions_accept_any_scope() -> None:
    known = KnownNames.build(environments=["UAT"])

    check_scopes([value("a", environment="UAT", tenant="Anyone", target="any")], known)


def test_without_a_process_steps_are_not_checked() -> None:
    check_scopes([value("a", step="Whatever")], KnownNames.build())
    with pytest.raises(StepsError, match="the process has no steps"):
        check_scopes([value("a", step="Whatever")], KnownNames.build(steps=[]))
