"""Wait until a server's processes have finished starting (Linux /proc), before timing them.

gunicorn and ``tongjie sip2 serve`` accept connections before their worker processes
have imported the application; a worker still importing uses a core for a second or
more. A run measured then counts that start-up as the load's cost, and its first
answers wait for it. ``settled`` returns once the whole process tree has been nearly
idle for a moment.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo.extend(int(child) for child in task.read_text().split())
    return found


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process and all its descendants."""
    total = 0
    for member in _tree(pid):
        try:
            stat = Path(f"/proc/{member}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / _TICKS


def settled(pid: int, *, busy: float = 0.05, interval: float = 0.5, timeout: float = 90) -> float:
    """Wait until the tree used under ``busy`` of a core over ``interval``; returns the wait."""
    started = time.monotonic()
    before = cpu_seconds(pid)
    while time.monotonic() - started < timeout:
        time.sleep(interval)
        now = cpu_seconds(pid)
        if now - before < busy * interval:
            return time.monotonic() - started
        before = now
    raise RuntimeError(f"process {pid} was still busy starting after {timeout:.0f} s")
