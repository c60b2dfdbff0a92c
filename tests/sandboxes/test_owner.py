"""Owner labels on sandbox containers: a live owner, a gone one, a reused PID and another host's process."""

from __future__ import annotations

import subprocess
import sys

from coder.sandboxes.owner import HOST, PID, STARTED, liveness, owner_labels, owner_pid


def test_this_process_is_alive() -> None:
    labels = owner_labels()
    assert liveness(labels) == "alive" and owner_pid(labels) is not None
    assert labels[STARTED].isdigit()  # Linux: the start time tells a reused PID apart


def test_an_exited_process_is_gone() -> None:
    pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    assert liveness({**owner_labels(), PID: pid.stdout.strip()}) == "gone"


def test_a_reused_pid_is_gone() -> None:
    assert liveness({**owner_labels(), STARTED: "1"}) == "gone"


def test_no_owner_or_another_host_is_unknown() -> None:
    assert liveness({}) == "unknown" and owner_pid({}) is None
    assert liveness({**owner_labels(), HOST: "some-other-host"}) == "unknown"
    assert liveness({PID: "not a number"}) == "unknown"
