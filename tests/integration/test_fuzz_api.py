"""Schemathesis over Shepherd's OpenAPI document, with the API token: every operation, every check
but "schema-valid data is accepted" (a valid shape can still name an unknown service: 422).

`make test` runs a small budget (FUZZ_EXAMPLES, default 20 a operation); `make fuzz` a large one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from shepherd.bootstrap import bootstrap
from shepherd.entrypoints.web.app import create_app
from tests.conftest import make_settings
from tests.support.world import AUTH, world_config

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))


def fuzz_operation(operation: Any, counted: list[int]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck), deadline=None, database=None)
    def run(case: Any) -> None:
        counted.append(1)
        case.call_and_validate(headers=AUTH, excluded_checks=[positive_data_acceptance])

    run()


def test_every_operation_holds_up_to_generated_requests(tmp_path: Path) -> None:
    shepherd = bootstrap(
        make_settings(f"sqlite:///{tmp_path}/fuzz.db", tmp_path),
        config=world_config(tmp_path / "repo"),
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(shepherd, embedded_worker=False))
    problems, counted = [], []
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            fuzz_operation(operation, counted)
        except BaseException as exc:  # hypothesis raises a group of failures: collect, go on
            if isinstance(exc, KeyboardInterrupt):
                raise
            problems.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:600]}")
    shepherd.close()
    print(f"fuzz: {len(counted)} generated requests over the operations")
    assert not problems, "\n\n".join(problems)


def test_sequences_of_calls_hold_up_too(tmp_path: Path) -> None:
    """Stateful: schemathesis chains calls through the links it infers (a deploy's id into its
    events, verdict, rollbacks…), with every check but "schema-valid data is accepted"."""
    shepherd = bootstrap(
        make_settings(f"sqlite:///{tmp_path}/fuzz.db", tmp_path),
        config=world_config(tmp_path / "repo"),
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(shepherd, embedded_worker=False))
    machine: Any = schema.as_state_machine()

    calls: list[str] = []

    class WithToken(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            calls.append(f"{case.method} {case.formatted_path}")
            return {"headers": AUTH}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, excluded_checks=[positive_data_acceptance], headers=AUTH)

    WithToken.run(
        settings=settings(
            max_examples=max(5, EXAMPLES // 2),
            stateful_step_count=6,
            suppress_health_check=list(HealthCheck),
            deadline=None,
            database=None,
        )
    )
    chained = [c for c in calls if "/deploys/" in c]
    print(f"stateful: {len(calls)} calls, {len(chained)} of them on /deploys/{{id}} routes")
    shepherd.close()
