"""shepherd.yaml as values: services, environments, people, guides, policies, alert mappings, path rules."""

from shepherd.domain.config.model import (
    Check,
    Digest,
    Guide,
    PathRule,
    Person,
    Policies,
    PolicyOverrides,
    Rollback,
    Service,
    ShepherdConfig,
    Team,
    reference_problems,
    render_template,
)
from shepherd.domain.config.paths import any_file_matches, compile_glob, compile_globs, matches_any
from shepherd.domain.config.problems import Location, Problem, format_location

__all__ = [
    "Check",
    "Digest",
    "Guide",
    "Location",
    "PathRule",
    "Person",
    "Policies",
    "PolicyOverrides",
    "Problem",
    "Rollback",
    "Service",
    "ShepherdConfig",
    "Team",
    "any_file_matches",
    "compile_glob",
    "compile_globs",
    "format_location",
    "matches_any",
    "reference_problems",
    "render_template",
]
