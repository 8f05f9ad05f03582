"""Tests of the RTP media stack."""
