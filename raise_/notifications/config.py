"""Where notifications go: read from the server's configuration, never from a notebook.

The file is the one ``RAISE_NOTIFICATIONS_CONFIG`` names, else ``<store home>/notifications.yaml``
(``.yml`` and ``.json`` are read too). YAML or JSON, one section per channel and one for
retries; any string value may be written ``${ENV_VAR}`` (whole or in part) to come from the
server's environment, which is where secrets belong::

    email:
      host: smtp.acme.com
      port: 587
      starttls: true
      username: raise@acme.com
      password: ${SMTP_PASSWORD}
      sender: "Raise <raise@acme.com>"
    slack:
      webhook_url: ${SLACK_WEBHOOK_URL}
    webhook:
      url: https://hooks.acme.com/raise
      secret: ${RAISE_WEBHOOK_SECRET}
    pagerduty:
      routing_key: ${PAGERDUTY_ROUTING_KEY}
    sms:
      account_sid: AC0123...
      auth_token: ${TWILIO_AUTH_TOKEN}
      from_number: "+15550100"
      to: ["+15550111"]
    retry:
      attempts: 3
      backoff_seconds: 0.5
      max_backoff_seconds: 30

A section that cannot be used (a required key missing, a value of the wrong type, an
environment variable that is not set) leaves its channel unconfigured, with the reason in
:attr:`NotificationSettings.problems`: one bad section never stops the server nor the other
channels. Secret values are never shown: not by ``repr``, not in a problem's text.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Final

import yaml

from raise_.errors import InvalidArgumentError, InvalidFileError, RaiseError

__all__ = [
    "CHANNEL_NAMES",
    "CONFIG_ENV",
    "EmailSettings",
    "NotificationSettings",
    "PagerDutySettings",
    "RetryPolicy",
    "SlackSettings",
    "SmsSettings",
    "WebhookSettings",
]

logger = logging.getLogger("raise_.notifications")

#: The environment variable naming the configuration file.
CONFIG_ENV: Final = "RAISE_NOTIFICATIONS_CONFIG"
#: The file looked for in the store's home when ``RAISE_NOTIFICATIONS_CONFIG`` is not set.
FILE_NAMES: Final = ("notifications.yaml", "notifications.yml", "notifications.json")
#: Every channel, in the order they are listed to people.
CHANNEL_NAMES: Final = ("email", "slack", "webhook", "pagerduty", "sms")
DEFAULT_TIMEOUT: Final = 10.0

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _opt(kind: str, default: Any = None, *, secret: bool = False, required: bool = False) -> Any:
    meta = {"kind": kind, "secret": secret, "required": required}
    if required:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


class _Section:
    """A channel's settings: typed fields, some secret (``repr`` masks them)."""

    section: ClassVar[str]

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.metadata.get("secret") and value:
                shown.append(f"{f.name}='***'")
            else:
                shown.append(f"{f.name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    __str__ = __repr__

    def secrets(self) -> list[str]:
        return [
            str(getattr(self, f.name))
            for f in fields(self)  # type: ignore[arg-type]
            if f.metadata.get("secret") and getattr(self, f.name)
        ]


@dataclass(frozen=True, repr=False)
class EmailSettings(_Section):
    section: ClassVar[str] = "email"
    host: str = _opt("str", required=True)
    sender: str = _opt("str", required=True)
    port: int | None = _opt("port")  # default: 465 with ssl, 587 with starttls, else 25
    username: str | None = _opt("str")
    password: str | None = _opt("str", secret=True)
    starttls: bool = _opt("bool", False)
    ssl: bool = _opt("bool", False)
    timeout: float = _opt("seconds", DEFAULT_TIMEOUT)

    @property
    def effective_port(self) -> int:
        if self.port:
            return self.port
        return 465 if self.ssl else 587 if self.starttls else 25


@dataclass(frozen=True, repr=False)
class SlackSettings(_Section):
    section: ClassVar[str] = "slack"
    webhook_url: str = _opt("url", required=True, secret=True)  # the URL is the credential
    timeout: float = _opt("seconds", DEFAULT_TIMEOUT)


@dataclass(frozen=True, repr=False)
class WebhookSettings(_Section):
    section: ClassVar[str] = "webhook"
    url: str = _opt("url", required=True, secret=True)  # may carry a token in its path or query
    secret: str = _opt("str", required=True, secret=True)  # the HMAC-SHA256 key
    timeout: float = _opt("seconds", DEFAULT_TIMEOUT)


@dataclass(frozen=True, repr=False)
class PagerDutySettings(_Section):
    section: ClassVar[str] = "pagerduty"
    routing_key: str = _opt("str", required=True, secret=True)
    url: str = _opt("url", "https://events.pagerduty.com/v2/enqueue")
    timeout: float = _opt("seconds", DEFAULT_TIMEOUT)


@dataclass(frozen=True, repr=False)
class SmsSettings(_Section):
    section: ClassVar[str] = "sms"
    account_sid: str = _opt("str", required=True)
    auth_token: str = _opt("str", required=True, secret=True)
    from_number: str = _opt("str", required=True)
    base_url: str = _opt("url", "https://api.twilio.com")
    to: tuple[str, ...] = _opt("list", ())  # numbers every SMS also goes to
    timeout: float = _opt("seconds", DEFAULT_TIMEOUT)


_SECTIONS: Final[dict[str, type[_Section]]] = {
    cls.section: cls for cls in (EmailSettings, SlackSettings, WebhookSettings, PagerDutySettings, SmsSettings)
}


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; before try *n* (n ≥ 2) a wait of ``backoff_seconds`` ×
    2^(n−2), at most ``max_backoff_seconds``."""

    attempts: int = 3
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0

    def delay(self, retry: int) -> float:
        """The wait before the ``retry``-th retry (1: before the second attempt)."""
        return float(min(self.backoff_seconds * 2 ** (retry - 1), self.max_backoff_seconds))

    def delays(self) -> list[float]:
        return [self.delay(n) for n in range(1, self.attempts)]


class _Unusable(Exception):
    """A section's value that cannot be used: the message names the key, never a secret value."""


def _expand(value: Any, where: str, environ: Mapping[str, str]) -> Any:
    if isinstance(value, str):

        def env(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in environ:
                raise _Unusable(f"{where}: ${{{name}}} is not set in the server's environment")
            return environ[name]

        return _ENV_REF.sub(env, value)
    if isinstance(value, list):
        return [_expand(v, where, environ) for v in value]
    return value


def _coerce(kind: str, value: Any, where: str, secret: bool) -> Any:
    shown = "" if secret else f" {value!r}"
    if kind in ("str", "url"):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _Unusable(f"{where}: expected a string")
        text = str(value).strip()
        if not text:
            raise _Unusable(f"{where}: is empty")
        if kind == "url" and not re.match(r"(?i)^https?://[^/\s]+", text):
            raise _Unusable(f"{where}: expected an http:// or https:// URL")
        return text
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise _Unusable(f"{where}: expected true or false, got{shown}")
    if kind == "port":
        try:
            port = int(str(value).strip()) if not isinstance(value, bool) else -1
        except ValueError:
            port = -1
        if not 0 < port < 65536:
            raise _Unusable(f"{where}: expected a port number, got{shown}")
        return port
    if kind == "seconds":
        try:
            seconds = float(str(value).strip()) if not isinstance(value, bool) else -1.0
        except ValueError:
            seconds = -1.0
        if not (0 < seconds <= 600 and math.isfinite(seconds)):
            raise _Unusable(f"{where}: expected a number of seconds in (0, 600], got{shown}")
        return seconds
    if kind == "list":
        items = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise _Unusable(f"{where}: expected a list of strings")
        return tuple(v.strip() for v in items if v.strip())
    raise AssertionError(kind)


def _section(cls: type[_Section], data: Any, environ: Mapping[str, str]) -> _Section:
    name = cls.section
    if not isinstance(data, Mapping):
        raise _Unusable(f"{name}: expected a mapping of settings")
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise _Unusable(f"{name}: unknown key {unknown[0]!r} (the keys are {', '.join(known)})")
    values: dict[str, Any] = {}
    for key, f in known.items():
        where = f"{name}.{key}"
        raw = data.get(key)
        if raw is not None:
            raw = _expand(raw, where, environ)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if f.metadata["required"]:
                raise _Unusable(f"{where}: is required" + (" (it is empty)" if raw is not None else ""))
            continue
        values[key] = _coerce(f.metadata["kind"], raw, where, f.metadata["secret"])
    return cls(**values)


def _retry(data: Any, environ: Mapping[str, str]) -> RetryPolicy:
    if not isinstance(data, Mapping):
        raise _Unusable("retry: expected a mapping of settings")
    known = {f.name for f in fields(RetryPolicy)}
    unknown = sorted(str(k) for k in data if k not in known)
    if unknown:
        raise _Unusable(f"retry: unknown key {unknown[0]!r} (the keys are {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for key in known:
        if data.get(key) is None:
            continue
        raw = _expand(data[key], f"retry.{key}", environ)
        try:
            number = float(str(raw).strip()) if not isinstance(raw, bool) else math.nan
        except ValueError:
            number = math.nan
        if key == "attempts":
            if not (number == int(number) if math.isfinite(number) else False) or not 1 <= number <= 20:
                raise _Unusable(f"retry.attempts: expected a whole number from 1 to 20, got {raw!r}")
            values[key] = int(number)
        else:
            if not math.isfinite(number) or not 0 <= number <= 3600:
                raise _Unusable(f"retry.{key}: expected a number of seconds from 0 to 3600, got {raw!r}")
            values[key] = number
    return RetryPolicy(**values)


@dataclass(frozen=True, repr=False)
class NotificationSettings:
    """The server's notification channels and retry policy (see the module docstring).

    ``problems`` maps a channel (or ``"retry"``, or ``"file"`` for the file itself) to why its
    section could not be used; ``source`` is the file read (None: none was found).
    """

    email: EmailSettings | None = None
    slack: SlackSettings | None = None
    webhook: WebhookSettings | None = None
    pagerduty: PagerDutySettings | None = None
    sms: SmsSettings | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    source: str | None = None
    problems: dict[str, str] = field(default_factory=dict)
    hint: str = "the server's notifications.yaml"

    # -- reading ----------------------------------------------------------------------------------

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None, *, source: str | None = None
    ) -> NotificationSettings:
        """Settings from a parsed file. A section that cannot be used is left out, with the
        reason in ``problems`` (and a warning logged); a document that is not a mapping raises
        :class:`InvalidArgumentError`."""
        env = os.environ if environ is None else environ
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise InvalidArgumentError(
                "The notifications configuration must be a mapping of channel sections "
                f"({', '.join(CHANNEL_NAMES)}, retry).",
                {"source": source},
            )
        sections: dict[str, Any] = {}
        problems: dict[str, str] = {}
        retry = RetryPolicy()
        for key, value in data.items():
            name = str(key).strip().lower()
            try:
                if name in _SECTIONS:
                    if value is not None:  # an empty section: the channel is simply off
                        sections[name] = _section(_SECTIONS[name], value, env)
                elif name == "retry":
                    if value is not None:
                        retry = _retry(value, env)
                else:
                    raise _Unusable(
                        f"unknown section {str(key)!r} (the sections are {', '.join(CHANNEL_NAMES)}, retry)"
                    )
            except _Unusable as exc:
                problems[name] = str(exc)
        where = source or "the notifications configuration"
        for why in problems.values():
            logger.warning("%s: %s", where, why)
        hint = source or "the server's notifications.yaml"
        return cls(retry=retry, source=source, problems=problems, hint=hint, **sections)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> NotificationSettings:
        """Settings from a YAML or JSON file; :class:`InvalidFileError` if it cannot be read."""
        p = Path(path).expanduser()
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidFileError(
                f"Cannot read the notifications configuration {str(p)!r}: {exc.strerror or exc}.", {"path": str(p)}
            ) from exc
        try:
            data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            # The parser's message may quote the line, and a line may hold a secret.
            raise InvalidFileError(
                f"The notifications configuration {str(p)!r} is not valid "
                f"{'JSON' if p.suffix.lower() == '.json' else 'YAML'} ({type(exc).__name__}).",
                {"path": str(p)},
            ) from None
        return cls.from_dict(data, environ, source=str(p))

    @classmethod
    def from_env(
        cls, home: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
    ) -> NotificationSettings:
        """The server's settings: the file ``RAISE_NOTIFICATIONS_CONFIG`` names, else
        ``<home>/notifications.yaml`` (``home``: the store's, default ``RAISE_HOME`` or
        ``~/.raise``). No file: no channel is configured. A file that cannot be read leaves
        every channel unconfigured with the reason, so the store still opens."""
        env = os.environ if environ is None else environ
        named = env.get(CONFIG_ENV, "").strip()
        if named:
            candidates = [Path(named).expanduser()]
        else:
            home_path = Path(home or env.get("RAISE_HOME") or Path.home() / ".raise").expanduser()
            candidates = [home_path / n for n in FILE_NAMES]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            if named:
                why = f"{CONFIG_ENV} names {named!r}, which does not exist"
                logger.warning("notifications: %s", why)
                return cls(problems={"file": why}, hint=named)
            return cls(hint=str(candidates[0]))
        try:
            return cls.from_file(found, env)
        except RaiseError as exc:
            logger.warning("notifications: %s", exc.message)
            return cls(source=str(found), problems={"file": exc.message}, hint=str(found))

    # -- using --------------------------------------------------------------------------------------

    def channel(self, name: str) -> _Section | None:
        """The settings of channel ``name`` (one of :data:`CHANNEL_NAMES`), None if unconfigured."""
        if name not in CHANNEL_NAMES:
            return None
        section: _Section | None = getattr(self, name)
        return section

    def configured(self, name: str) -> bool:
        return self.channel(name) is not None

    def why_unconfigured(self, name: str) -> str:
        """A sentence saying why channel ``name`` cannot be used and where to configure it."""
        if "file" in self.problems:
            return f"The {name} channel is not configured: {self.problems['file']}."
        if name in self.problems:
            return f"The {name} channel is not configured: {self.problems[name]} (in {self.hint})."
        needs = ", ".join(
            f.name
            for f in fields(_SECTIONS[name])  # type: ignore[arg-type]
            if f.metadata.get("required")
        )
        return (
            f"The {name} channel is not configured on the server: add a section {name!r} ({needs}) "
            f"to {self.hint} or to the file {CONFIG_ENV} names."
        )

    def secrets(self) -> list[str]:
        """Every secret value (passwords, tokens, webhook URLs, routing keys, the HMAC secret):
        what error texts are scrubbed of."""
        out: list[str] = []
        for name in CHANNEL_NAMES:
            section = self.channel(name)
            if section is not None:
                out.extend(section.secrets())
        return out

    def __repr__(self) -> str:
        shown = [f"{name}={self.channel(name)!r}" for name in CHANNEL_NAMES if self.configured(name)]
        shown.append(f"retry={self.retry!r}")
        if self.source:
            shown.append(f"source={self.source!r}")
        if self.problems:
            shown.append(f"problems={self.problems!r}")
        return f"NotificationSettings({', '.join(shown)})"

    __str__ = __repr__
