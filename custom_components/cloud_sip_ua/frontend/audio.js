// The card's audio engine: the call's audio from the WebSocket to the speakers, and the microphone
// back into the call, paced in 20 ms frames.
//
// The integration's WebSocket command `cloud_sip_ua/audio/subscribe` sends the call's audio as
// base64 8 kHz 16-bit PCM events (whole 20 ms frames: one, or several that were ready together)
// and accepts the microphone as binary WebSocket messages (first byte: the handler id from the
// stream's "start" event, then 8 kHz 16-bit little-endian PCM).
// ScriptProcessorNode, not AudioWorklet: AudioWorklet exists only in secure contexts, and listening
// must keep working on plain-HTTP dashboards where the microphone is unavailable.

import { DOMAIN } from "./const.js?v=0.1.0";

export const WIRE_RATE = 8000;
export const WIRE_FRAME = 160; // samples in 20 ms at 8 kHz
const PLAY_START_SECONDS = 0.04; // buffered before playback starts (and restarts after an underrun)
const PLAY_MAX_SECONDS = 0.15; // more than this queued: drop the oldest to stay live
const PROCESSOR_SIZE = 512;

/** Decode a base64 string of 16-bit little-endian PCM. */
export function decodePcm(b64) {
  const raw = atob(b64);
  const out = new Int16Array(raw.length >> 1);
  for (let i = 0; i < out.length; i++) {
    const v = raw.charCodeAt(2 * i) | (raw.charCodeAt(2 * i + 1) << 8);
    out[i] = v >= 0x8000 ? v - 0x10000 : v;
  }
  return out;
}

/** A short float FIFO in the AudioContext's rate, fed with upsampled 8 kHz call audio. */
export class PlaybackBuffer {
  constructor(rate) {
    this.rate = rate;
    this.data = new Float32Array(Math.ceil(rate)); // one second
    this.read = 0;
    this.length = 0;
    this.primed = false;
    this.step = WIRE_RATE / rate; // input samples per output sample
    this.phase = 0; // position between `last` and the next input sample
    this.last = 0;
    this.dropped = 0;
  }

  /** Upsample 8 kHz PCM of any length (linear interpolation, continuous across calls) and queue it. */
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
export class CaptureResampler {
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
export class IntercomAudio {
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
