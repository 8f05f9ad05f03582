"""What goes wrong at the far end: no port, no codec, an unusable key."""


class FarEndError(Exception):
    """The far end cannot take part in the call as asked."""


class EndpointError(FarEndError):
    """No free RTP/RTCP port pair in the range."""


class VoiceUnavailableError(FarEndError):
    """The codec cannot be used here (libgsm is not installed)."""


class CryptoKeyError(FarEndError):
    """An SDES crypto entry the far end cannot use."""


class DtmfUnavailableError(FarEndError):
    """No telephone-event payload type was negotiated for the call."""
