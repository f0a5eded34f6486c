"""When a live table refreshes (PRD §12.2): on each change of its data, on a schedule, or only
when asked.

>>> RefreshPolicy.on_change()
RefreshPolicy(type="on_change")
>>> RefreshPolicy.cron("0 */6 * * *")
RefreshPolicy(type="cron", cron="0 */6 * * *")

``hourly`` and ``daily`` are the cron expressions ``0 * * * *`` and ``0 0 * * *`` (UTC). A policy
is a plain value: ``to_dict()`` is its wire and catalog form, :meth:`RefreshPolicy.parse` takes
it back, or the README's strings (``"on_change"``, ``"hourly"``, ``"daily"``, ``"manual"``,
``"cron:0 */6 * * *"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from croniter import croniter

from raise_.errors import InvalidRefreshPolicyError
from raise_.hints import suggest

__all__ = ["REFRESH_POLICY_TYPES", "RefreshPolicy"]

REFRESH_POLICY_TYPES: Final = ("on_change", "hourly", "daily", "cron", "manual")
_CRON_OF: Final = {"hourly": "0 * * * *", "daily": "0 0 * * *"}


@dataclass(frozen=True)
class RefreshPolicy:
    type: str
    cron_expression: str | None = None

    def __post_init__(self) -> None:
        if self.type not in REFRESH_POLICY_TYPES:
            hint = suggest(self.type, REFRESH_POLICY_TYPES) if isinstance(self.type, str) else ""
            raise InvalidRefreshPolicyError(
                f"Unknown refresh policy {self.type!r}.{hint} Use one of: on_change, hourly, daily, manual, "
                "or RefreshPolicy.cron('0 */6 * * *').",
                {"refresh": repr(self.type), "allowed": list(REFRESH_POLICY_TYPES)},
            )
        if self.type == "cron":
            expr = self.cron_expression
            if not isinstance(expr, str) or not expr.strip() or not croniter.is_valid(expr.strip()):
                raise InvalidRefreshPolicyError(
                    f"Not a cron expression: {expr!r}. Write five fields, minute hour day month weekday, "
                    "e.g. '0 */6 * * *' (every six hours, UTC).",
                    {"cron": repr(expr)},
                )
            object.__setattr__(self, "cron_expression", " ".join(expr.split()))
        elif self.cron_expression is not None:
            raise InvalidRefreshPolicyError(
                f"A {self.type} policy takes no cron expression; use RefreshPolicy.cron({self.cron_expression!r}).",
                {"refresh": self.type},
            )

    # -- the README's constructors ----------------------------------------------------------------

    @classmethod
    def on_change(cls) -> RefreshPolicy:
        """Refresh after each commit to a group the table reads (coalesced)."""
        return cls("on_change")

    @classmethod
    def hourly(cls) -> RefreshPolicy:
        return cls("hourly")

    @classmethod
    def daily(cls) -> RefreshPolicy:
        return cls("daily")

    @classmethod
    def cron(cls, expression: str) -> RefreshPolicy:
        """On a cron schedule, in UTC (``"0 */6 * * *"``: every six hours)."""
        return cls("cron", expression)

    @classmethod
    def manual(cls) -> RefreshPolicy:
        """Only when ``refresh()`` is called."""
        return cls("manual")

    # -- what it means ----------------------------------------------------------------------------

    @property
    def schedule(self) -> str | None:
        """The cron expression the scheduler runs it on (None: not scheduled)."""
        return _CRON_OF.get(self.type, self.cron_expression)

    @property
    def follows_changes(self) -> bool:
        return self.type == "on_change"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.cron_expression is not None:
            out["cron"] = self.cron_expression
        return out

    @classmethod
    def parse(cls, value: object) -> RefreshPolicy:
        """A policy, its ``to_dict()``, or its text: ``"on_change"``, ``"hourly"``, ``"daily"``,
        ``"manual"``, ``"cron:0 */6 * * *"``."""
        if isinstance(value, RefreshPolicy):
            return value
        if isinstance(value, dict):
            extra = set(value) - {"type", "cron"}
            if extra:
                raise InvalidRefreshPolicyError(
                    f"A refresh policy has the fields type and cron, not {', '.join(sorted(extra))}.",
                    {"fields": sorted(extra)},
                )
            return cls(str(value.get("type")), value.get("cron"))
        if isinstance(value, str):
            text = value.strip()
            if text.lower().startswith("cron:"):
                return cls("cron", text.split(":", 1)[1])
            if text.lower().startswith("cron(") and text.endswith(")"):
                return cls("cron", text[5:-1].strip().strip("'\""))
            return cls(text.lower().replace("-", "_"))
        raise InvalidRefreshPolicyError(
            f"refresh must be 'on_change', 'hourly', 'daily', 'manual' or a RefreshPolicy, got {value!r}.",
            {"refresh": repr(value)},
        )

    def __repr__(self) -> str:
        if self.cron_expression is not None:
            return f'RefreshPolicy(type="{self.type}", cron="{self.cron_expression}")'
        return f'RefreshPolicy(type="{self.type}")'
