"""The ``audit-alerts`` run kind: match every organization's audit alerts against new entries.

The scheduler runs it (item ``audit-alerts``, every minute by default) as a run of the runs
core, so each evaluation is recorded: organizations checked, new matches per organization, and
which organizations could not be checked and why. The matching itself is the audit service's
public ``check_audit_alerts`` (incremental: each entry is matched once); the run acts as the
scheduler's user, who must be an admin of the organizations (``RAISE_USER`` for ``raise worker``).

Then the run delivers the undelivered matches of every enabled alert
(:func:`raise_.notifications.audit_delivery.deliver_audit_matches`) with the store's notification
service (``notifications`` of the services the run is given); a delivery that fails is retried
by the next run, and never fails this one. Services without a notification service (a process
that does not own the store) leave the matches for the one that does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Protocol

from sqlalchemy import select

from raise_.errors import RaiseError
from raise_.metadata.database import CatalogDatabase
from raise_.metadata.models import AuditAlertModel, OrganizationModel
from raise_.runs.records import RunRecord

if TYPE_CHECKING:
    from raise_.runs.context import RunContext

__all__ = ["ITEM", "KIND", "AlertChecker", "check_all_audit_alerts", "organizations_with_alerts"]

KIND: Final = "audit-alerts"
ITEM: Final = "audit-alerts"
EVERY_SECONDS: Final = 60.0


class AlertChecker(Protocol):
    def check_audit_alerts(self, scope_path: str) -> dict[str, int]: ...


class AuditAlertCheckFailed(RaiseError):
    code = "AUDIT_ALERT_CHECK_FAILED"


def organizations_with_alerts(db: CatalogDatabase) -> list[str]:
    """Names of the organizations with at least one enabled audit alert."""
    with db.reader() as s:
        return list(
            s.scalars(
                select(OrganizationModel.name)
                .join(AuditAlertModel, AuditAlertModel.org_id == OrganizationModel.id)
                .where(AuditAlertModel.enabled.is_(True))
                .distinct()
                .order_by(OrganizationModel.name)
            ).all()
        )


def check_all_audit_alerts(run: RunRecord, ctx: RunContext) -> dict[str, Any]:
    orgs = organizations_with_alerts(ctx.db)
    checker: AlertChecker = ctx.service
    matches: dict[str, int] = {}
    failed: dict[str, str] = {}
    with ctx.stage("check"):
        for org in orgs:
            ctx.raise_if_cancelled()
            try:
                found = checker.check_audit_alerts(org)
            except RaiseError as exc:  # one organization's refusal must not hide the others' matches
                failed[org] = f"[{exc.code}] {exc.message}"
                ctx.log(f"{org}: {failed[org]}")
                continue
            matches[org] = sum(found.values())
            if found:
                ctx.log(f"{org}: " + ", ".join(f"{name} +{n}" for name, n in sorted(found.items())))
    if orgs:  # matches exist only for enabled alerts, so none are pending without them
        with ctx.stage("deliver"):
            _deliver(ctx)
    ctx.metric("organizations", len(orgs))
    ctx.metric("new_matches", sum(matches.values()))
    ctx.metric("matches", matches)
    if failed:
        raise AuditAlertCheckFailed(
            f"Audit alerts of {', '.join(sorted(failed))} could not be checked: "
            + "; ".join(f"{org}: {why}" for org, why in sorted(failed.items())),
            {"organizations": sorted(failed)},
        )
    return {"matches": matches}


def _deliver(ctx: RunContext) -> None:
    notifications = getattr(ctx.service, "notifications", None)
    if notifications is None:
        ctx.log("delivery: this process has no notification service; matches stay pending")
        return
    # Imported here: the scheduler's modules load with the engine, notifications only when used.
    from raise_.notifications.audit_delivery import deliver_audit_matches

    delivered = deliver_audit_matches(ctx.db, notifications, log=ctx.log)
    if delivered:
        ctx.log(f"delivery: {delivered} matches delivered")
