"""The benches' measured steps, each in a process of its own, and the city synthesised apart.

Linux hands a child that `exec`s the high-water mark of the memory it was forked from (the
kernel keeps it at `exec`), so a bench that synthesised a city of several GB in itself would
report that as the peak of every command it ran afterwards: `/bin/true` run by a process that
had touched 2 GB reported 1.9 GB. So the city is synthesised in a spawned process, and each
measured command is reaped with `wait4`, which gives that child's own usage and no other's.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Measured:
    stdout: str
    seconds: float
    peak_mb: float  # the child's maximum resident set size
    cpu_seconds: float  # user + system, all its threads


def run_measured(command: list[str]) -> Measured:
    """Run `command`; raise CalledProcessError (with its stderr) if it fails."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err)
        assert child.stdout is not None
        out = child.stdout.read()
        child.stdout.close()
        # reaped here, not by Popen.wait(), for the child's own resource usage
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            err.seek(0)
            raise subprocess.CalledProcessError(child.returncode, command, out, err.read())
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(out.decode(), seconds, usage.ru_maxrss / 1024, cpu)


def synthesise_apart(folder: Path, **options: Any) -> None:
    """`gridweave.synth.city.synthesise(folder, **options)` in a spawned process."""
    from gridweave.synth.city import synthesise

    worker = multiprocessing.get_context("spawn").Process(
        target=synthesise, args=(folder,), kwargs=options
    )
    worker.start()
    worker.join()
    if worker.exitcode != 0:
        sys.exit(f"synthesising the city into {folder} failed (exit code {worker.exitcode})")
