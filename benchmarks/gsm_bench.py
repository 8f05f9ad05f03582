"""Benchmark of the GSM 06.10 codec: one 20 ms frame encoded and decoded, ours vs libgsm.

Run: .venv/bin/python benchmarks/gsm_bench.py [--frames N]
libgsm (Debian libgsm1) is called through ctypes in this same process as the baseline.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import gc
import os
from pathlib import Path
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from custom_components.cloud_sip_ua.cloudsipua.media.gsm import GsmDecoder, GsmEncoder  # noqa: E402
from tests.media.gsm_signals import frames, varied_stream  # noqa: E402
from tests.media.libgsm import LIBGSM, LibGsmDecoder, LibGsmEncoder  # noqa: E402

GOAL_US = 1000.0  # encode + decode of one frame


def per_frame_us(work: Callable[[bytes], object], inputs: list[bytes]) -> float:
    """Return the mean microseconds per frame of `work` over `inputs` (GC paused, best of 3)."""
    best = float("inf")
    gc.disable()
    try:
        for _ in range(3):
            start = time.perf_counter()
            for item in inputs:
                work(item)
            best = min(best, (time.perf_counter() - start) / len(inputs) * 1e6)
    finally:
        gc.enable()
    return best


def main() -> None:
    """Measure both codecs on the same speech, tone, noise and silence frames."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=1000, help="frames per run")
    args = parser.parse_args()
    if LIBGSM is None:
        sys.exit("libgsm1 is not installed: apt-get install libgsm1")
    pcm = frames(varied_stream())[: args.frames]
    coded = [LibGsmEncoder().encode(frame) for frame in pcm]
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {len(pcm)} frames of the "
        "test stream (speech-like, tones, silence, noise, square waves)\n"
    )
    ours_encoder, ours_decoder = GsmEncoder(), GsmDecoder()
    their_encoder, their_decoder = LibGsmEncoder(), LibGsmDecoder()
    rows = [
        (
            "encode",
            per_frame_us(ours_encoder.encode, pcm),
            per_frame_us(their_encoder.encode, pcm),
        ),
        (
            "decode",
            per_frame_us(ours_decoder.decode, coded),
            per_frame_us(their_decoder.decode, coded),
        ),
    ]
    rows.append(("encode + decode", rows[0][1] + rows[1][1], rows[0][2] + rows[1][2]))
    print("Microseconds per 20 ms frame (160 samples <-> 33 bytes)")
    print(f"  {'':<16} {'ours':>9} {'libgsm':>9} {'ratio':>7}")
    for label, ours, theirs in rows:
        print(f"  {label:<16} {ours:>9.1f} {theirs:>9.2f} {ours / theirs:>6.0f}x")
    total = rows[2][1]
    verdict = "met" if total < GOAL_US else "missed"
    print(
        f"\n  goal encode + decode < {GOAL_US:.0f} us: {verdict} ({total:.0f} us, "
        f"{total / 20_000 * 100:.1f} % of one core for a call: one encoder and one decoder at 50 frames/s)"
    )


if __name__ == "__main__":
    main()
