"""The emulator's far end, built on code we did not write (aiortc's RTP, libsrtp, audioop, libgsm).

Nothing here imports the integration's media stack: a mistake made the same way on both ends
of a call would pass every test.
"""
