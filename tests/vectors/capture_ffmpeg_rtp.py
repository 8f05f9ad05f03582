"""Capture what ffmpeg sends as an RTP/RTCP peer, for the known-answer tests (run by hand).

    .venv/bin/python tests/vectors/capture_ffmpeg_rtp.py > tests/vectors/ffmpeg_pcma.txt

ffmpeg (Debian's, 5.1) streams a 1 kHz sine at 8 kHz as PCMA over RTP to a loopback port, 160
samples per packet, with RTCP on the next port; every datagram is written as `rtp <hex>` or
`rtcp <hex>`, in arrival order. The test suite only reads the file.
"""

from __future__ import annotations

import select
import socket
import subprocess
import sys

SECONDS = 6
RTP_PACKETS = 50


def main() -> None:
    """Run ffmpeg against two sockets and print what arrives."""
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", 0))
    port = rtp.getsockname()[1]
    rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtcp.bind(("127.0.0.1", port + 1))
    command = [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
        "-f", "lavfi", "-i", f"sine=frequency=1000:sample_rate=8000:duration={SECONDS}",
        "-c:a", "pcm_alaw", "-ar", "8000", "-ac", "1", "-frame_size", "160",
        "-f", "rtp", f"rtp://127.0.0.1:{port}?rtcpport={port + 1}&pkt_size=172",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    rtp_count = 0
    lines = []
    while process.poll() is None:
        ready, _, _ = select.select([rtp, rtcp], [], [], 0.5)
        for sock in ready:
            data = sock.recv(2048)
            if sock is rtcp:
                lines.append(f"rtcp {data.hex()}")
            elif rtp_count < RTP_PACKETS:
                rtp_count += 1
                lines.append(f"rtp {data.hex()}")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
