"""`scripts/demo`: the emulator and a real Home Assistant on loopback, set up through their APIs."""
