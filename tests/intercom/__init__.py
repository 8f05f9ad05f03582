"""Tests of the intercom: the dashboard card, its WebSocket audio path, and the browser end to end."""
