// The setup page (/setup): creates the company and its owner (who is then logged in, with the
// refresh token in the session cookie), the first app and a client key, and shows how a device
// talks to Tidings with them.

import { ApiError } from "./api.js";
import { $, banner, initBanner, show } from "./dom.js";
import * as session from "./session.js";

initBanner();

async function create(e) {
  e.preventDefault();
  const error = $("setup-error");
  const submit = $("setup-submit");
  show(error, false);
  submit.disabled = true;
  try {
    const status = await session.call("GET", "/v1/setup");
    if (!status.needed) {
      location.replace("/");
      return;
    }
    await session.register({
      company_name: $("setup-company").value.trim(),
      name: $("setup-name").value.trim(),
      email: $("setup-email").value.trim(),
      password: $("setup-password").value,
    });
    const app = await session.call("POST", "/v1/apps", { name: $("setup-app").value.trim() || "Website" });
    const key = await session.call("POST", `/v1/apps/${app.id}/keys`, { kind: "client" });
    done(app, key.key);
  } catch (err) {
    error.textContent = err instanceof ApiError ? err.message : String(err);
    show(error, true);
  } finally {
    submit.disabled = false;
  }
}

function done(app, key) {
  const origin = location.origin;
  const wsOrigin = origin.replace(/^http/, "ws");
  $("done-app-name").textContent = app.name;
  $("done-app-id").textContent = app.id;
  $("done-key").textContent = key;
  $("snippet-curl").textContent = [
    `# Open the device's conversation, then post into it.`,
    `CONV=$(curl -s -X POST ${origin}/v1/conversations \\`,
    `  -H 'X-App-Id: ${app.id}' -H 'X-Device-Id: device-1' -H 'X-Api-Key: ${key}' | jq -r .id)`,
    `curl -s ${origin}/v1/conversations/$CONV/messages \\`,
    `  -H 'X-App-Id: ${app.id}' -H 'X-Device-Id: device-1' -H 'X-Api-Key: ${key}' \\`,
    `  -H 'Content-Type: application/json' -d '{"body": "Hello!", "local_id": "hello-1"}'`,
  ].join("\n");
  $("snippet-ws").textContent = [
    `// From a page of another origin, list that origin in TIDINGS_CORS_ORIGINS.`,
    `const device = { "X-App-Id": "${app.id}", "X-Device-Id": "device-1", "X-Api-Key": "${key}" };`,
    `const conversation = await (await fetch("${origin}/v1/conversations", { method: "POST", headers: device })).json();`,
    `let last = 0; // the highest feed position applied: resume from it after a reconnection`,
    `const ws = new WebSocket("${wsOrigin}/v1/realtime");`,
    `ws.onopen = () => ws.send(JSON.stringify({`,
    `  type: "auth", app_id: "${app.id}", device_id: "device-1", api_key: "${key}", platform: "web",`,
    `}));`,
    `ws.onmessage = (e) => {`,
    `  const frame = JSON.parse(e.data);`,
    `  if (frame.type === "connected") {`,
    `    ws.send(JSON.stringify({ type: "resume", conversation_id: conversation.id, after_position: last }));`,
    `  }`,
    `  if (frame.position) last = Math.max(last, frame.position);`,
    `  if (frame.type === "message.new") console.log(frame.message.sender, frame.message.body);`,
    `};`,
  ].join("\n");
  $("snippet-sio").textContent = [
    `import { io } from "socket.io-client";`,
    ``,
    `const socket = io("${origin}/client", {`,
    `  path: "/v1/socket.io",`,
    `  transports: ["websocket"],`,
    `  auth: { app_id: "${app.id}", device_id: "device-1", api_key: "${key}", platform: "web" },`,
    `});`,
    `socket.on("message:new", ({ message }) => console.log(message.body));`,
  ].join("\n");
  show($("setup-form"), false);
  show($("setup-done"), true);
}

$("setup-form").addEventListener("submit", create);
