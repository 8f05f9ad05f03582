// The card's visual editor: Home Assistant's ha-form where it exists, plain inputs elsewhere.
// Both are built once; later updates hand ha-form new data or leave the inputs alone.

import { DOMAIN } from "./const.js?v=0.1.0";
import { localize } from "./strings.js?v=0.1.0";

/** The visual editor: ha-form in Home Assistant, plain inputs elsewhere. */
export class CloudSipUaCardEditor extends HTMLElement {
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
      { name: "camera_entity", selector: { entity: { domain: "camera" } } },
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
