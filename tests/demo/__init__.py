"""Tests of the demo runner (scripts/demo) and the blueprints' helpers."""
