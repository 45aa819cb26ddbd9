"""Peak resident memory of this process and of a bare `import torch` process (Linux).

Both read VmHWM from /proc/<pid>/status: `ru_maxrss` of a child process would carry its
parent's peak across fork."""

import re
import subprocess
import sys
from pathlib import Path

VMHWM = re.compile(r"VmHWM:\s*(\d+) kB")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    return int(VMHWM.search(Path("/proc/self/status").read_text())[1]) / 1024


def bare_torch_rss_mb() -> float:
    """Peak resident memory of a fresh process that only imports torch, MB."""
    code = "import torch, sys; sys.path.insert(0, %r); import memory; print(memory.peak_rss_mb())"
    out = subprocess.run(
        [sys.executable, "-c", code % str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout)
