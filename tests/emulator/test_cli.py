"""The command line: help, a real start on loopback with generated keys, and its errors."""

from __future__ import annotations

import asyncio
from pathlib import Path
import re
import signal
import socket
import subprocess
import sys

import aiohttp
import pytest

from emulator import cli
from emulator.config import EmulatorConfig
from tests.waiting import wait_until

from .helpers import key_pair

REPO = Path(__file__).resolve().parents[2]


def test_help() -> None:
    """`python -m emulator --help` lists every option."""
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for option in (
        "--host",
        "--port",
        "--domain",
        "--api-public-key",
        "--callback-signing-key",
        "--state-dir",
        "--callback-base-url",
        "--ring-timeout",
        "--media-ports",
        "--quirks",
        "--log-level",
    ):
        assert option in result.stdout


async def _start(state_dir: Path) -> tuple[asyncio.subprocess.Process, str, str]:
    """Start the CLI on an ephemeral loopback port; return the process, base URL and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "emulator",
        "--port",
        "0",
        "--state-dir",
        str(state_dir),
        "--callback-base-url",
        "http://127.0.0.1:9/callbacks",
        "--log-level",
        "WARNING",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    output = ""
    async with asyncio.timeout(60):
        while not (
            match := re.search(r"API base URL: (http://127\.0\.0\.1:\d+)", output)
        ):
            line = (await process.stdout.readline()).decode()
            assert line, f"the emulator exited: {output}"
            output += line
    return process, match.group(1), output


async def _stop(process: asyncio.subprocess.Process) -> int:
    """Terminate the CLI and return its exit status."""
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(30):
        await process.communicate()
    assert process.returncode is not None
    return process.returncode


async def test_starts_on_loopback_with_generated_keys(tmp_path: Path) -> None:
    """First run makes both key pairs and says where; the emulator serves until SIGTERM."""
    state_dir = tmp_path / "state"
    process, base_url, output = await _start(state_dir)
    try:
        api_private = state_dir / "api_private.pem"
        signing_public = state_dir / "callback_signing_public.pem"
        assert f"PRIVATE key to sign API JWTs: {api_private.resolve()}" in output
        assert f"PUBLIC key to verify callbacks: {signing_public.resolve()}" in output
        assert "Generated the API key pair" in output
        assert api_private.stat().st_mode & 0o777 == 0o600
        assert (
            state_dir / "callback_signing_private.pem"
        ).stat().st_mode & 0o777 == 0o600
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{base_url}/control/info") as response,
        ):
            info = await response.json()
        assert info["default_callback_base_url"] == "http://127.0.0.1:9/callbacks"
        assert (
            info["callback_signing_public_key_pem"].encode()
            == signing_public.read_bytes()
        )
    finally:
        assert await _stop(process) == 0

    # The second run finds the keys instead of making new ones.
    before = api_private.read_bytes()
    process, _, output = await _start(state_dir)
    assert await _stop(process) == 0
    assert "Using the API key pair" in output
    assert api_private.read_bytes() == before


async def test_serve_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """serve() runs an emulator until its stop event is set."""
    config = EmulatorConfig(
        api_public_key_pem=key_pair("api").public,
        callback_signing_private_key_pem=key_pair("callback").private,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(cli.serve(config, stop))
    printed = ""

    def announced() -> bool:
        nonlocal printed
        printed += capsys.readouterr().out
        return "API base URL" in printed

    await wait_until(announced, 10, "the start-up text")
    assert "Default callback base URL: (none)" in printed
    stop.set()
    await task


def test_main_reports_unusable_keys_and_ports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Missing key files exit 2; a port in use exits 1; both say why."""
    assert cli.main(["--api-public-key", str(tmp_path / "missing.pem")]) == 2
    assert "Cannot read or write keys" in capsys.readouterr().err

    api_public = tmp_path / "api.pem"
    api_public.write_bytes(key_pair("api").public)
    signing = tmp_path / "signing.pem"
    signing.write_bytes(key_pair("callback").private)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        status = cli.main(
            [
                "--port",
                str(port),
                "--api-public-key",
                str(api_public),
                "--callback-signing-key",
                str(signing),
                "--state-dir",
                str(tmp_path / "state"),
            ]
        )
    assert status == 1
    assert "Cannot start the emulator" in capsys.readouterr().err


@pytest.mark.parametrize("text", ["x", "40000-x", "100-200", "5000-4000", "1024-70000"])
def test_bad_port_ranges(text: str) -> None:
    """Media port ranges must be LOW-HIGH within the unprivileged ports."""
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["--media-ports", text])


def test_port_range() -> None:
    """A range or a single port parse."""
    assert cli.build_parser().parse_args(
        ["--media-ports", "40000-40010"]
    ).media_ports == (
        40000,
        40010,
    )
    assert cli.build_parser().parse_args(["--media-ports", "40000"]).media_ports == (
        40000,
        40000,
    )
