"""The library imports without Home Assistant, as it would from PyPI."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

import custom_components.cloud_sip_ua.cloudsipua as library

# The library is imported as a top-level package, exactly as a standalone distribution would be,
# from a folder that holds only it (a link): the integration's own __init__ is never executed,
# and its subpackages (http/ would hide the standard library's http) are not on the path.
_SCRIPT = """
import importlib, json, pkgutil, sys
sys.path.insert(0, sys.argv[1])
import cloudsipua
names = ["cloudsipua"] + [
    info.name for info in pkgutil.walk_packages(cloudsipua.__path__, "cloudsipua.")
]
failed = {}
for name in names:
    try:
        importlib.import_module(name)
    except Exception as err:  # report every broken module at once
        failed[name] = repr(err)
print(json.dumps({
    "modules": names,
    "failed": failed,
    "homeassistant": sorted(m for m in sys.modules if m == "homeassistant" or m.startswith("homeassistant.")),
    "custom_components": "custom_components" in sys.modules,
}))
"""


def test_every_module_imports_without_homeassistant(tmp_path: Path) -> None:
    """Walk every module of the package (media included) in a fresh interpreter."""
    (tmp_path / "cloudsipua").symlink_to(Path(library.__file__).parent)
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "cloudsipua.client" in report["modules"]
    assert "cloudsipua.callbacks" in report["modules"]
    assert report["failed"] == {}
    assert report["homeassistant"] == []
    assert report["custom_components"] is False
