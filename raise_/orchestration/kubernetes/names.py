"""Kubernetes' naming rules, checked before a manifest is built.

The OpenAPI schemas that :func:`~raise_.orchestration.kubernetes.manifest.validate_manifest`
checks against say only that a name or a label is a string: the API server's own rules (DNS-1123
names, label syntax) are not in them, and a manifest breaking them is refused only at submission.
Checking here makes such a mistake an :class:`~raise_.errors.InvalidArgumentError` when the
configuration is made, on a machine without a cluster.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from raise_.errors import InvalidArgumentError

__all__ = ["check_dns_label", "check_dns_subdomain", "check_labels", "is_dns_label", "label_value"]

_DNS_LABEL: Final = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN: Final = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
_LABEL_NAME: Final = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_LABEL_VALUE_CHARS: Final = re.compile(r"[^-A-Za-z0-9_.]+")


def is_dns_label(name: str) -> bool:
    """A DNS-1123 label: what a Job's name must be so its pods' ``job-name`` label is valid."""
    return bool(_DNS_LABEL.fullmatch(name))


def check_dns_label(value: object, what: str) -> str:
    if not isinstance(value, str) or not is_dns_label(value):
        raise InvalidArgumentError(
            f"{what} must be a DNS-1123 label (1 to 63 lowercase letters, digits and '-', starting and ending "
            f"with a letter or digit), got {value!r}.",
            {"field": what},
        )
    return value


def check_dns_subdomain(value: object, what: str) -> str:
    if not isinstance(value, str) or not _DNS_SUBDOMAIN.fullmatch(value):
        raise InvalidArgumentError(
            f"{what} must be a Kubernetes object name (DNS-1123 subdomain: up to 253 lowercase letters, digits, "
            f"'-' and '.', starting and ending with a letter or digit), got {value!r}.",
            {"field": what},
        )
    return value


def _check_label_key(key: object, what: str) -> None:
    text = key if isinstance(key, str) else ""
    prefix, _, name = text.rpartition("/")
    if not _LABEL_NAME.fullmatch(name) or (prefix and not _DNS_SUBDOMAIN.fullmatch(prefix)):
        raise InvalidArgumentError(
            f"{what} key {key!r} is not a Kubernetes label key: an optional DNS subdomain prefix and '/', then "
            "1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit.",
            {"field": what, "key": str(key)},
        )


def check_labels(labels: object, what: str) -> dict[str, str]:
    """Label keys and values (node selectors follow the same rules) as Kubernetes accepts them."""
    if not isinstance(labels, Mapping):
        raise InvalidArgumentError(
            f"{what} must be a mapping of strings, got {type(labels).__name__}.", {"field": what}
        )
    checked: dict[str, str] = {}
    for key, value in labels.items():
        _check_label_key(key, what)
        if not isinstance(value, str) or (value and not _LABEL_NAME.fullmatch(value)):
            raise InvalidArgumentError(
                f"{what}[{key!r}] = {value!r} is not a Kubernetes label value: empty, or 1 to 63 letters, digits, "
                "'-', '_' or '.', starting and ending with a letter or digit.",
                {"field": what, "key": str(key)},
            )
        checked[str(key)] = value
    return checked


def label_value(text: str) -> str:
    """``text`` made a valid label value (a run kind may hold characters a label may not)."""
    cleaned = _LABEL_VALUE_CHARS.sub("-", text)[:63]
    return cleaned.strip("-_.") or "unnamed"
