"""What the alert tests share besides fixtures (``conftest`` is not importable by name)."""

WEBHOOK_SECRET = "whsec-test-9f2c"
