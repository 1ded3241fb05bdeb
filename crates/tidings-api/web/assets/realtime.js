// The native realtime door (/v1/realtime, docs/realtime.md) with reconnection and resume: the
// connection authenticates with an `auth` frame (no token in the URL, so none in access logs),
// and after every reconnection resumes each followed conversation from the last feed position it
// applied, so that nothing sent meanwhile is missed and nothing is applied twice.

const MAX_BACKOFF_MS = 5000;

export class Realtime {
  /**
   * `getToken()` returns the current access token, `refreshToken()` a fresh one; `onEvent(frame)`
   * gets every server frame worth showing; `onState(state)` gets "connecting", "live" or "offline".
   */
  constructor({ getToken, refreshToken, onEvent, onState }) {
    this.getToken = getToken;
    this.refreshToken = refreshToken;
    this.onEvent = onEvent;
    this.onState = onState;
    this.follows = new Map(); // conversation id -> highest feed position applied
    this.ws = null;
    this.attempts = 0;
    this.stopped = true;
    this.timer = null;
    this.tokenRejected = false;
  }

  /** Opens the connection (and keeps it open until `stop`). */
  start() {
    this.stopped = false;
    this.connect();
  }

  /** Closes the connection for good (logout). */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.follows.clear();
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  /** Follows a conversation from feed position `after`: changes after it come first, then live ones. */
  follow(conversationId, after) {
    this.follows.set(conversationId, after);
    this.send({ type: "resume", conversation_id: conversationId, after_position: after });
  }

  /** Stops following a conversation. */
  unfollow(conversationId) {
    if (this.follows.delete(conversationId)) {
      this.send({ type: "unsubscribe", conversation_id: conversationId });
    }
  }

  /** Asks which conversations changed after an inbox catch-up cursor (answered by conversations.changed). */
  sync(changedAfter) {
    this.send({ type: "sync", changed_after: changedAfter, limit: 50 });
  }

  /** Hands a renewed access token to the open connection, which then lives on. */
  renew(token) {
    if (token) this.send({ type: "auth", token });
  }

  /** Tells the others the agent is typing in a followed conversation. */
  typing(conversationId, on) {
    this.send({ type: on ? "typing.start" : "typing.stop", conversation_id: conversationId });
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.ready) {
      this.ws.send(JSON.stringify(frame));
    }
  }

  connect() {
    if (this.stopped) return;
    this.ready = false;
    this.onState("connecting");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/v1/realtime`);
    this.ws = ws;
    ws.addEventListener("open", async () => {
      let token = this.getToken();
      if (this.tokenRejected) {
        try {
          token = await this.refreshToken();
        } catch {
          ws.close();
          return;
        }
      }
      ws.send(JSON.stringify({ type: "auth", token }));
    });
    ws.addEventListener("message", (e) => this.receive(ws, e.data));
    ws.addEventListener("close", (e) => {
      if (this.ws !== ws) return;
      this.ready = false;
      // 4401: the token expired; 1008 before `connected`: the token was refused.
      this.tokenRejected = e.code === 4401 || e.code === 1008 || e.code === 4403;
      if (this.stopped) return;
      this.onState("offline");
      const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** this.attempts) + Math.random() * 250;
      this.attempts += 1;
      this.timer = setTimeout(() => this.connect(), delay);
    });
  }

  receive(ws, data) {
    if (this.ws !== ws) return;
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.type === "connected") {
      this.ready = true;
      this.attempts = 0;
      this.tokenRejected = false;
      this.onState("live");
      for (const [id, after] of this.follows) {
        this.send({ type: "resume", conversation_id: id, after_position: after });
      }
      this.onEvent(frame);
      return;
    }
    const id = frame.conversation_id || (frame.conversation && frame.conversation.id);
    if (typeof frame.position === "number" && this.follows.has(id)) {
      // The server sends a followed conversation's changes once and in order; this guards the
      // page against applying one twice across its own reconnections.
      if (frame.position <= this.follows.get(id)) return;
      this.follows.set(id, frame.position);
    }
    if (frame.type === "resumed" && this.follows.has(id)) {
      this.follows.set(id, Math.max(this.follows.get(id), frame.position || 0));
    }
    this.onEvent(frame);
  }
}
