"""Secrets out of text: what a channel's error says is stored, returned and logged only after
every configured secret, and the userinfo and query string of every URL, are taken out of it
(DESIGN §8: secrets never appear in audit entries, logs, API responses or error messages)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

__all__ = ["MASK", "Scrubber", "strip_url"]

MASK: Final = "***"

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def strip_url(url: str) -> str:
    """The URL without its userinfo (``user:password@``), query string and fragment, where
    tokens travel; a URL that cannot be parsed is masked whole."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return MASK
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    if parts.username is not None or parts.password is not None:
        netloc = f"{MASK}@{netloc}"
    query = MASK if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


class Scrubber:
    """Replaces each secret (as written, and as it reads URL-encoded) by ``***``, then strips
    every URL of its userinfo and query string. Longer secrets are replaced first, so a secret
    that contains another is masked whole."""

    def __init__(self, secrets: Iterable[str]) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if not isinstance(secret, str) or not secret:
                continue
            variants.update((secret, quote(secret, safe=""), quote_plus(secret), quote(secret)))
        self._secrets = sorted(variants, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return _URL.sub(lambda m: strip_url(m.group(0)), text)

    def text(self, text: str | None) -> str | None:
        return None if text is None else self(text)

    def value(self, value: Any) -> Any:
        """A JSON-safe value with every string in it scrubbed (keys included)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {self(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value
