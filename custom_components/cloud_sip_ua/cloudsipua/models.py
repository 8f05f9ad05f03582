"""Value types shared by the REST client, the callbacks and the media stack."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Codec(StrEnum):
    """A voice codec the service negotiates."""

    PCMU = "PCMU"
    PCMA = "PCMA"
    GSM = "GSM"

    @property
    def payload_type(self) -> int:
        """Return the static RTP payload type (RFC 3551)."""
        return _PAYLOAD_TYPES[self]


_PAYLOAD_TYPES = {Codec.PCMU: 0, Codec.GSM: 3, Codec.PCMA: 8}

# answerremotecalljwt accepts only these two; placeremotecalljwt also accepts GSM.
ANSWER_CODECS = frozenset({Codec.PCMA, Codec.PCMU})
PLACE_CODECS = frozenset({Codec.PCMA, Codec.PCMU, Codec.GSM})


@dataclass(frozen=True, slots=True)
class CryptoEntry:
    """One SDES crypto attribute (RFC 4568) as the API carries it: suite, tag and key params."""

    suite: str
    tag: int
    config: str

    def to_json(self) -> dict[str, str | int]:
        """Return the wire form used by the API and the callbacks."""
        return {"suite": self.suite, "id": self.tag, "config": self.config}
