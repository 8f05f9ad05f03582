"""Fail when any module's line coverage is below the threshold, not just the total."""

import json
from pathlib import Path
import sys


def main(report: str, threshold: float) -> int:
    """Print the modules under the threshold and return a non-zero code if there are any."""
    files = json.loads(Path(report).read_text(encoding="utf-8"))["files"]
    low = {
        name: data["summary"]["percent_covered"]
        for name, data in files.items()
        if data["summary"]["percent_covered"] < threshold
    }
    for name, percent in sorted(low.items()):
        print(f"coverage {percent:.1f}% < {threshold}%: {name}")
    print(f"coverage gate: {len(files)} modules, {len(low)} under {threshold}%")
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], float(sys.argv[2])))
