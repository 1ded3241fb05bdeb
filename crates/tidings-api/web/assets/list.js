// The conversation list: filters (status, mine, unassigned), newest activity first, unread
// counts, kept current by live events and by catch-up after a reconnection.

import { query } from "./api.js";
import { $, h, shortTime } from "./dom.js";
import { newConversation, setUnread } from "./notify.js";
import { call, current } from "./session.js";

const PAGE = 50;

/** What the list shows of a conversation's newest message. */
function previewOf(m) {
  if (!m) return "";
  if (m.deleted_at) return "Message deleted";
  return m.body || (m.attachments ? "📎 attachment" : "");
}

export class ConversationList {
  /**
   * `onOpen(conversation)` runs when the agent picks a conversation, `onError(message)` shows a
   * failure, `onNames()` runs when contacts' names came in.
   */
  constructor({ onOpen, onError, onNames = () => {} }) {
    this.onOpen = onOpen;
    this.onNames = onNames;
    this.onError = onError;
    this.filter = { status: "open", assignee: "", platform: "" };
    this.items = new Map();
    this.contacts = new Map();
    this.online = new Set(); // contact ids connected now
    // Conversations known to be outside the filter: a message does not move a conversation into
    // it (status and assignee changes come as conversation.updated), so their messages need no fetch.
    this.outside = new Set();
    this.unnamed = new Set(); // contact ids whose names are to be asked for
    this.naming = null;
    this.selectedId = null;
    this.nextCursor = null;
    this.syncCursor = null;
    this.generation = 0;
    this.ul = $("conversations");
    this.state = $("list-state");
    for (const button of document.querySelectorAll(".filters [data-status]")) {
      button.addEventListener("click", () => {
        this.filter.status = button.dataset.status;
        for (const b of document.querySelectorAll(".filters [data-status]")) {
          b.setAttribute("aria-pressed", String(b === button));
        }
        this.load();
      });
    }
    $("assignee-filter").addEventListener("change", (e) => {
      this.filter.assignee = e.target.value;
      this.load();
    });
    $("search-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const q = $("search").value.trim();
      if (q) this.search(q);
      else this.load();
    });
    $("search").addEventListener("search", () => {
      if (!$("search").value) this.load();
    });
    $("platform-filter").addEventListener("change", (e) => {
      this.filter.platform = e.target.value;
      this.load();
    });
  }

  params(cursor) {
    const { status, assignee, platform } = this.filter;
    const who = assignee === "me" ? current.user.id : assignee;
    return query({ status, assignee: who, platform, cursor, limit: PAGE });
  }

  /** Loads the first page for the current filter. */
  async load() {
    const generation = ++this.generation;
    $("search").value = "";
    this.outside.clear();
    this.items.clear();
    this.nextCursor = null;
    this.render("Loading conversations…");
    try {
      const page = await call("GET", `/v1/conversations${this.params()}`);
      if (generation !== this.generation) return;
      page.data.forEach((c) => this.items.set(c.id, c));
      this.nextCursor = page.next_cursor;
      if (page.sync_cursor) this.syncCursor = page.sync_cursor;
      this.render();
    } catch (error) {
      if (generation === this.generation) this.render(error.message, true);
    }
  }

  /** Who is connected now (a page of 200 is plenty for dots), then kept by `presence` events. */
  async loadPresence() {
    try {
      const page = await call("GET", "/v1/presence?limit=200");
      this.online = new Set(page.data.filter((p) => p.kind === "contact").map((p) => p.id));
      this.render();
    } catch {
      // Dots are a nicety: the list works without them.
    }
  }

  /** A `presence` frame. */
  presence(frame) {
    if (frame.participant.kind !== "contact") return;
    if (frame.status === "online") this.online.add(frame.participant.id);
    else this.online.delete(frame.participant.id);
    this.render();
  }

  /** Messages of the company matching `q`, best first; picking one opens its conversation. */
  async search(q) {
    const generation = ++this.generation;
    this.items.clear();
    this.nextCursor = null;
    this.ul.replaceChildren();
    this.state.textContent = "Searching…";
    try {
      const page = await call("GET", `/v1/search/messages${query({ q, limit: PAGE })}`);
      if (generation !== this.generation) return;
      this.ul.replaceChildren(
        ...page.data.map((m) =>
          h(
            "li",
            {},
            h(
              "button",
              { type: "button", class: "conversation result", dataset: { id: m.conversation_id }, onclick: () => this.openById(m.conversation_id) },
              h("span", { class: "who", text: m.direction === "inbound" ? "Customer" : "Agent" }),
              h("span", { class: "when muted", text: shortTime(m.created_at) }),
              h("span", { class: "preview", text: m.body }),
            ),
          ),
        ),
      );
      this.state.textContent = page.data.length ? "" : `No message matches “${q}”.`;
    } catch (error) {
      if (generation === this.generation) this.state.textContent = error.message;
    }
  }

  async openById(id) {
    try {
      this.onOpen(await call("GET", `/v1/conversations/${id}`));
    } catch (error) {
      this.onError(error.message);
    }
  }

  /** Loads the next page. */
  async more() {
    const generation = this.generation;
    try {
      const page = await call("GET", `/v1/conversations${this.params(this.nextCursor)}`);
      if (generation !== this.generation) return;
      page.data.forEach((c) => this.items.set(c.id, c));
      this.nextCursor = page.next_cursor;
      this.render();
    } catch (error) {
      this.onError(error.message);
    }
  }

  matches(c) {
    if (c.status !== this.filter.status) return false;
    if (this.filter.platform && c.platform !== this.filter.platform) return false;
    if (this.filter.assignee === "me") return c.assignee_id === current.user.id;
    if (this.filter.assignee === "none") return !c.assignee_id;
    return true;
  }

  /** A conversation as it is now: shown, moved or removed according to the filter. */
  upsert(c) {
    const known = this.items.get(c.id);
    if (known && c.last_position !== undefined && known.last_position > c.last_position) return;
    if (this.matches(c)) {
      this.items.set(c.id, { ...known, ...c });
      this.outside.delete(c.id);
    } else {
      this.items.delete(c.id);
      this.outside.add(c.id);
    }
    this.render();
  }

  /** A live message: the conversation moves to the top, and counts as unread unless it is open. */
  async message(frame) {
    const { conversation_id: id, message } = frame;
    const last = {
      sequence: frame.sequence,
      direction: message.direction,
      body: message.body,
      attachments: (message.attachments || []).length,
      created_at: message.created_at,
      deleted_at: message.deleted_at,
    };
    // A conversation's first message from the contact: a new conversation, whatever the filter.
    const isNew = message.direction === "inbound" && frame.sequence === 1;
    const c = this.items.get(id);
    if (!c && (isNew || !this.outside.has(id))) {
      try {
        const fresh = await call("GET", `/v1/conversations/${id}`);
        if (isNew) this.announce(fresh, last);
        this.upsert(fresh);
      } catch (error) {
        this.onError(error.message);
      }
      return;
    }
    if (!c) return;
    if (isNew) this.announce(c, last);
    if (!c.last_message || c.last_message.sequence <= last.sequence) c.last_message = last;
    c.updated_at = message.created_at;
    c.last_message_at = message.created_at;
    c.last_sequence = Math.max(c.last_sequence || 0, frame.sequence);
    if (message.direction === "inbound" && id !== this.selectedId) c.unread_count = (c.unread_count || 0) + 1;
    this.render();
  }

  /** An edited or deleted message: the preview follows when it is the newest. */
  edited(frame) {
    const c = this.items.get(frame.conversation_id);
    const m = frame.message;
    if (!c || !c.last_message || c.last_message.sequence !== m.sequence) return;
    c.last_message = { ...c.last_message, body: m.body, deleted_at: m.deleted_at };
    this.render();
  }

  announce(c, last) {
    newConversation({ who: this.contactName(c.contact_id), text: previewOf(last), tag: c.id, open: () => this.onOpen(c) });
  }

  /** The open conversation was read by this agent. */
  read(id) {
    const c = this.items.get(id);
    if (c && c.unread_count) {
      c.unread_count = 0;
      this.render();
    }
  }

  /** Forgets everything shown (logout). */
  reset() {
    this.generation += 1;
    this.items.clear();
    this.contacts.clear();
    this.outside.clear();
    this.unnamed.clear();
    clearTimeout(this.naming);
    this.naming = null;
    this.selectedId = null;
    this.syncCursor = null;
    this.ul.replaceChildren();
  }

  select(id) {
    this.selectedId = id;
    this.read(id);
    this.render();
  }

  /** The contact's name as far as known; unknown ones are asked for together, one call a batch. */
  contactName(contactId) {
    const known = this.contacts.get(contactId);
    if (known) return known.name;
    const entry = { name: `Visitor ${contactId.slice(-6)}` };
    this.contacts.set(contactId, entry);
    this.unnamed.add(contactId);
    if (!this.naming) this.naming = setTimeout(() => this.nameContacts(), 0);
    return entry.name;
  }

  async nameContacts() {
    this.naming = null;
    const ids = [...this.unnamed].slice(0, 200);
    ids.forEach((id) => this.unnamed.delete(id));
    if (this.unnamed.size) this.naming = setTimeout(() => this.nameContacts(), 0);
    try {
      const page = await call("GET", `/v1/contacts${query({ ids: ids.join(","), limit: 200 })}`);
      for (const contact of page.data) {
        const entry = this.contacts.get(contact.id);
        if (entry) entry.name = contact.name || contact.email || contact.phone || entry.name;
      }
      this.render();
      this.onNames();
    } catch {
      // The placeholder names stay; the next render asks again.
      ids.forEach((id) => this.contacts.delete(id));
    }
  }

  render(status, isError = false) {
    const sorted = [...this.items.values()].sort((a, b) =>
      (b.updated_at || "").localeCompare(a.updated_at || ""),
    );
    this.ul.replaceChildren(
      ...sorted.map((c) => {
        const unread = c.unread_count > 0;
        return h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: `conversation${c.id === this.selectedId ? " selected" : ""}${unread ? " unread" : ""}`,
              dataset: { id: c.id },
              onclick: () => this.onOpen(c),
            },
            h(
              "span",
              { class: "who" },
              h("span", { class: "dot", dataset: { online: String(this.online.has(c.contact_id)) } }),
              this.contactName(c.contact_id),
            ),
            h("span", { class: "when muted", text: shortTime(c.last_message_at || c.updated_at) }),
            h("span", { class: "preview muted", text: previewOf(c.last_message) || `${c.platform} · ${c.status}` }),
            unread ? h("span", { class: "badge", text: String(c.unread_count), "aria-label": "unread" }) : null,
          ),
        );
      }),
    );
    if (this.nextCursor) {
      this.ul.append(h("li", {}, h("button", { type: "button", class: "link more", onclick: () => this.more() }, "More…")));
    }
    setUnread(sorted.reduce((n, c) => n + (c.unread_count || 0), 0));
    const empty = sorted.length === 0 ? `No ${this.filter.status} conversations.` : "";
    this.state.textContent = status || empty;
    this.state.classList.toggle("error", isError);
  }
}
