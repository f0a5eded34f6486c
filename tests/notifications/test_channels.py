"""Each channel sends what its receiver expects, checked on real receivers: an SMTP server
(aiosmtpd) and HTTP endpoints (pytest-httpserver) that keep the exact requests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs

from notification_receivers import (
    SMTP_LOGIN,
    SMTP_PASSWORD,
    Mailbox,
    Sleeps,
    SmtpServer,
    email_section,
    notification,
    settings,
)
from pytest_httpserver import HTTPServer

from raise_.metadata.database import CatalogDatabase
from raise_.notifications import NotificationService
from raise_.notifications.channels.sms import phone_number

HMAC_SECRET = "whsec-0123456789abcdef"


def service(db: CatalogDatabase, **sections: object) -> NotificationService:
    return NotificationService(db, settings(**sections), sleep=Sleeps())


# -- email ------------------------------------------------------------------------------------------


def test_email_is_a_mime_message_to_the_notify_addresses(
    db: CatalogDatabase, smtp: SmtpServer, mailbox: Mailbox
) -> None:
    svc = service(db, email=email_section(smtp))
    [record] = svc.deliver(notification(), ["email"])
    assert (record.status, record.attempts, record.error) == ("delivered", 1, None)
    assert record.recipients == ["ops@acme.com", "cto@acme.com"]  # the phone number is the sms channel's

    [got] = mailbox.wait_for(1)
    assert got.mail_from == "raise@acme.com"
    assert got.rcpt_tos == ["ops@acme.com", "cto@acme.com"]
    msg = got.message
    assert msg["Subject"] == "[FIRING] revenue dropped below 1000"
    assert msg["To"] == "ops@acme.com, cto@acme.com"
    assert msg["From"] == "Raise <raise@acme.com>"
    assert msg["X-Raise-Event"] == "firing"
    assert msg["X-Raise-Source"] == "analytics_alert/revenue-drop"
    assert msg["X-Raise-Test"] is None
    assert msg["Message-ID"] and msg["Date"]
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content().strip() == "Revenue is 812.5 (condition: value < 1000)."
    assert mailbox.logins == []  # no username configured: no login


def test_a_test_email_says_so_in_its_subject_and_body(db: CatalogDatabase, smtp: SmtpServer, mailbox: Mailbox) -> None:
    svc = service(db, email=email_section(smtp))
    svc.deliver(notification(event="test", test=True, recipients=["ops@acme.com"]), ["email"])
    resolved = notification(event="resolved", subject="revenue is back", recipients=["ops@acme.com"])
    svc.deliver(resolved, ["email"])
    test_mail, resolved_mail = mailbox.wait_for(2)
    assert test_mail.message["Subject"] == "[TEST] revenue dropped below 1000"
    assert test_mail.message["X-Raise-Test"] == "true"
    assert test_mail.message.get_content().startswith("This is a test notification from revenue-drop")
    assert resolved_mail.message["Subject"] == "[RESOLVED] revenue is back"


def test_email_logs_in_with_the_configured_credentials(db: CatalogDatabase, smtp: SmtpServer, mailbox: Mailbox) -> None:
    svc = service(db, email=email_section(smtp, username=SMTP_LOGIN, password=SMTP_PASSWORD))
    [record] = svc.deliver(notification(recipients=["ops@acme.com"]), ["email"])
    assert record.status == "delivered"
    assert mailbox.logins == [(SMTP_LOGIN, SMTP_PASSWORD)]
    assert len(mailbox.wait_for(1)) == 1


def test_a_refused_login_fails_at_once_without_the_password(
    db: CatalogDatabase, smtp: SmtpServer, mailbox: Mailbox
) -> None:
    sleeps = Sleeps()
    wrong = "not-the-Password-42"
    svc = NotificationService(
        db, settings(email=email_section(smtp, username=SMTP_LOGIN, password=wrong)), sleep=sleeps
    )
    [record] = svc.deliver(notification(recipients=["ops@acme.com"]), ["email"])
    assert (record.status, record.attempts) == ("failed", 1)  # a retry would be refused too
    assert sleeps.calls == []
    assert record.error is not None and record.error.startswith(
        "[DELIVERY_FAILED] email: the SMTP server refused the login: 535"
    )
    assert wrong not in record.error
    assert mailbox.messages == []


def test_email_without_an_address_among_the_recipients_fails(db: CatalogDatabase, smtp: SmtpServer) -> None:
    svc = service(db, email=email_section(smtp))
    [record] = svc.deliver(notification(recipients=["+15550100200"]), ["email"])
    assert (record.status, record.attempts) == ("failed", 1)
    assert record.error == "[DELIVERY_FAILED] email: no e-mail address among the recipients"


# -- slack ------------------------------------------------------------------------------------------


def test_slack_posts_text_and_blocks_to_the_incoming_webhook(db: CatalogDatabase, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/services/T0/B0/xyz", method="POST").respond_with_data("ok")
    svc = service(db, slack={"webhook_url": httpserver.url_for("/services/T0/B0/xyz")})
    [record] = svc.deliver(notification(), ["slack"])
    assert (record.status, record.attempts) == ("delivered", 1)

    [(request, _)] = httpserver.log
    assert request.headers["Content-Type"].startswith("application/json")
    payload = json.loads(request.get_data())
    assert payload["text"] == "[FIRING] revenue dropped below 1000\nRevenue is 812.5 (condition: value < 1000)."
    assert payload["blocks"] == [
        {"type": "header", "text": {"type": "plain_text", "text": "[FIRING] revenue dropped below 1000"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "Revenue is 812.5 (condition: value < 1000)."}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "*firing* · analytics alert `revenue-drop`"}]},
    ]


# -- webhook ----------------------------------------------------------------------------------------


def test_webhook_body_is_signed_with_hmac_sha256(db: CatalogDatabase, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_json({"received": True})
    svc = service(db, webhook={"url": httpserver.url_for("/hook"), "secret": HMAC_SECRET})
    before = int(time.time())
    [record] = svc.deliver(notification(test=True, event="test"), ["webhook"])
    assert record.status == "delivered"

    [(request, _)] = httpserver.log
    raw = request.get_data()
    expected = "sha256=" + hmac.new(HMAC_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-Raise-Signature"], expected)
    forged = "sha256=" + hmac.new(b"another-secret", raw, hashlib.sha256).hexdigest()
    assert request.headers["X-Raise-Signature"] != forged
    tampered = raw.replace(b"812.5", b"912.5")
    assert hmac.new(HMAC_SECRET.encode(), tampered, hashlib.sha256).hexdigest() != expected[7:]

    body = json.loads(raw)
    assert int(request.headers["X-Raise-Timestamp"]) == body["timestamp"]
    assert before <= body["timestamp"] <= time.time()
    assert body == {
        "event": "test",
        "source": {"kind": "analytics_alert", "id": "6f1c1f7e-1f57-4a55-9d5f-0a8b2c3d4e5f", "name": "revenue-drop"},
        "subject": "[TEST] revenue dropped below 1000",
        "body": "Revenue is 812.5 (condition: value < 1000).",
        "details": {"value": 812.5, "condition": "value < 1000", "org": "acme"},
        "recipients": ["ops@acme.com", "cto@acme.com", "+15550100200"],
        "test": True,
        "dedup_key": "raise/analytics_alert/revenue-drop",
        "sent_at": body["sent_at"],
        "timestamp": body["timestamp"],
    }
    assert body["sent_at"].startswith(time.strftime("%Y-", time.gmtime(body["timestamp"])))
    assert request.headers["X-Raise-Event"] == "test"


# -- pagerduty --------------------------------------------------------------------------------------


def test_pagerduty_triggers_then_resolves_the_same_incident(db: CatalogDatabase, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/v2/enqueue", method="POST").respond_with_json(
        {"status": "success", "message": "Event processed"}, status=202
    )
    svc = service(db, pagerduty={"routing_key": "R0UTINGKEY0123456789", "url": httpserver.url_for("/v2/enqueue")})
    [fired] = svc.deliver(notification(), ["pagerduty"])
    [resolved] = svc.deliver(notification(event="resolved", subject="revenue is back"), ["pagerduty"])
    assert (fired.status, resolved.status) == ("delivered", "delivered")

    trigger, resolve = (json.loads(request.get_data()) for request, _ in httpserver.log)
    assert trigger == {
        "routing_key": "R0UTINGKEY0123456789",
        "event_action": "trigger",
        "dedup_key": "raise/analytics_alert/revenue-drop",
        "client": "Raise",
        "payload": {
            "summary": "[FIRING] revenue dropped below 1000",
            "source": "raise/analytics_alert/revenue-drop",
            "severity": "error",
            "custom_details": {
                "value": 812.5,
                "condition": "value < 1000",
                "org": "acme",
                "body": "Revenue is 812.5 (condition: value < 1000).",
                "event": "firing",
                "test": False,
            },
        },
    }
    assert resolve == {
        "routing_key": "R0UTINGKEY0123456789",
        "event_action": "resolve",
        "dedup_key": trigger["dedup_key"],
    }


def test_pagerduty_derives_a_stable_dedup_key_and_takes_the_severity_from_details(
    db: CatalogDatabase, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v2/enqueue").respond_with_json({"status": "success"}, status=202)
    svc = service(db, pagerduty={"routing_key": "R0UTINGKEY0123456789", "url": httpserver.url_for("/v2/enqueue")})
    svc.deliver(notification(dedup_key=None, details={"severity": "critical"}), ["pagerduty"])
    svc.deliver(notification(dedup_key=None, event="resolved"), ["pagerduty"])
    trigger, resolve = (json.loads(request.get_data()) for request, _ in httpserver.log)
    assert trigger["dedup_key"] == resolve["dedup_key"] == "raise/analytics_alert/6f1c1f7e-1f57-4a55-9d5f-0a8b2c3d4e5f"
    assert trigger["payload"]["severity"] == "critical"


# -- sms --------------------------------------------------------------------------------------------


def test_sms_posts_a_twilio_form_per_phone_number_with_basic_auth(db: CatalogDatabase, httpserver: HTTPServer) -> None:
    path = "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json"
    httpserver.expect_request(path, method="POST").respond_with_json({"sid": "SM1", "status": "queued"}, status=201)
    svc = service(
        db,
        sms={
            "base_url": httpserver.url_for("/"),
            "account_sid": "AC0123456789abcdef",
            "auth_token": "twilio-Token-987",
            "from_number": "+15550100000",
            "to": ["+1 555 010 0999", "+15550100200"],  # the second is a recipient too: texted once
        },
    )
    [record] = svc.deliver(notification(recipients=["ops@acme.com", "+44 20 7946 0018", "555-0100"]), ["sms"])
    assert (record.status, record.attempts) == ("delivered", 1)
    assert record.recipients == ["+442079460018", "+15550100999", "+15550100200"]

    assert len(httpserver.log) == 3
    auth = "Basic " + base64.b64encode(b"AC0123456789abcdef:twilio-Token-987").decode()
    forms = []
    for request, response in httpserver.log:
        assert response.status_code == 201
        assert request.path == path
        assert request.headers["Authorization"] == auth
        assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
        forms.append({k: v[0] for k, v in parse_qs(request.get_data(as_text=True), strict_parsing=True).items()})
    assert [f["To"] for f in forms] == ["+442079460018", "+15550100999", "+15550100200"]
    assert {f["From"] for f in forms} == {"+15550100000"}
    assert {f["Body"] for f in forms} == {
        "[FIRING] revenue dropped below 1000\nRevenue is 812.5 (condition: value < 1000)."
    }


def test_an_sms_retry_texts_only_the_numbers_not_reached(db: CatalogDatabase, httpserver: HTTPServer) -> None:
    path = "/2010-04-01/Accounts/AC1/Messages.json"
    answers = iter([201, 503, 201])

    def twilio(request):  # type: ignore[no-untyped-def]
        from werkzeug import Response

        return Response("{}", status=next(answers), content_type="application/json")

    httpserver.expect_request(path, method="POST").respond_with_handler(twilio)
    sleeps = Sleeps()
    svc = NotificationService(
        db,
        settings(
            sms={
                "base_url": httpserver.url_for("/"),
                "account_sid": "AC1",
                "auth_token": "tok-123456",
                "from_number": "+15550100000",
            }
        ),
        sleep=sleeps,
    )
    [record] = svc.deliver(notification(recipients=["+15550100001", "+15550100002"]), ["sms"])
    assert (record.status, record.attempts) == ("delivered", 2)
    assert sleeps.calls == [0.5]
    tos = [parse_qs(r.get_data(as_text=True))["To"][0] for r, _ in httpserver.log]
    assert tos == ["+15550100001", "+15550100002", "+15550100002"]


def test_phone_numbers_are_recognised_as_e164() -> None:
    cases = {
        "+15550100200": "+15550100200",
        "+44 20 7946 0018": "+442079460018",
        "+1 (555) 010-0200": "+15550100200",
        "5550100200": None,
        "+0123456789": None,
        "ops@acme.com": None,
        "+123": None,
    }
    assert {raw: phone_number(raw) for raw in cases} == cases
