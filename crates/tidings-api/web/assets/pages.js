// What the admin pages (appointments, webhooks, dead letters, integrations) share: a card with its
// own status line for loading, empty and error states, tables built node by node, and lists read
// page by page.

import { h, show } from "./dom.js";
import { call, current } from "./session.js";

const RANK = { agent: 1, admin: 2, owner: 3 };

/** Whether the logged-in user is an owner or an admin. */
export function isAdmin() {
  return Boolean(current.user) && RANK[current.user.role] >= RANK.admin;
}

/** A date and time in the browser's locale, or "" for none. */
export function when(iso) {
  return iso ? new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "";
}

/** A status line: loading and empty states in grey, failures (the envelope's message) in red. */
export class Status {
  constructor(attrs = {}) {
    this.el = h("p", { class: "muted status-line", role: "status", ...attrs });
    show(this.el, false);
  }

  set(text, isError = false) {
    this.el.textContent = text || "";
    this.el.classList.toggle("error", isError);
    this.el.classList.toggle("muted", !isError);
    this.el.setAttribute("role", isError ? "alert" : "status");
    show(this.el, Boolean(text));
  }

  fail(error) {
    this.set(error.message || String(error), true);
  }

  clear() {
    this.set("");
  }
}

/** A table with a header row; `rows` are arrays of cells (strings or nodes) or ready `tr`s. */
export function table(headers, rows, attrs = {}) {
  return h(
    "table",
    { class: "table", ...attrs },
    h("thead", {}, h("tr", {}, ...headers.map((t) => h("th", { text: t })))),
    h(
      "tbody",
      {},
      ...rows.map((row) => (row instanceof Node ? row : h("tr", {}, ...row.map((cell) => h("td", {}, cell ?? ""))))),
    ),
  );
}

/** A button that runs `fn`; it is disabled while `fn` runs, so a slow call is not sent twice. */
export function action(label, fn, attrs = {}) {
  const button = h("button", { type: "button", ...attrs }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await fn();
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** A labelled form field. */
export function field(label, input) {
  return h("label", { class: "field" }, label, input);
}

/** Every page of a list (`next_cursor` paging), up to `max` items. */
export async function all(path, max = 1000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const page = await call("GET", `${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}
