"""Repository rules: manifest and HACS metadata, translations in sync, no registry hosts."""

from __future__ import annotations

import json
from pathlib import Path
import re
import subprocess

import yaml

ROOT = Path(__file__).parent.parent
COMPONENT = ROOT / "custom_components" / "cloud_sip_ua"
# Spelled in pieces so this file does not itself contain what it looks for.
REGISTRY_HOSTS = [
    "pypi" + ".org",
    "files." + "pythonhosted" + ".org",
    "deb." + "debian" + ".org",
    "registry." + "npmjs" + ".org",
    "security." + "debian" + ".org",
]


def test_manifest_follows_hassfest_and_hacs_rules() -> None:
    """Domain and name first, the rest sorted, requirement ranges, cloud push, http dependency."""
    manifest = json.loads((COMPONENT / "manifest.json").read_text(encoding="utf-8"))
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == "cloud_sip_ua"
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["iot_class"] == "cloud_push"
    assert manifest["config_flow"] is True
    assert "http" in manifest["dependencies"]
    assert manifest["codeowners"]
    assert manifest["documentation"].startswith("https://")
    assert manifest["issue_tracker"].startswith("https://")
    # Ranges, never exact pins: Home Assistant pins numpy and av itself, and an exact pin of ours
    # would conflict with its next bump. Every import of the library is declared.
    requirements = {
        re.match(r"[A-Za-z0-9_.\-]+", req).group(0).lower(): req  # type: ignore[union-attr]
        for req in manifest["requirements"]
    }
    assert not [req for req in requirements.values() if "==" in req]
    assert all(
        re.fullmatch(r"[A-Za-z0-9_.\-]+>=[\w.]+(,<[\w.]+)?", req)
        for req in requirements.values()
    )
    assert {
        "aiohttp",
        "audioop-lts",
        "av",
        "cryptography",
        "numpy",
        "pylibsrtp",
        "pyjwt",
        "yarl",
    } <= set(requirements)


def test_hacs_metadata() -> None:
    """HACS needs a name and the minimum Home Assistant version."""
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert hacs["name"] == "Cloud SIP UA"
    assert re.fullmatch(r"20\d\d\.\d+\.\d+", hacs["homeassistant"])


def test_english_translation_is_built_from_strings() -> None:
    """translations/en.json is strings.json with references resolved (scripts/translations.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "translations", ROOT / "scripts" / "translations.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (COMPONENT / "translations" / "en.json").read_text(
        encoding="utf-8"
    ) == module.build()


def test_every_action_is_translated() -> None:
    """Each action in services.yaml has a name and every field a translation."""
    services = yaml.safe_load((COMPONENT / "services.yaml").read_text(encoding="utf-8"))
    strings = json.loads((COMPONENT / "strings.json").read_text(encoding="utf-8"))[
        "services"
    ]
    for service, spec in services.items():
        assert service in strings, service
        for field in (spec or {}).get("fields", {}):
            assert field in strings[service]["fields"], f"{service}.{field}"


def test_no_registry_host_in_the_repository() -> None:
    """Package registries are reached by name through their clients, never by host."""
    files = (
        subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        )
        .stdout.decode()
        .split("\0")
    )
    offenders = []
    for name in filter(None, files):
        path = ROOT / name
        if not path.is_file() or path.suffix in {".png", ".wav", ".ambr"}:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        offenders += [f"{name}: {host}" for host in REGISTRY_HOSTS if host in text]
    assert offenders == []


def test_the_library_declares_every_package_it_imports() -> None:
    """Each third-party module the protocol library imports is a manifest requirement."""
    import ast
    import sys

    distribution = {"jwt": "pyjwt", "audioop": "audioop-lts"}
    manifest = json.loads((COMPONENT / "manifest.json").read_text(encoding="utf-8"))
    declared = {
        re.split(r"[<>=!,]", req, maxsplit=1)[0].lower()
        for req in manifest["requirements"]
    }
    imported: set[str] = set()
    for path in (COMPONENT / "cloudsipua").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                imported.add(node.module.split(".")[0])
    # audioop left the standard library in 3.13; audioop-lts brings it back.
    third_party = {
        name
        for name in imported
        if name == "audioop"
        or (name not in sys.stdlib_module_names and name != "__future__")
    }
    assert third_party
    missing = {distribution.get(name, name) for name in third_party} - declared
    assert missing == set()
