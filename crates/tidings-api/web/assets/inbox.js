// The inbox page (/): restores the session from its cookie or shows the login form, then wires
// the conversation list, the open conversation and the realtime connection together.

import { Appointments } from "./appointments.js";
import { DeadLetters } from "./dead_letters.js";
import { $, banner, initBanner, show } from "./dom.js";
import { Integrations } from "./integrations.js";
import { ConversationList } from "./list.js";
import { initLogin, showLogin } from "./login.js";
import { initNotifications } from "./notify.js";
import { isAdmin } from "./pages.js";
import { Realtime } from "./realtime.js";
import * as session from "./session.js";
import { Settings } from "./settings.js";
import { Thread } from "./thread.js";
import { Webhooks } from "./webhooks.js";

const QUIET_ERRORS = new Set(["TOKEN_EXPIRED", "UNAUTHENTICATED", "NOT_SUBSCRIBED"]);

initBanner();
initNotifications();

const list = new ConversationList({
  onOpen: (c) => thread.open(c),
  onError: banner,
  onNames: () => thread.conversation && thread.head(),
});
const realtime = new Realtime({
  getToken: session.accessTokenNow,
  refreshToken: session.refresh,
  onEvent: live,
  onState: (state) => {
    const el = $("live");
    el.dataset.state = state;
    el.textContent = { live: "live", connecting: "connecting…", offline: "reconnecting…" }[state];
  },
});
const thread = new Thread({ realtime, list, onError: banner });
// The views besides the inbox, each built on first use: its section and the object that fills it.
const PAGES = {
  settings: { section: "settings", make: () => new Settings() },
  appointments: { section: "page-appointments", make: (root) => new Appointments(root) },
  webhooks: { section: "page-webhooks", make: (root) => new Webhooks(root), admin: true },
  outbox: { section: "page-outbox", make: (root) => new DeadLetters(root), admin: true },
  integrations: { section: "page-integrations", make: (root) => new Integrations(root), admin: true },
};
const built = new Map();

/** Switches to the inbox or one of the other pages (kept in the address's #fragment for reloads). */
function view(name) {
  const spec = PAGES[name];
  const page = spec && (!spec.admin || isAdmin()) ? name : "inbox";
  document.body.classList.toggle("in-page", page !== "inbox");
  for (const [key, { section }] of Object.entries(PAGES)) show($(section), key === page);
  for (const button of document.querySelectorAll(".views [data-view]")) {
    button.toggleAttribute("aria-current", button.dataset.view === page);
  }
  const hash = page === "inbox" ? "" : `#${page}`;
  if (window.location.hash !== hash) window.history.replaceState(null, "", hash || window.location.pathname);
  if (page === "inbox") return;
  if (!built.has(page)) built.set(page, PAGES[page].make($(PAGES[page].section)));
  built.get(page).load();
}
for (const button of document.querySelectorAll(".views [data-view]")) {
  button.addEventListener("click", () => view(button.dataset.view));
}
let connectedBefore = false;

function live(frame) {
  switch (frame.type) {
    case "connected":
      // Back after a cut: catch up on the conversations that changed meanwhile (the open one
      // resumes from its position by itself), and on who is online.
      if (connectedBefore && list.syncCursor) realtime.sync(list.syncCursor);
      connectedBefore = true;
      list.loadPresence();
      break;
    case "presence":
      list.presence(frame);
      if (thread.conversation) thread.head();
      break;
    case "typing":
      thread.event(frame);
      break;
    case "inbox.stale":
      if (list.syncCursor) realtime.sync(list.syncCursor);
      break;
    case "conversations.changed":
      frame.conversations.forEach((c) => list.upsert(c));
      if (frame.next_cursor) list.syncCursor = frame.next_cursor;
      if (frame.has_more) realtime.sync(list.syncCursor);
      break;
    case "message.new":
      list.message(frame);
      thread.event(frame);
      break;
    case "message.updated":
      list.edited(frame);
      thread.event(frame);
      break;
    case "message.status":
      thread.event(frame);
      break;
    case "conversation.updated":
      list.upsert(frame.conversation);
      thread.event(frame);
      break;
    case "error":
      if (!QUIET_ERRORS.has(frame.code)) banner(frame.message || frame.code);
      break;
    default:
      break;
  }
}

session.onTokenChange((token) => {
  if (token) realtime.renew(token);
  else {
    realtime.stop();
    connectedBefore = false;
    thread.reset();
    list.reset();
    showLogin();
  }
});

function enter() {
  const { user, company } = session.current;
  $("company").textContent = company ? company.name : "";
  $("me").textContent = user ? `${user.name} (${user.role})` : "";
  show($("loading"), false);
  show($("login"), false);
  show($("inbox"), true);
  for (const el of document.querySelectorAll("[data-admin-view]")) show(el, isAdmin());
  view(window.location.hash.slice(1) || "inbox");
  banner("");
  realtime.start();
  list.load();
}

$("logout").addEventListener("click", () => {
  session.logout().catch((error) => banner(error.message));
});

initLogin(enter);

async function boot() {
  try {
    if (await session.restore()) enter();
    else showLogin();
  } catch (error) {
    showLogin();
    banner(error.message);
  }
}

boot();
