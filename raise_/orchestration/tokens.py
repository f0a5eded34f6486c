"""Job tokens: what a DAG or a pod presents to run one job (issue 21 *Access*).

A token opens exactly three calls for exactly one job (start a run, read that run, fail it) and
nothing else: the run itself reads the job's sources and writes its target as the job's owner,
so a token can do no more than the job does. It expires (``AirflowConfig.token_ttl``) and is
revoked when the job is undeployed or a new token is issued for the same orchestrator. Only its
SHA-256 hash is stored; the token is shown once, to the admin who issued it (or handed to
Airflow as a Variable at deployment), and never written to an audit entry or a log.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from raise_.errors import InvalidJobTokenError
from raise_.orchestration.models import JobTokenModel

__all__ = ["TOKEN_PREFIX", "IssuedToken", "hash_token", "is_job_token", "issue_token", "revoke_tokens", "verify_token"]

TOKEN_PREFIX: Final = "raise-job-"
_REFUSED: Final = (
    "The job token is not valid for this job (unknown, expired or revoked); issue a new one with "
    "fs.transforms.issue_token(job) or redeploy the job."
)


@dataclass(frozen=True)
class IssuedToken:
    """A new token, shown once: ``token`` is the secret."""

    token: str
    job: str
    orchestrator: str
    expires_at: datetime

    def __repr__(self) -> str:  # never print the secret by accident (a notebook echoing the value)
        return f"IssuedToken(job={self.job!r}, orchestrator={self.orchestrator!r}, expires_at={self.expires_at!r})"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_job_token(value: str | None) -> bool:
    return bool(value) and str(value).startswith(TOKEN_PREFIX)


def issue_token(
    session: Session, job_id: uuid.UUID, job: str, orchestrator: str, ttl: timedelta, actor: str
) -> IssuedToken:
    """A new token for the job on ``orchestrator``; the orchestrator's earlier tokens are revoked."""
    now = datetime.now(UTC)
    revoke_tokens(session, job_id, orchestrator)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = now + ttl
    session.add(
        JobTokenModel(
            id=uuid.uuid4(),
            job_id=job_id,
            token_hash=hash_token(token),
            orchestrator=orchestrator,
            created_by=actor,
            created_at=now,
            expires_at=expires,
        )
    )
    return IssuedToken(token=token, job=job, orchestrator=orchestrator, expires_at=expires)


def revoke_tokens(session: Session, job_id: uuid.UUID, orchestrator: str | None = None) -> int:
    query = update(JobTokenModel).where(JobTokenModel.job_id == job_id, JobTokenModel.revoked_at.is_(None))
    if orchestrator is not None:
        query = query.where(JobTokenModel.orchestrator == orchestrator)
    result = session.execute(query.values(revoked_at=datetime.now(UTC)))
    return int(getattr(result, "rowcount", 0) or 0)


def verify_token(session: Session, token: object, job_id: uuid.UUID) -> JobTokenModel:
    """The live token row for ``job_id``, else INVALID_JOB_TOKEN (the same message whatever was
    wrong: a caller learns nothing about other jobs' tokens)."""
    if not isinstance(token, str) or not is_job_token(token):
        raise InvalidJobTokenError(_REFUSED, {})
    digest = hash_token(token)
    row = session.scalar(select(JobTokenModel).where(JobTokenModel.token_hash == digest))
    now = datetime.now(UTC)
    if row is None or row.job_id != job_id or row.revoked_at is not None or row.expires_at <= now:
        raise InvalidJobTokenError(_REFUSED, {})
    return row
