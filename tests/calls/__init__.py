"""Tests of the library's call manager against the emulator, without Home Assistant."""
