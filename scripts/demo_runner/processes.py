"""Child processes that log to a file, die with the runner and stop cleanly, group and all."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
import contextlib
import ctypes
import os
from pathlib import Path
import signal
import socket

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM when the runner dies, even by SIGKILL: no orphans."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ChildProcess:
    """One program started in its own process group, its output appended to a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """Describe the program; start() runs it."""
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._cwd = cwd
        self._env = env
        self._process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        """Return the process id once started."""
        return None if self._process is None else self._process.pid

    @property
    def returncode(self) -> int | None:
        """Return the exit status, or None while it runs (or before it started)."""
        return None if self._process is None else self._process.returncode

    async def start(self) -> None:
        """Start the program."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                cwd=self._cwd,
                env=self._env,
                # Its own group: the terminal's Ctrl-C reaches only the runner, which stops
                # the children in order and waits for them.
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - only async-signal-safe work
            )

    async def wait(self) -> int:
        """Wait until the program exits; return its status."""
        if self._process is None:
            raise RuntimeError(f"{self.name} was not started")
        return await self._process.wait()

    async def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM the process group, SIGKILL it after timeout; return the exit status."""
        process = self._process
        if process is None:
            return None
        if process.returncode is None:
            self._signal_group(process.pid, signal.SIGTERM)
            try:
                async with asyncio.timeout(timeout):
                    await process.wait()
            except TimeoutError:
                self._signal_group(process.pid, signal.SIGKILL)
                await process.wait()
        # Anything the program left behind in its group goes too.
        self._signal_group(process.pid, signal.SIGKILL)
        return process.returncode

    @staticmethod
    def _signal_group(pgid: int, sig: signal.Signals) -> None:
        """Signal a process group that may already be gone."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)

    def log_tail(self, lines: int = 30) -> str:
        """Return the last lines of the program's log."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
