"""The party at the far end of a call: a real RTP endpoint built on the library's media stack."""

from __future__ import annotations

import array
import asyncio
from collections.abc import Callable
import contextlib

from custom_components.cloud_sip_ua.cloudsipua.media import (
    AudioSubscription,
    DtmfEvent,
    MediaSession,
    MediaStats,
)
from custom_components.cloud_sip_ua.cloudsipua.models import Codec, CryptoEntry

from .audio import SAMPLE_RATE, PcmLoop, ToneGenerator, to_wav

# Audio is handed to the media session this far ahead of the wire.
_CHUNK_SECONDS = 0.2
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
    ) -> None:
        """Prepare the endpoint; nothing is bound until start()."""
        self.host = host
        self.codec = codec
        self.source = source
        self.dtmf_received: list[str] = []
        self._recording = bytearray()
        self._session = MediaSession(
            codec=codec,
            telephone_event_payload_type=telephone_event_payload_type,
            bind_host=host,
            port_range=port_range,
            # The session signals inactivity once, counting from start(); a call may ring
            # longer than that, so the party watches from the moment media is connected.
            inactivity_timeout=None,
            on_dtmf=self._on_dtmf,
            # The far end speaks first, as the service's media server does: Home Assistant
            # sends nothing until packets from the address it was given arrived.
            wait_for_remote=False,
        )
        self._inactivity_timeout = inactivity_timeout
        self._on_inactive = on_inactive
        self._watch_task: asyncio.Task[None] | None = None
        self._started = False
        self._closed = False
        self._record_task: asyncio.Task[None] | None = None
        self._play_task: asyncio.Task[None] | None = None
        self._final_stats: MediaStats | None = None

    @property
    def port(self) -> int:
        """Return the local RTP port (0 before start)."""
        return self._session.local_port if self._started else 0

    @property
    def stats(self) -> MediaStats:
        """Return the RTP statistics (frozen at close)."""
        return (
            self._final_stats if self._final_stats is not None else self._session.stats
        )

    @property
    def playing(self) -> bool:
        """Return whether audio is being sent."""
        return self._play_task is not None and not self._play_task.done()

    async def start(self) -> None:
        """Bind the RTP socket and start recording; raise MediaError if that fails."""
        await self._session.start()
        self._started = True
        subscription = self._session.subscribe(sample_rate=SAMPLE_RATE)
        self._record_task = asyncio.create_task(self._record(subscription))

    def connect(self, host: str, port: int) -> None:
        """Send media to this address from now on; start watching for silence from it."""
        self._session.set_remote(host, port)
        if self._inactivity_timeout is not None and self._watch_task is None:
            self._watch_task = asyncio.create_task(
                self._watch(self._inactivity_timeout)
            )

    async def _watch(self, timeout: float) -> None:
        """Call on_inactive once no RTP has arrived for `timeout` seconds."""
        loop = asyncio.get_running_loop()
        connected_at = loop.time()
        while True:
            last = self._session.last_packet_at
            quiet = loop.time() - max(
                last if last is not None else connected_at, connected_at
            )
            if quiet >= timeout:
                break
            await asyncio.sleep(min(timeout - quiet, 1.0))
        if self._on_inactive is not None:
            self._on_inactive()

    def set_codec(self, codec: Codec) -> None:
        """Switch to the codec the answer asked for."""
        self.codec = codec
        self._session.set_codec(codec)

    def set_telephone_event_payload_type(self, payload_type: int | None) -> None:
        """Use the negotiated RFC 4733 payload type."""
        self._session.set_telephone_event_payload_type(payload_type)

    def enable_srtp(self, *, local: CryptoEntry, remote: CryptoEntry) -> None:
        """Protect what we send with `local`, unprotect what we receive with `remote`."""
        self._session.enable_srtp(local=local, remote=remote)

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
        if self._started and not self._closed:
            self._session.clear_audio()

    async def send_dtmf(self, digits: str, duration_ms: int = 100) -> None:
        """Send RFC 4733 telephone events."""
        await self._session.send_dtmf(digits, duration_ms=duration_ms)

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
        """Stop playing and recording and release the socket."""
        if self._closed:
            return
        await self.stop_playback()
        self._closed = True
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
        if self._started:
            self._final_stats = self._session.stats
        await self._session.close()
        if self._record_task is not None:
            self._record_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._record_task

    def _on_dtmf(self, event: DtmfEvent) -> None:
        """Keep each digit the device sent."""
        self.dtmf_received.append(event.digit)

    async def _record(self, subscription: AudioSubscription) -> None:
        """Collect decoded frames until the session closes."""
        async for frame in subscription:
            if len(self._recording) < _MAX_RECORDING_BYTES:
                self._recording += frame

    async def _play(self) -> None:
        """Feed the source to the session, a chunk ahead of the wire."""
        source = self.source
        samples = int(SAMPLE_RATE * _CHUNK_SECONDS)
        while True:
            # play_audio returns as the last frame goes out, so the next chunk follows
            # without a gap; it returns at once after close, and close cancels this task.
            await self._session.play_audio(source.chunk(samples), SAMPLE_RATE)
