"""Tests for the Cloud SIP UA project."""
