"""Deploys: what was shipped where, its events and the lifecycle that folds them into a status."""

from shepherd.domain.deploys.lifecycle import DeployState, advance
from shepherd.domain.deploys.model import (
    SHA_RE,
    AttributionState,
    Change,
    Changeset,
    Deploy,
    DeployEvent,
    DeployPerson,
    DeployStatus,
    Identity,
    PersonRef,
    RawCommit,
    Role,
)

__all__ = [
    "SHA_RE",
    "AttributionState",
    "Change",
    "Changeset",
    "Deploy",
    "DeployEvent",
    "DeployPerson",
    "DeployState",
    "DeployStatus",
    "Identity",
    "PersonRef",
    "RawCommit",
    "Role",
    "advance",
]
