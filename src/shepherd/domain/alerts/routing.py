"""Which recent deploy most likely caused an alert, and why. Pure.

A deploy is a suspect when it started within the correlation window before the alert started,
or started before it and is still rolling out. Suspects are ranked on three things a person
would weigh, each explained in words: how close in time, what the deploy's own watch said, and
whether the alert names something the deploy's changes touched (endpoint, handler, component…).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shepherd.domain.alerts.model import Alert
from shepherd.domain.deploys import Change, Deploy
from shepherd.domain.watch import Verdict

# Labels and annotations whose values say where the trouble is.
LOCATING_KEYS = (
    "endpoint",
    "handler",
    "path",
    "route",
    "uri",
    "url_path",
    "component",
    "operation",
    "method",
    "module",
    "queue",
    "job_name",
    "table",
)
WEIGHTS = {"time": 0.45, "verdict": 0.35, "overlap": 0.20}
HALF_LIFE_MINUTES = 15.0  # a deploy 15 min before the alert is half as likely as one just before
DEPENDENCY_DISCOUNT = 0.7  # a deploy of a dependency is less likely than one of the service itself
TOKEN_RE = re.compile(r"[a-z0-9]+")
STOP_TOKENS = frozenset(
    {"api", "src", "lib", "app", "main", "test", "tests", "get", "post", "put", "http", "v1"}
)


@dataclass(frozen=True)
class Candidate:
    """A deploy that might be a suspect, with what ranking needs to know of it."""

    deploy: Deploy
    changes: tuple[Change, ...]
    verdict: Verdict | None  # the deploy's watch verdict, None when not watched
    verdict_reason: str = ""
    dependency: bool = False  # a deploy of a service the alerting service depends on


@dataclass(frozen=True)
class Suspect:
    deploy_id: int
    score: float  # 0–1
    reasons: tuple[str, ...]  # most telling first

    def as_json(self) -> dict[str, object]:
        return {"deploy_id": self.deploy_id, "score": round(self.score, 3), "reasons": list(self.reasons)}


def in_window(deploy: Deploy, alert_start: datetime, window: timedelta) -> bool:
    if deploy.started_at > alert_start:
        return False  # it started after the trouble did
    rolling = not deploy.status.is_terminal
    return rolling or alert_start - deploy.started_at <= window


def rank(alert: Alert, candidates: Iterable[Candidate], window: timedelta) -> list[Suspect]:
    """Suspects, most likely first; ties go to the most recent deploy."""
    suspects = []
    for c in candidates:
        if c.deploy.id is None or not in_window(c.deploy, alert.starts_at, window):
            continue
        suspects.append(_suspect(alert, c))
    starts = {c.deploy.id: c.deploy.started_at for c in candidates}
    return sorted(suspects, key=lambda s: (-s.score, -starts[s.deploy_id].timestamp()))


def _suspect(alert: Alert, c: Candidate) -> Suspect:
    assert c.deploy.id is not None
    minutes = (alert.starts_at - c.deploy.started_at).total_seconds() / 60
    time_score = math.pow(0.5, minutes / HALF_LIFE_MINUTES)
    verdict_score, verdict_words = _verdict(c)
    overlap_score, overlap_words = _overlap(alert, c)
    score = (
        WEIGHTS["time"] * time_score + WEIGHTS["verdict"] * verdict_score + WEIGHTS["overlap"] * overlap_score
    )
    reasons = [f"{_deployed(c.deploy)} {_minutes(minutes)} before the alert started"]
    if c.dependency:
        score *= DEPENDENCY_DISCOUNT
        reasons[0] += f" ({alert.service or 'the alerting service'} depends on {c.deploy.service})"
    ordered = sorted([(verdict_score, verdict_words), (overlap_score, overlap_words)], key=lambda x: -x[0])
    reasons += [words for _, words in ordered if words]
    return Suspect(c.deploy.id, min(1.0, score), tuple(reasons))


def _deployed(deploy: Deploy) -> str:
    what = f"{deploy.service} {deploy.sha[:7]}"
    if not deploy.status.is_terminal:
        percent = f"{deploy.percent}%" if deploy.percent is not None else None
        stage = deploy.stage or percent
        return f"{what} started rolling out" + (f" (now at {stage})" if stage else "")
    return f"{what} was deployed"


def _minutes(minutes: float) -> str:
    if minutes < 1:
        return "less than a minute"
    return f"{minutes:.0f} min"


def _verdict(c: Candidate) -> tuple[float, str]:
    if c.verdict is Verdict.FAIL:
        return 1.0, f"its watch failed: {c.verdict_reason}".rstrip(": ")
    if c.verdict is Verdict.PASS:
        return 0.0, "its watch passed"
    if c.verdict is Verdict.INCONCLUSIVE:
        return 0.3, "its watch could not judge it"
    return 0.3, ""  # still watching, or not watched: neither for nor against


def alert_tokens(alert: Alert) -> dict[str, str]:
    """Words the alert uses to say where the trouble is → the label they came from."""
    found: dict[str, str] = {}
    for source in (alert.labels, alert.annotations):
        for key in LOCATING_KEYS:
            for token in _tokens(source.get(key, "")):
                found.setdefault(token, f"{key}={source[key]}")
    return found


def _tokens(text: str) -> list[str]:
    return [t for t in TOKEN_RE.findall(text.lower()) if len(t) >= 3 and t not in STOP_TOKENS]


def _overlap(alert: Alert, c: Candidate) -> tuple[float, str]:
    # The service's own name is in every path of a monorepo service: it locates nothing.
    wanted = alert_tokens(alert)
    for name in (alert.service or "", c.deploy.service):
        for token in _tokens(name):
            wanted.pop(token, None)
    if not wanted:
        return 0.0, ""
    for change in c.changes:
        for place in (*change.files, *change.path_rules):
            hits = [t for t in _tokens(place) if t in wanted]
            if hits:
                label = wanted[hits[0]]
                who = change.author.name
                return 1.0, f"the alert's {label} matches {place} (change {change.sha[:7]} by {who})"
    return 0.0, ""
