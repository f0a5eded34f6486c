"""The machine a benchmark ran on, for the header of its report (shared by the data benchmarks)."""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from pathlib import Path
from typing import Any

__all__ = ["machine_info", "machine_line"]


def _meminfo_gib() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    return None


def machine_info(**versions: str | None) -> dict[str, Any]:
    """CPU, memory, platform, load and the given library versions."""
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu_count": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": _meminfo_gib(),
        "loadavg_at_start": os.getloadavg(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **versions,
    }


def machine_line(m: dict[str, Any]) -> str:
    mem = "" if m.get("memory_gib") is None else f", {m['memory_gib']:.0f} GiB"
    load = ", ".join(f"{x:.2f}" for x in m["loadavg_at_start"])
    return f"machine: {m['cpu_count']} CPUs ({m['cpu']}){mem}, {m['platform']}, load average at start {load}"


def bytecode_line(children: str) -> str:
    """Whether child processes (``children``) compile ``raise_`` from source on every start."""
    if sys.flags.dont_write_bytecode:
        return f"bytecode: not written (PYTHONDONTWRITEBYTECODE): {children} compiles raise_ from source"
    return f"bytecode: cached ({os.environ.get('PYTHONPYCACHEPREFIX') or '__pycache__'})"
