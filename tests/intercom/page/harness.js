// A minimal stand-in for the Home Assistant frontend: a real, authenticated WebSocket connection
// to Home Assistant and a `hass` object with the fields the card uses (states, entities, devices,
// language, formatEntityState, callService, connection.subscribeMessage, connection.socket).

class MiniConnection {
  constructor(url, token) {
    this.url = url;
    this.token = token;
    this.nextId = 1;
    this.pending = new Map();
    this.subscriptions = new Map();
  }

  open() {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url);
      this.socket = socket;
      socket.onmessage = (event) => {
        const data = JSON.parse(event.data);
        for (const message of Array.isArray(data) ? data : [data]) this._handle(message, resolve, reject);
      };
      socket.onerror = () => reject(new Error("WebSocket error"));
    });
  }

  _handle(message, resolve, reject) {
    if (message.type === "auth_required") {
      this.socket.send(JSON.stringify({ type: "auth", access_token: this.token }));
    } else if (message.type === "auth_ok") {
      resolve(this);
    } else if (message.type === "auth_invalid") {
      reject(new Error(message.message));
    } else if (message.type === "result") {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (!waiter) return;
      if (message.success) waiter.resolve(message.result);
      else waiter.reject(message.error);
    } else if (message.type === "event") {
      const callback = this.subscriptions.get(message.id);
      if (callback) callback(message.event);
    }
  }

  sendMessagePromise(message) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ ...message, id }));
    });
  }

  async subscribeMessage(callback, message) {
    const id = this.nextId;
    this.subscriptions.set(id, callback);
    try {
      await this.sendMessagePromise(message);
    } catch (err) {
      this.subscriptions.delete(id);
      throw err;
    }
    return async () => {
      this.subscriptions.delete(id);
      await this.sendMessagePromise({ type: "unsubscribe_events", subscription: id });
    };
  }
}

async function startHarness(setup) {
  const connection = await new MiniConnection(setup.websocket_url, setup.token).open();
  const states = {};
  for (const state of await connection.sendMessagePromise({ type: "get_states" })) states[state.entity_id] = state;
  const makeHass = () => ({
    states: { ...states },
    entities: setup.entities,
    devices: setup.devices,
    language: "en",
    locale: { language: "en" },
    connection,
    // As the frontend does it: the entity's translated state (the integration's translations).
    formatEntityState: (stateObj) => setup.state_labels[stateObj.state] ?? stateObj.state,
    formatEntityAttributeValue: (stateObj, attribute) => String(stateObj.attributes[attribute] ?? ""),
    callService: (domain, service, data) =>
      connection.sendMessagePromise({ type: "call_service", domain, service, service_data: data }),
  });
  const card = document.createElement("cloud-sip-ua-card");
  card.setConfig(setup.card);
  document.getElementById("dashboard").append(card);
  card.hass = makeHass();
  await connection.subscribeMessage(
    (event) => {
      const { entity_id: entityId, new_state: newState } = event.data;
      if (newState) states[entityId] = newState;
      else delete states[entityId];
      card.hass = makeHass();
    },
    { type: "subscribe_events", event_type: "state_changed" },
  );

  // Test probes: the captured microphone frames with the time of their first sample, and what plays.
  window.micLog = [];
  card.audio.onMicFrame = (frame, firstSampleAt) => {
    if (window.micLog.length < 2000) window.micLog.push([firstSampleAt, card.audio.talking, frame]);
  };
  window.playedPeak = () => {
    const analyser = card.audioAnalyser;
    if (!analyser) return null;
    const bins = new Float32Array(analyser.frequencyBinCount);
    analyser.getFloatFrequencyData(bins);
    let peak = 0;
    for (let i = 1; i < bins.length; i++) if (bins[i] > bins[peak]) peak = i;
    return { hz: (peak * analyser.context.sampleRate) / analyser.fftSize, db: bins[peak] };
  };
  window.card = card;
  document.body.dataset.ready = "true";
}

startHarness(window.HARNESS).catch((err) => {
  document.body.dataset.error = String((err && err.message) || err);
});
