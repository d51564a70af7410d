"""Deploys, their events, changes and people in SQL. Repositories never commit."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from sqlalchemy import Row, Table, bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shepherd.adapters.db.tables import ChangeRow, DeployEventRow, DeployPersonRow, DeployRow
from shepherd.domain.changes import person_key
from shepherd.domain.deploys import (
    AttributionState,
    Change,
    Changeset,
    Deploy,
    DeployEvent,
    DeployPerson,
    DeployStatus,
    PersonRef,
    Role,
)
from shepherd.domain.errors import DuplicateKey

_DEPLOY_FIELDS = [f.name for f in fields(Deploy)]
_DEPLOYS: Table = DeployRow.__table__  # type: ignore[assignment]
_GET = select(_DEPLOYS).where(_DEPLOYS.c.id == bindparam("id"))
_GET_FOR_UPDATE = _GET.with_for_update()


class SqlDeployRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, deploy: Deploy) -> Deploy:
        values = {k: v for k, v in _deploy_columns(deploy).items() if k != "id"}
        row = DeployRow(**values)
        self._session.add(row)
        try:
            self._session.flush()
        except IntegrityError as exc:
            raise DuplicateKey(f"idempotency key {deploy.idempotency_key!r} already used") from exc
        deploy.id = row.id
        return deploy

    def get(self, deploy_id: int, *, for_update: bool = False) -> Deploy | None:
        # Core, built once: every watch tick reads its deploy, and the ORM load cost more than the query.
        query = _GET_FOR_UPDATE if for_update else _GET
        row = self._session.connection().execute(query, {"id": deploy_id}).first()
        return _deploy(row) if row else None

    def by_idempotency_key(self, key: str) -> Deploy | None:
        row = self._session.scalars(select(DeployRow).where(DeployRow.idempotency_key == key)).one_or_none()
        return _deploy(row) if row else None

    def save(self, deploy: Deploy) -> None:
        row = self._session.get(DeployRow, deploy.id)
        if row is None:
            raise LookupError(f"deploy {deploy.id} does not exist")
        for key, value in _deploy_columns(deploy).items():
            setattr(row, key, value)
        self._session.flush()

    def query(
        self,
        *,
        service: str | None = None,
        environment: str | None = None,
        status: str | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Deploy]:
        query = select(DeployRow).order_by(DeployRow.id.desc()).limit(limit)
        if service:
            query = query.where(DeployRow.service == service)
        if environment:
            query = query.where(DeployRow.environment == environment)
        if status:
            query = query.where(DeployRow.status == status)
        if before_id:
            query = query.where(DeployRow.id < before_id)
        return [_deploy(row) for row in self._session.scalars(query)]

    def last_succeeded(self, *, service: str, environment: str, before: Deploy) -> Deploy | None:
        query = (
            select(DeployRow)
            .where(
                DeployRow.service == service,
                DeployRow.environment == environment,
                DeployRow.status == DeployStatus.SUCCEEDED.value,
                DeployRow.id != before.id,
                DeployRow.started_at <= before.started_at,
            )
            .order_by(DeployRow.started_at.desc(), DeployRow.id.desc())
            .limit(1)
        )
        row = self._session.scalars(query).one_or_none()
        return _deploy(row) if row else None

    def add_event(self, event: DeployEvent) -> DeployEvent:
        values = {k: v for k, v in asdict(event).items() if k != "id"}
        values["status"] = event.status.value
        row = DeployEventRow(**values)
        self._session.add(row)
        self._session.flush()
        return DeployEvent(**{**asdict(event), "id": row.id})

    def event_by_key(self, key: str) -> DeployEvent | None:
        query = select(DeployEventRow).where(DeployEventRow.idempotency_key == key)
        row = self._session.scalars(query).one_or_none()
        return _event(row) if row else None

    def events(self, deploy_id: int) -> list[DeployEvent]:
        query = (
            select(DeployEventRow)
            .where(DeployEventRow.deploy_id == deploy_id)
            .order_by(DeployEventRow.received_at, DeployEventRow.id)
        )
        return [_event(row) for row in self._session.scalars(query)]

    def store_changeset(self, deploy_id: int, changeset: Changeset) -> None:
        """Replace what attribution stored before: a retried job writes the same rows again."""
        self._session.execute(delete(ChangeRow).where(ChangeRow.deploy_id == deploy_id))
        self._session.execute(delete(DeployPersonRow).where(DeployPersonRow.deploy_id == deploy_id))
        self._session.add_all(_change_row(deploy_id, i, change) for i, change in enumerate(changeset.changes))
        self._session.add_all(_person_row(deploy_id, person) for person in changeset.people)
        self._session.flush()

    def changes(self, deploy_id: int, *, limit: int | None = None) -> list[Change]:
        query = select(ChangeRow).where(ChangeRow.deploy_id == deploy_id).order_by(ChangeRow.position)
        if limit is not None:
            query = query.limit(limit)
        return [_change(row) for row in self._session.scalars(query)]

    def people(self, deploy_id: int) -> list[DeployPerson]:
        query = (
            select(DeployPersonRow).where(DeployPersonRow.deploy_id == deploy_id).order_by(DeployPersonRow.id)
        )
        return [_person(row) for row in self._session.scalars(query)]


def _deploy_columns(deploy: Deploy) -> dict[str, Any]:
    values = {name: getattr(deploy, name) for name in _DEPLOY_FIELDS}
    values["status"] = deploy.status.value
    values["attribution_state"] = deploy.attribution_state.value
    values["attribution_notes"] = list(deploy.attribution_notes)
    return values


def _deploy(row: DeployRow | Row[Any]) -> Deploy:
    values = {name: getattr(row, name) for name in _DEPLOY_FIELDS}
    values["status"] = DeployStatus(row.status)
    values["attribution_state"] = AttributionState(row.attribution_state)
    values["attribution_notes"] = list(row.attribution_notes or [])
    return Deploy(**values)


def _event(row: DeployEventRow) -> DeployEvent:
    return DeployEvent(
        id=row.id,
        deploy_id=row.deploy_id,
        status=DeployStatus(row.status),
        percent=row.percent,
        stage=row.stage,
        message=row.message,
        source=row.source,
        idempotency_key=row.idempotency_key,
        applied=row.applied,
        occurred_at=row.occurred_at,
        received_at=row.received_at,
    )


def _ref_json(ref: PersonRef) -> dict[str, Any]:
    return asdict(ref)


def _ref(data: dict[str, Any]) -> PersonRef:
    return PersonRef(**data)


def _change_row(deploy_id: int, position: int, change: Change) -> ChangeRow:
    return ChangeRow(
        deploy_id=deploy_id,
        position=position,
        sha=change.sha,
        subject=change.subject,
        author=_ref_json(change.author),
        coauthors=[_ref_json(c) for c in change.coauthors],
        merger=_ref_json(change.merger) if change.merger else None,
        pr_number=change.pr_number,
        merge_sha=change.merge_sha,
        authored_at=change.authored_at,
        committed_at=change.committed_at,
        files=list(change.files),
        path_rules=list(change.path_rules),
        reverts=list(change.reverts),
        pr_first_authored_at=change.pr_first_authored_at,
    )


def _change(row: ChangeRow) -> Change:
    return Change(
        sha=row.sha,
        subject=row.subject,
        author=_ref(row.author),
        coauthors=tuple(_ref(c) for c in row.coauthors),
        merger=_ref(row.merger) if row.merger else None,
        pr_number=row.pr_number,
        merge_sha=row.merge_sha,
        authored_at=row.authored_at,
        committed_at=row.committed_at,
        files=tuple(row.files),
        path_rules=tuple(row.path_rules),
        reverts=tuple(row.reverts or ()),
        pr_first_authored_at=row.pr_first_authored_at,
    )


def _person_row(deploy_id: int, person: DeployPerson) -> DeployPersonRow:
    return DeployPersonRow(
        deploy_id=deploy_id,
        key=person_key(person.ref),
        name=person.ref.name,
        email=person.ref.email,
        person=person.ref.person,
        github_login=person.ref.github_login,
        roles=sorted(role.value for role in person.roles),
        change_count=len(person.change_shas),
        change_shas=list(person.change_shas),
        merged_prs=sorted(person.merged_prs),
    )


def _person(row: DeployPersonRow) -> DeployPerson:
    return DeployPerson(
        ref=PersonRef(name=row.name, email=row.email, person=row.person, github_login=row.github_login),
        roles={Role(r) for r in row.roles},
        change_shas=list(row.change_shas),
        merged_prs=set(row.merged_prs),
    )
