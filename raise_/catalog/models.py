"""Moved to :mod:`raise_.metadata.models` (the metadata database sits below the catalog and governance
services that both use it). This name stays an alias of that module, private names included."""

from __future__ import annotations

import sys

from raise_.metadata import models as _moved

sys.modules[__name__] = _moved
