"""Asyncio client library for the iotcomms.io Cloud SIP UA service."""

from __future__ import annotations

from .callback_auth import CallbackVerifier
from .callbacks import (
    CALLBACK_MODELS,
    CallAnswered,
    Callback,
    CallbackName,
    CallFailed,
    CallHungup,
    CallNotify,
    NewRemoteCall,
    NewRemoteCallResponse,
    parse_callback,
    parse_callback_bytes,
)
from .client import CloudSipUaClient, api_base_url
from .credentials import (
    PrivateKeyTokenProvider,
    StaticTokenProvider,
    TokenProvider,
    load_private_key,
    load_public_key,
)
from .exceptions import (
    CallbackAuthenticationError,
    CallbackParseError,
    CloudSipUaAuthenticationError,
    CloudSipUaConnectionError,
    CloudSipUaError,
    CloudSipUaRequestRefusedError,
    CloudSipUaResponseError,
    CloudSipUaTimeoutError,
    CredentialsError,
    InvalidPrivateKeyError,
    InvalidPublicKeyError,
    InvalidRequestError,
    InvalidTokenError,
    NotAPrivateKeyError,
    UnsupportedKeyTypeError,
)
from .models import ANSWER_CODECS, PLACE_CODECS, Codec, CryptoEntry
from .requests import AnswerCallRequest, PlaceCallRequest, destination_to_uri
from .validation import validate_domain

__all__ = [
    "ANSWER_CODECS",
    "CALLBACK_MODELS",
    "PLACE_CODECS",
    "AnswerCallRequest",
    "CallAnswered",
    "CallFailed",
    "CallHungup",
    "CallNotify",
    "Callback",
    "CallbackAuthenticationError",
    "CallbackName",
    "CallbackParseError",
    "CallbackVerifier",
    "CloudSipUaAuthenticationError",
    "CloudSipUaClient",
    "CloudSipUaConnectionError",
    "CloudSipUaError",
    "CloudSipUaRequestRefusedError",
    "CloudSipUaResponseError",
    "CloudSipUaTimeoutError",
    "Codec",
    "CredentialsError",
    "CryptoEntry",
    "InvalidPrivateKeyError",
    "InvalidPublicKeyError",
    "InvalidRequestError",
    "InvalidTokenError",
    "NewRemoteCall",
    "NewRemoteCallResponse",
    "NotAPrivateKeyError",
    "PlaceCallRequest",
    "PrivateKeyTokenProvider",
    "StaticTokenProvider",
    "TokenProvider",
    "UnsupportedKeyTypeError",
    "api_base_url",
    "destination_to_uri",
    "load_private_key",
    "load_public_key",
    "parse_callback",
    "parse_callback_bytes",
    "validate_domain",
]
