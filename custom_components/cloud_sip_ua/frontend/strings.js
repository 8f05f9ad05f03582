// The card's own strings. The call state's labels are not here: they come from Home Assistant
// (`hass.formatEntityState`, the integration's entity translations).

// Strings: one object per language; a missing key falls back to English.
export const STRINGS = {
  en: {
    title: "Intercom",
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
    editor_camera_entity: "Camera (live while a call rings or is connected)",
    editor_door_code: "Door-open DTMF digits (empty: no button)",
    editor_door_label: "Door button label",
    editor_show_keypad: "Show the DTMF keypad",
    editor_auto_listen: "Listen when answered from the card",
  },
  de: {
    title: "Gegensprechanlage",
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
    editor_camera_entity: "Kamera (live, solange ein Anruf klingelt oder verbunden ist)",
    editor_door_code: "DTMF-Ziffern zum Türöffnen (leer: keine Taste)",
    editor_door_label: "Beschriftung der Türtaste",
    editor_show_keypad: "DTMF-Tastenfeld zeigen",
    editor_auto_listen: "Beim Annehmen über die Karte mithören",
  },
};

/** Return the translated string for `key` in the user's language, with {placeholders} filled. */
export function localize(hass, key, values = {}) {
  const language = (hass && ((hass.locale && hass.locale.language) || hass.language)) || "en";
  const table = STRINGS[language] || STRINGS[language.split("-")[0]] || STRINGS.en;
  const text = table[key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_m, name) => String(values[name] ?? ""));
}
