"""Command line of `scripts/demo`: run the demo until Ctrl-C, or `--check` one doorbell call and exit."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import os
from pathlib import Path
import shutil
import signal
import sys
import tempfile
import time

import aiohttp

from .check import DoorbellCallCheck, StepResult
from .ha_config import DASHBOARD_URL_PATH
from .http_json import DemoError
from .processes import free_port
from .provision import OWNER_USERNAME, Provisioned
from .stack import DemoStack, StackOptions

REPO = Path(__file__).resolve().parents[2]
ENV_HA_PORT = "CLOUD_SIP_UA_DEMO_HA_PORT"
ENV_EMULATOR_PORT = "CLOUD_SIP_UA_DEMO_EMULATOR_PORT"
EXIT_INTERRUPTED = 130


def say(text: str) -> None:
    """Tell the person at the terminal (or CI's log) something."""
    print(f"demo: {text}", flush=True)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    parser = argparse.ArgumentParser(
        prog="scripts/demo",
        description=(
            "Start the Cloud SIP UA emulator and a Home Assistant with the integration on "
            "127.0.0.1, set up through Home Assistant's APIs, and print both URLs."
        ),
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="run headless in a throw-away folder on free ports, drive one doorbell call, exit 0 if all went well",
    )
    parser.add_argument(
        "--ha-port",
        type=int,
        default=int(os.environ.get(ENV_HA_PORT, "8123")),
        help=f"Home Assistant's port (default 8123, or ${ENV_HA_PORT}; 0: a free one)",
    )
    parser.add_argument(
        "--emulator-port",
        type=int,
        default=int(os.environ.get(ENV_EMULATOR_PORT, "8765")),
        help=f"the emulator's port (default 8765, or ${ENV_EMULATOR_PORT}; 0: a free one)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=REPO / ".demo",
        help="where Home Assistant's configuration, the keys and the logs go (default: .demo)",
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="delete the state folder first: start from scratch",
    )
    parser.add_argument(
        "--timeout", type=float, default=20.0, help="seconds each check step may take"
    )
    return parser


def stack_options(args: argparse.Namespace) -> StackOptions:
    """Return the stack's options; the check always uses free ports and a fresh folder."""
    if args.check:
        state_dir = Path(tempfile.mkdtemp(prefix="cloud-sip-ua-demo-check-"))
        return StackOptions(
            repo=REPO,
            state_dir=state_dir,
            ha_port=free_port(),
            emulator_port=free_port(),
        )
    state_dir = args.state_dir.resolve()
    if args.reset and state_dir.exists():
        shutil.rmtree(state_dir)
    return StackOptions(
        repo=REPO,
        state_dir=state_dir,
        ha_port=args.ha_port or free_port(),
        emulator_port=args.emulator_port or free_port(),
    )


def _print_welcome(stack: DemoStack, provisioned: Provisioned, seconds: float) -> None:
    """Print the URLs and how to log in."""
    options = stack.options
    password = (
        stack.saved.password
        or "(set on the first run; start with --reset for a new one)"
    )
    say(f"ready in {seconds:.1f} s")
    print(
        f"\n  Home Assistant  {options.ha_url}/{DASHBOARD_URL_PATH}\n"
        f"                  from this machine you are logged in without a password;\n"
        f"                  elsewhere: user {OWNER_USERNAME!r}, password {password!r}\n"
        f"  Emulator        {options.emulator_url}/   press Ring to ring the doorbell\n\n"
        f"  Callback base URL of the entry: {provisioned.callback_url.split('/api/')[0]}/api/cloud_sip_ua/...\n"
        f"  Logs: {options.log_dir}\n"
        "  Ctrl-C stops everything.\n",
        flush=True,
    )


def _report_step(result: StepResult) -> None:
    """Print one observed check step."""
    say(f"check: {result.name:<18} ok in {result.seconds:5.2f} s: {result.detail}")


async def _run_check(stack: DemoStack, started: float, timeout: float) -> int:
    """Drive the doorbell call; return 0 when every step was observed."""
    provisioned = await stack.start()
    say(
        f"started Home Assistant and the emulator in {time.monotonic() - started:.1f} s"
    )
    check_started = time.monotonic()
    check = DoorbellCallCheck(
        stack.api,
        stack.emulator,
        provisioned.entities,
        timeout,
        _report_step,
        door=provisioned.door,
    )
    results = await check.run()
    say(
        f"check: all {len(results)} steps observed in {time.monotonic() - check_started:.1f} s "
        f"({time.monotonic() - started:.1f} s with start-up)"
    )
    return 0


async def _run_demo(stack: DemoStack, started: float) -> int:
    """Start, print the URLs, then run until a service exits (Ctrl-C ends it earlier)."""
    provisioned = await stack.start()
    _print_welcome(stack, provisioned, time.monotonic() - started)
    child = await stack.wait_for_exit()
    raise DemoError(f"{child.name} exited with status {child.returncode}")


async def run(args: argparse.Namespace, stop: asyncio.Event | None = None) -> int:
    """Run the demo or the check until done or stop is set (Ctrl-C sets it); stop both services."""
    started = time.monotonic()
    options = stack_options(args)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        return await _run_stack(args, options, stop, started)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _run_stack(
    args: argparse.Namespace, options: StackOptions, stop: asyncio.Event, started: float
) -> int:
    """Run the stack and clean up after it, whatever happened."""
    say(f"starting the emulator and Home Assistant in {options.state_dir}")
    status = 1
    async with aiohttp.ClientSession() as session:
        stack = DemoStack(options, session)
        work = asyncio.ensure_future(
            _run_check(stack, started, args.timeout)
            if args.check
            else _run_demo(stack, started)
        )
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({work, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if work.done():
                status = work.result()
            else:
                say("stopping")
                status = EXIT_INTERRUPTED
        except DemoError as err:
            say(f"error: {err}")
            for child in stack.children:
                if tail := child.log_tail():
                    print(
                        f"--- last lines of {child.log_path}\n{tail}\n---",
                        file=sys.stderr,
                        flush=True,
                    )
        finally:
            for task in (work, stopped):
                task.cancel()
            await asyncio.gather(work, stopped, return_exceptions=True)
            await stack.stop()
    if args.check:
        if status == 0:
            shutil.rmtree(options.state_dir, ignore_errors=True)
        else:
            say(f"kept {options.state_dir} for a look")
    say("stopped")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run; return the exit status."""
    args = build_parser().parse_args(argv)
    return asyncio.run(run(args))
