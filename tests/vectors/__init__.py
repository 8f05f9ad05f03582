"""Known-answer vectors: RFCs, the ITU tables, and packets captured from ffmpeg."""
