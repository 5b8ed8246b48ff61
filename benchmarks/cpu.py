"""CPU seconds of processes, from Linux /proc: what a benchmark's load cost, whatever the wait.

User + system time counts the work a process did, which other load on the machine does not
inflate the way it inflates wall-clock latency.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path


def _proc_stat(pid: str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name, or None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _used(fields: list[str]) -> float:
    """User + system seconds from the stat fields."""
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_seconds(pid: int) -> float:
    """User + system CPU seconds one process used so far."""
    fields = _proc_stat(str(pid))
    if fields is None:
        raise ProcessLookupError(pid)
    return _used(fields)


def cpu_seconds(root: int) -> dict[str, float]:
    """CPU seconds so far of the server (root and its children), of postgres, of this process."""
    server = postgres = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _proc_stat(entry.name)
        if fields is None:
            continue
        used = _used(fields)
        if entry.name == str(root) or fields[1] == str(root):
            server += used
        elif (entry / "comm").exists() and (entry / "comm").read_text().strip() == "postgres":
            postgres += used
    return {"server": server, "postgres": postgres, "client": time.process_time()}


@dataclass(frozen=True)
class MachineBusy:
    """Busy CPU time of the whole machine so far (cores x seconds), and when it was read."""

    busy: float
    wall: float


def busy_share(earlier: MachineBusy, later: MachineBusy) -> float:
    """The share of all cores that was busy between two readings (0..1)."""
    cores = os.cpu_count() or 1
    return (later.busy - earlier.busy) / max(1e-9, (later.wall - earlier.wall) * cores)


def machine_busy() -> MachineBusy:
    """Now: every core's non-idle time (user, nice, system, irq, softirq, steal) so far."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = [int(value) for value in fields]
    idle = ticks[3] + ticks[4]  # idle + iowait
    busy = sum(ticks[:8]) - idle
    return MachineBusy(busy / os.sysconf("SC_CLK_TCK"), time.monotonic())
