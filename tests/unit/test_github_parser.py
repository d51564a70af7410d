"""GitHub deployment webhooks against the recorded payloads in ../shared/payloads/github."""

import hashlib
import hmac
import json

import pytest

from shepherd.adapters.inbound.github import PayloadError, parse_deployment_event, verify_signature
from shepherd.domain.deploys import DeployStatus
from tests.support import payload_path


def body(name: str) -> bytes:
    return payload_path("github", name).read_bytes()


@pytest.mark.parametrize(
    "name",
    [
        "deployment.payload.json",
        "deployment.with-installation.payload.json",
        "deployment.gh-pages.payload.json",
    ],
)
def test_recorded_deployment_payloads(name: str) -> None:
    signal = parse_deployment_event("deployment", body(name))
    assert signal.repository == "Codertocat/Hello-World"
    assert signal.deployment_id == 145988746
    assert signal.sha == "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
    assert signal.creator in ("Codertocat", "github-pages[bot]")
    assert signal.status is None and signal.created_at.tzinfo is not None


def test_recorded_deployment_status_payloads() -> None:
    success = parse_deployment_event("deployment_status", body("deployment_status.payload.json"))
    assert success.status is DeployStatus.SUCCEEDED and success.status_state == "success"
    assert success.environment == "production" and success.status_id is not None
    progress = parse_deployment_event("deployment_status", body("deployment_status.gh-pages.payload.json"))
    assert progress.status is DeployStatus.PROGRESSING
    assert progress.url is not None and progress.url.startswith("https://github.com/")


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("queued", DeployStatus.STARTED),
        ("pending", DeployStatus.STARTED),
        ("in_progress", DeployStatus.PROGRESSING),
        ("success", DeployStatus.SUCCEEDED),
        ("failure", DeployStatus.FAILED),
        ("error", DeployStatus.FAILED),
        ("inactive", None),
    ],
)
def test_state_mapping(state: str, expected: DeployStatus | None) -> None:
    data = json.loads(body("deployment_status.payload.json"))
    data["deployment_status"]["state"] = state
    assert parse_deployment_event("deployment_status", json.dumps(data).encode()).status is expected


def test_truncated_and_malformed_payloads_are_refused_with_where() -> None:
    raw = body("deployment.payload.json")
    with pytest.raises(PayloadError, match="not valid JSON"):
        parse_deployment_event("deployment", raw[: len(raw) // 2])
    with pytest.raises(PayloadError, match="JSON object"):
        parse_deployment_event("deployment", b"[1, 2]")
    data = json.loads(raw)
    data["deployment"]["sha"] = "not-a-sha"
    with pytest.raises(PayloadError, match=r"deployment\.sha"):
        parse_deployment_event("deployment", json.dumps(data).encode())
    del data["repository"]
    with pytest.raises(PayloadError) as info:
        parse_deployment_event("deployment", json.dumps(data).encode())
    assert info.value.details == {"field": "repository"}


def test_signature() -> None:
    raw = body("deployment.payload.json")
    good = "sha256=" + hmac.new(b"s3cret-key", raw, hashlib.sha256).hexdigest()
    assert verify_signature(b"s3cret-key", raw, good)
    assert not verify_signature(b"other-key", raw, good)
    assert not verify_signature(b"s3cret-key", raw + b" ", good)
    assert not verify_signature(b"s3cret-key", raw, None)
    assert not verify_signature(b"s3cret-key", raw, "sha1=" + good[7:])
