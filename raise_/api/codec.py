"""Moved to :mod:`raise_.codec` (records and analysis results use it below the API layer). This
name stays an alias of that module, private names included."""

from __future__ import annotations

import sys

from raise_ import codec as _moved

sys.modules[__name__] = _moved
