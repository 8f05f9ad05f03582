"""Command line: `python -m emulator` starts the emulator on loopback."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
import logging
from pathlib import Path
import signal
import sys
from typing import TextIO

from .config import DEFAULT_DOMAIN, EmulatorConfig
from .keys import ensure_key_pair, public_key_pem
from .server import Emulator

DEFAULT_STATE_DIR = Path(".cache/emulator")


def _say(text: str, stream: TextIO | None = None) -> None:
    """Tell the person at the terminal something (the CLI's output, not a log line)."""
    out = stream or sys.stdout
    out.write(text + "\n")
    out.flush()


def _port_range(text: str) -> tuple[int, int]:
    """Parse `LOW-HIGH` into a port range."""
    low, sep, high = text.partition("-")
    try:
        first, last = int(low), int(high if sep else low)
    except ValueError as err:
        raise argparse.ArgumentTypeError("expected LOW-HIGH, e.g. 40000-40999") from err
    if not 1024 <= first <= last <= 65535:
        raise argparse.ArgumentTypeError(
            "ports must satisfy 1024 <= LOW <= HIGH <= 65535"
        )
    return first, last


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m emulator",
        description=(
            "Emulate the iotcomms.io Cloud SIP UA service and the far end of its calls on "
            "loopback. Serves the vendor API (/mediaservice/...), a control API (/control/...) "
            "and a demo page (/)."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=8765, help="HTTP port (0: any free one)"
    )
    parser.add_argument("--domain", default=DEFAULT_DOMAIN, help="tenant domain")
    parser.add_argument(
        "--api-public-key",
        type=Path,
        help="PEM public key that verifies API JWTs (default: generated into the state dir)",
    )
    parser.add_argument(
        "--callback-signing-key",
        type=Path,
        help="PEM private key that signs callbacks (default: generated into the state dir)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=DEFAULT_STATE_DIR,
        help="where generated keys and recordings go (default: %(default)s)",
    )
    parser.add_argument(
        "--callback-base-url",
        help="tenant's default callback base URL (incoming calls)",
    )
    parser.add_argument(
        "--ring-timeout",
        type=float,
        default=60.0,
        help="seconds an unanswered call rings",
    )
    parser.add_argument(
        "--media-host", default="127.0.0.1", help="remote party's RTP address"
    )
    parser.add_argument(
        "--media-ports",
        type=_port_range,
        default=(40000, 40999),
        help="remote party's RTP port range LOW-HIGH (default: 40000-40999)",
    )
    parser.add_argument(
        "--quirks",
        action="store_true",
        help="send numbers where strings are documented, like the vendor's samples",
    )
    parser.add_argument(
        "--vendor-samples",
        action="store_true",
        help="send the vendor's own callback samples verbatim (but replyId and media address)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="log level (default: %(default)s)",
    )
    return parser


def _load_keys(args: argparse.Namespace) -> tuple[bytes, bytes]:
    """Return (API public key PEM, callback-signing private key PEM), generating missing ones."""
    state_dir: Path = args.state_dir
    if args.api_public_key is not None:
        api_public = args.api_public_key.read_bytes()
    else:
        files, created = ensure_key_pair(state_dir, "api")
        api_public = public_key_pem(files.private_key.read_bytes())
        _say(
            f"{'Generated' if created else 'Using'} the API key pair.\n"
            f"  Give the client this PRIVATE key to sign API JWTs: {files.private_key.resolve()}"
        )
    if args.callback_signing_key is not None:
        signing_private = args.callback_signing_key.read_bytes()
    else:
        files, created = ensure_key_pair(state_dir, "callback_signing")
        signing_private = files.private_key.read_bytes()
        _say(
            f"{'Generated' if created else 'Using'} the callback-signing key pair.\n"
            "  Give the integration this PUBLIC key to verify callbacks: "
            f"{files.public_key.resolve()}"
        )
    return api_public, signing_private


async def serve(config: EmulatorConfig, stop: asyncio.Event | None = None) -> None:
    """Run an emulator until SIGINT/SIGTERM (or until `stop` is set)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    try:
        await _serve_until(config, stop)
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


async def _serve_until(config: EmulatorConfig, stop: asyncio.Event) -> None:
    """Start an emulator, say where it is, and stop it when `stop` is set."""
    emulator = Emulator(config)
    await emulator.start()
    _say(
        f"Cloud SIP UA emulator for {config.domain}\n"
        f"  API base URL: {emulator.base_url}\n"
        f"  Demo page and control API: {emulator.base_url}/ and {emulator.base_url}/control/\n"
        f"  Default callback base URL: {config.default_callback_base_url or '(none)'}"
    )
    try:
        await stop.wait()
    finally:
        await emulator.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, prepare keys and run the emulator; return the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        api_public, signing_private = _load_keys(args)
    except OSError as err:
        _say(f"Cannot read or write keys: {err}", sys.stderr)
        return 2
    config = EmulatorConfig(
        domain=args.domain,
        host=args.host,
        port=args.port,
        api_public_key_pem=api_public,
        callback_signing_private_key_pem=signing_private,
        default_callback_base_url=args.callback_base_url,
        ring_timeout=args.ring_timeout,
        media_host=args.media_host,
        media_port_range=args.media_ports,
        quirks=args.quirks,
        vendor_samples=args.vendor_samples,
        state_dir=args.state_dir,
    )
    try:
        asyncio.run(serve(config))
    except (OSError, ValueError) as err:
        _say(f"Cannot start the emulator: {err}", sys.stderr)
        return 1
    return 0
