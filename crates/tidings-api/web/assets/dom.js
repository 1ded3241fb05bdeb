// Small DOM helpers: build elements node by node, never from HTML strings (every text is a text node),
// show and hide with the `hidden` attribute (no inline styles: the CSP forbids them).

/** `h("li", {class: "x", dataset: {id}}, "text", child)` */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** Shows or hides an element. */
export function show(el, visible = true) {
  el.hidden = !visible;
}

/** Shows a message in the page's banner (errors that belong to no form). */
export function banner(message) {
  const box = $("banner");
  $("banner-text").textContent = message;
  show(box, Boolean(message));
}

/** Wires the banner's close button, and shows any failure no view caught rather than nothing. */
export function initBanner() {
  $("banner-close").addEventListener("click", () => banner(""));
  window.addEventListener("unhandledrejection", (e) => {
    banner((e.reason && e.reason.message) || String(e.reason));
  });
  window.addEventListener("error", (e) => banner(e.message || "Something went wrong on this page."));
}

/** A short time: today's as hh:mm, older ones with the date. */
export function shortTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleDateString([], { month: "short", day: "numeric" });
}

/** An id for a message the client sends, so that a retry never stores it twice. */
export function newLocalId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  // randomUUID needs a secure context; getRandomValues works everywhere.
  const bytes = window.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
