"""The one Settings object: environment variables with the SHEPHERD_ prefix.

Read once by `bootstrap`; nothing else in Shepherd looks at the environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHEPHERD_", extra="ignore")

    config: Path = Field(default=Path("./shepherd.yaml"), description="path of shepherd.yaml")
    database_url: str = "sqlite:///./.shepherd/shepherd.db"
    data_dir: Path = Field(default=Path("./.shepherd"), description="git mirrors and other state")
    api_token: SecretStr | None = None
    slack_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_signing_secret: SecretStr | None = None
    github_webhook_secret: SecretStr | None = None
    # Alert webhooks: a bearer token, or /webhooks/<source>/<secret> for tools that send no headers.
    alert_webhook_secret: SecretStr | None = None
    github_token: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    public_url: str = "http://127.0.0.1:8000"
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

    @field_validator("api_token", "github_webhook_secret", "slack_signing_secret")
    @classmethod
    def _refuse_weak_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty or trivially short secret is worse than none: it looks configured.
        if value is not None and len(value.get_secret_value()) < 8:
            raise ValueError("must be at least 8 characters (or unset)")
        return value

    @field_validator(
        "public_url", "slack_api_url", "github_api_url", "datadog_api_url", "pagerduty_events_url"
    )
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value
