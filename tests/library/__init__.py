"""Tests of the cloudsipua protocol library."""
