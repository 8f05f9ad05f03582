"""The Cloud SIP UA integration."""
