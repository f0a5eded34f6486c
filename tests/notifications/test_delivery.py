"""Delivery: every channel at once, retries with backoff, one recorded row per channel, dead
channels that delay only themselves, and secrets that reach no row, error, record or log."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from notification_receivers import (
    Mailbox,
    Sleeps,
    SmtpServer,
    closed_port,
    email_section,
    notification,
    settings,
    silent_endpoint,
)
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from raise_.errors import DeliveryFailedError, InvalidArgumentError
from raise_.metadata.database import CatalogDatabase
from raise_.notifications import NotificationService, NotificationSettings
from raise_.notifications import service as service_module

AUDIT_ALERT_ID = "0a5e7c1d-4b8f-4e0a-9c3b-2f1d6e7a8b9c"


def rows(db: CatalogDatabase) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text("SELECT * FROM notification_deliveries")).mappings()]


def answers(*statuses: int, body: str = "{}") -> Any:
    """A handler answering each request with the next status; the requests' times are kept."""
    queue = list(statuses)
    seen: list[float] = []

    def handle(request: Request) -> Response:
        seen.append(time.monotonic())
        status = queue.pop(0) if len(queue) > 1 else queue[0]
        return Response(body, status=status, content_type="application/json")

    handle.seen = seen  # type: ignore[attr-defined]
    return handle


# -- retries ----------------------------------------------------------------------------------------


def test_a_receiver_failing_twice_is_delivered_on_the_third_attempt_after_backing_off(
    db: CatalogDatabase, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_handler(answers(500, 500, 200))
    sleeps = Sleeps()
    svc = NotificationService(db, settings(webhook={"url": httpserver.url_for("/hook"), "secret": "k3y"}), sleep=sleeps)
    [record] = svc.deliver(notification(), ["webhook"])

    assert (record.status, record.attempts, record.error) == ("delivered", 3, None)
    assert sleeps.calls == [0.5, 1.0]  # backoff_seconds, then doubled
    assert [response.status_code for _, response in httpserver.log] == [500, 500, 200]
    for request, _ in httpserver.log:  # every attempt is signed afresh
        raw = request.get_data()
        assert request.headers["X-Raise-Signature"] == "sha256=" + hmac.new(b"k3y", raw, hashlib.sha256).hexdigest()
    [row] = rows(db)
    assert (row["status"], row["attempts"], row["error"]) == ("delivered", 3, None)
    assert row["delivered_at"] is not None


def test_retries_give_up_after_the_configured_attempts_with_capped_backoff(
    db: CatalogDatabase, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_handler(answers(503))
    sleeps = Sleeps()
    made = settings(
        slack={"webhook_url": httpserver.url_for("/hook")},
        retry={"attempts": 5, "backoff_seconds": 10, "max_backoff_seconds": 25},
    )
    [record] = NotificationService(db, made, sleep=sleeps).deliver(notification(), ["slack"])
    assert (record.status, record.attempts) == ("failed", 5)
    assert sleeps.calls == [10, 20, 25, 25]
    assert record.error == "[DELIVERY_FAILED] slack: the receiver answered HTTP 503: {} (after 5 attempts)"
    assert record.delivered_at is None
    assert len(httpserver.log) == 5


def test_a_client_error_is_not_retried(db: CatalogDatabase, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook").respond_with_data("no_service", status=404)
    sleeps = Sleeps()
    svc = NotificationService(db, settings(slack={"webhook_url": httpserver.url_for("/hook")}), sleep=sleeps)
    [record] = svc.deliver(notification(), ["slack"])
    assert (record.status, record.attempts, sleeps.calls) == ("failed", 1, [])
    assert record.error == "[DELIVERY_FAILED] slack: the receiver answered HTTP 404: no_service"


def test_a_channel_that_raises_something_unexpected_fails_only_its_own_delivery(
    db: CatalogDatabase, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from raise_.notifications.channels.webhook import WebhookChannel

    def broken(self: object, n: object) -> None:
        raise RuntimeError("bug in a channel")

    monkeypatch.setattr(WebhookChannel, "send", broken)
    httpserver.expect_request("/slack").respond_with_data("ok")
    made = settings(
        slack={"webhook_url": httpserver.url_for("/slack")},
        webhook={"url": httpserver.url_for("/hook"), "secret": "s3cret"},
    )
    webhook, slack = NotificationService(db, made, sleep=Sleeps()).deliver(notification(), ["webhook", "slack"])
    assert (webhook.status, webhook.attempts) == ("failed", 3)
    assert webhook.error == "[DELIVERY_FAILED] webhook: RuntimeError: bug in a channel (after 3 attempts)"
    assert slack.status == "delivered"


# -- dead and slow channels -------------------------------------------------------------------------


def test_a_dead_channel_does_not_delay_the_others(
    db: CatalogDatabase, httpserver: HTTPServer, smtp: SmtpServer, mailbox: Mailbox
) -> None:
    slack = answers(200)
    httpserver.expect_request("/slack").respond_with_handler(slack)
    sleeps = Sleeps()
    with silent_endpoint() as silent:
        made = settings(
            slack={"webhook_url": httpserver.url_for("/slack")},
            webhook={"url": silent, "secret": "s3cret", "timeout": 1},
            pagerduty={"routing_key": "rk-0123456789", "url": f"http://127.0.0.1:{closed_port()}/v2/enqueue"},
            email=email_section(smtp),
            retry={"attempts": 2, "backoff_seconds": 0.25},
        )
        started = time.monotonic()
        webhook, pagerduty, slack_record, email = NotificationService(db, made, sleep=sleeps).deliver(
            notification(), ["webhook", "pagerduty", "slack", "email"]
        )
        elapsed = time.monotonic() - started

    # The healthy channels were served at once, while the silent one was still waiting.
    assert slack_record.status == email.status == "delivered"
    assert slack.seen[0] - started < 0.9
    [mail] = mailbox.wait_for(1)
    assert mail.at - started < 0.9
    # The silent receiver cost its two attempts' timeouts, no more.
    assert (webhook.status, webhook.attempts) == ("failed", 2)
    assert webhook.error == "[DELIVERY_FAILED] webhook: no answer within 1 s (after 2 attempts)"
    assert 2.0 <= elapsed < 5.0
    assert (pagerduty.status, pagerduty.attempts) == ("failed", 2)
    assert pagerduty.error is not None and "cannot reach the receiver" in pagerduty.error
    assert "Connection refused" in pagerduty.error
    assert sorted(sleeps.calls) == [0.25, 0.25]
    assert {r["channel"]: r["status"] for r in rows(db)} == {
        "webhook": "failed",
        "pagerduty": "failed",
        "slack": "delivered",
        "email": "delivered",
    }


def test_email_to_a_dead_smtp_server_fails_after_its_retries(db: CatalogDatabase) -> None:
    made = settings(email={"host": "127.0.0.1", "port": closed_port(), "sender": "raise@acme.com", "timeout": 2})
    [record] = NotificationService(db, made, sleep=Sleeps()).deliver(notification(), ["email"])
    assert (record.status, record.attempts) == ("failed", 3)
    assert record.error is not None
    assert record.error.startswith("[DELIVERY_FAILED] email: cannot reach the SMTP server: ConnectionRefusedError")


def test_a_channel_that_overruns_its_whole_budget_is_left_behind_and_recorded_failed(
    db: CatalogDatabase, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from raise_.notifications.channels.webhook import WebhookChannel

    release = threading.Event()

    def stuck(self: object, n: object) -> None:  # ignores every timeout it was given
        release.wait(30)

    monkeypatch.setattr(WebhookChannel, "send", stuck)
    monkeypatch.setattr(service_module, "GRACE_SECONDS", 0.5)
    httpserver.expect_request("/slack").respond_with_data("ok")
    made = settings(
        slack={"webhook_url": httpserver.url_for("/slack")},
        webhook={"url": httpserver.url_for("/hook"), "secret": "s3cret", "timeout": 0.1},
        retry={"attempts": 1},
    )
    started = time.monotonic()
    try:
        webhook, slack = NotificationService(db, made, sleep=Sleeps()).deliver(notification(), ["webhook", "slack"])
    finally:
        release.set()
    assert time.monotonic() - started < 3.0
    assert slack.status == "delivered"
    assert webhook.status == "failed"
    assert webhook.error == "[DELIVERY_FAILED] webhook: no outcome within 0.7 s; gave up waiting"


# -- configuration and names ------------------------------------------------------------------------


def test_an_unconfigured_channel_is_a_failed_row_not_an_exception(db: CatalogDatabase, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/slack").respond_with_data("ok")
    made = settings(slack={"webhook_url": httpserver.url_for("/slack")})
    svc = NotificationService(db, made, sleep=Sleeps())
    slack, sms = svc.deliver(notification(), [" Slack", "SMS", "sms"])
    assert slack.status == "delivered"
    assert (sms.channel, sms.status, sms.attempts, sms.delivered_at) == ("sms", "failed", 0, None)
    assert sms.error is not None
    assert sms.error.startswith(
        "[CHANNEL_NOT_CONFIGURED] The sms channel is not configured on the server: "
        "add a section 'sms' (account_sid, auth_token, from_number) to "
    )
    assert len(rows(db)) == 2


def test_channel_names_are_checked_and_normalised(db: CatalogDatabase) -> None:
    svc = NotificationService(db, settings(slack={"webhook_url": "https://hooks.example.com/x"}))
    assert svc.check_channels(["Email", " slack ", "email", "PAGERDUTY"]) == ["email", "slack", "pagerduty"]
    assert svc.unconfigured(["slack", "email", "sms"]) == ["email", "sms"]
    with pytest.raises(InvalidArgumentError) as info:
        svc.check_channels(["email", "teams"])
    assert info.value.message == "Unknown notification channel 'teams': use email, slack, webhook, pagerduty, sms."
    with pytest.raises(InvalidArgumentError):
        svc.deliver(notification(), ["teams"])
    with pytest.raises(InvalidArgumentError, match="event"):
        svc.deliver(notification(event="fired"), ["slack"])
    assert rows(db) == []  # a malformed call sends and records nothing


# -- records ----------------------------------------------------------------------------------------


def test_deliveries_are_recorded_and_listed_newest_first(db: CatalogDatabase, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/slack").respond_with_data("ok")
    svc = NotificationService(db, settings(slack={"webhook_url": httpserver.url_for("/slack")}), sleep=Sleeps())
    first = svc.deliver(notification(), ["slack", "email"])
    second = svc.deliver(notification(event="resolved"), ["slack"])
    audit = svc.deliver(
        notification(source_kind="audit_alert", source_id=AUDIT_ALERT_ID, source_name="ext", event="match", test=True),
        ["slack"],
    )

    slack, email = first
    assert slack.created_at == email.created_at  # one notification, one moment
    assert (slack.event, slack.source_kind, slack.source_name, slack.test) == (
        "firing",
        "analytics_alert",
        "revenue-drop",
        False,
    )
    assert slack.delivered_at is not None and slack.delivered_at >= slack.created_at
    assert email.status == "failed"  # not configured: recorded with whom it was meant for
    assert email.recipients == ["ops@acme.com", "cto@acme.com", "+15550100200"]

    listed = svc.deliveries()
    assert [r.id for r in listed] == [audit[0].id, second[0].id, email.id, slack.id]
    assert listed[2] == email
    assert [r.id for r in svc.deliveries(source_kind="audit_alert")] == [audit[0].id]
    assert svc.deliveries(source_kind="audit_alert")[0].test is True
    assert [r.id for r in svc.deliveries(source_id="6f1c1f7e-1f57-4a55-9d5f-0a8b2c3d4e5f", limit=2)] == [
        second[0].id,
        email.id,
    ]
    with pytest.raises(InvalidArgumentError):
        svc.deliveries(limit=0)

    row = next(r for r in rows(db) if str(r["id"]).replace("-", "") == slack.id.replace("-", ""))
    assert row["subject"] == "revenue dropped below 1000"
    details = row["details"] if isinstance(row["details"], dict) else json.loads(row["details"])
    assert details == {"value": 812.5, "condition": "value < 1000", "org": "acme"}


# -- secrets ----------------------------------------------------------------------------------------

SECRETS = {
    "SLACK_URL_TOKEN": "SlackHookT0k3nXYZ",
    "WEBHOOK_SECRET": "hmac-Secret-4f9a",
    "WEBHOOK_TOKEN": "PathTok-77aa",
    "PD_KEY": "R0utingKeyPD-5b2c",
    "TWILIO_TOKEN": "TwilioAuth-Tok-9e1",
    "SMTP_PASSWORD": "Smtp-Pass-31x",
}


def test_secrets_reach_no_row_error_record_log_or_audit_entry(
    db: CatalogDatabase, httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Receivers that echo the credentials they were given in their error answers.
    httpserver.expect_request(f"/services/{SECRETS['SLACK_URL_TOKEN']}").respond_with_data(
        f"invalid_token for {httpserver.url_for('/services/' + SECRETS['SLACK_URL_TOKEN'])}", status=403
    )
    httpserver.expect_request(f"/hooks/{SECRETS['WEBHOOK_TOKEN']}").respond_with_data(
        f"upstream failed: http://user:{SECRETS['WEBHOOK_SECRET']}@10.0.0.1/x?api_key=QueryTok-1", status=502
    )
    httpserver.expect_request("/v2/enqueue").respond_with_json(
        {"status": "invalid event", "errors": [f"routing_key {SECRETS['PD_KEY']} is unknown"]}, status=400
    )
    httpserver.expect_request("/2010-04-01/Accounts/AC9/Messages.json").respond_with_data(
        f"Authenticate: token {SECRETS['TWILIO_TOKEN']} rejected", status=401
    )
    config = {
        "slack": {"webhook_url": httpserver.url_for("/services/${SLACK_URL_TOKEN}")},
        "webhook": {"url": httpserver.url_for("/hooks/${WEBHOOK_TOKEN}"), "secret": "${WEBHOOK_SECRET}"},
        "pagerduty": {"routing_key": "${PD_KEY}", "url": httpserver.url_for("/v2/enqueue")},
        "sms": {
            "base_url": httpserver.url_for("/"),
            "account_sid": "AC9",
            "auth_token": "${TWILIO_TOKEN}",
            "from_number": "+15550100000",
        },
        "email": {
            "host": "127.0.0.1",
            "port": closed_port(),
            "sender": "raise@acme.com",
            "username": "raise",
            "password": "${SMTP_PASSWORD}",
        },
        "retry": {"attempts": 2},
    }
    made = NotificationSettings.from_dict(config, SECRETS)
    assert not made.problems
    assert sorted(made.secrets()) == sorted(
        [
            httpserver.url_for(f"/services/{SECRETS['SLACK_URL_TOKEN']}"),
            httpserver.url_for(f"/hooks/{SECRETS['WEBHOOK_TOKEN']}"),
            SECRETS["WEBHOOK_SECRET"],
            SECRETS["PD_KEY"],
            SECRETS["TWILIO_TOKEN"],
            SECRETS["SMTP_PASSWORD"],
        ]
    )
    caplog.set_level(logging.DEBUG)
    svc = NotificationService(db, made, sleep=Sleeps())
    records = svc.deliver(notification(), ["slack", "webhook", "pagerduty", "sms", "email"])

    assert all(r.status == "failed" for r in records)
    errors = {r.channel: r.error for r in records}
    assert errors["slack"] == "[DELIVERY_FAILED] slack: the receiver answered HTTP 403: invalid_token for ***"
    assert errors["webhook"] == (
        "[DELIVERY_FAILED] webhook: the receiver answered HTTP 502: upstream failed: http://***@10.0.0.1/x?*** "
        "(after 2 attempts)"
    )
    assert errors["pagerduty"] is not None and "routing_key *** is unknown" in errors["pagerduty"]
    assert errors["sms"] == (
        "[DELIVERY_FAILED] sms: 1 of 1 numbers not reached "
        "(+15550100200: the receiver answered HTTP 401: Authenticate: token *** rejected)"
    )
    assert errors["email"] is not None and "ConnectionRefusedError" in errors["email"]

    listed = svc.deliveries(limit=10)
    with db.engine.connect() as conn:
        audit_rows = [str(dict(r)) for r in conn.execute(sa.text("SELECT * FROM audit_log")).mappings()]
    places = {
        "records": repr(records) + repr(listed),
        "rows": repr(rows(db)),
        # what Raise logged (the test receivers' own access log shows the paths they were sent)
        "log": "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug")),
        "audit": "\n".join(audit_rows),
        "settings": repr(made) + str(made) + repr(made.sms) + repr(made.email),
    }
    leaked = {(where, name) for where, text in places.items() for name, secret in SECRETS.items() if secret in text} | {
        (where, "QueryTok-1") for where, text in places.items() if "QueryTok-1" in text
    }
    assert leaked == set()
    assert "slack" in caplog.text and "HTTP 403" in caplog.text  # the failures were logged, scrubbed


def test_a_delivery_failure_message_is_scrubbed_even_when_a_channel_puts_the_secret_in_it(
    db: CatalogDatabase, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from raise_.notifications.channels.pagerduty import PagerDutyChannel

    def careless(self: PagerDutyChannel, n: object) -> None:
        raise DeliveryFailedError(f"pagerduty: key {self.settings.routing_key} refused", {"retryable": False})

    monkeypatch.setattr(PagerDutyChannel, "send", careless)
    caplog.set_level(logging.DEBUG)
    made = settings(pagerduty={"routing_key": "rk-Secret-000111"})
    [record] = NotificationService(db, made, sleep=Sleeps()).deliver(notification(), ["pagerduty"])
    assert record.error == "[DELIVERY_FAILED] pagerduty: key *** refused"
    assert "rk-Secret-000111" not in caplog.text + repr(rows(db))
