// Shared constants of the card's modules.
//
// Every relative import of the card's modules carries `?v=` and this version (the manifest's): a
// browser that kept an older module in its HTTP cache fetches the new one after an update.
// tests/intercom/test_card.py checks that the two agree.

export const CARD_VERSION = "0.1.0";
export const DOMAIN = "cloud_sip_ua";
