"""A local stand-in for the iotcomms.io Cloud SIP UA service and the party at the far end."""

from .callbacks import CallbackRecord
from .calls import CallDirection, CallState, EmulatedCall
from .config import EmulatorConfig
from .core import Emulator, EmulatorError
from .faults import Faults

__all__ = [
    "CallDirection",
    "CallState",
    "CallbackRecord",
    "EmulatedCall",
    "Emulator",
    "EmulatorConfig",
    "EmulatorError",
    "Faults",
]
