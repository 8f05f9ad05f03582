"""Tests of the Cloud SIP UA emulator."""
