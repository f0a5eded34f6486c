"""One HTTP POST with a timeout, for the HTTP channels (stdlib ``urllib``): redirects are not
followed (a moved endpoint is a configuration to fix, and a POST must not turn into a GET), and
a failure becomes a :class:`DeliveryFailedError` saying whether a retry may help."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from typing import Any, Final

from raise_.errors import DeliveryFailedError
from raise_.notifications.channels.base import failure

__all__ = ["post"]

USER_AGENT: Final = "raise-notifications/1"
_RETRYABLE_STATUS: Final = frozenset({408, 425, 429})
_SNIPPET: Final = 300


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx is raised as an HTTPError


_OPENER = urllib.request.build_opener(_NoRedirect)


def _snippet(data: bytes) -> str:
    text = data[: _SNIPPET * 4].decode("utf-8", "replace").strip()
    text = " ".join(text.split())
    return text[:_SNIPPET] + ("…" if len(text) > _SNIPPET else "")


def post(channel: str, url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    """POST ``body``; the status and (the start of) the answer of a 2xx response."""
    request = urllib.request.Request(url, data=body, headers={"User-Agent": USER_AGENT, **headers}, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return int(response.status), response.read(64 * 1024)
    except urllib.error.HTTPError as exc:
        try:
            answer = _snippet(exc.read())
        except (OSError, http.client.HTTPException):
            answer = ""
        retryable = exc.code >= 500 or exc.code in _RETRYABLE_STATUS
        raise failure(
            channel,
            f"the receiver answered HTTP {exc.code}" + (f": {answer}" if answer else ""),
            retryable=retryable,
            status=exc.code,
        ) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise _timeout(channel, timeout) from None
        raise failure(channel, f"cannot reach the receiver: {exc.reason}", retryable=True) from None
    except TimeoutError:
        raise _timeout(channel, timeout) from None
    except (OSError, http.client.HTTPException) as exc:
        raise failure(channel, f"the connection failed: {type(exc).__name__}: {exc}", retryable=True) from None


def _timeout(channel: str, timeout: float) -> DeliveryFailedError:
    return failure(channel, f"no answer within {timeout:g} s", retryable=True)
