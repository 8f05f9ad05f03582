"""The party at the far end of a call: plays a source, sends DTMF, records what it hears.

It runs on emulator/far_end (aiortc's RTP, libsrtp, audioop, libgsm), never on the
integration's own media stack, so that the tests do not share our mistakes.
"""

from __future__ import annotations

import array
import asyncio
from collections.abc import Callable
import contextlib

from custom_components.cloud_sip_ua.cloudsipua.models import Codec, CryptoEntry

from .audio import SAMPLE_RATE, PcmLoop, ToneGenerator, to_wav
from .far_end.endpoint import PartyStats, RtpEndpoint
from .timers import Timers, sleep

# Audio is queued this far ahead of the wire (a late top-up must never starve it).
_AHEAD_SECONDS = 1.0
# Recordings stop growing at this size (16-bit samples at 8 kHz: about 10 minutes).
_MAX_RECORDING_BYTES = 10 * 60 * SAMPLE_RATE * 2

type AudioSource = ToneGenerator | PcmLoop


class RemoteParty:
    """Plays a tone or a file, sends DTMF, records what it hears and counts RTP."""

    def __init__(
        self,
        *,
        codec: Codec,
        host: str,
        port_range: tuple[int, int],
        source: AudioSource,
        telephone_event_payload_type: int | None = 101,
        inactivity_timeout: float | None = None,
        on_inactive: Callable[[], None] | None = None,
        timers: Timers | None = None,
    ) -> None:
        """Prepare the endpoint; nothing is bound until start(); time is `timers`' (or the loop's)."""
        self.host = host
        self.codec = codec
        self.source = source
        self.dtmf_received: list[str] = []
        self._recording = bytearray()
        self._endpoint = RtpEndpoint(
            codec=codec,
            host=host,
            port_range=port_range,
            telephone_event_payload_type=telephone_event_payload_type,
            on_audio=self._record,
            on_digit=self.dtmf_received.append,
            now=timers.time if timers is not None else None,
        )
        self._inactivity_timeout = inactivity_timeout
        self._on_inactive = on_inactive
        self._timers = timers
        self._watch_task: asyncio.Task[None] | None = None
        self._play_task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def port(self) -> int:
        """Return the local RTP port (0 before start)."""
        return self._endpoint.port

    @property
    def stats(self) -> PartyStats:
        """Return the RTP counters."""
        return self._endpoint.stats

    @property
    def playing(self) -> bool:
        """Return whether audio is being sent."""
        return self._play_task is not None and not self._play_task.done()

    async def start(self) -> None:
        """Bind the RTP and RTCP ports; raise EndpointError if none is free."""
        await self._endpoint.start()

    def connect(self, host: str, port: int) -> None:
        """Send media to this address from now on; start watching for silence from it."""
        self._endpoint.connect(host, port)
        if self._inactivity_timeout is not None and self._watch_task is None:
            self._watch_task = asyncio.create_task(
                self._watch(self._inactivity_timeout)
            )

    async def _watch(self, timeout: float) -> None:
        """Call on_inactive once no RTP has arrived for `timeout` seconds."""
        timers = self._timers or asyncio.get_running_loop()
        connected_at = timers.time()
        while True:
            last = self._endpoint.last_packet_at
            quiet = timers.time() - max(
                last if last is not None else connected_at, connected_at
            )
            if quiet >= timeout:
                break
            await sleep(timers, min(timeout - quiet, 1.0))
        if self._on_inactive is not None:
            self._on_inactive()

    def set_codec(self, codec: Codec) -> None:
        """Switch to the codec the answer asked for."""
        self.codec = codec
        self._endpoint.set_codec(codec)

    def set_telephone_event_payload_type(self, payload_type: int | None) -> None:
        """Use the negotiated RFC 4733 payload type."""
        self._endpoint.set_telephone_event_payload_type(payload_type)

    def enable_srtp(self, *, local: CryptoEntry, remote: CryptoEntry) -> None:
        """Protect what we send with `local`, unprotect what we receive with `remote`."""
        self._endpoint.enable_srtp(local=local, remote=remote)

    def start_playback(self) -> None:
        """Start sending the audio source at a steady 20 ms pace."""
        if not self.playing and not self._closed:
            self._play_task = asyncio.create_task(self._play())

    async def stop_playback(self) -> None:
        """Stop sending audio."""
        if self._play_task is not None:
            self._play_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._play_task
            self._play_task = None
        self._endpoint.outgoing.clear()

    async def send_dtmf(self, digits: str, duration_ms: int = 100) -> None:
        """Send RFC 4733 telephone events."""
        await self._endpoint.send_dtmf(digits, duration_ms)

    def recorded_pcm(self) -> bytes:
        """Return everything heard so far: 16-bit mono PCM at 8 kHz."""
        return bytes(self._recording)

    def recorded_samples(self) -> array.array[int]:
        """Return everything heard so far as 16-bit samples."""
        samples = array.array("h")
        samples.frombytes(self.recorded_pcm())
        return samples

    def recorded_wav(self) -> bytes:
        """Return everything heard so far as a WAV file."""
        return to_wav(self.recorded_pcm(), SAMPLE_RATE)

    async def close(self) -> None:
        """Stop playing and release the ports."""
        if self._closed:
            return
        await self.stop_playback()
        self._closed = True
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
        await self._endpoint.close()

    def _record(self, pcm: bytes) -> None:
        """Keep what the device sent (arrival order: loopback does not reorder)."""
        if len(self._recording) < _MAX_RECORDING_BYTES:
            self._recording += pcm

    async def _play(self) -> None:
        """Keep the endpoint's queue topped up from the source, a little ahead of the wire."""
        ahead = int(SAMPLE_RATE * _AHEAD_SECONDS) * 2
        while True:
            missing = ahead - len(self._endpoint.outgoing)
            if missing > 0:
                self._endpoint.outgoing += self.source.chunk(missing // 2)
            await asyncio.sleep(0.1)
