"""The weekly delivery digest: the five keys of last week, their bands and trend, the slowest
changes and the failed deploys, as a neutral message. Pure: it reads the delivery report's JSON
(services/queries/dora.py) and plain lists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shepherd.domain.delivery import KEYS, Key
from shepherd.domain.notify.messages import Message, Section, Tone
from shepherd.domain.notify.spans import Field, Line, Text, code, link, strong, text
from shepherd.domain.text import hours_words, percent

MAX_LISTED = 5


@dataclass(frozen=True)
class SlowChange:
    sha: str
    subject: str
    hours: float
    deploy_id: int


def digest_message(
    report: Mapping[str, Any], *, who: str, slowest: Sequence[SlowChange], public_url: str
) -> Message:
    since, until = report["since"][:10], report["until"][:10]
    failed, open_ = report["change_failure_rate"]["failed"], report["recovery_time"]["open"]
    counts = text(
        f"{report['deploys']} deploys, {failed} failed, {open_} not recovered yet; "
        f"{since} to {until} UTC, trends against the week before."
    )
    sections = [Section(None, (counts, *_keys(report)))]
    if slowest:
        lines = tuple(_slow(c, public_url) for c in slowest[:MAX_LISTED])
        sections.append(Section(strong("Slowest changes to production"), lines))
    if report["failed_deploys"]:
        lines = tuple(_failed(f, public_url) for f in report["failed_deploys"][:MAX_LISTED])
        sections.append(Section(strong("Failed deploys"), lines))
    rate = percent(report["change_failure_rate"]["rate"])
    return Message(
        title=text("📦 ", strong(f"{who}: delivery, week of {since}")),
        text=text(f"{who}: {report['deploys']} deploys last week, change failure rate {rate}"),
        tone=Tone.WARNING if open_ else Tone.INFO,
        sections=tuple(sections),
        footer=(text("Definitions and bands (DORA 2024): docs/delivery.md · ", code("shepherd dora")),),
    )


def _keys(r: Mapping[str, Any]) -> tuple[Line, ...]:
    return tuple(_key(key, r) for key in KEYS)


def _key(key: Key, r: Mapping[str, Any]) -> Line:
    parts: list[Text | str] = [key.words(key.value(r))]
    band = key.band(r)
    if band:
        parts.append(f" ({band})")
    moved = key.trend(r)
    if moved is not None:
        direction, better = moved
        parts.append(
            "  → same as the week before"
            if direction == 0
            else f"  {'↑' if direction > 0 else '↓'} {'better' if better else 'worse'} than the week before"
        )
    return Field(strong(key.label.capitalize()), text(*parts))


def _slow(c: SlowChange, public_url: str) -> Line:
    return text(
        code(c.sha[:7]),
        f" {c.subject[:80]}: {hours_words(c.hours)} to production, ",
        link(f"{public_url}/deploys/{c.deploy_id}", f"deploy #{c.deploy_id}"),
    )


def _failed(f: Mapping[str, Any], public_url: str) -> Line:
    recovered = (
        f"recovered in {hours_words(f['recovery_hours'])}" if f["recovered_by"] else "not recovered yet"
    )
    return text(
        link(f"{public_url}/deploys/{f['id']}", f"deploy #{f['id']}"),
        " ",
        code(f["sha"][:7]),
        f": {f['why']}; {recovered}",
    )
