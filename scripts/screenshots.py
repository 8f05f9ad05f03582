"""Photograph the intercom card in each state into docs/, by running its browser tests."""

from __future__ import annotations

import os
from pathlib import Path
import subprocess
import sys

ROOT = Path(__file__).resolve().parent.parent
# The card on a test page (call states, microphone) and in the demo's real frontend (camera).
TESTS = ["tests/intercom/test_browser.py", "tests/frontend/test_demo_camera.py"]


def main() -> int:
    """Run the end-to-end card tests with the screenshot folder set to docs/."""
    env = {**os.environ, "CLOUD_SIP_UA_SCREENSHOTS": str(ROOT / "docs")}
    command = [sys.executable, "-m", "pytest", *TESTS, "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if result.returncode == 0:
        for picture in sorted((ROOT / "docs").glob("intercom-card-*.png")):
            print(picture.relative_to(ROOT))
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
