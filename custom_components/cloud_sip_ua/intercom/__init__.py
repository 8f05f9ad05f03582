"""The intercom: Assist on calls, recording, listening on speakers and talking from the browser."""
