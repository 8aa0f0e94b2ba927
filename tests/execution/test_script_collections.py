"""Collections in scripts: index keys and nested values, through the bash and python bootstraps."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from steptemplates.console import Level
from steptemplates.execution.bootstrap.helpers import parse_path
from steptemplates.execution.languages.base import bootstrap_resource
from steptemplates.execution.languages.bash import quote, variables_script

from .conftest import Ran, RunRaw, RunScript

SITES = {
    "Site[App1].Url": "https://a.example",
    "Other": "not in the collection",
    "Site[App1].Port": "8080",
    "Site[App2].Url": "https://b.example",
    "Site.Count": "2",
}

ODD_KEYS = {
    "Site[Main site].Url": "https://main.example",
    "Site[containers[0].container].Url": "https://c.example",
    "Site[].Url": "https://blank.example",
    "Site[$(touch pwned)].Url": "https://x.example",
}


def python_json(run_raw: RunRaw, expression: str, variables: dict[str, str]) -> object:
    result = run_raw("python", f"import json\nprint(json.dumps({expression}))\n", variables=variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def bash_lines(run_raw: RunRaw, script: str, variables: dict[str, str]) -> list[str]:
    result = run_raw("bash", "set -euo pipefail\n" + script, variables=variables)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.splitlines()


@pytest.mark.parametrize(
    ("name", "steps"),
    [
        ("Site", [(False, "Site")]),
        ("Site[App1].Url", [(False, "Site"), (True, "App1"), (False, "Url")]),
        (" Octopus . Action [x]", [(False, "Octopus"), (False, "Action"), (True, "x")]),
        ("P[containers[0].c].R", [(False, "P"), (True, "containers[0].c"), (False, "R")]),
        ("A[][b]", [(False, "A"), (True, ""), (True, "b")]),
        ("A[ x [ 0] ]", [(False, "A"), (True, " x [ 0] ")]),
        ("A[x in y].b c", [(False, "A"), (True, "x in y"), (False, "b c")]),
        ("in in", [(False, "in in")]),
        # Whitespace before `in ` ends an identifier, as in `#{each a in A}`.
        ("Log in file", None),
        ("A@b:c/d~e(f)-g_h", [(False, "A@b:c/d~e(f)-g_h")]),
        ("Foo+Bar", None),
        ("Site[App1]Url", None),
        ("Site[App1", None),
        ("Site.", None),
        (".Site", None),
        ("", None),
    ],
)
def test_parse_path_follows_octostache(name: str, steps: list[tuple[bool, str]] | None) -> None:
    assert parse_path(name) == steps


def test_python_indexes_in_first_seen_order(run_raw: RunRaw) -> None:
    variables = {**SITES, "Site[App0]": "named exactly", "site[app2].Port": "9090"}
    indexes = python_json(run_raw, "get_octopusvariable_indexes('Site')", variables)
    assert indexes == ["App1", "App2", "App0"]


def test_python_names_match_case_insensitively(run_raw: RunRaw) -> None:
    variables = {"Site[App1].Url": "a", "SITE[APP1].Port": "1", "site[App2].url": "b"}
    result = python_json(
        run_raw,
        "[get_octopusvariable_indexes(' sITe '), get_octopusvariable_collection('SITE')]",
        variables,
    )
    assert result == [["App1", "App2"], {"App1": {"Url": "a", "Port": "1"}, "App2": {"url": "b"}}]


def test_python_collection_nests_identifiers_and_indexes(run_raw: RunRaw) -> None:
    variables = {
        **SITES,
        "Site[App1].Db.Host": "db1",
        "Site[App1].Bindings[0].Port": "80",
        "Site[App1].Bindings[1].Port": "443",
        "Site[App3]": "leaf",
    }
    expression = (
        "[get_octopusvariable_collection('Site'), get_octopusvariable_indexes('Site[app1].Bindings')]"
    )
    assert python_json(run_raw, expression, variables) == [
        {
            "App1": {
                "Url": "https://a.example",
                "Port": "8080",
                "Db": {"Host": "db1"},
                "Bindings": {"0": {"Port": "80"}, "1": {"Port": "443"}},
            },
            "App2": {"Url": "https://b.example"},
            "App3": "leaf",
        },
        ["0", "1"],
    ]


def test_python_own_value_of_a_node_with_children_is_under_empty_key(run_raw: RunRaw) -> None:
    variables = {
        "Site[App1].Url": "u",
        "Site[App1]": "App one",
        # An empty index child takes the "" key; the own value stays in get_octopusvariable.
        "Site[App2]": "own",
        "Site[App2][]": "blank index",
    }
    collection = python_json(run_raw, "get_octopusvariable_collection('Site')", variables)
    assert collection == {"App1": {"": "App one", "Url": "u"}, "App2": {"": "blank index"}}


def test_python_odd_keys(run_raw: RunRaw) -> None:
    collection = python_json(run_raw, "get_octopusvariable_collection('Site')", ODD_KEYS)
    assert collection == {
        "Main site": {"Url": "https://main.example"},
        "containers[0].container": {"Url": "https://c.example"},
        "": {"Url": "https://blank.example"},
        "$(touch pwned)": {"Url": "https://x.example"},
    }


@pytest.mark.parametrize("name", ["Missing", "Other", "Site.Count", "Site[App1].Url", "Bad+Name", ""])
def test_python_unknown_collections_are_empty(run_raw: RunRaw, name: str) -> None:
    result = python_json(
        run_raw,
        f"[get_octopusvariable_indexes({name!r}), get_octopusvariable_collection({name!r})]",
        SITES,
    )
    assert result == [[], {}]


def test_python_results_are_fresh_and_parameters_read_only(run_raw: RunRaw) -> None:
    result = run_raw(
        "python",
        "collection = get_octopusvariable_collection('Site')\n"
        "collection['App1']['Url'] = 'changed'\n"
        "get_octopusvariable_indexes('Site').append('App9')\n"
        "print(get_octopusvariable_collection('Site')['App1']['Url'])\n"
        "print(get_octopusvariable_indexes('Site'))\n"
        "for mapping in (octopus_parameters, OctopusParameters):\n"
        "    try:\n"
        "        mapping['Site[App1].Url'] = 'changed'\n"
        "    except TypeError:\n"
        "        print('read-only', mapping['Site[App1].Url'])\n",
        variables=SITES,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "https://a.example",
        "['App1', 'App2']",
        "read-only https://a.example",
        "read-only https://a.example",
    ]


def test_python_collections_see_variables_the_script_sets(run_raw: RunRaw) -> None:
    result = run_raw(
        "python",
        "set_octopusvariable('Site[App3].Url', 'https://c.example')\n"
        "print(get_octopusvariable_indexes('Site'))\n",
        variables=SITES,
    )
    assert result.stdout.splitlines()[-1] == "['App1', 'App2', 'App3']"


def test_bash_iterates_a_collection_under_strict_mode(run_raw: RunRaw, workdir: Path) -> None:
    variables = {**SITES, **ODD_KEYS, "Site[App0]": "named exactly"}
    lines = bash_lines(
        run_raw,
        "while IFS= read -r key; do\n"
        '  printf "<%s> %s\\n" "$key" "$(get_octopusvariable "Site[$key].Url")"\n'
        "done < <(get_octopusvariable_indexes Site)\n",
        variables,
    )
    assert lines == [
        "<App1> https://a.example",
        "<App2> https://b.example",
        "<Main site> https://main.example",
        "<containers[0].container> https://c.example",
        "<> https://blank.example",
        "<$(touch pwned)> https://x.example",
        "<App0> ",
    ]
    assert not list(workdir.glob("pwned*"))


def test_bash_names_match_case_insensitively_and_nocasematch_is_restored(
    run_raw: RunRaw,
) -> None:
    variables = {"Site[App1].Url": "a", "SITE[APP1].Port": "1", "site[App2].url": "b"}
    lines = bash_lines(
        run_raw,
        "get_octopusvariable_indexes ' sITe '\n"
        "if shopt -q nocasematch; then echo on; else echo off; fi\n"
        "shopt -s nocasematch\n"
        "get_octopusvariable_indexes SITE\n"
        "if shopt -q nocasematch; then echo on; else echo off; fi\n",
        variables,
    )
    assert lines == ["App1", "App2", "off", "App1", "App2", "on"]


def test_bash_unknown_collections_print_nothing(run_raw: RunRaw) -> None:
    lines = bash_lines(
        run_raw,
        "for name in Missing Other Site.Count 'Site[App1].Url' 'Bad+Name' ''; do\n"
        '  get_octopusvariable_indexes "$name"\n'
        "done\n"
        "get_octopusvariable_indexes\n"
        "echo done\n",
        SITES,
    )
    assert lines == ["done"]


LOOKUPS = (
    "for name in 'Site[App1].Url' 'site[app1].url' 'A*' Ab '' Missing; do\n"
    '  printf "%s=%s\\n" "$name" "$(get_octopusvariable "$name")"\n'
    "done\n"
    "get_octopusvariable_indexes site\n"
)
LOOKED_UP = [
    "Site[App1].Url=https://a.example",
    "site[app1].url=",
    "A*=star",
    "Ab=",
    "=unnamed",
    "Missing=",
    "App1",
    "App2",
]


def test_bash_lookups_with_the_array(run_raw: RunRaw) -> None:
    variables = {**SITES, "A*": "star", "": "unnamed"}
    assert bash_lines(run_raw, LOOKUPS, variables) == LOOKED_UP


def test_bash_3_lookups_without_the_array(tmp_path: Path) -> None:
    # bash 3.2 (macOS) has no associative arrays; its branch is forced here on a newer bash.
    variables = {**SITES, "A*": "star", "": "unnamed"}
    generated = variables_script(variables).replace("-ge 4 ]", "-ge 99 ]")
    assert generated != variables_script(variables)
    (tmp_path / "helpers.sh").write_text(bootstrap_resource("helpers.sh"))
    (tmp_path / "variables.sh").write_text(generated)
    script = "set -euo pipefail\nsource helpers.sh\nsource variables.sh\n" + LOOKUPS
    script += 'if declare -p octopus_parameters >/dev/null 2>&1; then echo "array"; fi\n'
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == LOOKED_UP


def test_bash_and_python_agree(run: RunScript) -> None:
    variables = {
        **SITES,
        **ODD_KEYS,
        "Octopus.Action[Deploy web].Output.Url": "o",
        "Site[App1].Bindings[0].Port": "80",
        "Package[containers[0].container].Registry": "r",
        "A[ x [ 0] ][c]": "spaced",
    }
    names = [
        "Site",
        " site ",
        "Octopus.Action",
        "octopus . action",
        "Site[App1].Bindings",
        "Site [App1]. Bindings",
        "Site[ App1].Bindings",
        "Package",
        "A",
        "A[ x [ 0] ]",
        "A[x [0] ]",
        "A[x[0]]",
    ]
    python = run(
        "python",
        f"for i, name in enumerate({names!r}):\n"
        "    for key in get_octopusvariable_indexes(name):\n"
        "        print(f'{i}:{key}')\n",
        variables=variables,
    )
    bash = run(
        "bash",
        f"names=({' '.join(quote(name) for name in names)})\n"
        'for i in "${!names[@]}"; do\n'
        "  while IFS= read -r key; do\n"
        '    printf "%s:%s\\n" "$i" "$key"\n'
        '  done < <(get_octopusvariable_indexes "${names[$i]}")\n'
        "done\n",
        variables=variables,
    )
    expected = [
        *("0:App1", "0:App2", "0:Main site", "0:containers[0].container", "0:", "0:$(touch pwned)"),
        *("1:App1", "1:App2", "1:Main site", "1:containers[0].container", "1:", "1:$(touch pwned)"),
        *("2:Deploy web", "3:Deploy web", "4:0", "5:0", "7:containers[0].container"),
        *("8: x [ 0] ", "9:c"),
    ]
    assert output(python) == expected
    assert output(bash) == expected


def test_bash_collection_of_two_thousand_entries(run: RunScript) -> None:
    variables = {f"Site[App {i}].Url": f"https://{i}.example" for i in range(2000)}
    variables.update({f"Unrelated.Variable{i}": "x" for i in range(8000)})
    ran = run(
        "bash",
        "set -euo pipefail\n"
        "count=0\n"
        "while IFS= read -r key; do\n"
        '  url=$(get_octopusvariable "Site[$key].Url")\n'
        '  if [ "$url" = "https://${key#App }.example" ]; then count=$((count + 1)); fi\n'
        "done < <(get_octopusvariable_indexes Site)\n"
        'echo "$count"\n',
        variables=variables,
        timeout=120,
    )
    assert ran.result.exit_code == 0, ran.console.stderr
    assert output(ran) == ["2000"]


def output(ran: Ran) -> list[str]:
    """The script's stdout lines; nothing else is shown at INFO by a script without messages."""
    assert ran.result.exit_code == 0, ran.console.stderr
    return [text for level, text in ran.console.lines if level is Level.INFO]
