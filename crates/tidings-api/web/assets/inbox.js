// The inbox page (/): restores the session from its cookie or shows the login form, then wires
// the conversation list, the open conversation and the realtime connection together.

import { $, banner, initBanner, show } from "./dom.js";
import { ConversationList } from "./list.js";
import { initLogin, showLogin } from "./login.js";
import { Realtime } from "./realtime.js";
import * as session from "./session.js";
import { Settings } from "./settings.js";
import { Thread } from "./thread.js";

const QUIET_ERRORS = new Set(["TOKEN_EXPIRED", "UNAUTHENTICATED", "NOT_SUBSCRIBED"]);

initBanner();

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
const settings = new Settings();

/** Switches between the inbox and the team and apps view. */
function view(name) {
  const inSettings = name === "settings";
  document.body.classList.toggle("in-settings", inSettings);
  show($("settings"), inSettings);
  $("show-inbox").toggleAttribute("aria-current", !inSettings);
  $("show-settings").toggleAttribute("aria-current", inSettings);
  if (inSettings) settings.load();
}
$("show-inbox").addEventListener("click", () => view("inbox"));
$("show-settings").addEventListener("click", () => view("settings"));
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
  view("inbox");
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
