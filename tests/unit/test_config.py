"""shepherd.yaml validation: every problem, with its location and line."""

from pathlib import Path

import pytest

from shepherd.adapters.config_file import ConfigError, load_config, parse_config
from shepherd.domain.config import render_template

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shepherd.yaml"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return [str(p) for p in info.value.problems]


def test_the_example_config_is_valid_and_documents_every_key() -> None:
    config = load_config(EXAMPLE)
    assert [s.name for s in config.services] == ["checkout", "search"]
    text = EXAMPLE.read_text()
    for key in (
        "watch_minutes",
        "ack_minutes",
        "escalate_minutes",
        "correlation_minutes",
        "emails",
        "slack_user_id",
        "github_login",
        "repository",
        "github_repository",
        "default_branch",
        "environments",
        "production_environment",
        "paths",
        "slack_channel",
        "owners",
        "guides",
        "path_rules",
        "rollback",
        "command",
        "webhook",
        "timeout_seconds",
        "policies",
    ):
        assert f"{key}:" in text, key


BASE = """
people:
  - name: Ana
    emails: [ana@example.com]
services:
  - name: one
    repository: /tmp/one
  - name: two
    repository: /tmp/two
  - name: three
    repository: /tmp/three
    guides:
      - title: Dash
        url: "https://grafana/d/x?sha={sah}"
"""


def test_unknown_placeholder_is_reported_at_its_location_and_line() -> None:
    found = problems(BASE)
    assert len(found) == 1
    assert found[0].startswith("services[2].guides[0].url: unknown placeholder {sah}")
    assert found[0].endswith("(line 14)")


def test_every_problem_is_reported_not_just_the_first() -> None:
    text = """
services:
  - name: Bad Name
    repository: x
    slack_chanel: "#typo"
    environments: []
  - name: ok
    repository: x
    rollback: {}
    owners: [nobody]
"""
    found = problems(text)
    joined = "\n".join(found)
    assert "services[0].name: use lowercase" in joined
    assert "services[0].slack_chanel: unknown key 'slack_chanel'; did you mean 'slack_channel'?" in joined
    assert "services[0].environments:" in joined
    assert "services[1].rollback: give exactly one of 'command' or 'webhook'" in joined


def test_reference_problems_unknown_owner_duplicates_and_aliases() -> None:
    text = """
people:
  - {name: Ana, emails: [ana@example.com]}
  - {name: Ana2, emails: [ANA@example.com]}
services:
  - {name: api, repository: x, owners: [Ana, bob@example.com, Zed]}
  - {name: api, repository: y, environments: [staging]}
"""
    joined = "\n".join(problems(text))
    assert "services[0].owners[2]: unknown person 'Zed'" in joined
    assert "services[1].name: duplicate service name 'api'" in joined
    assert "people[1].emails[0]: ANA@example.com also belongs to Ana" in joined
    assert "services[1].production_environment: 'production' is not one of environments" in joined


def test_yaml_syntax_error_has_a_line() -> None:
    found = problems("services:\n  - name: a\n    repository: [unclosed\n")
    assert found[0].startswith("(yaml): not valid YAML") and "(line" in found[0]


def test_missing_file_and_wrong_top_level() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(Path("/nonexistent/shepherd.yaml"))
    assert "not found" in str(info.value)
    assert problems("- a\n- b\n")[0].startswith("(top level): expected a mapping")


def test_json_braces_in_rollback_body_are_literal() -> None:
    config = parse_config(
        """
services:
  - name: api
    repository: x
    rollback:
      webhook:
        url: https://ci.example.com/hooks/{service}
        body: '{"ref": "main", "inputs": {"sha": "{rollback_sha}"}}'
"""
    )
    webhook = config.services[0].rollback.webhook  # type: ignore[union-attr]
    assert webhook is not None and webhook.body is not None
    rendered = render_template(webhook.body, {"rollback_sha": "abc"})
    assert rendered == '{"ref": "main", "inputs": {"sha": "abc"}}'


def test_policy_overrides_and_github_name_from_url() -> None:
    config = parse_config(
        """
policies: {ack_minutes: 0.1, escalate_minutes: 0.2}
services:
  - name: api
    repository: https://github.com/acme/api.git
    policies: {ack_minutes: 0.05}
"""
    )
    service = config.services[0]
    assert service.github_full_name == "acme/api"
    policy = service.policy(config.policies)
    assert policy.ack_minutes == 0.05 and policy.escalate_minutes == 0.2
    assert problems("policies: {ack_minutes: 10, escalate_minutes: 5}")[0].startswith("policies:")


def test_a_service_override_must_fit_the_top_level_policies() -> None:
    found = problems(
        """
policies: {ack_minutes: 10, escalate_minutes: 20}
services:
  - {name: a, repository: x, policies: {ack_minutes: 30}}
"""
    )
    assert found == [
        "services[0].policies: with the top-level policies: escalate_minutes must not be shorter than "
        "ack_minutes (line 4)"
    ]


def test_remote_or_local_repositories() -> None:
    from shepherd.adapters.git import GitMirrors, is_remote

    assert is_remote("git@github.com:acme/api.git") and is_remote("deploy@git.internal:api.git")
    assert is_remote("https://github.com/acme/api") and is_remote("file:///srv/git/api.git")
    assert not is_remote("../api") and not is_remote("~/src/api") and not is_remote("/srv/api")
    mirrors = GitMirrors(data_dir=Path("/tmp/data"), config_dir=Path("/etc/shepherd"))
    assert mirrors.for_repository("~/src/api").remote == str(Path("~/src/api").expanduser())
    assert mirrors.for_repository("../api").remote == "/etc/api"
