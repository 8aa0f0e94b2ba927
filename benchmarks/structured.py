"""Structured configuration variables on a 10 MB JSON file, against a plain JSON round trip.

The file is realistic configuration grown large: application settings nested five levels
deep, 4,600 tenants each with limits and a list of users, and a 22,000-product catalogue,
written with two-space indentation. Twenty variables name paths spread through it (deep
settings, array elements near the start, middle and end, numbers, booleans and strings).
The replacement is checked first: the new file parses to the original with exactly those
twenty values changed.

Two figures, each a median of several runs:

- ``replace_structured`` on the file (read, replace, atomic write), against reading it,
  ``json.loads`` + ``json.dumps(indent=2)`` and writing it the same way: the goal is a
  ratio <= 2;
- the same without the file: the JSON format's ``replace`` on bytes against ``json.loads``
  + ``json.dumps(indent=2)`` on the same bytes, for information.

    python3 benchmarks/structured.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import harness
from harness import Figure

NAME = "structured"
GOAL_RATIO = 2.0
TENANTS = 4600
PRODUCTS = 22_000

VARIABLES = {
    "Application:Name": "Shop (production)",
    "Application:Settings:Cache:Redis:ConnectionString": "redis.prod:6379,ssl=true",
    "Application:Settings:Cache:Redis:Database": "4",
    "Application:Settings:Security:Jwt:Issuer": "https://login.example.com",
    "application:settings:security:jwt:lifetimeminutes": "15",
    "Application:Settings:Features:NewCheckout": "True",
    "Logging:LogLevel:Default": "Warning",
    "Logging:LogLevel:Microsoft.AspNetCore": "Error",
    "Tenants:0:Name": "Contoso Europe",
    "Tenants:3:Limits:Requests": "50000",
    "Tenants:2300:Region": "eu-west-2",
    "Tenants:2300:Users:2:Email": "ops@tenant2300.example.com",
    "Tenants:4599:Limits:StorageGb": "512.5",
    "Tenants:4599:Users:0:Active": "false",
    "Catalog:Products:0:Price": "9.99",
    "Catalog:Products:11000:Description": "Replaced during deployment",
    "Catalog:Products:21999:Tags:1": "clearance",
    "Catalog:Currency": "EUR",
    "ConnectionStrings:Orders": "Server=sql.prod;Database=orders;Encrypt=true",
    "ConnectionStrings:Audit": "Server=sql.prod;Database=audit;Encrypt=true",
}


def _document(seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"]

    def sentence(count: int) -> str:
        return " ".join(rng.choice(words) for _ in range(count))

    return {
        "Application": {
            "Name": "Shop",
            "Version": "4.12.0",
            "Settings": {
                "Cache": {"Redis": {"ConnectionString": "localhost:6379", "Database": 0}},
                "Security": {"Jwt": {"Issuer": "https://localhost", "LifetimeMinutes": 60}},
                "Features": {"NewCheckout": False, "Recommendations": True},
            },
        },
        "Logging": {"LogLevel": {"Default": "Information", "Microsoft.AspNetCore": "Warning"}},
        "ConnectionStrings": {
            "Orders": "Server=localhost;Database=orders",
            "Audit": "Server=localhost;Database=audit",
        },
        "Tenants": [
            {
                "Id": f"tenant-{index:05d}",
                "Name": f"Tenant {index}",
                "Region": rng.choice(["eu-west-1", "us-east-1", "ap-south-1"]),
                "Limits": {"Requests": rng.randrange(1000, 100_000), "StorageGb": 100.0},
                "Users": [
                    {
                        "Email": f"user{user}@tenant{index}.example.com",
                        "Roles": rng.sample(["admin", "editor", "viewer", "billing"], 2),
                        "Quota": round(rng.random() * 100, 3),
                        "Active": True,
                    }
                    for user in range(4)
                ],
            }
            for index in range(TENANTS)
        ],
        "Catalog": {
            "Currency": "USD",
            "Products": [
                {
                    "Sku": f"SKU-{index:06d}",
                    "Price": round(rng.random() * 500, 2),
                    "Stock": rng.randrange(0, 1000),
                    "Tags": [rng.choice(words), rng.choice(words)],
                    "Description": sentence(12),
                }
                for index in range(PRODUCTS)
            ],
        },
    }


def _check(document: dict[str, Any], replaced: bytes) -> None:
    """Fail loudly unless ``replaced`` is the document with exactly the 20 values changed."""
    expected = json.loads(json.dumps(document))
    for name, value in VARIABLES.items():
        node: Any = expected
        segments = name.split(":")
        for segment in segments[:-1]:
            node = node[int(segment)] if isinstance(node, list) else _key(node, segment)
        last = int(segments[-1]) if isinstance(node, list) else _key_name(node, segments[-1])
        node[last] = _typed(node[last], value)
    if json.loads(replaced) != expected:
        raise SystemExit("the replaced file is not what the variables describe; broken benchmark")


def _key_name(node: dict[str, Any], segment: str) -> str:
    return next(key for key in node if key.casefold() == segment.casefold())


def _key(node: dict[str, Any], segment: str) -> Any:
    return node[_key_name(node, segment)]


def _typed(original: Any, value: str) -> Any:
    if isinstance(original, bool):
        return value.lower() == "true"
    if isinstance(original, int):
        return int(value)
    if isinstance(original, float):
        return float(value)
    return value


def _times(function: Callable[[], object], runs: int, prepare: Callable[[], object]) -> list[float]:
    times = []
    for _ in range(runs):
        prepare()
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times


def run(runs: int = 5) -> list[Figure]:
    from steptemplates.execution.config import structured_json
    from steptemplates.execution.config.structured import replace_structured
    from steptemplates.fsutil import write_bytes_atomic

    document = _document()
    original = json.dumps(document, indent=2).encode()
    harness.heading(
        f"{NAME}: {len(original) / 1e6:.1f} MB JSON, {len(VARIABLES)} variables "
        "vs json.loads + json.dumps(indent=2)"
    )
    replaced = structured_json.replace(original, VARIABLES, warn=print).data
    _check(document, replaced)
    harness.report("file size before, after", f"{len(original)} B, {len(replaced)} B")

    with harness.scratch("structured") as tmp:
        path = tmp / "appsettings.json"

        def reset() -> None:
            path.write_bytes(original)

        def ours() -> None:
            replace_structured(path, VARIABLES, warn=print, info=lambda _: None)

        def round_trip(target: Path = path) -> None:
            data = json.loads(target.read_bytes())
            write_bytes_atomic(target, json.dumps(data, indent=2).encode())

        file_ours = _times(ours, runs, reset)
        file_theirs = _times(round_trip, runs, reset)
        if path.read_bytes() != original:
            raise SystemExit("json.dumps did not reproduce the file; broken benchmark")

    def bytes_ours() -> None:
        structured_json.replace(original, VARIABLES, warn=print)

    def bytes_theirs() -> None:
        json.dumps(json.loads(original), indent=2)

    memory_ours = _times(bytes_ours, runs, lambda: None)
    memory_theirs = _times(bytes_theirs, runs, lambda: None)
    for label, times in (
        ("file, replace_structured", file_ours),
        ("file, read + loads + dumps + write", file_theirs),
        ("bytes, JSON replace", memory_ours),
        ("bytes, loads + dumps", memory_theirs),
    ):
        harness.report(label, harness.spread(times))
    ratio = statistics.median(file_ours) / statistics.median(file_theirs)
    memory_ratio = statistics.median(memory_ours) / statistics.median(memory_theirs)
    harness.report("ratio, file", f"{ratio:.2f} (goal <= {GOAL_RATIO})")
    harness.report("ratio, bytes", f"{memory_ratio:.2f}")
    return [
        Figure(NAME, "10 MB JSON, 20 variables / loads+dumps", ratio, "ratio",
               f"<= {GOAL_RATIO}", ratio <= GOAL_RATIO),
        Figure(NAME, "same on bytes, no file", memory_ratio, "ratio"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    harness.print_table(run(args.runs))


if __name__ == "__main__":
    main()
