"""The resampler section of media_bench on its own, plus microseconds per 20 ms frame.

Run: .venv/bin/python benchmarks/resample_bench.py
Copied into a checkout of an older tree it measures that tree's resampler, for before/after
figures from the same run conditions.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
import sys
from typing import Any

import audioop
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.media_bench import per_call_us, resampler_quality  # noqa: E402
from custom_components.cloud_sip_ua.cloudsipua.media.resample import Resampler  # noqa: E402

PAIRS = (
    (8000, 16000),
    (16000, 8000),
    (8000, 48000),
    (48000, 8000),
    (16000, 48000),
    (48000, 16000),
)


def frame_costs() -> list[tuple[str, float, float]]:
    """Return (pair, ours, ratecv) in microseconds per 20 ms frame of a live stream."""
    rows = []
    for in_rate, out_rate in PAIRS:
        t = np.arange(in_rate // 50) / in_rate
        frame = (12000 * np.sin(2 * np.pi * 1000 * t)).astype("<i2").tobytes()
        streaming = Resampler(in_rate, out_rate, compensate_delay=False)
        state: list[Any] = [None]

        def ratecv_frame(
            f: bytes = frame, i: int = in_rate, o: int = out_rate, st: list[Any] = state
        ) -> None:
            st[0] = audioop.ratecv(f, 2, 1, i, o, st[0])[1]

        ours = per_call_us(partial(streaming.process, frame), 5000)
        theirs = per_call_us(ratecv_frame, 5000)
        rows.append((f"{in_rate // 1000}k->{out_rate // 1000}k", ours, theirs))
    return rows


def main() -> None:
    """Print the quality table and the per-frame costs."""
    print(
        "Resampler vs audioop.ratecv (SNR of a 1 kHz tone; rejection of an alias/image tone)"
    )
    print(
        f"  {'':<9} {'SNR ours':>9} {'ratecv':>7} {'rej ours':>9} {'ratecv':>7}"
        f" {'CPU x 1s':>9} {'x 20ms':>7}"
    )
    for name, snr_o, snr_t, rej_o, rej_t, bulk, frame in resampler_quality():
        print(
            f"  {name:<9} {snr_o:>9.1f} {snr_t:>7.1f} {rej_o:>9.1f} {rej_t:>7.1f}"
            f" {bulk:>9.2f} {frame:>7.2f}"
        )
    print("\nOne 20 ms frame of a live stream, microseconds (best of three runs)")
    print(f"  {'':<9} {'ours':>7} {'ratecv':>7} {'ratio':>6}")
    for name, ours, theirs in frame_costs():
        print(f"  {name:<9} {ours:>7.2f} {theirs:>7.2f} {ours / theirs:>6.2f}")


if __name__ == "__main__":
    main()
