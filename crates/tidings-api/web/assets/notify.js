// Telling the agent a conversation came in: a two-note chime (Web Audio: no sound file to load), a
// desktop notification when the browser allows them and the page is not in front, and the tab's
// title, which carries the unread count and blinks until the agent looks.

import { $, show } from "./dom.js";

const TITLE = "Tidings inbox";

let audio = null;
let unread = 0;
let blink = null;
let fresh = 0; // conversations that came in while the agent looked elsewhere

function chime() {
  try {
    audio = audio || new AudioContext();
    const now = audio.currentTime;
    [880, 1320].forEach((frequency, i) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.08, now + i * 0.12);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.12 + 0.25);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + i * 0.12);
      osc.stop(now + i * 0.12 + 0.25);
    });
  } catch {
    // No audio (a browser policy, no device): the notification and the title still tell.
  }
}

function away() {
  return document.visibilityState !== "visible" || !document.hasFocus();
}

function title(alternate = false) {
  const count = unread ? `(${unread}) ` : "";
  document.title = alternate && fresh ? `● New conversation${fresh > 1 ? `s (${fresh})` : ""}` : `${count}${TITLE}`;
}

function stopBlinking() {
  clearInterval(blink);
  blink = null;
  fresh = 0;
  title();
}

/** The unread count shown in the title. */
export function setUnread(n) {
  unread = n;
  if (!blink) title();
}

/** A conversation came in; `open()` shows it when the agent clicks the notification. */
export function newConversation({ who, text, tag, open }) {
  chime();
  document.body.dataset.newConversations = String(Number(document.body.dataset.newConversations || 0) + 1);
  if (!away()) return;
  fresh += 1;
  if (!blink) {
    let on = false;
    blink = setInterval(() => title((on = !on)), 1000);
    title(true);
  }
  if ("Notification" in window && Notification.permission === "granted") {
    try {
      const note = new Notification(`New conversation: ${who}`, { body: text || "", tag });
      note.onclick = () => {
        window.focus();
        open();
        note.close();
      };
    } catch {
      // Some browsers only notify from a service worker: the title and the chime remain.
    }
  }
}

/** Wires the topbar's "enable notifications" button (a permission may only be asked on a click). */
export function initNotifications() {
  const button = $("notify");
  const update = () => show(button, "Notification" in window && Notification.permission === "default");
  button.addEventListener("click", async () => {
    try {
      await Notification.requestPermission();
    } finally {
      update();
    }
  });
  update();
  window.addEventListener("focus", stopBlinking);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && document.hasFocus()) stopBlinking();
  });
}
