// The intercom card: call state, caller and timer, answer/reject/hang up, ringback, door opener and
// keypad (DTMF), listen and talk, and optionally the door's camera (live while a call rings or is
// connected, a still image otherwise).
//
// The card builds its DOM once and then only updates text, attributes and `hidden`/`disabled` on
// each `hass` update: buttons stay the same elements, so focus, a held push-to-talk key and the
// hover state survive state changes.

import { IntercomAudio } from "./audio.js?v=0.1.0";
import { DOMAIN } from "./const.js?v=0.1.0";
import { localize } from "./strings.js?v=0.1.0";

const KNOWN_STATES = ["idle", "ringing", "dialing", "remote_ringing", "connected", "ending"];
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
const MIC_NOTICES = {
  insecure: "mic_insecure",
  denied: "mic_denied",
  missing: "mic_missing",
  unsupported: "mic_unsupported",
  error: "mic_error",
};
const MIC_BLOCKED = ["denied", "missing", "unsupported", "error"];

const STYLE = `
  :host { display: block; }
  [hidden] { display: none !important; }
  ha-card { display: block; padding: 16px; box-sizing: border-box; color: var(--primary-text-color, #212121);
    background: var(--ha-card-background, var(--card-background-color, #fff)); border-radius: var(--ha-card-border-radius, 12px);
    box-shadow: var(--ha-card-box-shadow, 0 1px 3px rgba(0,0,0,.2)); font-family: var(--paper-font-body1_-_font-family, Roboto, sans-serif); }
  .header { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
  .title { font-size: 1.2em; font-weight: 500; }
  .state { font-size: .9em; padding: 2px 10px; border-radius: 12px; background: var(--secondary-background-color, #eee); }
  .state.ringing { background: var(--warning-color, #ffa600); color: #fff; animation: pulse 1s infinite alternate; }
  .state.connected { background: var(--success-color, #43a047); color: #fff; }
  @keyframes pulse { to { opacity: .6; } }
  .caller { margin: 12px 0 4px; font-size: 1.4em; font-weight: 500; word-break: break-all; }
  .timer { font-variant-numeric: tabular-nums; color: var(--secondary-text-color, #727272); min-height: 1.2em; }
  .row { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 12px; }
  button { font: inherit; border: none; border-radius: 18px; padding: 8px 16px; cursor: pointer; min-height: 36px;
    background: var(--secondary-background-color, #e5e5e5); color: var(--primary-text-color, #212121); touch-action: none; user-select: none; }
  button:disabled { opacity: .4; cursor: default; }
  button.answer { background: var(--success-color, #43a047); color: #fff; }
  button.hangup { background: var(--error-color, #db4437); color: #fff; }
  button.door { background: var(--primary-color, #03a9f4); color: #fff; }
  button[aria-pressed="true"] { background: var(--primary-color, #03a9f4); color: #fff; }
  .keypad { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px; margin-top: 12px; max-width: 240px; }
  .keypad button { border-radius: 8px; font-size: 1.1em; }
  .notice { margin-top: 12px; padding: 8px 12px; border-radius: 8px; font-size: .9em;
    background: rgba(255, 166, 0, .15); border-left: 4px solid var(--warning-color, #ffa600); }
  .notice.error { background: rgba(219, 68, 55, .12); border-left-color: var(--error-color, #db4437); }
  .camera { margin-top: 12px; border-radius: 8px; overflow: hidden; --ha-card-box-shadow: none; --ha-card-border-width: 0; }
  .camera img { display: block; width: 100%; }
`;

/** Find the integration's call state sensor (and its device) from the card's configuration. */
export function resolveTarget(hass, config) {
  const entities = hass.entities || {};
  const isCallState = (id) => {
    const entry = entities[id];
    if (entry && entry.platform) return entry.platform === DOMAIN && entry.translation_key === "call_state";
    return id.startsWith("sensor.") && id.endsWith("_call_state");
  };
  let entityId = config.entity;
  let deviceId = config.device_id;
  if (!entityId) {
    const candidates = Object.keys(hass.states).filter(isCallState);
    entityId =
      candidates.find((id) => !deviceId || (entities[id] && entities[id].device_id === deviceId)) || undefined;
  }
  if (!deviceId && entityId && entities[entityId]) deviceId = entities[entityId].device_id || undefined;
  return { entityId, deviceId };
}

/** An element with a class and optional text. */
function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Change text, attributes and visibility only where they differ (no needless DOM writes). */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function setHidden(node, hidden) {
  if (node.hidden !== hidden) node.hidden = hidden;
}

function setAttribute(node, name, value) {
  if (node.getAttribute(name) !== value) node.setAttribute(name, value);
}

/** The intercom card. */
export class CloudSipUaCard extends HTMLElement {
  static getConfigElement() {
    return document.createElement("cloud-sip-ua-card-editor");
  }

  static getStubConfig(hass) {
    const { entityId } = resolveTarget(hass, {});
    return entityId ? { entity: entityId } : {};
  }

  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this.audio = new IntercomAudio(() => this._update(true));
    this._config = {};
    this._signature = [];
    this._timer = null;
    this._lastError = "";
    this._build();
  }

  setConfig(config) {
    if (!config || typeof config !== "object") throw new Error("Invalid configuration");
    if (config.door_code && !/^[0-9*#A-Da-d]{1,32}$/.test(String(config.door_code))) {
      throw new Error("door_code must be DTMF digits (0-9, *, #, A-D)");
    }
    this._config = { show_keypad: true, auto_listen: true, ...config };
    this._update(true);
  }

  set hass(hass) {
    this._hass = hass;
    this._update(false);
  }

  get hass() {
    return this._hass;
  }

  getCardSize() {
    return 5;
  }

  getGridOptions() {
    return { columns: 6, min_columns: 6, rows: "auto" };
  }

  connectedCallback() {
    this._timer = setInterval(() => this._tick(), 1000);
    this._update(true);
  }

  disconnectedCallback() {
    clearInterval(this._timer);
    this._timer = null;
    this.audio.close();
  }

  /** The analyser after the listen switch: what the page plays (meters, tests). */
  get audioAnalyser() {
    return this.audio.analyser;
  }

  /** Build the card's DOM, once; `_update` changes it from then on. */
  _build() {
    const style = element("style");
    style.textContent = STYLE;
    const card = element("ha-card");
    const parts = {};
    const header = element("div", "header");
    parts.title = element("span", "title");
    parts.state = element("span", "state");
    header.append(parts.title, parts.state);
    parts.notFound = element("div", "notice error not-found");

    parts.camera = element("div", "camera");
    parts.caller = element("div", "caller");
    parts.timer = element("div", "timer");

    const button = (action, className = "") => {
      const node = element("button", className);
      node.type = "button";
      node.dataset.action = action;
      return node;
    };
    parts.callRow = element("div", "row call");
    parts.answer = button("answer", "answer");
    parts.hangUp = button("hang_up", "hangup");
    parts.ringback = button("send_ringback");
    parts.door = button("door", "door");
    parts.callRow.append(parts.answer, parts.hangUp, parts.ringback, parts.door);

    parts.audioRow = element("div", "row audio");
    parts.listen = button("listen");
    parts.talk = button("talk");
    parts.ptt = button("ptt");
    parts.audioRow.append(parts.listen, parts.talk, parts.ptt);

    parts.keypad = element("div", "keypad");
    parts.keypad.setAttribute("role", "group");
    for (const key of KEYS) {
      const digit = element("button", "", key);
      digit.type = "button";
      digit.dataset.digit = key;
      digit.addEventListener("click", () => this._action("send_dtmf", { digits: key }));
      parts.keypad.append(digit);
    }

    parts.micNotice = element("div", "notice mic");
    parts.audioError = element("div", "notice error audio");
    parts.lastError = element("div", "notice error action");

    card.append(
      header,
      parts.notFound,
      parts.camera,
      parts.caller,
      parts.timer,
      parts.callRow,
      parts.audioRow,
      parts.keypad,
      parts.micNotice,
      parts.audioError,
      parts.lastError,
    );
    this.shadowRoot.append(style, card);
    this._parts = parts;

    for (const node of [parts.answer, parts.hangUp, parts.ringback, parts.door, parts.listen, parts.talk]) {
      node.addEventListener("click", () => this._onAction(node.dataset.action));
    }
    this._bindPushToTalk(parts.ptt);
  }

  /** Push-to-talk: sends while held (pointer anywhere released, or Space/Enter held). */
  _bindPushToTalk(button) {
    const release = () => {
      window.removeEventListener("pointerup", release);
      window.removeEventListener("pointercancel", release);
      this.audio.setTalking(false);
    };
    button.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      window.addEventListener("pointerup", release);
      window.addEventListener("pointercancel", release);
      this.audio.setTalking(true);
    });
    button.addEventListener("keydown", (event) => {
      if ((event.key === " " || event.key === "Enter") && !event.repeat) this.audio.setTalking(true);
    });
    button.addEventListener("keyup", (event) => {
      if (event.key === " " || event.key === "Enter") this.audio.setTalking(false);
    });
  }

  _t(key, values) {
    return localize(this._hass, key, values);
  }

  _target() {
    return resolveTarget(this._hass, this._config);
  }

  _call() {
    const { entityId } = this._target();
    const stateObj = entityId && this._hass.states[entityId];
    if (!stateObj) return null;
    return { entityId, stateObj, state: stateObj.state, attributes: stateObj.attributes || {} };
  }

  _serviceData(extra = {}) {
    const { deviceId } = this._target();
    const call = this._call();
    const data = { ...extra };
    if (deviceId) data.device_id = deviceId;
    if (call && call.attributes.call_id) data.call_id = call.attributes.call_id;
    return data;
  }

  async _action(service, extra) {
    try {
      await this._hass.callService(DOMAIN, service, this._serviceData(extra));
    } catch (err) {
      this._lastError = (err && err.message) || String(err);
      this._update(true);
    }
  }

  _streamTarget() {
    const { entityId, deviceId } = this._target();
    const call = this._call();
    const target = deviceId ? { device_id: deviceId } : entityId ? { entity_id: entityId } : {};
    if (call && call.attributes.call_id) target.call_id = call.attributes.call_id;
    return target;
  }

  /** Keep the audio subscription in step with the call: open while connected and wanted. */
  _syncAudio(call) {
    const connected = call && call.state === "connected";
    const wanted = this.audio.listening || this.audio.talking;
    if (connected && wanted && !this.audio.unsubscribe && this._hass.connection) {
      this.audio.connect(this._hass.connection, this._streamTarget(), call.attributes.call_id);
    } else if (!connected && this.audio.unsubscribe) {
      this.audio.disconnect();
    }
    if (!connected) this.audio.talking = false;
  }

  _tick() {
    const call = this._hass && this._call();
    if (call && this._parts) setText(this._parts.timer, this._elapsed(call));
  }

  _elapsed(call) {
    const since = call.state === "connected" ? call.attributes.answered_at : call.attributes.started_at;
    if (!since || call.state === "idle") return "";
    const seconds = Math.max(0, Math.floor(Date.now() / 1000 - Number(since)));
    const mm = String(Math.floor(seconds / 60)).padStart(2, "0");
    const ss = String(seconds % 60).padStart(2, "0");
    return `${mm}:${ss}`;
  }

  /** The call state as Home Assistant shows it (the integration's translations, the user's language). */
  _stateLabel(call) {
    const hass = this._hass;
    return typeof hass.formatEntityState === "function" ? hass.formatEntityState(call.stateObj) : call.state;
  }

  /** The caller as Home Assistant formats the attribute; a placeholder while a call has none. */
  _caller(call, active) {
    const party = call.attributes.remote_party;
    if (!party) return active ? this._t("caller_unknown") : "";
    const hass = this._hass;
    return typeof hass.formatEntityAttributeValue === "function"
      ? hass.formatEntityAttributeValue(call.stateObj, "remote_party")
      : String(party);
  }

  /** The camera: Home Assistant's picture-entity card (live during a call), a plain still image elsewhere. */
  _updateCamera(live) {
    const parts = this._parts;
    const entity = this._config.camera_entity;
    const stateObj = entity ? this._hass.states[entity] : undefined;
    setHidden(parts.camera, !stateObj);
    if (!stateObj) return;
    if (typeof window.loadCardHelpers !== "function") {
      if (!parts.cameraImage) {
        parts.cameraImage = element("img");
        parts.cameraImage.alt = "";
        parts.camera.replaceChildren(parts.cameraImage);
      }
      const picture = stateObj.attributes.entity_picture || "";
      if (parts.cameraImage.getAttribute("src") !== picture) parts.cameraImage.setAttribute("src", picture);
      setAttribute(parts.cameraImage, "data-view", live ? "live" : "auto");
      return;
    }
    const config = {
      type: "picture-entity",
      entity,
      camera_view: live ? "live" : "auto",
      show_name: false,
      show_state: false,
      tap_action: { action: "more-info" },
      hold_action: { action: "none" },
    };
    const key = `${entity}|${config.camera_view}`;
    if (this._cameraKey !== key) {
      this._cameraKey = key;
      this._makeCameraCard(config, key);
    }
    if (this._cameraCard) this._cameraCard.hass = this._hass;
  }

  async _makeCameraCard(config, key) {
    const helpers = await window.loadCardHelpers();
    if (this._cameraKey !== key) return; // configuration or call changed meanwhile
    if (this._cameraCard && this._cameraCard.localName === "hui-picture-entity-card") {
      this._cameraCard.setConfig(config);
    } else {
      this._cameraCard = helpers.createCardElement(config);
      this._parts.camera.replaceChildren(this._cameraCard);
    }
    this._cameraCard.dataset.view = config.camera_view;
    this._cameraCard.hass = this._hass;
  }

  _micNotice() {
    const state = IntercomAudio.micBlocker() || this.audio.micState;
    return MIC_NOTICES[state] ? this._t(MIC_NOTICES[state], { error: this.audio.micError }) : "";
  }

  /** Bring the DOM in line with the call, the audio and the configuration. */
  _update(force) {
    if (!this._hass || !this._parts) return;
    const call = this._call();
    this._syncAudio(call);
    const audio = this.audio;
    const signature = [
      call && call.stateObj,
      this._config.camera_entity && this._hass.states[this._config.camera_entity],
      audio.listening,
      audio.talking,
      audio.micState,
      audio.error,
      !!audio.unsubscribe,
      this._lastError,
      this._hass.locale && this._hass.locale.language,
      this._hass.language,
    ];
    if (!force && signature.every((value, i) => value === this._signature[i])) return;
    this._signature = signature;

    const parts = this._parts;
    const config = this._config;
    setText(parts.title, config.title ?? this._t("title"));
    setText(parts.notFound, this._t("not_found"));
    setHidden(parts.notFound, !!call);

    const state = call ? call.state : "";
    const known = KNOWN_STATES.includes(state);
    const ringing = state === "ringing";
    const connected = state === "connected";
    const active = known && state !== "idle";

    setHidden(parts.state, !call);
    if (call) {
      setText(parts.state, this._stateLabel(call));
      setAttribute(parts.state, "class", `state ${state}`);
      setAttribute(parts.state, "data-state", state);
    }

    this._updateCamera(ringing || connected);

    setHidden(parts.caller, !active);
    setHidden(parts.timer, !active);
    if (active) {
      setText(parts.caller, this._caller(call, active));
      setText(parts.timer, this._elapsed(call));
    }

    const door = connected && !!config.door_code;
    setHidden(parts.answer, !ringing);
    setHidden(parts.hangUp, !active);
    setHidden(parts.ringback, !ringing);
    setHidden(parts.door, !door);
    setHidden(parts.callRow, !active);
    setText(parts.answer, this._t("answer"));
    setText(parts.hangUp, this._t(ringing ? "reject" : "hang_up"));
    setText(parts.ringback, this._t("ringback"));
    setText(parts.door, config.door_label || this._t("open_door"));

    const micBlocked = !!IntercomAudio.micBlocker() || MIC_BLOCKED.includes(audio.micState);
    setHidden(parts.audioRow, !connected);
    setText(parts.listen, this._t("listen"));
    setText(parts.talk, this._t("talk"));
    setText(parts.ptt, this._t("push_to_talk"));
    setAttribute(parts.listen, "aria-pressed", String(audio.listening));
    setAttribute(parts.talk, "aria-pressed", String(audio.talking));
    parts.talk.disabled = micBlocked;
    parts.ptt.disabled = micBlocked;

    setHidden(parts.keypad, !(connected && config.show_keypad));
    setAttribute(parts.keypad, "aria-label", this._t("keypad"));

    const micNotice = connected ? this._micNotice() : "";
    setText(parts.micNotice, micNotice);
    setHidden(parts.micNotice, !micNotice);
    const audioError = connected && audio.error ? this._t("audio_error", { error: audio.error }) : "";
    setText(parts.audioError, audioError);
    setHidden(parts.audioError, !audioError);
    setText(parts.lastError, this._lastError);
    setHidden(parts.lastError, !this._lastError);
  }

  _onAction(action) {
    this._lastError = "";
    switch (action) {
      case "answer":
        // The click is the user gesture that lets the page play audio.
        if (this._config.auto_listen) this.audio.setListening(true);
        this._action("answer");
        break;
      case "hang_up":
      case "send_ringback":
        this._action(action);
        break;
      case "door":
        this._action("send_dtmf", { digits: String(this._config.door_code).toUpperCase() });
        break;
      case "listen":
        this.audio.setListening(!this.audio.listening);
        break;
      case "talk":
        this.audio.setTalking(!this.audio.talking);
        break;
    }
    this._update(true);
  }
}
