"""Asyncio client library for the iotcomms.io Cloud SIP UA service."""
