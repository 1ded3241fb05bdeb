// Integrations (owners and admins): the company's Facebook page and Instagram account (Meta) and the
// Google Calendar its confirmed appointments are written to. Ids are shown in full, secrets only as
// a hint of their last characters; a secret field left empty keeps its value.

import { h, show } from "./dom.js";
import { Status, action, field, when } from "./pages.js";
import { call } from "./session.js";

const META_IDS = [
  ["page_id", "Facebook page id"],
  ["instagram_account_id", "Instagram account id"],
  ["app_id", "Meta app id"],
];
const META_SECRETS = [
  ["page_access_token", "Page access token"],
  ["instagram_access_token", "Instagram access token"],
  ["app_secret", "App secret"],
  ["verify_token", "Webhook verify token (16 characters or more)"],
];
const CALENDAR_IDS = [
  ["calendar_id", "Calendar id"],
  ["client_id", "OAuth client id"],
];
const CALENDAR_SECRETS = [
  ["client_secret", "OAuth client secret"],
  ["refresh_token", "Refresh token"],
];

/** One integration's card: what is stored, a form to change it, and a disconnect button. */
class IntegrationCard {
  constructor({ id, title, intro, ids, secrets, path, summary, disconnect }) {
    this.path = path;
    this.ids = ids;
    this.secrets = secrets;
    this.summary = summary;
    this.disconnectFn = disconnect;
    this.status = new Status({ id: `${id}-state` });
    this.error = new Status({ id: `${id}-error` });
    this.line = h("p", { id: `${id}-status`, class: "connection" });
    this.inputs = {};
    for (const [name] of [...ids, ...secrets]) {
      const secret = secrets.some(([s]) => s === name);
      this.inputs[name] = h("input", { id: `${id}-${name}`, name, type: secret ? "password" : "text", autocomplete: "off" });
    }
    this.form = h(
      "form",
      { id: `${id}-form`, class: "stack-form", onsubmit: (e) => (e.preventDefault(), this.save()) },
      ...[...ids, ...secrets].map(([name, label]) => field(label, this.inputs[name])),
      h(
        "p",
        { class: "row-actions" },
        h("button", { type: "submit", class: "primary" }, "Save"),
        (this.disconnectButton = action("Disconnect", () => this.disconnect(), { class: "danger", id: `${id}-disconnect` })),
      ),
    );
    this.el = h("section", { class: "card wide", id }, h("h2", { text: title }), intro, this.status.el, this.line, this.form, this.error.el);
  }

  async load() {
    this.error.clear();
    this.status.set("Loading…");
    try {
      this.show(await call("GET", this.path));
      this.status.clear();
    } catch (error) {
      this.status.fail(error);
    }
  }

  show(settings) {
    this.settings = settings;
    const connected = this.summary(settings);
    this.line.replaceChildren(
      h("span", { class: `pill ${connected ? "ok" : "off"}`, text: connected ? "connected" : "not connected" }),
      " ",
      connected || "",
      settings.updated_at ? h("span", { class: "muted small", text: ` · changed ${when(settings.updated_at)}` }) : "",
    );
    for (const [name] of this.ids) this.inputs[name].value = settings[name] || "";
    for (const [name] of this.secrets) {
      this.inputs[name].value = "";
      this.inputs[name].placeholder = settings[name] ? `${settings[name]} (kept when left empty)` : "not set";
    }
    show(this.disconnectButton, Boolean(connected));
  }

  async save() {
    this.error.clear();
    const body = {};
    // An empty id clears it; an empty secret field means "keep".
    for (const [name] of this.ids) body[name] = this.inputs[name].value.trim();
    for (const [name] of this.secrets) {
      const value = this.inputs[name].value.trim();
      if (value) body[name] = value;
    }
    try {
      this.show(await call("PUT", this.path, body));
      this.status.set("Saved.");
    } catch (error) {
      this.error.fail(error);
    }
  }

  async disconnect() {
    if (!window.confirm("Disconnect? Messages and appointments stop flowing through it.")) return;
    this.error.clear();
    try {
      this.show(await this.disconnectFn());
      this.status.set("Disconnected.");
    } catch (error) {
      this.error.fail(error);
    }
  }
}

export class Integrations {
  constructor(root) {
    const callback = `${window.location.origin}/v1/webhooks/meta`;
    this.meta = new IntegrationCard({
      id: "meta",
      title: "Facebook and Instagram",
      intro: h(
        "p",
        { class: "muted small" },
        "Messages to the page and the Instagram account arrive in the inbox, and replies go back. In the Meta app's webhook settings, use the callback URL ",
        h("code", { id: "meta-callback", text: callback }),
        " with the verify token set here.",
      ),
      ids: META_IDS,
      secrets: META_SECRETS,
      path: "/v1/integrations/meta",
      summary: (s) => [s.page_id && `page ${s.page_id}`, s.instagram_account_id && `Instagram ${s.instagram_account_id}`].filter(Boolean).join(", "),
      // Every field emptied: nothing is left to receive or send with.
      disconnect: () => call("PUT", "/v1/integrations/meta", Object.fromEntries([...META_IDS, ...META_SECRETS].map(([n]) => [n, ""]))),
    });
    this.calendar = new IntegrationCard({
      id: "calendar",
      title: "Google Calendar",
      intro: h("p", { class: "muted small", text: "Confirmed appointments are written to this calendar, and moved or removed with them." }),
      ids: CALENDAR_IDS,
      secrets: CALENDAR_SECRETS,
      path: "/v1/integrations/google-calendar",
      summary: (s) => (s.connected ? `calendar ${s.calendar_id}` : ""),
      disconnect: async () => {
        await call("DELETE", "/v1/integrations/google-calendar");
        return call("GET", "/v1/integrations/google-calendar");
      },
    });
    root.append(h("div", { class: "settings-grid" }, this.meta.el, this.calendar.el));
  }

  async load() {
    await Promise.all([this.meta.load(), this.calendar.load()]);
  }
}
