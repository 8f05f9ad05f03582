"""HTTP and WebSocket surfaces of the integration: callback, listen and audio views."""
