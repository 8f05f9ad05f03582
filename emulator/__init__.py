"""A local stand-in for the iotcomms.io Cloud SIP UA service and the party at the far end."""

from .callbacks import CallbackRecord
from .calls import CallDirection, CallState, EmulatedCall
from .config import EmulatorConfig
from .core import EmulatorCore, EmulatorError
from .faults import Faults
from .server import Emulator

__all__ = [
    "CallDirection",
    "CallState",
    "CallbackRecord",
    "EmulatedCall",
    "Emulator",
    "EmulatorConfig",
    "EmulatorCore",
    "EmulatorError",
    "Faults",
]
