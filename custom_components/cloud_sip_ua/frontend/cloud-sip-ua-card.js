// Cloud SIP UA intercom card: call state, answer/hang up, DTMF, and two-way audio in the browser.
// Plain web components, no build step. Served by the integration at /cloud_sip_ua/cloud-sip-ua-card.js.
//
// Audio: the integration's WebSocket command `cloud_sip_ua/audio/subscribe` sends the call's audio as
// base64 8 kHz 16-bit PCM events (20 ms each) and accepts the microphone as binary WebSocket messages
// (first byte: the handler id from the stream's "start" event, then 8 kHz 16-bit little-endian PCM).
// ScriptProcessorNode, not AudioWorklet: AudioWorklet exists only in secure contexts, and listening
// must keep working on plain-HTTP dashboards where the microphone is unavailable.

const CARD_VERSION = "0.1.0";
const DOMAIN = "cloud_sip_ua";
const WIRE_RATE = 8000;
const WIRE_FRAME = 160; // samples in 20 ms at 8 kHz
const PLAY_START_SECONDS = 0.04; // buffered before playback starts (and restarts after an underrun)
const PLAY_MAX_SECONDS = 0.15; // more than this queued: drop the oldest to stay live
const PROCESSOR_SIZE = 512;

// Strings: one object per language; a missing key falls back to English.
const STRINGS = {
  en: {
    title: "Intercom",
    state_idle: "No call",
    state_ringing: "Ringing",
    state_dialing: "Dialing",
    state_remote_ringing: "Ringing at the other end",
    state_connected: "Connected",
    state_ending: "Ending",
    state_unavailable: "Unavailable",
    caller_unknown: "Unknown caller",
    answer: "Answer",
    reject: "Reject",
    hang_up: "Hang up",
    ringback: "Ringback",
    listen: "Listen",
    talk: "Talk",
    push_to_talk: "Hold to talk",
    open_door: "Open door",
    keypad: "Keypad",
    mic_insecure: "The microphone needs HTTPS (a secure context). Listening and the buttons still work.",
    mic_denied:
      "The microphone was blocked. Allow it in the browser's site settings (the mobile app may not offer it to dashboard cards). Listening and the buttons still work.",
    mic_missing: "No microphone was found. Listening and the buttons still work.",
    mic_unsupported: "This browser cannot capture the microphone here. Listening and the buttons still work.",
    mic_error: "The microphone could not be started ({error}). Listening and the buttons still work.",
    audio_error: "Call audio is not available: {error}",
    not_found: "No Cloud SIP UA call state sensor found. Choose one in the card's settings.",
    editor_entity: "Call state sensor",
    editor_device: "Device (instead of the sensor)",
    editor_title: "Title",
    editor_door_code: "Door-open DTMF digits (empty: no button)",
    editor_door_label: "Door button label",
    editor_show_keypad: "Show the DTMF keypad",
    editor_auto_listen: "Listen when answered from the card",
  },
  de: {
    title: "Gegensprechanlage",
    state_idle: "Kein Anruf",
    state_ringing: "Es klingelt",
    state_dialing: "Wählt",
    state_remote_ringing: "Klingelt beim Gegenüber",
    state_connected: "Verbunden",
    state_ending: "Wird beendet",
    state_unavailable: "Nicht verfügbar",
    caller_unknown: "Unbekannter Anrufer",
    answer: "Annehmen",
    reject: "Ablehnen",
    hang_up: "Auflegen",
    ringback: "Freizeichen",
    listen: "Mithören",
    talk: "Sprechen",
    push_to_talk: "Halten zum Sprechen",
    open_door: "Tür öffnen",
    keypad: "Tastenfeld",
    mic_insecure: "Das Mikrofon braucht HTTPS (sicheren Kontext). Mithören und Tasten funktionieren weiter.",
    mic_denied:
      "Das Mikrofon wurde blockiert. Erlaube es in den Website-Einstellungen des Browsers (die mobile App gibt es Dashboard-Karten evtl. nicht). Mithören und Tasten funktionieren weiter.",
    mic_missing: "Kein Mikrofon gefunden. Mithören und Tasten funktionieren weiter.",
    mic_unsupported: "Dieser Browser kann hier kein Mikrofon aufnehmen. Mithören und Tasten funktionieren weiter.",
    mic_error: "Das Mikrofon konnte nicht gestartet werden ({error}). Mithören und Tasten funktionieren weiter.",
    audio_error: "Anruf-Audio nicht verfügbar: {error}",
    not_found: "Kein Cloud-SIP-UA-Anrufstatus-Sensor gefunden. Wähle einen in den Karteneinstellungen.",
    editor_entity: "Anrufstatus-Sensor",
    editor_device: "Gerät (statt des Sensors)",
    editor_title: "Titel",
    editor_door_code: "DTMF-Ziffern zum Türöffnen (leer: keine Taste)",
    editor_door_label: "Beschriftung der Türtaste",
    editor_show_keypad: "DTMF-Tastenfeld zeigen",
    editor_auto_listen: "Beim Annehmen über die Karte mithören",
  },
};

/** Return the translated string for `key` in the user's language, with {placeholders} filled. */
function localize(hass, key, values = {}) {
  const language = (hass && ((hass.locale && hass.locale.language) || hass.language)) || "en";
  const table = STRINGS[language] || STRINGS[language.split("-")[0]] || STRINGS.en;
  const text = table[key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_m, name) => String(values[name] ?? ""));
}

/** Escape text for innerHTML. */
function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Find the integration's call state sensor (and its device) from the card's configuration. */
function resolveTarget(hass, config) {
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

/** Decode a base64 string of 16-bit little-endian PCM. */
function decodePcm(b64) {
  const raw = atob(b64);
  const out = new Int16Array(raw.length >> 1);
  for (let i = 0; i < out.length; i++) {
    const v = raw.charCodeAt(2 * i) | (raw.charCodeAt(2 * i + 1) << 8);
    out[i] = v >= 0x8000 ? v - 0x10000 : v;
  }
  return out;
}

/** A short float FIFO in the AudioContext's rate, fed with upsampled 8 kHz call audio. */
class PlaybackBuffer {
  constructor(rate) {
    this.rate = rate;
    this.data = new Float32Array(Math.ceil(rate * 1.0));
    this.read = 0;
    this.length = 0;
    this.primed = false;
    this.step = WIRE_RATE / rate; // input samples per output sample
    this.phase = 0; // position between `last` and the next input sample
    this.last = 0;
    this.dropped = 0;
  }

  /** Upsample one 8 kHz frame (linear interpolation, continuous across frames) and queue it. */
  push(pcm) {
    const out = [];
    let prev = this.last;
    for (let i = 0; i < pcm.length; i++) {
      const next = pcm[i] / 32768;
      while (this.phase < 1) {
        out.push(prev + (next - prev) * this.phase);
        this.phase += this.step;
      }
      this.phase -= 1;
      prev = next;
    }
    this.last = prev;
    const max = Math.floor(PLAY_MAX_SECONDS * this.rate);
    for (const v of out) {
      if (this.length >= this.data.length) break;
      this.data[(this.read + this.length) % this.data.length] = v;
      this.length++;
    }
    if (this.length > max) {
      // Fell behind (tab was busy, network burst): skip ahead instead of adding delay.
      const skip = this.length - Math.floor(PLAY_START_SECONDS * this.rate);
      this.read = (this.read + skip) % this.data.length;
      this.length -= skip;
      this.dropped += skip;
    }
  }

  /** Fill `target` with queued audio, or silence while (re)buffering. */
  pull(target) {
    if (!this.primed && this.length >= PLAY_START_SECONDS * this.rate) this.primed = true;
    for (let i = 0; i < target.length; i++) {
      if (this.primed && this.length > 0) {
        target[i] = this.data[this.read];
        this.read = (this.read + 1) % this.data.length;
        this.length--;
      } else {
        target[i] = 0;
        this.primed = false;
      }
    }
  }
}

/** Turns AudioContext-rate microphone audio (already low-passed) into 20 ms 8 kHz PCM frames. */
class CaptureResampler {
  constructor(rate) {
    this.step = rate / WIRE_RATE; // input samples per output sample
    this.pos = 0; // input position of the next output sample; -1..0 lies between `prev` and input[0]
    this.prev = 0;
    this.frame = new Int16Array(WIRE_FRAME);
    this.fill = 0;
  }

  /** Resample one block (linear interpolation); `emit(frame, position of its last sample)` per frame. */
  process(input, emit) {
    const last = input.length - 1;
    while (this.pos < last) {
      const i = Math.floor(this.pos);
      const a = i < 0 ? this.prev : input[i];
      const v = a + (input[i + 1] - a) * (this.pos - i);
      this.frame[this.fill++] = Math.round(Math.max(-1, Math.min(1, v)) * 32767);
      if (this.fill === WIRE_FRAME) {
        emit(this.frame, this.pos);
        this.frame = new Int16Array(WIRE_FRAME);
        this.fill = 0;
      }
      this.pos += this.step;
    }
    this.pos -= input.length;
    this.prev = input[last];
  }
}

/** The browser end of one call's audio: a WebSocket subscription, playback and microphone. */
class IntercomAudio {
  constructor(onChange) {
    this.onChange = onChange;
    this.context = null;
    this.analyser = null;
    this.gain = null;
    this.unsubscribe = null;
    this.handlerId = null;
    this.connection = null;
    this.listening = false;
    this.talking = false;
    this.micState = "idle"; // idle | starting | ready | insecure | denied | missing | unsupported | error
    this.micError = "";
    this.stream = null;
    this.error = "";
    this.onMicFrame = null; // optional hook(frameInt16, wallClockMsOfFirstSample): meters and tests
    this.stats = { framesIn: 0, framesOut: 0 };
  }

  /** Create (or resume) the AudioContext; call from a user gesture so autoplay rules allow it. */
  ensureContext() {
    if (!this.context) {
      const Context = window.AudioContext || window.webkitAudioContext;
      this.context = new Context({ latencyHint: "interactive" });
      this.buffer = new PlaybackBuffer(this.context.sampleRate);
      this.gain = this.context.createGain();
      this.gain.gain.value = this.listening ? 1 : 0;
      this.analyser = this.context.createAnalyser();
      this.analyser.fftSize = 4096;
      const player = this.context.createScriptProcessor(PROCESSOR_SIZE, 1, 1);
      player.onaudioprocess = (event) => this.buffer.pull(event.outputBuffer.getChannelData(0));
      player.connect(this.gain);
      this.gain.connect(this.analyser);
      this.analyser.connect(this.context.destination);
      this.player = player;
    }
    if (this.context.state === "suspended") this.context.resume();
    return this.context;
  }

  /** Subscribe to the call's audio if not yet subscribed (and not already refused for this call). */
  async connect(connection, target, callId) {
    if (this.unsubscribe || this.connecting || (this.error && this.failedCall === callId)) return;
    this.connecting = true;
    this.connection = connection;
    this.error = "";
    try {
      this.unsubscribe = await connection.subscribeMessage((event) => this._onEvent(event), {
        type: `${DOMAIN}/audio/subscribe`,
        ...target,
      });
    } catch (err) {
      // Remembered per call: a refused subscription is not retried on every state update.
      this.error = (err && (err.message || err.code)) || String(err);
      this.failedCall = callId;
    } finally {
      this.connecting = false;
      this.onChange();
    }
  }

  _onEvent(event) {
    if (event.type === "start") {
      this.handlerId = event.binary_handler_id;
    } else if (event.type === "audio") {
      this.stats.framesIn++;
      if (this.listening && this.buffer) this.buffer.push(decodePcm(event.pcm));
    } else if (event.type === "end") {
      this._dropSubscription();
      this.onChange();
    }
  }

  _dropSubscription() {
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    this.handlerId = null;
    if (unsubscribe) Promise.resolve(unsubscribe()).catch(() => undefined); // already ended on the server
  }

  /** Turn playback of the call's audio on or off. */
  setListening(on) {
    this.listening = on;
    this.error = "";
    if (on) this.ensureContext();
    if (this.gain) this.gain.gain.value = on ? 1 : 0;
    this.onChange();
  }

  /** Why the microphone cannot work here, before even asking; null when it may. */
  static micBlocker() {
    if (!window.isSecureContext) return "insecure";
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return "unsupported";
    return null;
  }

  /** Start sending the microphone (getting it first); false if it is unavailable. */
  async setTalking(on) {
    this.talking = on;
    if (on) this.error = "";
    if (on && this.micState !== "ready") await this._startMicrophone();
    if (this.micState !== "ready") this.talking = false;
    this.onChange();
    return this.talking;
  }

  async _startMicrophone() {
    const blocker = IntercomAudio.micBlocker();
    if (blocker) {
      this.micState = blocker;
      return;
    }
    if (this.micState === "starting") return;
    this.micState = "starting";
    const context = this.ensureContext();
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
      });
    } catch (err) {
      const name = err && err.name;
      this.micState =
        name === "NotAllowedError" || name === "SecurityError"
          ? "denied"
          : name === "NotFoundError" || name === "OverconstrainedError"
            ? "missing"
            : "error";
      this.micError = (err && err.message) || String(err);
      return;
    }
    const source = context.createMediaStreamSource(this.stream);
    // Two low-pass stages keep what 8 kHz cannot carry from folding back as aliases.
    let node = source;
    for (let i = 0; i < 2; i++) {
      const filter = context.createBiquadFilter();
      filter.type = "lowpass";
      filter.frequency.value = 3400;
      node.connect(filter);
      node = filter;
    }
    const recorder = context.createScriptProcessor(PROCESSOR_SIZE, 1, 1);
    const resampler = new CaptureResampler(context.sampleRate);
    recorder.onaudioprocess = (event) => {
      const input = event.inputBuffer.getChannelData(0);
      const now = performance.timeOrigin + performance.now();
      const blockStart = now - (input.length / context.sampleRate) * 1000;
      resampler.process(input, (frame, position) => {
        const first = position - resampler.step * (WIRE_FRAME - 1);
        const firstSampleAt = blockStart + (first / context.sampleRate) * 1000;
        if (this.onMicFrame) this.onMicFrame(frame, firstSampleAt);
        if (this.talking) this._send(frame);
      });
    };
    node.connect(recorder);
    // A ScriptProcessorNode runs only while connected to the destination; it outputs silence.
    const mute = context.createGain();
    mute.gain.value = 0;
    recorder.connect(mute);
    mute.connect(context.destination);
    this.recorder = recorder;
    this.micState = "ready";
  }

  _send(frame) {
    const socket = this.connection && this.connection.socket;
    if (this.handlerId === null || !socket || socket.readyState !== 1) return;
    const message = new Uint8Array(1 + frame.length * 2);
    message[0] = this.handlerId;
    const view = new DataView(message.buffer);
    for (let i = 0; i < frame.length; i++) view.setInt16(1 + 2 * i, frame[i], true);
    socket.send(message);
    this.stats.framesOut++;
  }

  /** End the subscription (the call ended or the card went away); keep the microphone permission. */
  disconnect() {
    this._dropSubscription();
    this.talking = false;
  }

  /** Release everything: subscription, microphone and AudioContext. */
  close() {
    this.disconnect();
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    this.stream = null;
    if (this.context) this.context.close();
    this.context = null;
    this.micState = "idle";
  }
}

const STYLE = `
  :host { display: block; }
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
  .timer { font-variant-numeric: tabular-nums; color: var(--secondary-text-color, #727272); }
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
`;

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

/** The intercom card. */
class CloudSipUaCard extends HTMLElement {
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
    this.audio = new IntercomAudio(() => this._render(true));
    this._config = {};
    this._signature = "";
    this._timer = null;
  }

  setConfig(config) {
    if (!config || typeof config !== "object") throw new Error("Invalid configuration");
    if (config.door_code && !/^[0-9*#A-Da-d]{1,32}$/.test(String(config.door_code))) {
      throw new Error("door_code must be DTMF digits (0-9, *, #, A-D)");
    }
    this._config = { show_keypad: true, auto_listen: true, ...config };
    this._render(true);
  }

  set hass(hass) {
    this._hass = hass;
    this._render(false);
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
    this._render(true);
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

  _t(key, values) {
    return localize(this._hass, key, values);
  }

  _target() {
    return resolveTarget(this._hass, this._config);
  }

  _call() {
    const { entityId } = this._target();
    const state = entityId && this._hass.states[entityId];
    if (!state) return null;
    return { entityId, state: state.state, attributes: state.attributes || {} };
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
      this._render(true);
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
    if (!connected) {
      this.audio.talking = false;
      this._answeredHere = false;
    }
  }

  _tick() {
    const timer = this.shadowRoot.querySelector(".timer");
    const call = this._call();
    if (timer && call) timer.textContent = this._elapsed(call);
  }

  _elapsed(call) {
    const since = call.state === "connected" ? call.attributes.answered_at : call.attributes.started_at;
    if (!since || call.state === "idle") return "";
    const seconds = Math.max(0, Math.floor(Date.now() / 1000 - Number(since)));
    const mm = String(Math.floor(seconds / 60)).padStart(2, "0");
    const ss = String(seconds % 60).padStart(2, "0");
    return `${mm}:${ss}`;
  }

  _micNotice() {
    const audio = this.audio;
    const blocker = IntercomAudio.micBlocker();
    const state = blocker || audio.micState;
    const keys = {
      insecure: "mic_insecure",
      denied: "mic_denied",
      missing: "mic_missing",
      unsupported: "mic_unsupported",
      error: "mic_error",
    };
    return keys[state] ? this._t(keys[state], { error: audio.micError }) : "";
  }

  _render(force) {
    if (!this._hass || !this.shadowRoot) return;
    const call = this._call();
    this._syncAudio(call);
    const audio = this.audio;
    const signature = JSON.stringify([
      call,
      audio.listening,
      audio.talking,
      audio.micState,
      audio.error,
      !!audio.unsubscribe,
      this._lastError,
      this._hass.language,
    ]);
    if (!force && signature === this._signature) return;
    this._signature = signature;
    const config = this._config;
    const title = config.title ?? this._t("title");
    if (!call) {
      this.shadowRoot.innerHTML = `<style>${STYLE}</style><ha-card><div class="header"><span class="title">${esc(
        title,
      )}</span></div><div class="notice error">${esc(this._t("not_found"))}</div></ha-card>`;
      return;
    }
    const state = call.state;
    const known = ["idle", "ringing", "dialing", "remote_ringing", "connected", "ending"].includes(state);
    const stateText = this._t(known ? `state_${state}` : "state_unavailable");
    const ringing = state === "ringing";
    const connected = state === "connected";
    const active = known && state !== "idle";
    const micNotice = connected ? this._micNotice() : "";
    const micBlocked = !!IntercomAudio.micBlocker() || ["denied", "missing", "unsupported", "error"].includes(audio.micState);
    const caller = call.attributes.remote_party || (active ? this._t("caller_unknown") : "");
    const parts = [`<style>${STYLE}</style><ha-card>`];
    parts.push(
      `<div class="header"><span class="title">${esc(title)}</span><span class="state ${esc(state)}" data-state="${esc(
        state,
      )}">${esc(stateText)}</span></div>`,
    );
    if (active) {
      parts.push(`<div class="caller">${esc(caller)}</div><div class="timer">${esc(this._elapsed(call))}</div>`);
    }
    const row = [];
    if (ringing) {
      row.push(`<button class="answer" data-action="answer">${esc(this._t("answer"))}</button>`);
      row.push(`<button class="hangup" data-action="hang_up">${esc(this._t("reject"))}</button>`);
      row.push(`<button data-action="send_ringback">${esc(this._t("ringback"))}</button>`);
    } else if (active) {
      row.push(`<button class="hangup" data-action="hang_up">${esc(this._t("hang_up"))}</button>`);
    }
    if (connected && config.door_code) {
      row.push(`<button class="door" data-action="door">${esc(config.door_label || this._t("open_door"))}</button>`);
    }
    if (row.length) parts.push(`<div class="row">${row.join("")}</div>`);
    if (connected) {
      parts.push(
        `<div class="row"><button data-action="listen" aria-pressed="${audio.listening}">${esc(this._t("listen"))}</button>` +
          `<button data-action="talk" aria-pressed="${audio.talking}" ${micBlocked ? "disabled" : ""}>${esc(
            this._t("talk"),
          )}</button>` +
          `<button data-action="ptt" ${micBlocked ? "disabled" : ""}>${esc(this._t("push_to_talk"))}</button></div>`,
      );
      if (config.show_keypad) {
        parts.push(
          `<div class="keypad" aria-label="${esc(this._t("keypad"))}">${KEYS.map(
            (key) => `<button data-digit="${esc(key)}">${esc(key)}</button>`,
          ).join("")}</div>`,
        );
      }
    }
    if (micNotice) parts.push(`<div class="notice mic">${esc(micNotice)}</div>`);
    if (audio.error && connected) parts.push(`<div class="notice error">${esc(this._t("audio_error", { error: audio.error }))}</div>`);
    if (this._lastError) parts.push(`<div class="notice error">${esc(this._lastError)}</div>`);
    parts.push("</ha-card>");
    // Keep keyboard focus across the re-render (a held push-to-talk key must get its keyup).
    const focused = this.shadowRoot.activeElement;
    const focusKey = focused && (focused.dataset.action || focused.dataset.digit);
    this.shadowRoot.innerHTML = parts.join("");
    this._bind();
    if (focusKey) {
      const again = this.shadowRoot.querySelector(
        `button[data-action="${CSS.escape(focusKey)}"], button[data-digit="${CSS.escape(focusKey)}"]`,
      );
      if (again) again.focus();
    }
  }

  _bind() {
    const root = this.shadowRoot;
    root.querySelectorAll("button[data-action]").forEach((button) => {
      const action = button.dataset.action;
      if (action === "ptt") {
        // Released anywhere: the card re-renders while held, so the button itself may be gone.
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
        return;
      }
      button.addEventListener("click", () => this._onAction(action));
    });
    root.querySelectorAll("button[data-digit]").forEach((button) => {
      button.addEventListener("click", () => this._action("send_dtmf", { digits: button.dataset.digit }));
    });
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
    this._render(true);
  }
}

/** The visual editor: ha-form in Home Assistant, plain inputs elsewhere. */
class CloudSipUaCardEditor extends HTMLElement {
  setConfig(config) {
    this._config = { ...config };
    this._render();
  }

  set hass(hass) {
    this._hass = hass;
    this._render();
  }

  _schema() {
    return [
      { name: "entity", selector: { entity: { domain: "sensor", integration: DOMAIN } } },
      { name: "device_id", selector: { device: { integration: DOMAIN } } },
      { name: "title", selector: { text: {} } },
      { name: "door_code", selector: { text: {} } },
      { name: "door_label", selector: { text: {} } },
      { name: "show_keypad", selector: { boolean: {} } },
      { name: "auto_listen", selector: { boolean: {} } },
    ];
  }

  _changed(config) {
    this._config = config;
    this.dispatchEvent(new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }));
  }

  _render() {
    if (!this._hass || !this._config) return;
    const label = (field) => localize(this._hass, `editor_${field.name === "device_id" ? "device" : field.name}`);
    if (customElements.get("ha-form")) {
      if (!this._form) {
        this._form = document.createElement("ha-form");
        this._form.computeLabel = label;
        this._form.addEventListener("value-changed", (event) => this._changed({ ...event.detail.value }));
        this.appendChild(this._form);
      }
      this._form.hass = this._hass;
      this._form.schema = this._schema();
      this._form.data = { show_keypad: true, auto_listen: true, ...this._config };
      return;
    }
    if (this._plain) return;
    this._plain = true;
    for (const field of this._schema()) {
      const row = document.createElement("label");
      row.style.display = "block";
      const input = document.createElement("input");
      const boolean = "boolean" in field.selector;
      input.type = boolean ? "checkbox" : "text";
      input.name = field.name;
      if (boolean) input.checked = this._config[field.name] ?? true;
      else input.value = this._config[field.name] ?? "";
      input.addEventListener("change", () => {
        const config = { ...this._config };
        const value = boolean ? input.checked : input.value.trim();
        if (value === "") delete config[field.name];
        else config[field.name] = value;
        this._changed(config);
      });
      row.append(label(field), " ", input);
      this.appendChild(row);
    }
  }
}

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
