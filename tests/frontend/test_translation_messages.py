"""Every translation string parses as the frontend's ICU message format, with the frontend's parser."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
import json
from pathlib import Path
import shutil
import subprocess
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "custom_components" / "cloud_sip_ua"
PARSER = ROOT / "node_modules" / "@formatjs" / "icu-messageformat-parser"
SCRIPT = Path(__file__).with_name("icu_parse.mjs")

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not PARSER.is_dir(),
    reason="node or node_modules missing (scripts/setup installs both)",
)


def _messages(tree: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, str]]:
    """Yield (dotted key, text) for every string in a translation tree."""
    for key, value in tree.items():
        if isinstance(value, Mapping):
            yield from _messages(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def _parse_errors(messages: dict[str, str]) -> dict[str, str]:
    """Return the parser's error for each message it refuses."""
    result = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps(messages),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    errors: dict[str, str] = json.loads(result.stdout)
    return errors


def _translation_files() -> list[Path]:
    """Return strings.json and every translation."""
    return [
        INTEGRATION / "strings.json",
        *sorted(INTEGRATION.glob("translations/*.json")),
    ]


@pytest.mark.parametrize("path", _translation_files(), ids=lambda path: path.name)
def test_every_string_parses_as_an_icu_message(path: Path) -> None:
    """The frontend shows "Translation error: ..." for any string its parser refuses."""
    messages = dict(_messages(json.loads(path.read_text(encoding="utf-8")), ""))
    assert len(messages) > 100
    assert _parse_errors(messages) == {}


def test_the_check_finds_what_the_frontend_refuses() -> None:
    """A literal <tag> or an unbalanced brace is reported; quoted ones and placeholders are not."""
    errors = _parse_errors(
        {
            "tag": "sip:<user>@<domain>",
            "brace": "a { b",
            "quoted": "sip:'<'user'>'@example.com",
            "placeholder": "Enter {callback_url} there.",
        }
    )
    assert sorted(errors) == ["brace", "tag"]
    assert "TAG" in errors["tag"]
