// Cloud SIP UA intercom card: call state, answer/hang up, DTMF, and two-way audio in the browser.
// Plain web components in ES modules, no build step. The integration serves this folder at
// /cloud_sip_ua/ and has every dashboard import this entry module, /cloud_sip_ua/cloud-sip-ua-card.js.
//
//   strings.js  the card's own strings (the call state's labels come from Home Assistant)
//   audio.js    the audio engine: WebSocket audio out, microphone capture, talk-back pacing
//   card.js     the card (DOM built once, then updated)
//   editor.js   the visual editor
//   const.js    the version and the domain
//
// Relative imports carry `?v=<version>` so that an update is never served from a stale cache.

import { CloudSipUaCard } from "./card.js?v=0.1.0";
import { CARD_VERSION } from "./const.js?v=0.1.0";
import { CloudSipUaCardEditor } from "./editor.js?v=0.1.0";

/** Define the card and its editor in `registry` (once) and offer the card in the card picker. */
function register(registry) {
  if (registry.get("cloud-sip-ua-card")) return;
  registry.define("cloud-sip-ua-card", CloudSipUaCard);
  registry.define("cloud-sip-ua-card-editor", CloudSipUaCardEditor);
  window.customCards = window.customCards || [];
  if (!window.customCards.some((card) => card.type === "cloud-sip-ua-card")) {
    window.customCards.push({
      type: "cloud-sip-ua-card",
      name: "Cloud SIP UA intercom",
      description: "Answer the door from the dashboard: call state, talk and listen, DTMF door opener.",
      preview: true,
      documentationURL: "https://github.com/cloud-sip-ua/ha-cloud-sip-ua#intercom-card",
    });
  }
  console.info(`%c CLOUD-SIP-UA-CARD %c ${CARD_VERSION} `, "background:#03a9f4;color:#fff", "");
}

// Home Assistant imports this module (frontend.add_extra_js_url) at the same time as its own app
// bundle, and that bundle first replaces window.customElements with a scoped custom element registry
// (a polyfill), then defines <home-assistant>. Whichever download finishes first runs first: a define()
// before the swap lands in the browser's native registry, which Lovelace no longer asks, and the card
// stays a "Configuration error" until a reload happens to win the race. Inside Home Assistant's page,
// the registry is the final one once <home-assistant> is defined, so the card waits for that.
if (document.querySelector("home-assistant") && !window.customElements.get("home-assistant")) {
  window.customElements.whenDefined("home-assistant").then(() => register(window.customElements));
} else {
  register(window.customElements);
}
