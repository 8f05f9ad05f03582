"""Child processes: logged, stopped by SIGTERM, killed when they ignore it."""

from __future__ import annotations

from pathlib import Path
import socket
import sys

import pytest

from scripts.demo_runner.processes import ChildProcess, free_port
from tests.waiting import wait_until

# The children block until a signal ends them (they die with the test run, too).
IGNORES_SIGTERM = (
    "import signal, threading\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "threading.Event().wait()\n"
)


def test_free_port_can_be_bound() -> None:
    """The port is free on loopback."""
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


async def _wait_for_line(child: ChildProcess, text: str) -> None:
    """Wait until the child's log has the text."""
    await wait_until(lambda: text in child.log_tail(), 10, f"{text!r} in the log")


async def test_output_goes_to_the_log_and_stop_ends_it(tmp_path: Path) -> None:
    """Output lands in the log; stop() sends SIGTERM and returns the exit status."""
    child = ChildProcess(
        "sleeper",
        [
            sys.executable,
            "-c",
            "import threading; print('hello', flush=True); threading.Event().wait()",
        ],
        tmp_path / "logs" / "sleeper.log",
    )
    assert child.pid is None and child.returncode is None
    assert await child.stop() is None
    await child.start()
    assert child.pid is not None
    await _wait_for_line(child, "hello")
    assert await child.stop() == -15
    assert child.returncode == -15


async def test_a_child_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    """After the timeout, the whole group gets SIGKILL."""
    child = ChildProcess(
        "stubborn", [sys.executable, "-c", IGNORES_SIGTERM], tmp_path / "stubborn.log"
    )
    await child.start()
    await _wait_for_line(child, "ready")
    assert await child.stop(timeout=0.3) == -9


async def test_wait_returns_the_exit_status(tmp_path: Path) -> None:
    """A child that exits by itself reports its status."""
    child = ChildProcess(
        "quitter", [sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "q.log"
    )
    with pytest.raises(RuntimeError, match="not started"):
        await child.wait()
    await child.start()
    assert await child.wait() == 3
    assert await child.stop() == 3


def test_log_tail_of_a_missing_log_is_empty(tmp_path: Path) -> None:
    """No log yet: nothing to show."""
    assert ChildProcess("x", ["true"], tmp_path / "none.log").log_tail() == ""
