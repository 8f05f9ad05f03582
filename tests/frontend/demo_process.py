"""The demo (`scripts/demo`) as a child process on free loopback ports, for the frontend tests."""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
from dataclasses import dataclass
import json
import os
from pathlib import Path
import re
import signal
import subprocess
import sys
import threading
from typing import Any
import urllib.request

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
URLS = re.compile(
    r"Home Assistant\s+(http://127\.0\.0\.1:\d+)/.*?Emulator\s+(http://127\.0\.0\.1:\d+)/",
    re.DOTALL,
)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"]


@dataclass(frozen=True, slots=True)
class Demo:
    """A running demo: its URLs and state folder."""

    ha_url: str
    emulator_url: str
    state_dir: Path

    @property
    def token(self) -> str:
        """Return the owner's long-lived token the demo saved."""
        saved: dict[str, Any] = json.loads(
            (self.state_dir / "demo.json").read_text(encoding="utf-8")
        )
        return str(saved["token"])

    @property
    def log(self) -> Path:
        """Return Home Assistant's log file."""
        return self.state_dir / "logs" / "home-assistant.log"

    def api(self, method: str, path: str) -> Any:
        """Call Home Assistant's REST API as the owner; return the decoded answer."""
        request = urllib.request.Request(
            self.ha_url + path,
            method=method,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            body = response.read()
        return json.loads(body) if body else None


@contextlib.contextmanager
def running_demo(state_dir: Path, timeout: float = 240.0) -> Iterator[Demo]:
    """Start `python -m scripts.demo_runner` in state_dir, yield once it is ready, Ctrl-C it after."""
    state_dir.mkdir(parents=True, exist_ok=True)
    output = state_dir / "demo-output.txt"
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "scripts.demo_runner",
            "--state-dir",
            str(state_dir),
            "--ha-port",
            "0",
            "--emulator-port",
            "0",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    welcome = _Welcome(process, output)
    try:
        found = welcome.wait(timeout)
        if found is None:
            raise AssertionError(
                f"the demo did not start:\n{output.read_text(errors='replace')}"
            )
        yield Demo(found.group(1), found.group(2), state_dir)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        # Bounded: a grandchild still holding the pipe must not hang the tests.
        welcome.join(timeout=10)


class _Welcome(threading.Thread):
    """Copies the demo's output to a file as it comes; tells when the welcome text is there."""

    def __init__(self, process: subprocess.Popen[bytes], output: Path) -> None:
        """Start copying the process's output pipe into `output`."""
        super().__init__(name="demo output", daemon=True)
        self._pipe = process.stdout
        self._output = output
        self._found: re.Match[str] | None = None
        self._done = threading.Event()
        self.start()

    def wait(self, timeout: float) -> re.Match[str] | None:
        """Return the URLs once printed; None if the demo ended or `timeout` passed first."""
        self._done.wait(timeout)
        return self._found

    def run(self) -> None:
        """Copy line by line (each read blocks until the demo prints: no polling)."""
        assert self._pipe is not None
        seen = ""
        with self._output.open("wb") as sink:
            for line in self._pipe:
                sink.write(line)
                sink.flush()
                if not self._done.is_set():
                    seen += line.decode(errors="replace")
                    if (found := URLS.search(seen)) is not None:
                        self._found = found
                        self._done.set()
        self._done.set()  # the demo ended
