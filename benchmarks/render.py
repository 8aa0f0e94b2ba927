"""Rendering a 1 MB template with the variable engine, against Jinja2 rendering the same one.

The template has 10,000 variable references, 200 `#{if}` blocks and 100 `#{each}` blocks
over a 20-entry collection; the Jinja2 template is its line-for-line translation, and the
two outputs are checked to be identical before anything is timed. Two figures:

- a template seen for the first time (parse and render), which is what `steps render` and a
  step's script substitution do: the ratio steps/Jinja2 is the goal (<= 1.5);
- a template already parsed (both engines cache it), render only, for information.

Also: loading a 10,000-variable file whose values carry scopes (JSON, YAML and TOML).

    python3 benchmarks/render.py [--runs N]

Needs Jinja2: `python3 -m pip install -e '.[bench]'`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import harness
from harness import Figure

NAME = "render"
GOAL_RATIO = 1.5
GOAL_LOAD_S = 0.5
VARIABLES = 2000
REFERENCES = 10_000
CONDITIONALS = 200
LOOPS = 100
SERVERS = 20


def _variables() -> dict[str, str]:
    values = {f"App_Setting{i}": f"value-{i}-{'x' * (i % 7)}" for i in range(VARIABLES)}
    values |= {f"Flag{i}": "True" if i % 3 else "False" for i in range(CONDITIONALS)}
    for i in range(SERVERS):
        values[f"Servers[web{i:02d}].Url"] = f"https://web{i:02d}.example.com"
        values[f"Servers[web{i:02d}].Port"] = str(8000 + i)
    return values


def _templates() -> tuple[str, str]:
    """The same document in the two languages: (Octostache, Jinja2)."""
    filler = "lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod; "
    ours: list[str] = []
    theirs: list[str] = []
    per_block = REFERENCES // (CONDITIONALS + LOOPS)
    reference = 0
    for block in range(CONDITIONALS + LOOPS):
        for _ in range(per_block):
            name = f"App_Setting{reference % VARIABLES}"
            ours.append(f"{filler}key{reference} = #{{{name}}}\n")
            theirs.append(f"{filler}key{reference} = {{{{ {name} }}}}\n")
            reference += 1
        if block < CONDITIONALS:
            ours.append(f'#{{if Flag{block} == "True"}}on {block}\n#{{else}}off {block}\n#{{/if}}')
            theirs.append(
                f'{{% if Flag{block} == "True" %}}on {block}\n{{% else %}}off {block}\n'
                "{% endif %}"
            )
        else:
            ours.append("#{each s in Servers}server #{s} at #{s.Url}:#{s.Port}\n#{/each}")
            theirs.append(
                "{% for s in Servers %}server {{ s.key }} at {{ s.Url }}:{{ s.Port }}\n"
                "{% endfor %}"
            )
    while reference < REFERENCES:
        name = f"App_Setting{reference % VARIABLES}"
        ours.append(f"{filler}key{reference} = #{{{name}}}\n")
        theirs.append(f"{filler}key{reference} = {{{{ {name} }}}}\n")
        reference += 1
    return "".join(ours), "".join(theirs)


def _jinja_context(values: dict[str, str]) -> dict[str, object]:
    context: dict[str, object] = {k: v for k, v in values.items() if "[" not in k}
    context["Servers"] = [
        {"key": f"web{i:02d}", "Url": values[f"Servers[web{i:02d}].Url"],
         "Port": values[f"Servers[web{i:02d}].Port"]}
        for i in range(SERVERS)
    ]  # fmt: skip
    return context


def _best(function: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def run(runs: int = 7) -> list[Figure]:
    import jinja2

    from steptemplates.variables.engine import Evaluator
    from steptemplates.variables.syntax import parse

    harness.heading(
        f"{NAME}: {REFERENCES} references, {CONDITIONALS} #{{if}}, {LOOPS} #{{each}} "
        "vs Jinja2 3"
    )
    values = _variables()
    ours, theirs = _templates()
    context = _jinja_context(values)
    environment = jinja2.Environment(autoescape=False, keep_trailing_newline=True)
    evaluator = Evaluator(values)
    expected = environment.from_string(theirs).render(context)
    if evaluator.render(ours, strict=True) != expected:
        raise SystemExit("the two templates render differently; the benchmark is broken")
    harness.report("template size", f"{len(ours.encode()) / 1e6:.2f} MB, output "
                   f"{len(expected.encode()) / 1e6:.2f} MB")  # fmt: skip

    def cold_ours() -> None:
        parse.cache_clear()
        Evaluator(values).render(ours)

    def cold_jinja() -> None:
        jinja2.Environment(autoescape=False, keep_trailing_newline=True).from_string(
            theirs
        ).render(context)

    compiled = environment.from_string(theirs)
    cold = [_best(cold_ours, runs), _best(cold_jinja, runs)]
    warm = [_best(lambda: evaluator.render(ours), runs), _best(lambda: compiled.render(context),
                                                                 runs)]  # fmt: skip
    for label, (steps_times, jinja_times) in (("first render", cold), ("cached render", warm)):
        harness.report(f"{label}, steps", harness.spread(steps_times))
        harness.report(f"{label}, Jinja2", harness.spread(jinja_times))
    ratio = statistics.median(cold[0]) / statistics.median(cold[1])
    warm_ratio = statistics.median(warm[0]) / statistics.median(warm[1])
    harness.report("ratio steps/Jinja2, first render", f"{ratio:.2f} (goal <= {GOAL_RATIO})")
    harness.report("ratio steps/Jinja2, cached render", f"{warm_ratio:.2f}")
    figures = [
        Figure(NAME, "1 MB template, steps/Jinja2", ratio, "ratio", f"<= {GOAL_RATIO}",
               ratio <= GOAL_RATIO),
        Figure(NAME, "same, both already parsed", warm_ratio, "ratio"),
    ]  # fmt: skip
    figures.extend(_load_variables(runs))
    return figures


def _scoped_variables(count: int) -> dict[str, object]:
    environments = ["Development", "Test", "Staging", "Production"]
    data: dict[str, object] = {}
    for i in range(count // 4):
        data[f"Service{i}.Url"] = [
            {"value": f"https://{env.lower()}.example.com/{i}", "environment": env}
            for env in environments[:3]
        ] + [{"value": f"https://prod-{i}.example.com", "environment": "Production",
              "role": ["web", "api"]}]  # fmt: skip
    return data


def _load_variables(runs: int) -> list[Figure]:
    from ruamel.yaml import YAML

    from steptemplates.variables.files import load_variables_file

    data = _scoped_variables(10_000)
    figures = []
    with harness.scratch("variables") as tmp:
        json_file = tmp / "variables.json"
        json_file.write_text(json.dumps(data, indent=1), encoding="utf-8")
        yaml_file = tmp / "variables.yaml"
        with yaml_file.open("w", encoding="utf-8") as stream:
            YAML().dump(data, stream)
        toml_file = tmp / "variables.toml"
        toml_file.write_text(_toml(data), encoding="utf-8")
        for path in (json_file, yaml_file, toml_file):
            count = len(load_variables_file(path))
            times = _best(lambda p=path: load_variables_file(p), runs)  # type: ignore[misc]
            label = f"load 10,000 scoped values, {path.suffix[1:].upper()}"
            harness.report(label, f"{count} values, " + harness.spread(times))
            best = statistics.median(times)
            figures.append(Figure(NAME, label, best, "s", f"< {GOAL_LOAD_S} s",
                                  best < GOAL_LOAD_S))  # fmt: skip
    return figures


def _toml(data: dict[str, object]) -> str:
    lines = []
    for name, entries in data.items():
        assert isinstance(entries, list)
        rows = []
        for entry in entries:
            fields = ", ".join(f"{k} = {json.dumps(v)}" for k, v in entry.items())
            rows.append(f"  {{ {fields} }},")
        lines.append(f'"{name}" = [\n' + "\n".join(rows) + "\n]")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    harness.print_table(run(args.runs))


if __name__ == "__main__":
    main()

