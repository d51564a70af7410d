"""`/healthz` and `/metrics`: is Shepherd up, and can it deliver (which destinations are down).

`/healthz` answers 200 whenever Shepherd itself is up, so a load balancer does not take it out
of service because Slack is down; its JSON names the destinations that are.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from shepherd import __version__
from shepherd.domain.circuits import CircuitState
from shepherd.domain.jobs import JobState
from shepherd.entrypoints.web.auth import MetricsAccess
from shepherd.entrypoints.web.deps import ShepherdDep
from shepherd.services.queries.delivery import DeliveryHealth, delivery_health

router = APIRouter(include_in_schema=False)


def _health(shepherd: ShepherdDep) -> DeliveryHealth:
    return delivery_health(uow_factory=shepherd.uow_factory, clock=shepherd.clock)


@router.get("/healthz")
def healthz(shepherd: ShepherdDep) -> dict[str, Any]:
    health = _health(shepherd)
    destinations = {
        d.destination: {
            "state": d.state.value,
            "down_since": d.down_since.isoformat() if d.down_since else None,
            "last_error": d.last_error,
            "parked_jobs": d.parked,
            "oldest_parked_seconds": round(d.oldest_parked_seconds, 1),
        }
        for d in health.destinations
    }
    return {
        "status": "ok",
        "version": __version__,
        "down": health.down,
        "destinations": destinations,
        "dead_jobs": health.jobs.get(JobState.DEAD.value, 0),
    }


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(_read: MetricsAccess, shepherd: ShepherdDep) -> str:
    health = _health(shepherd)
    lines = _gauge("shepherd_jobs", "Jobs in the jobs table by state.")
    lines += [f'shepherd_jobs{{state="{s.value}"}} {health.jobs.get(s.value, 0)}' for s in JobState]
    lines += _gauge("shepherd_dead_jobs", "Jobs that gave up; `shepherd jobs list --dead` says why.")
    lines.append(f"shepherd_dead_jobs {health.jobs.get(JobState.DEAD.value, 0)}")
    lines += _gauge("shepherd_destination_up", "1 while Shepherd can deliver to the destination.")
    lines += [
        f'shepherd_destination_up{{destination="{d.destination}"}} {int(not d.down)}'
        for d in health.destinations
    ]
    lines += _gauge("shepherd_destination_state", "The destination's circuit: closed, open or half_open.")
    for d in health.destinations:
        for state in CircuitState:
            value = int(d.state is state)
            lines.append(
                f'shepherd_destination_state{{destination="{d.destination}",state="{state.value}"}} {value}'
            )
    lines += _gauge("shepherd_parked_jobs", "Jobs waiting for their destination to answer again.")
    lines += [
        f'shepherd_parked_jobs{{destination="{d.destination}"}} {d.parked}' for d in health.destinations
    ]
    lines += _gauge("shepherd_oldest_parked_seconds", "Age of the oldest job waiting for the destination.")
    lines += [
        f'shepherd_oldest_parked_seconds{{destination="{d.destination}"}} {d.oldest_parked_seconds:.1f}'
        for d in health.destinations
    ]
    return "\n".join(lines) + "\n"


def _gauge(name: str, help_text: str) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
