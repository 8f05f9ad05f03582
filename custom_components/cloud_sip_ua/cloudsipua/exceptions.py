"""Errors raised by the Cloud SIP UA library."""


class CloudSipUaError(Exception):
    """Base of every error this library raises."""
