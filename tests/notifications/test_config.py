"""The server's notification settings: read from its file (never a notebook), ``${ENV}`` values
from its environment, a bad section leaving only its own channel unconfigured, secrets never
shown; and the scrubbing of error texts."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from raise_.errors import InvalidArgumentError
from raise_.notifications import NotificationSettings, RetryPolicy
from raise_.notifications.config import EmailSettings, SmsSettings
from raise_.notifications.scrub import Scrubber, strip_url

YAML = """\
email:
  host: smtp.acme.com
  port: ${SMTP_PORT}
  starttls: "true"
  username: raise@acme.com
  password: ${SMTP_PASSWORD}
  sender: "Raise <raise@acme.com>"
slack:
  webhook_url: https://hooks.slack.com/services/${SLACK_PATH}
webhook:
  url: https://hooks.acme.com/raise
  secret: ${WEBHOOK_SECRET}
pagerduty:
  routing_key: ${PD_KEY}
sms:
  account_sid: AC0123
  auth_token: ${TWILIO_TOKEN}
  from_number: "+15550100000"
  to: "+15550100111, +15550100222"
retry:
  attempts: 4
  backoff_seconds: 1
  max_backoff_seconds: 5
"""
ENV = {
    "SMTP_PORT": "2525",
    "SMTP_PASSWORD": "pw-Secret-1",
    "SLACK_PATH": "T00/B00/SlackSecret2",
    "WEBHOOK_SECRET": "hmac-Secret-3",
    "PD_KEY": "pd-Secret-4",
    "TWILIO_TOKEN": "tw-Secret-5",
}


def test_the_file_named_by_the_environment_is_read_with_env_values(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "notify.yaml"
    path.parent.mkdir()
    path.write_text(YAML)
    made = NotificationSettings.from_env(tmp_path / "home", {**ENV, "RAISE_NOTIFICATIONS_CONFIG": str(path)})

    assert made.problems == {}
    assert made.source == str(path)
    assert made.email == EmailSettings(
        host="smtp.acme.com",
        sender="Raise <raise@acme.com>",
        port=2525,
        username="raise@acme.com",
        password="pw-Secret-1",
        starttls=True,
    )
    assert made.slack is not None and made.slack.webhook_url == "https://hooks.slack.com/services/T00/B00/SlackSecret2"
    assert made.sms == SmsSettings(
        account_sid="AC0123", auth_token="tw-Secret-5", from_number="+15550100000", to=("+15550100111", "+15550100222")
    )
    assert made.pagerduty is not None and made.pagerduty.url == "https://events.pagerduty.com/v2/enqueue"
    assert made.retry == RetryPolicy(attempts=4, backoff_seconds=1.0, max_backoff_seconds=5.0)
    assert made.retry.delays() == [1.0, 2.0, 4.0]
    assert sorted(made.secrets()) == sorted(
        [
            "pw-Secret-1",
            "https://hooks.slack.com/services/T00/B00/SlackSecret2",
            "https://hooks.acme.com/raise",
            "hmac-Secret-3",
            "pd-Secret-4",
            "tw-Secret-5",
        ]
    )
    shown = repr(made) + str(made) + repr(made.email) + repr(made.webhook)
    assert not [s for s in ENV.values() if s in shown and s != "2525"]
    assert "password='***'" in repr(made.email) and "host='smtp.acme.com'" in repr(made.email)


def test_the_store_homes_file_is_read_when_no_file_is_named(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "notifications.json").write_text(json.dumps({"slack": {"webhook_url": "https://hooks.example.com/a"}}))
    made = NotificationSettings.from_env(home, {})
    assert made.source == str(home / "notifications.json")
    assert made.configured("slack") and not made.configured("email")
    (home / "notifications.yaml").write_text("pagerduty:\n  routing_key: abc\n")
    made = NotificationSettings.from_env(None, {"RAISE_HOME": str(home)})  # .yaml is looked for first
    assert made.configured("pagerduty") and not made.configured("slack")


def test_no_file_configures_nothing_and_says_where_to_write_it(tmp_path: Path) -> None:
    made = NotificationSettings.from_env(tmp_path, {})
    assert [n for n in ("email", "slack", "webhook", "pagerduty", "sms") if made.configured(n)] == []
    assert made.why_unconfigured("webhook") == (
        "The webhook channel is not configured on the server: add a section 'webhook' (url, secret) "
        f"to {tmp_path / 'notifications.yaml'} or to the file RAISE_NOTIFICATIONS_CONFIG names."
    )
    missing = NotificationSettings.from_env(tmp_path, {"RAISE_NOTIFICATIONS_CONFIG": str(tmp_path / "nope.yaml")})
    assert missing.problems == {
        "file": f"RAISE_NOTIFICATIONS_CONFIG names {str(tmp_path / 'nope.yaml')!r}, which does not exist"
    }
    assert missing.why_unconfigured("email").startswith(
        "The email channel is not configured: RAISE_NOTIFICATIONS_CONFIG"
    )


def test_a_bad_section_leaves_only_its_channel_unconfigured(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    made = NotificationSettings.from_dict(
        {
            "email": {"host": "smtp.acme.com", "sender": "r@acme.com", "password": "${SMTP_PASSWORD}"},
            "slack": {"webhook_url": "https://hooks.example.com/x"},
            "webhook": {"url": "file:///etc/passwd", "secret": "s"},
            "pagerduty": {"routing_key": "k", "colour": "red"},
            "sms": {"account_sid": "AC1", "auth_token": "t-Secret", "from_number": "+15550100000", "timeout": "x"},
            "teams": {"url": "https://x"},
            "retry": {"attempts": 0},
        },
        {},
    )
    assert made.configured("slack")
    assert not any(made.configured(n) for n in ("email", "webhook", "pagerduty", "sms"))
    assert made.problems == {
        "email": "email.password: ${SMTP_PASSWORD} is not set in the server's environment",
        "webhook": "webhook.url: expected an http:// or https:// URL",
        "pagerduty": "pagerduty: unknown key 'colour' (the keys are routing_key, url, timeout)",
        "sms": "sms.timeout: expected a number of seconds in (0, 600], got 'x'",
        "teams": "unknown section 'teams' (the sections are email, slack, webhook, pagerduty, sms, retry)",
        "retry": "retry.attempts: expected a whole number from 1 to 20, got 0",
    }
    assert made.retry == RetryPolicy()  # the defaults, the bad value ignored
    assert made.why_unconfigured("email") == (
        "The email channel is not configured: email.password: ${SMTP_PASSWORD} is not set in the server's "
        "environment (in the server's notifications.yaml)."
    )
    assert "t-Secret" not in caplog.text and "unknown key 'colour'" in caplog.text
    with pytest.raises(InvalidArgumentError):
        NotificationSettings.from_dict(["email"], {})  # type: ignore[arg-type]


def test_an_unreadable_file_configures_nothing_and_never_quotes_it(tmp_path: Path) -> None:
    path = tmp_path / "notifications.yaml"
    path.write_text("slack:\n  webhook_url: https://hooks.example.com/Secret-Hook\n  : [unclosed\n")
    made = NotificationSettings.from_env(tmp_path, {})
    assert not made.configured("slack")
    assert made.problems == {"file": f"The notifications configuration {str(path)!r} is not valid YAML (ParserError)."}
    assert "Secret-Hook" not in repr(made)


def test_empty_sections_and_empty_env_values_turn_a_channel_off() -> None:
    made = NotificationSettings.from_dict(
        {"slack": None, "email": {"host": "h.example.com", "sender": "r@x.com", "username": "${SMTP_USER}"}},
        {"SMTP_USER": ""},
    )
    assert made.problems == {} and not made.configured("slack")
    assert made.email is not None and made.email.username is None  # no login
    assert made.email.effective_port == 25
    assert EmailSettings(host="h", sender="s", ssl=True).effective_port == 465
    assert EmailSettings(host="h", sender="s", starttls=True).effective_port == 587


# -- scrubbing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("token tok-SECRET-1 refused", "token *** refused"),
        ("as written a+b/c, URL-encoded a%2Bb%2Fc and a%2Bb/c", "as written ***, URL-encoded *** and ***"),
        ("see https://hooks.example.com/services/T/B/Hook-9 now", "see *** now"),
        (
            "GET https://user:pw@api.example.com:8443/v1/x?key=abc#frag failed",
            "GET https://***@api.example.com:8443/v1/x?*** failed",
        ),
        ("plain http://example.com/path stays", "plain http://example.com/path stays"),
        ("smtp://u@mail.example.com", "smtp://***@mail.example.com"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_error_texts_are_scrubbed_of_secrets_and_url_credentials(text: str, expected: str) -> None:
    scrub = Scrubber(["tok-SECRET-1", "https://hooks.example.com/services/T/B/Hook-9", "a+b/c", ""])
    assert scrub(text) == expected


def test_scrubbing_reaches_into_json_values() -> None:
    scrub = Scrubber(["s3cr3t"])
    assert scrub.value({"a": ["x s3cr3t", 1, None], "s3cr3t": {"b": "ok"}}) == {
        "a": ["x ***", 1, None],
        "***": {"b": "ok"},
    }
    assert strip_url("http://[::1]:80/x?y") == "http://[::1]:80/x?***"
