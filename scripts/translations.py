"""Build translations/en.json from strings.json, resolving [%key:...%] references like core does."""

import json
from pathlib import Path
import re
import sys
from typing import Any

COMPONENT = Path(__file__).parent.parent / "custom_components" / "cloud_sip_ua"
_REFERENCE = re.compile(r"\[%key:component::cloud_sip_ua::([a-z0-9_:A-Z]+)%\]")


def _lookup(strings: dict[str, Any], path: str) -> str:
    """Return the string at a `::`-separated path."""
    node: Any = strings
    for part in path.split("::"):
        node = node[part]
    if not isinstance(node, str):
        raise TypeError(f"{path} is not a string")
    return node


def _resolve(node: Any, strings: dict[str, Any]) -> Any:
    """Replace every reference in the tree with the text it points to."""
    if isinstance(node, dict):
        return {key: _resolve(value, strings) for key, value in node.items()}
    if isinstance(node, str):
        return _REFERENCE.sub(
            lambda match: _resolve(_lookup(strings, match[1]), strings), node
        )
    return node


def build() -> str:
    """Return the English translation file's text."""
    strings = json.loads((COMPONENT / "strings.json").read_text(encoding="utf-8"))
    return json.dumps(_resolve(strings, strings), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    target = COMPONENT / "translations" / "en.json"
    text = build()
    if "--check" in sys.argv:
        sys.exit(
            0
            if target.read_text(encoding="utf-8") == text
            else "translations/en.json is out of date"
        )
    target.write_text(text, encoding="utf-8")
