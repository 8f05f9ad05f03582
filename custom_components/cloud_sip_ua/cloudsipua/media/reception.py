"""Per-source reception statistics (RFC 3550 appendix A.1, A.3, A.8): sequence, loss, jitter."""

from __future__ import annotations

from .rtcp import ReportBlock

_MAX_DROPOUT = 3000
_MAX_MISORDER = 100
_WINDOW_BITS = 128
_WINDOW_MASK = (1 << _WINDOW_BITS) - 1

# Results of ReceptionStats.update.
ACCEPTED = 0
DUPLICATE = 1
RESTART_PENDING = (
    2  # a far jump: dropped until the next packet confirms the new numbering
)


class ReceptionStats:
    """Tracks the extended sequence number, duplicates, loss and interarrival jitter."""

    # What every packet reads comes first: adjacent in memory, one cache line.
    __slots__ = (
        "_max_seq",
        "_window",
        "received",
        "clock_rate",
        "_last_transit",
        "jitter",
        "_cycles",
        "_bad_seq",
        "_base_seq",
        "_expected_prior",
        "_received_prior",
        "ssrc",
    )

    def __init__(self, ssrc: int, first_seq: int, clock_rate: int = 8000) -> None:
        """Start tracking a source from its first packet (already counted as received)."""
        self.ssrc = ssrc
        self.clock_rate = clock_rate
        self._restart(first_seq)
        self.jitter = 0.0  # interarrival jitter in timestamp units (read only)
        self._last_transit: int | None = None

    def _restart(self, seq: int) -> None:
        """Reset the sequence state to a new starting number."""
        self._base_seq = seq
        self._max_seq = seq
        self._cycles = 0
        self._bad_seq = -1
        self._window = 1
        self.received = 1
        self._expected_prior = 0
        self._received_prior = 0

    @property
    def extended_max(self) -> int:
        """Return the extended highest sequence number received."""
        return self._cycles + self._max_seq

    @property
    def expected(self) -> int:
        """Return how many packets were expected since the first."""
        return self.extended_max - self._base_seq + 1

    @property
    def lost(self) -> int:
        """Return the cumulative number of packets lost (never negative)."""
        return max(0, self.expected - self.received)

    @property
    def jitter_ms(self) -> float:
        """Return the interarrival jitter in milliseconds."""
        return self.jitter * 1000 / self.clock_rate

    def update(
        self, seq: int, timestamp: int | None = None, arrival: float = 0.0
    ) -> int:
        """Account one packet's sequence number; return ACCEPTED, DUPLICATE or RESTART_PENDING.

        With a `timestamp`, an accepted packet's transit time at `arrival` is folded into
        the jitter too, as update_jitter does (one call per audio packet, not two).
        """
        udelta = (seq - self._max_seq) & 0xFFFF
        if 0 < udelta < _MAX_DROPOUT:
            if seq < self._max_seq:
                self._cycles += 1 << 16
            self._max_seq = seq
            window = self._window
            if (
                udelta != 1 or window != _WINDOW_MASK
            ):  # in order with none missing: as is
                self._window = ((window << udelta) | 1) & _WINDOW_MASK
            self.received += 1
        elif udelta == 0:
            return DUPLICATE
        elif udelta <= (1 << 16) - _MAX_MISORDER:
            # A very large jump: believe it only when the next packet follows it (A.1).
            if seq != self._bad_seq:
                self._bad_seq = (seq + 1) & 0xFFFF
                return RESTART_PENDING
            self._restart(seq)
            self._last_transit = None
        else:
            age = (1 << 16) - udelta
            if age < _WINDOW_BITS:
                bit = 1 << age
                if self._window & bit:
                    return DUPLICATE
                self._window |= bit
            self.received += 1
        if timestamp is None:
            return ACCEPTED
        # update_jitter, written out.
        transit = (int(arrival * self.clock_rate) - timestamp) & 0xFFFFFFFF
        last = self._last_transit
        self._last_transit = transit
        if last is None:
            return ACCEPTED
        delta = (transit - last) & 0xFFFFFFFF
        if delta >= 1 << 31:
            delta = (1 << 32) - delta
        if delta <= self.clock_rate * 10:  # more is a timestamp jump, not jitter
            self.jitter += (delta - self.jitter) / 16
        return ACCEPTED

    def update_jitter(self, timestamp: int, arrival: float) -> None:
        """Fold one audio packet's transit time into the jitter estimate (RFC 3550 A.8)."""
        transit = (int(arrival * self.clock_rate) - timestamp) & 0xFFFFFFFF
        last = self._last_transit
        self._last_transit = transit
        if last is None:
            return
        delta = (transit - last) & 0xFFFFFFFF
        if delta >= 1 << 31:
            delta = (1 << 32) - delta
        if delta > self.clock_rate * 10:  # a timestamp jump, not jitter
            return
        self.jitter += (delta - self.jitter) / 16

    def report_block(self, last_sr: int, delay_since_last_sr: int) -> ReportBlock:
        """Build a reception report and start a new reporting interval (RFC 3550 A.3)."""
        expected = self.expected
        expected_interval = expected - self._expected_prior
        received_interval = self.received - self._received_prior
        self._expected_prior = expected
        self._received_prior = self.received
        lost_interval = expected_interval - received_interval
        fraction = 0
        if expected_interval > 0 and lost_interval > 0:
            fraction = (lost_interval << 8) // expected_interval
        cumulative = max(-0x800000, min(0x7FFFFF, expected - self.received))
        return ReportBlock(
            ssrc=self.ssrc,
            fraction_lost=min(fraction, 255),
            cumulative_lost=cumulative,
            highest_sequence=self.extended_max,
            jitter=int(self.jitter),
            last_sr=last_sr,
            delay_since_last_sr=delay_since_last_sr,
        )
