// Dead letters (owners and admins): the company's outbound calls (webhook deliveries, Meta
// forwards, push notifications, e-mails, calendar writes) that failed for good, or any other status
// by the filter, newest first; each can be retried (due now, attempts from zero) or discarded.

import { query } from "./api.js";
import { h } from "./dom.js";
import { Status, action, table, when } from "./pages.js";
import { call } from "./session.js";

const KINDS = ["webhook.delivery", "meta.forward", "push.notification", "email", "calendar.sync"];
const STATUSES = ["dead", "pending", "delivered", "skipped"];

export class DeadLetters {
  constructor(root) {
    this.items = [];
    this.cursor = null;
    this.generation = 0;
    this.statusFilter = h(
      "select",
      { id: "outbox-status", "aria-label": "Status", onchange: () => this.load() },
      ...STATUSES.map((s) => h("option", { value: s }, s === "dead" ? "dead letters" : s)),
      h("option", { value: "" }, "any status"),
    );
    this.kindFilter = h(
      "select",
      { id: "outbox-kind", "aria-label": "Kind", onchange: () => this.load() },
      h("option", { value: "" }, "every kind"),
      ...KINDS.map((k) => h("option", { value: k }, k)),
    );
    this.state = new Status({ id: "outbox-state" });
    this.error = new Status({ id: "outbox-error" });
    this.list = h("div", { id: "outbox" });
    this.more = h("button", { type: "button", class: "link more", hidden: true, onclick: () => this.page() }, "More…");
    root.append(
      h(
        "div",
        { class: "settings-grid" },
        h(
          "section",
          { class: "card wide" },
          h("div", { class: "card-head" }, h("h2", { text: "Dead letters" }), action("Refresh", () => this.load(), { id: "outbox-refresh" })),
          h("p", {
            class: "muted small",
            text: "Outbound calls that failed on every attempt. Retry one once the receiving side is fixed, or discard it.",
          }),
          h("div", { class: "inline-form" }, this.statusFilter, this.kindFilter),
          this.error.el,
          this.list,
          this.state.el,
          this.more,
        ),
      ),
    );
  }

  async load() {
    this.items = [];
    this.cursor = null;
    this.error.clear();
    this.list.replaceChildren();
    this.more.hidden = true;
    this.state.set("Loading…");
    await this.page();
  }

  async page() {
    const generation = ++this.generation;
    const params = query({ status: this.statusFilter.value, kind: this.kindFilter.value, cursor: this.cursor, limit: 50 });
    try {
      const page = await call("GET", `/v1/outbox${params}`);
      if (generation !== this.generation) return;
      this.items.push(...page.data);
      this.cursor = page.next_cursor;
      this.render();
    } catch (error) {
      if (generation === this.generation) this.state.fail(error);
    }
  }

  render() {
    const rows = this.items.map((item) =>
      h(
        "tr",
        { dataset: { id: item.id, status: item.status } },
        h("td", { text: when(item.created_at) }),
        h("td", {}, h("code", { text: item.kind })),
        h("td", {}, h("span", { class: `pill ${item.status === "delivered" ? "ok" : item.status === "pending" ? "warn" : "off"}`, text: item.status })),
        h("td", { class: "attempts", text: String(item.attempts) }),
        h("td", { class: "small error-cell", text: item.last_error || "" }),
        h("td", { class: "small", text: item.status === "pending" ? `next ${when(item.due_at)}` : when(item.updated_at) }),
        h(
          "td",
          { class: "row-actions" },
          item.status === "delivered" ? null : action("Retry", () => this.retry(item), { class: "link" }),
          action("Discard", () => this.discard(item), { class: "link danger" }),
        ),
      ),
    );
    this.list.replaceChildren(rows.length ? table(["Created", "Kind", "Status", "Attempts", "Last error", "Updated", ""], rows) : "");
    this.more.hidden = !this.cursor;
    const filter = this.statusFilter.value;
    const empty = filter === "dead" ? "No dead letters: every outbound call went through or is still being tried." : "Nothing here.";
    this.state.set(rows.length ? "" : empty);
  }

  async retry(item) {
    this.error.clear();
    try {
      const updated = await call("POST", `/v1/outbox/${item.id}/retry`);
      // A retried letter is pending again: it leaves the dead letters' list.
      this.replace(item, this.statusFilter.value && updated.status !== this.statusFilter.value ? null : updated);
    } catch (error) {
      this.error.fail(error);
    }
  }

  async discard(item) {
    if (!window.confirm(`Discard this ${item.kind}? It will not be sent.`)) return;
    this.error.clear();
    try {
      await call("DELETE", `/v1/outbox/${item.id}`);
      this.replace(item, null);
    } catch (error) {
      this.error.fail(error);
    }
  }

  replace(item, updated) {
    const i = this.items.findIndex((x) => x.id === item.id);
    if (i >= 0) {
      if (updated) this.items[i] = updated;
      else this.items.splice(i, 1);
    }
    this.render();
  }
}
