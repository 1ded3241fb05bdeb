// The Socket.IO door driven by the real socket.io-client 4, against a running tidings-server:
//   node e2e.mjs http://127.0.0.1:PORT
// A device on /client and an agent on /admin connect; a message posted over HTTP reaches both; typing
// crosses; a join with after_sequence replays the gap, one with after_position the edits too; bad
// credentials and another company's conversation are refused. Exits 0 when every check holds, 1 with the failed check otherwise.
import assert from "node:assert/strict";
import { io } from "socket.io-client";

const base = process.argv[2];
if (!base) {
  console.error("usage: node e2e.mjs http://127.0.0.1:PORT");
  process.exit(2);
}
const WAIT_MS = 15000;
const sockets = [];

async function call(method, path, { token, sdk, body } = {}) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (sdk) Object.assign(headers, { "x-app-id": sdk.app, "x-device-id": sdk.device, "x-api-key": sdk.key });
  const res = await fetch(base + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function company(name) {
  const email = `owner-${Date.now()}-${Math.random().toString(36).slice(2)}@${name}.test`;
  const reg = await call("POST", "/v1/auth/register", {
    body: { company_name: name, name: "Owner", email, password: "password123" },
  });
  assert.equal(reg.status, 201, JSON.stringify(reg.body));
  const token = reg.body.access_token;
  const app = await call("POST", "/v1/apps", { token, body: { name: "Web" } });
  const key = await call("POST", `/v1/apps/${app.body.id}/keys`, { token, body: { kind: "client" } });
  return { token, app: app.body.id, key: key.body.key };
}

function connect(ns, auth) {
  const socket = io(base + ns, {
    path: "/v1/socket.io",
    transports: ["websocket"],
    auth,
    reconnection: false,
    timeout: WAIT_MS,
  });
  sockets.push(socket);
  return socket;
}

function once(socket, event, predicate = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), WAIT_MS);
    const handler = (...args) => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(args[0]);
    };
    socket.on(event, handler);
  });
}

function ack(socket, event, data) {
  return socket.timeout(WAIT_MS).emitWithAck(event, data);
}

async function main() {
  const acme = await company("acme");
  const globex = await company("globex");
  const device = { app: acme.app, device: "browser-1", key: acme.key };
  const conv = await call("POST", "/v1/conversations", { sdk: device });
  assert.equal(conv.status, 200, JSON.stringify(conv.body));
  const conversationId = conv.body.id;

  // A device and an agent connect; the device follows its conversation by itself.
  const client = connect("/client", { app_id: acme.app, device_id: "browser-1", api_key: acme.key, platform: "web" });
  const joined = once(client, "conversation:joined");
  const clientConnected = once(client, "connected");
  const admin = connect("/admin", { token: acme.token });
  const adminConnected = once(admin, "connected");
  assert.equal((await clientConnected).participant.kind, "contact");
  assert.equal((await adminConnected).participant.kind, "agent");
  assert.equal((await joined).conversation_id, conversationId);
  console.log("ok: /client and /admin connected, the device joined its conversation");

  // A message posted over HTTP reaches both as message:new.
  const seenByClient = once(client, "message:new");
  const seenByAdmin = once(admin, "message:new");
  const posted = await call("POST", `/v1/conversations/${conversationId}/messages`, { sdk: device, body: { body: "Hello?" } });
  assert.equal(posted.status, 201, JSON.stringify(posted.body));
  for (const seen of [await seenByClient, await seenByAdmin]) {
    assert.equal(seen.conversation_id, conversationId);
    assert.equal(seen.sequence, 1);
    assert.equal(seen.message.body, "Hello?");
  }
  console.log("ok: message:new reached the device and the agent");

  // Typing crosses both ways.
  const joinAck = await ack(admin, "conversation:join", { conversation_id: conversationId });
  assert.equal(joinAck.last_sequence, 1, JSON.stringify(joinAck));
  const agentTyping = once(client, "agent:typing");
  admin.emit("typing:start", { conversation_id: conversationId });
  assert.equal((await agentTyping).is_typing, true);
  const userTyping = once(admin, "user:typing");
  client.emit("typing:start", { conversation_id: conversationId });
  assert.equal((await userTyping).participant.kind, "contact");
  console.log("ok: typing reached the other side");

  // A second agent connection that was away joins with after_sequence and gets the gap, in order.
  for (const body of ["two", "three", "four"]) {
    const r = await call("POST", `/v1/conversations/${conversationId}/messages`, { token: acme.token, body: { body } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const late = connect("/admin", { token: acme.token });
  await once(late, "connected");
  const replayed = [];
  late.on("message:new", (m) => replayed.push(m.sequence));
  const resumed = await ack(late, "conversation:join", { conversation_id: conversationId, after_sequence: 1 });
  assert.deepEqual(replayed, [2, 3, 4]);
  assert.equal(resumed.last_sequence, 4, JSON.stringify(resumed));
  console.log("ok: join with after_sequence replayed the gap");

  // One that was away joins with after_position and gets every change, edits included, in order.
  const since = resumed.last_position;
  const page = await call("GET", `/v1/conversations/${conversationId}/messages`, { token: acme.token });
  const edit = await call("PATCH", `/v1/messages/${page.body.data[1].id}`, { token: acme.token, body: { body: "two, edited" } });
  assert.equal(edit.status, 200, JSON.stringify(edit.body));
  const away = connect("/admin", { token: acme.token });
  await once(away, "connected");
  const changes = [];
  away.on("message:updated", (m) => changes.push([m.position, m.sequence, m.message.body]));
  const back = await ack(away, "conversation:join", { conversation_id: conversationId, after_position: since });
  assert.deepEqual(changes, [[since + 1, 2, "two, edited"]]);
  assert.equal(back.last_position, since + 1, JSON.stringify(back));
  console.log("ok: join with after_position replayed the edit");

  // Bad credentials get connect_error with a clear message.
  const badKey = connect("/client", { app_id: acme.app, device_id: "browser-2", api_key: "tdk_wrong" });
  const keyError = await once(badKey, "connect_error");
  assert.equal(keyError.data?.code, "UNAUTHENTICATED");
  assert.ok(keyError.message.length > 0);
  const badToken = connect("/admin", { token: "not-a-token" });
  const tokenError = await once(badToken, "connect_error");
  assert.equal(tokenError.data?.code, "UNAUTHENTICATED");
  console.log(`ok: bad key and bad token refused (${keyError.message} / ${tokenError.message})`);

  // Another company's agent cannot join the conversation, and hears nothing of it.
  const spy = connect("/admin", { token: globex.token });
  await once(spy, "connected");
  let leaked = 0;
  spy.on("message:new", () => leaked++);
  const refused = await ack(spy, "conversation:join", { conversation_id: conversationId, after_sequence: 0 });
  assert.equal(refused.error?.code, "NOT_FOUND", JSON.stringify(refused));
  const r = await call("POST", `/v1/conversations/${conversationId}/messages`, { sdk: device, body: { body: "secret" } });
  assert.equal(r.status, 201);
  await once(admin, "message:new", (m) => m.message.body === "secret");
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(leaked, 0);
  console.log("ok: another company's conversation refused, nothing overheard");
}

try {
  await main();
  console.log("socket.io-client e2e: all checks passed");
  sockets.forEach((s) => s.close());
  process.exit(0);
} catch (e) {
  console.error("socket.io-client e2e failed:", e);
  sockets.forEach((s) => s.close());
  process.exit(1);
}
