"""Incidents after the fact: the timeline, the postmortem draft, and who may roll back how."""

from shepherd.domain.incidents.analysis import IncidentStory, PageStory, detection, impact_window, timeline
from shepherd.domain.incidents.postmortem import render_markdown
from shepherd.domain.incidents.rollback import (
    WEBHOOK_OUTPUT_CHARS,
    Presser,
    RollbackResult,
    identify,
    may_roll_back,
    render_command,
    render_json_body,
    render_url,
    resolve_headers,
    rollback_target,
    template_values,
    who_may,
)

__all__ = [
    "WEBHOOK_OUTPUT_CHARS",
    "IncidentStory",
    "PageStory",
    "Presser",
    "RollbackResult",
    "detection",
    "identify",
    "impact_window",
    "may_roll_back",
    "render_command",
    "render_json_body",
    "render_markdown",
    "render_url",
    "resolve_headers",
    "rollback_target",
    "template_values",
    "timeline",
    "who_may",
]
