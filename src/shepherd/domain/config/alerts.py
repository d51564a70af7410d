"""The `alerts:` part of shepherd.yaml: how alerts name services, and when Shepherd pages."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shepherd.domain.alerts import AlertMapping, Severity


class AlertsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    service_labels: list[str] = Field(
        default=["service", "app", "job"], min_length=1, description="labels naming the service, first wins"
    )
    environment_labels: list[str] = Field(default=["environment", "env"])
    default_environment: str | None = Field(
        default=None, description="for alerts without an environment label (default: the production one)"
    )
    page_severity: Literal["info", "warning", "error", "critical"] = Field(
        default="error", description="at or above this, PagerDuty is triggered too"
    )

    quiet_note: bool = Field(
        default=False,
        description="an alert with no suspect deploy: one quiet line in the service channel (nobody paged)",
    )

    @property
    def page_threshold(self) -> Severity:
        return Severity(self.page_severity)

    def mapping(self, known_services: frozenset[str]) -> AlertMapping:
        return AlertMapping(
            service_labels=tuple(self.service_labels),
            environment_labels=tuple(self.environment_labels),
            known_services=known_services,
            default_environment=self.default_environment,
        )
