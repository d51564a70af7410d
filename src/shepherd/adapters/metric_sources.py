"""Build the configured metric sources by name ("prometheus", "datadog") for bootstrap.

Takes plain values rather than Settings so it does not depend on which fields Settings has.
Returns the concrete adapters (adapters do not import the services layer); callers hold the
result as ``Mapping[str, MetricsSource]`` and hand it to `close_metric_sources` on shutdown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import SecretStr

from shepherd.adapters.datadog import DEFAULT_API_URL, DatadogSource
from shepherd.adapters.prometheus import PrometheusSource

MetricAdapter = PrometheusSource | DatadogSource


def build_metric_sources(
    *,
    prometheus_url: str | None = None,
    prometheus_headers: Mapping[str, str | SecretStr] | None = None,
    datadog_api_url: str = DEFAULT_API_URL,
    datadog_api_key: str | SecretStr | None = None,
    datadog_app_key: str | SecretStr | None = None,
    timeout_seconds: float = 10.0,
) -> dict[str, MetricAdapter]:
    """Only the configured sources; none configured gives an empty dict (health checks off)."""
    sources: dict[str, MetricAdapter] = {}
    if prometheus_url:
        headers = {name: _plain(value) for name, value in (prometheus_headers or {}).items()}
        sources["prometheus"] = PrometheusSource(prometheus_url, timeout=timeout_seconds, headers=headers)
    api_key, app_key = _plain(datadog_api_key), _plain(datadog_app_key)
    if api_key and app_key:
        sources["datadog"] = DatadogSource(
            datadog_api_url, api_key=api_key, app_key=app_key, timeout=timeout_seconds
        )
    elif api_key or app_key:
        # Half a configuration would fail on every query; say so at startup instead.
        missing = "application key" if api_key else "API key"
        raise ValueError(f"Datadog is half configured: the {missing} is missing (set both or neither)")
    return sources


def close_metric_sources(sources: Iterable[MetricAdapter]) -> None:
    for source in sources:
        source.close()


def _plain(value: str | SecretStr | None) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value or ""
