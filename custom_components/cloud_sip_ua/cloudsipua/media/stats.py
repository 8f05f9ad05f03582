"""Media statistics: the counters a session updates on its packet path."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(slots=True)
class MediaStats:
    """One media session's counters; `MediaSession.stats` hands out copies."""

    packets_sent: int = 0
    bytes_sent: int = 0  # whole datagrams, SRTP overhead included
    packets_received: int = 0  # valid RTP packets accepted from the remote party
    bytes_received: int = 0
    lost: int = 0  # RFC 3550 cumulative loss of the current remote source
    jitter_ms: float = 0.0  # RFC 3550 interarrival jitter
    late: int = 0  # arrived after their playout time
    duplicates: int = 0
    sequence_jumps: int = (
        0  # dropped until the next packet confirms a far sequence jump
    )
    concealed_frames: int = 0
    trimmed_frames: int = 0  # dropped to bring the jitter buffer delay back down
    jitter_buffer_ms: float = 0.0  # current target depth
    srtp_auth_failures: int = 0
    srtp_replays: int = 0
    # Not from the advertised IP (RTCP: not from the latched source).
    foreign_packets: int = 0
    # From the advertised IP, held back until their source proves itself (or takes over).
    probation_packets: int = 0
    # Packets the clock did not send: no remote has proved itself yet.
    packets_withheld: int = 0
    malformed_packets: int = 0
    unknown_payload_packets: int = 0  # valid RTP with a payload type we cannot play
    ssrc_changes: int = 0
    dtmf_sent: int = 0
    dtmf_received: int = 0
    subscriber_overruns: int = 0  # frames dropped because a subscriber did not keep up
    rtcp_sent: int = 0
    rtcp_received: int = 0
    remote_fraction_lost: float = (
        0.0  # 0..1, from the remote party's last report about us
    )
    remote_cumulative_lost: int = 0
    remote_jitter_ms: float = 0.0
    round_trip_ms: float | None = None


def snapshot(stats: MediaStats) -> MediaStats:
    """Return an independent copy of the counters."""
    return replace(stats)
