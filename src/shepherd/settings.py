"""The one Settings object: environment variables with the SHEPHERD_ prefix.

The variables are flat (`SHEPHERD_SLACK_TOKEN`, the documented contract); each client's part is
also offered as one nested value (`settings.slack`, `settings.github`, …) so an adapter is built
from its own settings. This is the only module that reads the environment: the `env:NAME`
references in shepherd.yaml (PagerDuty keys, rollback webhook headers) are resolved through
`Settings.environ`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True)
class SlackSettings:
    token: SecretStr | None
    api_url: str
    signing_secret: SecretStr | None
    ops_channel: str | None = None


@dataclass(frozen=True)
class GithubSettings:
    token: SecretStr | None
    api_url: str
    webhook_secret: SecretStr | None


@dataclass(frozen=True)
class PagerDutySettings:
    events_url: str
    timeout_seconds: float


@dataclass(frozen=True)
class MetricsSettings:
    prometheus_url: str | None
    prometheus_headers: Mapping[str, SecretStr]
    datadog_api_url: str
    datadog_api_key: SecretStr | None
    datadog_app_key: SecretStr | None
    timeout_seconds: float
    query_concurrency: int


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHEPHERD_", extra="ignore")

    config: Path = Field(default=Path("./shepherd.yaml"), description="path of shepherd.yaml")
    database_url: str = "sqlite:///./.shepherd/shepherd.db"
    data_dir: Path = Field(default=Path("./.shepherd"), description="git mirrors and other state")
    api_token: SecretStr | None = None
    # Reads only (`/api/v1` GETs, gates, /metrics): for dashboards, Argo Rollouts and Flagger gates.
    read_token: SecretStr | None = None
    metrics_public: bool = False  # /metrics without a token (a Prometheus inside the network)
    api_docs: bool = True  # /docs and /openapi.json
    slack_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_signing_secret: SecretStr | None = None
    # Where Shepherd says it was cut off from Slack or PagerDuty and is catching up (optional).
    slack_ops_channel: str | None = Field(default=None, min_length=1, max_length=80)
    github_webhook_secret: SecretStr | None = None
    # Alert webhooks: a bearer token, or /webhooks/<source>/<secret> for tools that send no headers.
    alert_webhook_secret: SecretStr | None = None
    github_token: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    public_url: str = "http://127.0.0.1:8000"
    # Where the CLI's client commands (`shepherd deploy`, `gate`, `jobs`) reach a running Shepherd.
    url: str = "http://127.0.0.1:8000"
    # Metric sources for health checks (`checks` in shepherd.yaml); unset = that source is off.
    prometheus_url: str | None = None
    prometheus_headers: dict[str, SecretStr] = Field(
        default_factory=dict, description='JSON, e.g. {"Authorization": "Bearer …", "X-Scope-OrgID": "t1"}'
    )
    datadog_api_url: str = "https://api.datadoghq.com"
    datadog_api_key: SecretStr | None = None
    datadog_app_key: SecretStr | None = None
    metrics_timeout_seconds: float = Field(default=10.0, gt=0)
    # Metric queries in flight at once per process (a look's queries go out together).
    metric_query_concurrency: int = Field(default=16, ge=1, le=64)
    # PagerDuty Events API v2 base (EU accounts: https://events.eu.pagerduty.com); tests use a fake.
    pagerduty_events_url: str = "https://events.pagerduty.com"
    # Worker tuning: the defaults suit one process; tests shorten them.
    worker_concurrency: int = Field(default=1, ge=1, le=64)
    job_lease_seconds: float = Field(default=120.0, gt=0)
    job_poll_seconds: float = Field(default=1.0, gt=0)
    git_timeout_seconds: float = Field(default=300.0, gt=0)

    @property
    def slack(self) -> SlackSettings:
        return SlackSettings(
            self.slack_token, self.slack_api_url, self.slack_signing_secret, self.slack_ops_channel
        )

    @property
    def github(self) -> GithubSettings:
        return GithubSettings(self.github_token, self.github_api_url, self.github_webhook_secret)

    @property
    def pagerduty(self) -> PagerDutySettings:
        return PagerDutySettings(self.pagerduty_events_url, self.metrics_timeout_seconds)

    @property
    def metrics(self) -> MetricsSettings:
        return MetricsSettings(
            prometheus_url=self.prometheus_url,
            prometheus_headers=self.prometheus_headers,
            datadog_api_url=self.datadog_api_url,
            datadog_api_key=self.datadog_api_key,
            datadog_app_key=self.datadog_app_key,
            timeout_seconds=self.metrics_timeout_seconds,
            query_concurrency=self.metric_query_concurrency,
        )

    @property
    def environ(self) -> Mapping[str, str]:
        """The process environment, for `env:NAME` references in shepherd.yaml (read when used)."""
        return os.environ

    def given(self, name: str) -> bool:
        """Whether a setting was given (by the environment or the caller) rather than defaulted."""
        return name in self.model_fields_set

    @model_validator(mode="after")
    def _datadog_pair(self) -> Settings:
        if (self.datadog_api_key is None) != (self.datadog_app_key is None):
            raise ValueError("set both SHEPHERD_DATADOG_API_KEY and SHEPHERD_DATADOG_APP_KEY, or neither")
        return self

    @field_validator("prometheus_url")
    @classmethod
    def _optional_http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value

    @field_validator("api_token", "read_token", "github_webhook_secret", "slack_signing_secret")
    @classmethod
    def _refuse_weak_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty or trivially short secret is worse than none: it looks configured.
        if value is not None and len(value.get_secret_value()) < 8:
            raise ValueError("must be at least 8 characters (or unset)")
        return value

    @field_validator(
        "public_url", "url", "slack_api_url", "github_api_url", "datadog_api_url", "pagerduty_events_url"
    )
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value
