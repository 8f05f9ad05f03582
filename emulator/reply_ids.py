"""The emulator's replyIds: HS256 JWTs bound to one call and the step they allow."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
import secrets
import time
import uuid

import jwt


class ReplyStep(StrEnum):
    """Which callback handed out a replyId, and so what it may be used for."""

    INCOMING = "newRemoteCall"
    CONNECTED = "callAnswered"


# The operations each kind of replyId unlocks.
ALLOWED_OPERATIONS: dict[ReplyStep, frozenset[str]] = {
    ReplyStep.INCOMING: frozenset(
        {"sendremotecallringbackjwt", "answerremotecalljwt", "hangupcalljwt"}
    ),
    ReplyStep.CONNECTED: frozenset({"hangupcalljwt"}),
}


class ReplyIdError(Exception):
    """A replyId cannot be used for this request; the text is the reason given back."""


@dataclass(frozen=True, slots=True)
class ReplyGrant:
    """What a valid replyId grants: a call and a step."""

    call_id: str
    step: ReplyStep


class ReplyIdIssuer:
    """Issues and checks replyIds; keeps which ones exist so they can be expired on demand."""

    def __init__(self, domain: str, ttl: float) -> None:
        """Make a fresh signing secret for this emulator run."""
        self._secret = secrets.token_bytes(32)
        self._domain = domain
        self._ttl = ttl
        self._issued: set[str] = set()
        self._expired: set[str] = set()

    def issue(self, call_id: str, step: ReplyStep) -> str:
        """Return a new replyId for this call and step."""
        now = int(time.time())
        jti = uuid.uuid4().hex
        self._issued.add(jti)
        return jwt.encode(
            {
                "domain": self._domain,
                "callId": call_id,
                "step": str(step),
                "jti": jti,
                "iat": now,
                "exp": now + max(1, int(self._ttl)),
            },
            self._secret,
            algorithm="HS256",
        )

    def expire_all(self) -> int:
        """Make every replyId issued so far expired; return how many became so."""
        fresh = self._issued - self._expired
        self._expired |= fresh
        return len(fresh)

    def check(self, reply_id: str, operation: str) -> ReplyGrant:
        """Return what the replyId grants for this operation, or raise ReplyIdError."""
        try:
            claims = jwt.decode(reply_id, self._secret, algorithms=["HS256"])
        except jwt.ExpiredSignatureError as err:
            raise ReplyIdError("replyId expired") from err
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as err:
            raise ReplyIdError("unknown replyId") from err
        jti = claims.get("jti")
        call_id = claims.get("callId")
        try:
            step = ReplyStep(str(claims.get("step")))
        except ValueError as err:
            raise ReplyIdError("unknown replyId") from err
        if jti not in self._issued or not isinstance(call_id, str):
            raise ReplyIdError("unknown replyId")
        if jti in self._expired:
            raise ReplyIdError("replyId expired")
        if operation not in ALLOWED_OPERATIONS[step]:
            raise ReplyIdError(f"replyId from {step} does not allow {operation}")
        return ReplyGrant(call_id, step)
