// One conversation: its history (newest page first, older pages as the agent scrolls up), live
// changes, sending with a local_id (a retry never stores the message twice), delivery and read
// ticks, marking the contact's messages read while the agent looks, assign / resolve / reopen.

import { query } from "./api.js";
import { $, h, newLocalId, shortTime, show } from "./dom.js";
import { call, current } from "./session.js";

const PAGE = 50;
const RANK = { pending: 0, sent: 1, delivered: 2, read: 3, failed: -1 };
const TICKS = { sent: "✓", delivered: "✓✓", read: "✓✓" };

export class Thread {
  /** `list` is told of reads and changes; `onError(message)` shows what failed. */
  constructor({ realtime, list, onError }) {
    this.realtime = realtime;
    this.list = list;
    this.onError = onError;
    this.conversation = null;
    this.messages = new Map(); // sequence -> message
    this.pending = new Map(); // local_id -> {local_id, body, failed}
    this.before = null; // cursor of the next older page
    this.loadingOlder = false;
    this.readUpTo = 0;
    this.box = $("messages");
    this.ol = $("message-list");
    this.box.addEventListener("scroll", () => {
      if (this.box.scrollTop < 80) this.older();
    });
    $("history-state").addEventListener("click", () => this.older());
    $("composer").addEventListener("submit", (e) => {
      e.preventDefault();
      this.send();
    });
    $("composer-body").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      }
    });
    $("composer-body").addEventListener("input", () => this.typing(true));
    $("composer-body").addEventListener("blur", () => this.typing(false));
    this.typingSentAt = 0;
    this.contactTypingTimer = null;
    $("assign").addEventListener("click", () => this.assign());
    $("status-toggle").addEventListener("click", () => this.toggleStatus());
    $("back").addEventListener("click", () => this.close());
    $("contact-toggle").addEventListener("click", () => this.toggleContact());
    document.addEventListener("visibilitychange", () => this.markRead());
  }

  /**
   * Tells the contact the agent is typing: at most every 3 s while keys are pressed (the server
   * drops the indicator after 5 s without one), and a stop when the text is sent or left.
   */
  typing(on) {
    if (!this.conversation) return;
    const now = Date.now();
    if (on && now - this.typingSentAt < 3000) return;
    if (!on && this.typingSentAt === 0) return;
    this.typingSentAt = on ? now : 0;
    this.realtime.typing(this.conversation.id, on);
  }

  /** Shows or hides "typing…" for the contact; it hides by itself if no stop comes. */
  contactTyping(on) {
    clearTimeout(this.contactTypingTimer);
    show($("typing"), on);
    if (on) this.contactTypingTimer = setTimeout(() => show($("typing"), false), 6000);
  }

  /** Opens a conversation: its newest messages, then every change after the position read. */
  async open(summary) {
    if (this.conversation) {
      this.typing(false);
      this.realtime.unfollow(this.conversation.id);
    }
    this.contactTyping(false);
    this.conversation = summary;
    this.messages.clear();
    this.pending.clear();
    this.before = null;
    this.readUpTo = summary.agent_read_sequence || 0;
    document.body.classList.add("thread-open");
    show($("thread-empty"), false);
    show($("thread-view"), true);
    this.list.select(summary.id);
    this.head();
    $("history-state").textContent = "Loading messages…";
    this.ol.replaceChildren();
    const id = summary.id;
    try {
      const conversation = await call("GET", `/v1/conversations/${id}`);
      if (!this.isOpen(id)) return;
      this.conversation = conversation;
      this.head();
      this.loadContact();
      const page = await call("GET", `/v1/conversations/${id}/messages${query({ limit: PAGE })}`);
      if (!this.isOpen(id)) return;
      page.data.forEach((m) => this.messages.set(m.sequence, m));
      this.before = page.next_cursor;
      this.render(true);
      this.fill();
      this.realtime.follow(id, conversation.last_position || 0);
      this.markRead();
      $("composer-body").focus();
    } catch (error) {
      if (this.isOpen(id)) $("history-state").textContent = error.message;
    }
  }

  /** Forgets the open conversation (logout). */
  reset() {
    if (this.conversation) this.realtime.unfollow(this.conversation.id);
    this.conversation = null;
    this.messages.clear();
    this.pending.clear();
    this.before = null;
    this.ol.replaceChildren();
    show($("thread-view"), false);
    show($("contact-panel"), false);
    show($("thread-empty"), true);
    document.body.classList.remove("thread-open");
  }

  isOpen(id) {
    return this.conversation && this.conversation.id === id;
  }

  /** Back to the list (phones show one pane at a time). */
  close() {
    document.body.classList.remove("thread-open");
  }

  /** Older messages, when the agent scrolls to the top. */
  async older() {
    if (!this.before || this.loadingOlder || !this.conversation) return;
    this.loadingOlder = true;
    const id = this.conversation.id;
    $("history-state").textContent = "Loading older messages…";
    try {
      const page = await call("GET", `/v1/conversations/${id}/messages${query({ before: this.before, limit: PAGE })}`);
      if (!this.isOpen(id)) return;
      const height = this.box.scrollHeight;
      page.data.forEach((m) => this.messages.set(m.sequence, m));
      this.before = page.next_cursor;
      this.render(false);
      // Keep the message the agent was looking at in place.
      this.box.scrollTop += this.box.scrollHeight - height;
      this.loadingOlder = false;
      this.fill();
    } catch (error) {
      $("history-state").textContent = error.message;
    } finally {
      this.loadingOlder = false;
    }
  }

  /** A page too short to scroll cannot be scrolled back: load older messages until it can. */
  fill() {
    if (this.before && this.box.scrollHeight <= this.box.clientHeight) this.older();
  }

  /** A live frame of the realtime connection. */
  event(frame) {
    if (frame.type === "conversation.updated") {
      if (this.isOpen(frame.conversation.id)) {
        this.conversation = { ...this.conversation, ...frame.conversation };
        this.head();
      }
      return;
    }
    if (!this.isOpen(frame.conversation_id)) return;
    if (frame.type === "typing") {
      if (frame.participant && frame.participant.kind === "contact") this.contactTyping(frame.state === "start");
      return;
    }
    if (frame.type === "message.new" || frame.type === "message.updated") {
      const m = frame.message;
      if (m.direction === "inbound") this.contactTyping(false);
      if (m.local_id) this.pending.delete(m.local_id);
      this.messages.set(m.sequence, m);
      this.render(this.nearBottom());
      if (m.direction === "inbound") this.markRead();
    } else if (frame.type === "message.status") {
      for (const m of this.messages.values()) {
        if (m.direction === frame.direction && m.sequence <= frame.up_to_sequence && RANK[frame.status] > RANK[m.status]) {
          m.status = frame.status;
        }
      }
      this.render(false);
    }
  }

  /** Marks the contact's messages read while the agent can see them. */
  async markRead() {
    if (!this.conversation || document.visibilityState !== "visible") return;
    let last = 0;
    for (const m of this.messages.values()) if (m.direction === "inbound" && m.sequence > last) last = m.sequence;
    if (last <= this.readUpTo) return;
    const id = this.conversation.id;
    this.readUpTo = last;
    try {
      await call("POST", `/v1/conversations/${id}/messages/read`, { up_to_sequence: last });
      this.list.read(id);
    } catch (error) {
      this.readUpTo = 0;
      this.onError(error.message);
    }
  }

  /** Sends the composer's text; a failed send stays in place with a retry that reuses its local_id. */
  async send(retry) {
    const id = this.conversation && this.conversation.id;
    if (!id) return;
    let item = retry;
    if (!item) {
      const input = $("composer-body");
      const body = input.value.trim();
      if (!body) return;
      input.value = "";
      this.typing(false);
      item = { local_id: newLocalId(), body, failed: false };
      this.pending.set(item.local_id, item);
    }
    item.failed = false;
    item.error = null;
    this.render(true);
    try {
      const m = await call("POST", `/v1/conversations/${id}/messages`, { body: item.body, local_id: item.local_id });
      this.pending.delete(item.local_id);
      if (this.isOpen(id)) {
        this.messages.set(m.sequence, { ...this.messages.get(m.sequence), ...m });
        this.render(true);
      }
    } catch (error) {
      item.failed = true;
      item.error = error.message;
      if (this.isOpen(id)) this.render(true);
    }
  }

  /** Shows or hides the contact panel: who the customer is, as the company knows them. */
  async toggleContact() {
    const panel = $("contact-panel");
    const open = panel.hidden;
    show(panel, open);
    $("contact-toggle").setAttribute("aria-expanded", String(open));
    if (open) await this.loadContact();
  }

  async loadContact() {
    const dl = $("contact-details");
    const c = this.conversation;
    if (!c || $("contact-panel").hidden) return;
    dl.replaceChildren(h("dd", { class: "muted", text: "Loading…" }));
    try {
      const contact = await call("GET", `/v1/contacts/${c.contact_id}`);
      if (!this.isOpen(c.id)) return;
      const rows = [
        ["Name", contact.name],
        ["E-mail", contact.email],
        ["Phone", contact.phone],
        ["External id", contact.external_id],
        ["Facebook", contact.facebook_id],
        ["Instagram", contact.instagram_id],
        ["Online", this.list.online.has(contact.id) ? "now" : "no"],
        ["Customer since", new Date(contact.created_at).toLocaleDateString()],
      ].filter(([, v]) => v);
      const meta = contact.metadata && Object.keys(contact.metadata).length ? contact.metadata : null;
      dl.replaceChildren(
        ...rows.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })]),
        meta ? h("dt", { text: "Metadata" }) : null,
        meta ? h("dd", {}, h("pre", { text: JSON.stringify(meta, null, 2) })) : null,
      );
    } catch (error) {
      dl.replaceChildren(h("dd", { class: "error", text: error.message }));
    }
  }

  async assign() {
    const c = this.conversation;
    const mine = c.assignee_id === current.user.id;
    await this.patch({ assignee_id: mine ? null : current.user.id });
  }

  async toggleStatus() {
    const c = this.conversation;
    await this.patch({ status: c.status === "resolved" ? "open" : "resolved" });
  }

  async patch(change) {
    const id = this.conversation.id;
    try {
      const updated = await call("PATCH", `/v1/conversations/${id}`, change);
      if (this.isOpen(id)) {
        this.conversation = { ...this.conversation, ...updated };
        this.head();
      }
      this.list.upsert(updated);
    } catch (error) {
      this.onError(error.message);
    }
  }

  head() {
    const c = this.conversation;
    $("thread-contact").textContent = this.list.contactName(c.contact_id);
    $("thread-contact").dataset.online = String(this.list.online.has(c.contact_id));
    const assignee = !c.assignee_id ? "unassigned" : c.assignee_id === current.user.id ? "assigned to you" : "assigned";
    $("thread-meta").textContent = `${c.platform} · ${c.status} · ${assignee}`;
    $("thread-view").dataset.status = c.status;
    $("assign").textContent = c.assignee_id === current.user.id ? "Unassign" : "Assign to me";
    $("status-toggle").textContent = c.status === "resolved" ? "Reopen" : "Resolve";
  }

  nearBottom() {
    return this.box.scrollHeight - this.box.scrollTop - this.box.clientHeight < 120;
  }

  render(toBottom) {
    const sorted = [...this.messages.values()].sort((a, b) => a.sequence - b.sequence);
    const sent = new Set(sorted.map((m) => m.local_id).filter(Boolean));
    const items = sorted.map((m) => this.item(m));
    for (const p of this.pending.values()) {
      if (!sent.has(p.local_id)) items.push(this.pendingItem(p));
    }
    this.ol.replaceChildren(...items);
    const state = $("history-state");
    if (this.before) state.textContent = "Older messages";
    else state.textContent = sorted.length ? "Start of the conversation" : "No messages yet.";
    state.disabled = !this.before;
    if (toBottom) this.box.scrollTop = this.box.scrollHeight;
  }

  item(m) {
    const out = m.direction === "outbound";
    return h(
      "li",
      { class: `message ${out ? "out" : "in"}${m.deleted_at ? " deleted" : ""}`, dataset: { sequence: m.sequence, status: m.status } },
      h("div", { class: "bubble", text: m.deleted_at ? "Message deleted" : m.body }),
      (m.attachments || []).map((a) =>
        h("a", { class: "attachment", href: a.url, target: "_blank", rel: "noopener", text: `📎 ${a.name || "file"}` }),
      ),
      h(
        "div",
        { class: "meta muted" },
        shortTime(m.created_at),
        m.edited_at && !m.deleted_at ? " · edited" : "",
        out ? h("span", { class: `ticks ${m.status}`, title: m.status, text: ` ${TICKS[m.status] || ""}` }) : null,
      ),
    );
  }

  pendingItem(p) {
    return h(
      "li",
      { class: `message out pending${p.failed ? " failed" : ""}`, dataset: { localId: p.local_id } },
      h("div", { class: "bubble", text: p.body }),
      h(
        "div",
        { class: "meta muted" },
        p.failed ? h("span", { class: "error", text: `Not sent: ${p.error} ` }) : "sending…",
        p.failed ? h("button", { type: "button", class: "link", onclick: () => this.send(p) }, "Retry") : null,
      ),
    );
  }
}
