"""The demo's command line."""

from __future__ import annotations

from pathlib import Path
import shutil

import pytest

from scripts.demo_runner import cli


def test_defaults_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ports default to 8123/8765 and follow the environment."""
    args = cli.build_parser().parse_args([])
    assert (args.ha_port, args.emulator_port, args.check) == (8123, 8765, False)
    assert args.state_dir == cli.REPO / ".demo"
    monkeypatch.setenv(cli.ENV_HA_PORT, "9123")
    monkeypatch.setenv(cli.ENV_EMULATOR_PORT, "0")
    args = cli.build_parser().parse_args([])
    assert (args.ha_port, args.emulator_port) == (9123, 0)


def test_check_uses_a_fresh_folder_and_free_ports() -> None:
    """--check never touches .demo nor the fixed ports."""
    options = cli.stack_options(
        cli.build_parser().parse_args(["--check", "--ha-port", "8123"])
    )
    try:
        assert options.state_dir.is_dir() and not any(options.state_dir.iterdir())
        assert options.state_dir != cli.REPO / ".demo"
        assert 8123 not in (options.ha_port, options.emulator_port)
        assert options.config_dir == options.state_dir / "config"
        assert options.ha_url == f"http://127.0.0.1:{options.ha_port}"
    finally:
        shutil.rmtree(options.state_dir)


def test_reset_deletes_the_state_folder(tmp_path: Path) -> None:
    """--reset starts from scratch; port 0 picks a free port."""
    state = tmp_path / "state"
    (state / "config").mkdir(parents=True)
    args = cli.build_parser().parse_args(
        ["--state-dir", str(state), "--reset", "--ha-port", "0"]
    )
    options = cli.stack_options(args)
    assert not state.exists()
    assert options.state_dir == state.resolve()
    assert options.ha_port > 0 and options.emulator_port == 8765
