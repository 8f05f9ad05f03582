"""Tests against third-party peers: ffmpeg as the far end of calls through Home Assistant."""
