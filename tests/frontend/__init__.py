"""Tests against Home Assistant's real frontend and the libraries it formats text with."""
