"""Run the demo: `python -m scripts.demo_runner [--check]`."""

from .cli import main

raise SystemExit(main())
