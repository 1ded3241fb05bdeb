// Webhooks (owners and admins): the company's endpoints (add, edit, enable or disable, send a test
// ping, rotate the signing secret, delete; a secret is shown once) and each endpoint's delivery log,
// newest attempt first, with the answer's status, the error and a redelivery.

import { h, show } from "./dom.js";
import { Status, action, all, field, table, when } from "./pages.js";
import { call } from "./session.js";

// The event types an endpoint may ask for (the API's list: WEBHOOK_EVENTS).
const EVENTS = [
  "message.created",
  "message.updated",
  "message.status",
  "conversation.created",
  "conversation.updated",
  "contact.created",
  "appointment.created",
  "appointment.updated",
  "appointment.cancelled",
];

export class Webhooks {
  constructor(root) {
    this.editing = null; // the endpoint the form edits, or null to add one
    this.selected = null; // the endpoint whose log is shown
    this.status = new Status({ id: "webhooks-state" });
    this.error = new Status({ id: "webhooks-error" });
    this.list = h("div", { id: "webhooks" });
    this.url = h("input", { id: "webhook-url", type: "url", placeholder: "https://example.com/hooks/tidings", required: true });
    this.boxes = EVENTS.map((name) =>
      h("label", { class: "check" }, h("input", { type: "checkbox", value: name, checked: name.startsWith("message.") }), name),
    );
    this.submit = h("button", { id: "webhook-submit", type: "submit", class: "primary" }, "Add endpoint");
    this.cancel = h("button", { type: "button", hidden: true, onclick: () => this.edit(null) }, "Cancel");
    this.form = h(
      "form",
      { id: "webhook-form", class: "stack-form", onsubmit: (e) => (e.preventDefault(), this.save()) },
      field("URL", this.url),
      h("fieldset", { class: "checks" }, h("legend", { text: "Events" }), ...this.boxes),
      h("p", { class: "row-actions" }, this.submit, this.cancel),
    );
    this.secretValue = h("code", { id: "webhook-secret-value" });
    this.secret = h(
      "div",
      { id: "webhook-secret", class: "new-key", role: "status", hidden: true },
      h("p", {}, h("strong", { text: "Signing secret, shown only once:" })),
      this.secretValue,
      h("p", { class: "muted small", text: "Check the X-Tidings-Signature header of each delivery with it." }),
    );
    this.logTitle = h("h2", { text: "Delivery log" });
    this.logState = new Status({ id: "deliveries-state" });
    this.log = h("div", { id: "deliveries" });
    this.logCard = h(
      "section",
      { class: "card wide", id: "delivery-log", hidden: true },
      h("div", { class: "card-head" }, this.logTitle, action("Refresh", () => this.loadLog(), { id: "deliveries-refresh" })),
      this.logState.el,
      this.log,
    );
    root.append(
      h(
        "div",
        { class: "settings-grid" },
        h(
          "section",
          { class: "card wide" },
          h("h2", { text: "Webhooks" }),
          h("p", { class: "muted small", text: "Each endpoint gets a signed POST for every event it asks for; failed deliveries are retried." }),
          this.status.el,
          this.list,
          h("h3", { id: "webhook-form-title", text: "Add an endpoint" }),
          this.form,
          this.secret,
          this.error.el,
        ),
        this.logCard,
      ),
    );
  }

  async load() {
    show(this.secret, false);
    await this.loadEndpoints();
  }

  async loadEndpoints() {
    this.error.clear();
    if (!this.endpoints) this.status.set("Loading endpoints…");
    try {
      this.endpoints = await all("/v1/webhooks");
      this.render();
      this.status.set(this.endpoints.length ? "" : "No endpoint yet: add one below.");
      const still = this.selected && this.endpoints.find((e) => e.id === this.selected.id);
      if (still) this.selected = still;
      else this.select(null);
    } catch (error) {
      this.status.fail(error);
    }
  }

  render() {
    this.list.replaceChildren(
      this.endpoints.length
        ? table(
            ["URL", "Events", "State", ""],
            this.endpoints.map((e) =>
              h(
                "tr",
                { dataset: { id: e.id }, class: this.selected && this.selected.id === e.id ? "selected" : "" },
                h("td", {}, h("code", { text: e.url })),
                h("td", { class: "small", text: e.events.join(", ") }),
                h("td", {}, this.state(e)),
                h(
                  "td",
                  { class: "row-actions" },
                  h("button", { type: "button", class: "link", onclick: () => this.select(e) }, "Deliveries"),
                  action("Send test", () => this.ping(e), { class: "link" }),
                  h("button", { type: "button", class: "link", onclick: () => this.edit(e) }, "Edit"),
                  action(e.enabled ? "Disable" : "Enable", () => this.patch(e, { enabled: !e.enabled }), { class: "link" }),
                  action("Rotate secret", () => this.rotate(e), { class: "link" }),
                  action("Delete", () => this.remove(e), { class: "link danger" }),
                ),
              ),
            ),
          )
        : "",
    );
  }

  state(e) {
    if (!e.enabled) return h("span", { class: "pill off", text: `disabled${e.disabled_reason ? `: ${e.disabled_reason}` : ""}` });
    if (e.failing_since) return h("span", { class: "pill warn", text: `failing since ${when(e.failing_since)}` });
    return h("span", { class: "pill ok", text: "enabled" });
  }

  /** Fills the form with an endpoint to change it, or empties it to add one. */
  edit(endpoint) {
    this.editing = endpoint;
    this.url.value = endpoint ? endpoint.url : "";
    for (const box of this.boxes) {
      const input = box.querySelector("input");
      input.checked = endpoint ? endpoint.events.includes(input.value) : input.value.startsWith("message.");
    }
    this.submit.textContent = endpoint ? "Save changes" : "Add endpoint";
    this.form.previousElementSibling.textContent = endpoint ? "Change the endpoint" : "Add an endpoint";
    show(this.cancel, Boolean(endpoint));
    if (endpoint) this.url.focus();
  }

  async save() {
    this.error.clear();
    show(this.secret, false);
    const events = this.boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    const body = { url: this.url.value.trim(), events };
    try {
      if (this.editing) {
        await call("PATCH", `/v1/webhooks/${this.editing.id}`, body);
      } else {
        this.showSecret(await call("POST", "/v1/webhooks", body));
      }
      this.edit(null);
      await this.loadEndpoints();
    } catch (error) {
      this.error.fail(error);
    }
  }

  showSecret(withSecret) {
    this.secretValue.textContent = withSecret.secret;
    show(this.secret, true);
  }

  async patch(endpoint, change) {
    this.error.clear();
    try {
      await call("PATCH", `/v1/webhooks/${endpoint.id}`, change);
      await this.loadEndpoints();
    } catch (error) {
      this.error.fail(error);
    }
  }

  async rotate(endpoint) {
    if (!window.confirm("Rotate the signing secret? The old one keeps signing beside the new one for 24 hours.")) return;
    this.error.clear();
    try {
      this.showSecret(await call("POST", `/v1/webhooks/${endpoint.id}/rotate-secret`));
      await this.loadEndpoints();
    } catch (error) {
      this.error.fail(error);
    }
  }

  async ping(endpoint) {
    this.error.clear();
    try {
      await call("POST", `/v1/webhooks/${endpoint.id}/test`);
      this.select(endpoint);
      this.logState.set("Test ping queued; refresh in a moment to see its delivery.");
    } catch (error) {
      this.error.fail(error);
    }
  }

  async remove(endpoint) {
    if (!window.confirm(`Delete the endpoint ${endpoint.url}? Deliveries still queued for it are dropped.`)) return;
    this.error.clear();
    try {
      await call("DELETE", `/v1/webhooks/${endpoint.id}`);
      if (this.editing && this.editing.id === endpoint.id) this.edit(null);
      await this.loadEndpoints();
    } catch (error) {
      this.error.fail(error);
    }
  }

  /** Shows an endpoint's delivery log (or hides the log). */
  select(endpoint) {
    this.selected = endpoint;
    show(this.logCard, Boolean(endpoint));
    if (this.endpoints) this.render();
    if (!endpoint) return;
    this.logTitle.textContent = `Delivery log of ${endpoint.url}`;
    this.log.replaceChildren();
    this.loadLog();
  }

  async loadLog() {
    const endpoint = this.selected;
    if (!endpoint) return;
    this.logState.set("Loading deliveries…");
    try {
      const page = await call("GET", `/v1/webhooks/${endpoint.id}/deliveries?limit=100`);
      if (this.selected !== endpoint) return;
      // The attempt's number within its delivery: attempts come newest first.
      const seen = new Map();
      for (const a of page.data) seen.set(a.delivery_id, (seen.get(a.delivery_id) || 0) + 1);
      const left = new Map(seen);
      const rows = page.data.map((a) => {
        const n = left.get(a.delivery_id);
        left.set(a.delivery_id, n - 1);
        const ok = a.status_code !== null && a.status_code >= 200 && a.status_code < 300;
        return h(
          "tr",
          { dataset: { delivery: a.delivery_id }, class: ok ? "ok" : "failed" },
          h("td", { text: when(a.attempted_at) }),
          h("td", {}, h("code", { text: a.event })),
          h("td", {}, h("span", { class: `pill ${ok ? "ok" : "off"}`, text: a.status_code === null ? "no answer" : String(a.status_code) })),
          h("td", { class: "attempt", text: `${n} of ${seen.get(a.delivery_id)}` }),
          h("td", { text: `${a.duration_ms} ms` }),
          h("td", { class: "small error-cell", text: a.error || "" }),
          h("td", {}, action("Redeliver", () => this.redeliver(endpoint, a), { class: "link" })),
        );
      });
      this.log.replaceChildren(
        rows.length ? table(["When", "Event", "Answer", "Attempt", "Took", "Error", ""], rows, { id: "deliveries-table" }) : "",
      );
      this.logState.set(rows.length ? "" : "No delivery yet. Send a test to see one.");
    } catch (error) {
      if (this.selected === endpoint) this.logState.fail(error);
    }
  }

  async redeliver(endpoint, attempt) {
    try {
      await call("POST", `/v1/webhooks/${endpoint.id}/deliveries/${attempt.delivery_id}/redeliver`);
      this.logState.set("Queued again; refresh in a moment to see it.");
    } catch (error) {
      this.logState.fail(error);
    }
  }
}
