"""The card's playback buffer (frontend/audio.js, run in Node) plays events of several frames whole."""

from __future__ import annotations

import json
from pathlib import Path
import shutil
import subprocess

import pytest

AUDIO_JS = (
    Path(__file__).resolve().parents[2]
    / "custom_components"
    / "cloud_sip_ua"
    / "frontend"
    / "audio.js"
)

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None, reason="node missing (scripts/setup installs it)"
)

# Feeds a ramp (sample n of the call is n) as events of `sizes` frames; after each event the sound
# card takes as much as the event carried, 20 ms at a time; at the end the rest. An AudioContext
# at 8 kHz makes the buffer's upsampling the identity, so what played can be compared exactly.
SCRIPT = """
import { PlaybackBuffer, WIRE_FRAME } from %(module)s;
const buffer = new PlaybackBuffer(8000);
const played = [];
const pull = () => {
  const block = new Float32Array(WIRE_FRAME);
  buffer.pull(block);
  for (const v of block) played.push(Math.round(v * 32768));
};
let next = 0;
for (const frames of %(sizes)s) {
  const pcm = new Int16Array(frames * WIRE_FRAME);
  for (let i = 0; i < pcm.length; i++) pcm[i] = next++;
  buffer.push(pcm);
  for (let i = 0; i < frames; i++) pull();
}
while (buffer.length > 0) pull();
console.log(JSON.stringify({ played, dropped: buffer.dropped }));
"""


def _play(sizes: list[int]) -> tuple[list[int], int]:
    """Run the buffer in Node; return the samples it played and how many it dropped."""
    script = SCRIPT % {
        "module": json.dumps(AUDIO_JS.as_uri()),
        "sizes": json.dumps(sizes),
    }
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    answer = json.loads(result.stdout)
    return answer["played"], answer["dropped"]


def test_events_of_several_frames_play_in_order() -> None:
    """One-, two- and five-frame events (frames ready together) play every sample once, in order."""
    sizes = [1, 2, 1, 5, 1]
    played, dropped = _play(sizes)
    audio = [sample for sample in played if sample]
    assert dropped == 0
    # The interpolation runs one sample behind: the last sample waits for the next event. The
    # ramp's first sample is 0, which is silence.
    assert audio == list(range(1, 160 * sum(sizes) - 1))
