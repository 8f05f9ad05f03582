"""Constants for the Cloud SIP UA integration."""

from typing import Final

DOMAIN: Final = "cloud_sip_ua"

# Config entry data.
CONF_DOMAIN: Final = "domain"
CONF_AUTH_TYPE: Final = "auth_type"
CONF_PRIVATE_KEY: Final = "private_key"
CONF_TOKEN: Final = "token"
CONF_KEY_ID: Final = "key_id"
CONF_ISSUER: Final = "issuer"
CONF_AUDIENCE: Final = "audience"
CONF_CALLBACK_PUBLIC_KEY: Final = "callback_public_key"
CONF_API_BASE_URL: Final = "api_base_url"
CONF_WEBHOOK_ID: Final = "webhook_id"
SECTION_ADVANCED: Final = "advanced"

AUTH_PRIVATE_KEY: Final = "private_key"
AUTH_TOKEN: Final = "token"

# Options.
CONF_SOURCE_USER: Final = "source_user"
CONF_CODEC: Final = "codec"
CONF_DTMF_PAYLOAD_TYPE: Final = "dtmf_payload_type"
CONF_MEDIA_ADDRESS: Final = "media_address"
CONF_RTP_PORT_MIN: Final = "rtp_port_min"
CONF_RTP_PORT_MAX: Final = "rtp_port_max"
# Media to private, loopback and link-local remote addresses (a LAN); unset: allowed exactly
# when the media address itself is private, so a public one cannot be aimed at the home LAN.
CONF_ALLOW_PRIVATE_MEDIA: Final = "allow_private_media"
CONF_SRTP_POLICY: Final = "srtp_policy"
CONF_RING_TIMEOUT: Final = "ring_timeout"
CONF_SECOND_CALL: Final = "second_call"
CONF_SRTP_PLACED_CALLS: Final = "srtp_placed_calls"
# Placing calls costs money: by default only administrators may place them from the UI.
CONF_PLACE_CALLS_ADMIN_ONLY: Final = "place_calls_admin_only"
# Hosts (or *.domains) of hybrid sites a callback's siteBaseUrl may name, comma separated.
CONF_ALLOWED_SITES: Final = "allowed_sites"

# Intercom options: listening on speakers, call recording.
CONF_LISTEN_FORMAT: Final = "listen_format"
CONF_RECORD_ALL_CALLS: Final = "record_all_calls"
CONF_RECORDING_RETENTION_DAYS: Final = "recording_retention_days"
CONF_RECORDING_RETENTION_COUNT: Final = "recording_retention_count"
# Assist on calls: the satellite, its pipeline and end-of-speech selects, the answering switch.
CONF_ASSIST: Final = "assist"
# Answering the door from Assist satellites: which ones ask on a ring, the DTMF code that opens
# the door, and the TTS voice that says the replies into the call.
CONF_DOOR_SATELLITES: Final = "door_satellites"
CONF_DOOR_CODE: Final = "door_code"
CONF_DOOR_TTS: Final = "door_tts"

DEFAULT_CODEC: Final = "PCMA"
DEFAULT_DTMF_PAYLOAD_TYPE: Final = 101
DEFAULT_RTP_PORT_MIN: Final = 20000
DEFAULT_RTP_PORT_MAX: Final = 20999
DEFAULT_SRTP_POLICY: Final = "offer"
DEFAULT_RING_TIMEOUT: Final = 60
DEFAULT_SECOND_CALL: Final = "busy"
DEFAULT_SRTP_PLACED_CALLS: Final = False
DEFAULT_PLACE_CALLS_ADMIN_ONLY: Final = True
DEFAULT_LISTEN_FORMAT: Final = "mp3"
DEFAULT_RECORD_ALL_CALLS: Final = False
DEFAULT_RECORDING_RETENTION_DAYS: Final = 30
DEFAULT_RECORDING_RETENTION_COUNT: Final = 100
DEFAULT_ASSIST: Final = False
# The rate of the PCM the integration exchanges with calls: the calls' own (G.711, GSM) rate.
SAMPLE_RATE: Final = 8000
# Seconds without RTP after which a connected call counts as dead.
INACTIVITY_TIMEOUT: Final = 30.0

CALLBACK_PATH: Final = "/api/cloud_sip_ua/{webhook_id}"
MAX_CALLBACK_BODY: Final = 64 * 1024

# Service call fields.
ATTR_CALL_ID: Final = "call_id"
ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_DESTINATION: Final = "destination"
ATTR_CALLER_ID: Final = "caller_id"
ATTR_DIGITS: Final = "digits"
ATTR_DURATION: Final = "duration"
ATTR_FORMAT: Final = "format"
ATTR_MEDIA_PLAYER_ENTITY_ID: Final = "media_player_entity_id"
