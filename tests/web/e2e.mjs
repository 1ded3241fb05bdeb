// The web inbox and setup pages in a real browser (the system's Chromium, driven by
// playwright-core), against a running tidings-server on an empty database:
//   CHROMIUM=/usr/bin/chromium node e2e.mjs http://127.0.0.1:PORT SCREENSHOT_DIR
// Setup from an empty database; the session cookie is httpOnly; log out, a wrong password shows the
// error, log in; a device's message appears live in the list and in the open conversation; the
// agent's reply reaches the device, and shows as read once the device marks it; the server is
// killed and restarted (the script prints `restart` and waits for `restarted` on stdin) and the page
// reconnects and shows what was sent meanwhile, once. Then, after a reload, the list's previews and
// unread counts; the webhooks page against an endpoint this script serves (delivery log, test ping),
// dead letters of a failing endpoint retried and discarded, the integrations page, the appointments
// calendar (week, day, confirm, book, cancel), and a phone-sized screen. Exits 0 when every check holds.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node e2e.mjs http://127.0.0.1:PORT SCREENSHOT_DIR");
  process.exit(2);
}
const WAIT_MS = 15000;
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const problems = [];
const step = (name) => console.log(`step: ${name}`);

async function api(method, path, { sdk, token, body } = {}) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (sdk) Object.assign(headers, { "x-app-id": sdk.app, "x-device-id": sdk.device, "x-api-key": sdk.key });
  const res = await fetch(base + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Polls `check` until it returns a truthy value. */
async function eventually(what, check) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A webhook endpoint on this machine: answers `status`, and records every delivery. */
const hook = { status: 200, seen: [], url: "" };
const receiver = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => {
    body += chunk;
  });
  req.on("end", () => {
    hook.seen.push({
      event: req.headers["x-tidings-event"],
      delivery: req.headers["x-tidings-delivery"],
      signature: req.headers["x-tidings-signature"],
      status: hook.status,
      body,
    });
    res.writeHead(hook.status, { "content-type": "text/plain" });
    res.end();
  });
});

let failing = null;

async function main() {
  await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  hook.url = `http://127.0.0.1:${receiver.address().port}/hook`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(["notifications"], { origin: base });
    // Desktop notifications are recorded rather than shown, and the test decides whether the page
    // has the agent's attention (a headless page always has it).
    await context.addInitScript(() => {
      window.notes = [];
      const Real = window.Notification;
      window.Notification = class extends Real {
        constructor(title, options) {
          window.notes.push({ title, body: options && options.body });
          super(title, options);
        }
      };
      window.away = false;
      const hasFocus = Document.prototype.hasFocus;
      Document.prototype.hasFocus = function () {
        return !window.away && hasFocus.call(this);
      };
    });
    const page = await context.newPage();
    failing = page;
    page.setDefaultTimeout(WAIT_MS);
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      // A refused resource (CSP) or a script error; failed requests the test provokes are expected.
      const text = m.text();
      if (m.type() === "error" && !/Failed to load resource|WebSocket connection/.test(text)) problems.push(text);
    });

    step("setup from an empty database");
    await page.goto(`${base}/`);
    assert.equal(new URL(page.url()).pathname, "/setup");
    await page.fill("#setup-company", "Acme");
    await page.fill("#setup-name", "Ada Lovelace");
    await page.fill("#setup-email", "ada@acme.test");
    await page.fill("#setup-password", "correct horse battery");
    await page.fill("#setup-app", "Website");
    await page.click("#setup-submit");
    await page.waitForSelector("#setup-done:not([hidden])");
    const app = await page.textContent("#done-app-id");
    const key = await page.textContent("#done-key");
    assert.match(key, /\S{20,}/);
    assert.ok((await page.textContent("#snippet-curl")).includes(key));
    const wsSnippet = await page.textContent("#snippet-ws");
    const curlSnippet = await page.textContent("#snippet-curl");
    assert.ok(wsSnippet.includes("/v1/realtime"));
    assert.ok((await page.textContent("#snippet-sio")).includes("socket.io-client"));
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, "setup.png"), fullPage: true });

    step("the session cookie is out of the page's reach");
    const cookie = (await context.cookies()).find((c) => c.name === "tidings_refresh");
    assert.ok(cookie, "no session cookie");
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Strict");
    assert.equal(cookie.path, "/v1/auth");
    assert.equal(await page.evaluate(() => document.cookie), "");
    assert.equal(await page.evaluate(() => localStorage.length + sessionStorage.length), 0);

    step("the inbox opens with the session of the setup");
    await page.click("#open-inbox");
    await page.waitForSelector("#inbox:not([hidden])");
    await page.waitForSelector("#live[data-state=live]");
    await eventually("empty state", async () => (await page.textContent("#list-state")) === "No open conversations.");
    assert.equal(new URL(page.url()).pathname, "/");
    await page.goto(`${base}/setup`);
    assert.equal(new URL(page.url()).pathname, "/", "setup is closed once a company exists");
    await page.waitForSelector("#inbox:not([hidden])");

    step("log out; a wrong password shows the error; log in");
    await page.click("#logout");
    await page.waitForSelector("#login:not([hidden])");
    await page.fill("#login-email", "ada@acme.test");
    await page.fill("#login-password", "not the password");
    await page.click("#login-submit");
    await page.waitForSelector("#login-error:not([hidden])");
    assert.equal(await page.textContent("#login-error"), "invalid e-mail or password");
    await page.screenshot({ path: join(shots, "login.png") });
    await page.fill("#login-password", "correct horse battery");
    await page.click("#login-submit");
    await page.waitForSelector("#inbox:not([hidden])");
    await page.waitForSelector("#live[data-state=live]");

    step("a device's message appears live in the list, announced as a new conversation");
    await page.evaluate(() => {
      window.away = true;
    });
    const device = { app, key, device: "browser-42" };
    const conv = await api("POST", "/v1/conversations", { sdk: device });
    assert.equal(conv.status, 200, JSON.stringify(conv.body));
    const id = conv.body.id;
    const posted = await api("POST", `/v1/conversations/${id}/messages`, {
      sdk: device,
      body: { body: "Hello, my order never arrived", local_id: "d-1" },
    });
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    const item = `.conversation[data-id="${id}"]`;
    await page.waitForSelector(`${item} .badge`);
    assert.equal(await page.textContent(`${item} .badge`), "1");
    assert.equal(await page.textContent(`${item} .preview`), "Hello, my order never arrived");
    const notes = await eventually("a desktop notification", () => page.evaluate(() => window.notes.length && window.notes));
    assert.equal(notes.length, 1);
    assert.match(notes[0].title, /^New conversation: /);
    assert.equal(notes[0].body, "Hello, my order never arrived");
    assert.equal(await page.evaluate(() => document.body.dataset.newConversations), "1");
    await eventually("the title blinks", async () => (await page.title()).startsWith("● New conversation"));
    await page.evaluate(() => {
      window.away = false;
      window.dispatchEvent(new Event("focus"));
    });
    await eventually("the title shows the unread count", async () => (await page.title()) === "(1) Tidings inbox");

    step("opening it shows the history and marks it read");
    await page.click(item);
    await page.waitForSelector(".message.in >> text=Hello, my order never arrived");
    await page.waitForSelector(`${item} .badge`, { state: "detached" });
    await eventually("the device sees its message read", async () => {
      const list = await api("GET", `/v1/conversations/${id}/messages`, { sdk: device });
      return list.body.data[0].status === "read";
    });

    step("a new message appears live in the open conversation");
    await api("POST", `/v1/conversations/${id}/messages`, {
      sdk: device,
      body: { body: "Order number 1234", local_id: "d-2" },
    });
    await page.waitForSelector(".message.in >> text=Order number 1234");

    step("the agent replies; the device receives it over its realtime connection");
    // The device is a web page in a browser of its own with the native WebSocket door (auth frame,
    // resume). It runs on the server's origin (a blank page may not reach a loopback address), on a
    // JSON answer whose `default-src 'none'` the device's context is told to ignore.
    const deviceContext = await browser.newContext({ bypassCSP: true });
    const devicePage = await deviceContext.newPage();
    await devicePage.goto(`${base}/health`);
    await devicePage.evaluate(
      ({ url, device, id }) =>
        new Promise((resolve, reject) => {
          window.received = [];
          const ws = new WebSocket(url);
          window.deviceSocket = ws;
          ws.onerror = () => reject(new Error("device WebSocket failed"));
          ws.onopen = () =>
            ws.send(JSON.stringify({ type: "auth", app_id: device.app, device_id: device.device, api_key: device.key, platform: "web" }));
          ws.onmessage = (e) => {
            const frame = JSON.parse(e.data);
            if (frame.type === "connected") ws.send(JSON.stringify({ type: "resume", conversation_id: id, after_position: 0 }));
            if (frame.type === "resumed") resolve();
            if (frame.type === "message.new") window.received.push(frame.message);
            if (frame.type === "typing") window.typing = frame;
          };
        }),
      { url: base.replace(/^http/, "ws") + "/v1/realtime", device, id },
    );
    assert.equal(await devicePage.evaluate(() => window.received.length), 2, "the device's history replayed");
    // Typing crosses both ways, and the contact shows as online.
    await page.waitForSelector('#thread-contact[data-online="true"]');
    await devicePage.evaluate((id) => window.deviceSocket.send(JSON.stringify({ type: "typing.start", conversation_id: id })), id);
    await page.waitForSelector("#typing:not([hidden])");
    await page.type("#composer-body", "Sorry");
    const typing = await eventually("the device sees the agent typing", () => devicePage.evaluate(() => window.typing));
    assert.equal(typing.participant.kind, "agent");
    assert.equal(typing.state, "start");
    await page.fill("#composer-body", "");
    await page.fill("#composer-body", "Sorry about that! Let me check.");
    await page.press("#composer-body", "Enter");
    const reply = await eventually("the device gets the reply live", () =>
      devicePage.evaluate(() => window.received.find((m) => m.direction === "outbound")),
    );
    assert.equal(reply.body, "Sorry about that! Let me check.");
    await deviceContext.close();
    assert.ok(reply.local_id, "sent with a local_id");
    await page.waitForSelector(`.message.out[data-sequence="${reply.sequence}"]`);
    assert.equal(await page.locator(".message.out").count(), 1);

    step("the reply shows as read once the device marks it");
    const read = await api("POST", `/v1/conversations/${id}/messages/read`, {
      sdk: device,
      body: { up_to_sequence: reply.sequence },
    });
    assert.equal(read.status, 200, JSON.stringify(read.body));
    await page.waitForSelector(`.message.out[data-sequence="${reply.sequence}"][data-status=read]`);

    step("assign; the contact panel");
    await page.click("#assign");
    await eventually("assigned", async () => (await page.textContent("#thread-meta")).includes("assigned to you"));
    await page.click("#contact-toggle");
    await page.waitForSelector("#contact-details >> text=Customer since");
    await page.click("#contact-toggle");
    await page.selectOption("#assignee-filter", "none");
    await page.waitForSelector(item, { state: "detached" });
    await page.selectOption("#assignee-filter", "me");
    await page.waitForSelector(item);
    await page.selectOption("#assignee-filter", "");
    await page.waitForSelector(item);
    await page.screenshot({ path: join(shots, "inbox.png") });

    step("the server is killed and restarted while the page is open");
    console.log("restart");
    await eventually("the page sees the cut", async () => (await page.getAttribute("#live", "data-state")) !== "live");
    const answer = await lines.next();
    assert.equal(answer.value, "restarted");
    const meanwhile = await api("POST", `/v1/conversations/${id}/messages`, {
      sdk: device,
      body: { body: "Are you still there?", local_id: "d-3" },
    });
    assert.equal(meanwhile.status, 201, JSON.stringify(meanwhile.body));
    // A conversation the page does not follow: it comes with the inbox catch-up (sync).
    const other = { app, key, device: "phone-7" };
    const second = await api("POST", "/v1/conversations", { sdk: other });
    // An agent elsewhere (over the API) names this customer: the list shows the name.
    const agent = await api("POST", "/v1/auth/login", { body: { email: "ada@acme.test", password: "correct horse battery" } });
    const named = await api("PATCH", `/v1/contacts/${second.body.contact_id}`, { token: agent.body.access_token, body: { name: "Grace Hopper" } });
    assert.equal(named.status, 200, JSON.stringify(named.body));
    await api("POST", `/v1/conversations/${second.body.id}/messages`, { sdk: other, body: { body: "Hi there", local_id: "p-1" } });
    const offline = (await page.getAttribute("#live", "data-state")) !== "live";
    console.log(`info: the page was ${offline ? "still reconnecting (resume and sync)" : "already back (live)"} when they were sent`);
    await page.waitForSelector("#live[data-state=live]");
    await page.waitForSelector(".message.in >> text=Are you still there?");
    await page.waitForSelector(`.conversation[data-id="${second.body.id}"] .badge >> text=1`);
    await page.waitForSelector(`.conversation[data-id="${second.body.id}"] >> text=Grace Hopper`);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await page.locator(".message").count(), 4, "every message once");

    step("resolve after the restart");
    await page.click("#status-toggle");
    await eventually("resolved", async () => (await page.textContent("#thread-meta")).includes("resolved"));
    await page.waitForSelector(item, { state: "detached" });

    step("search finds a message and opens its conversation");
    await page.fill("#search", "arrived");
    await page.press("#search", "Enter");
    await page.click(".conversation.result >> text=Hello, my order never arrived");
    await eventually("the resolved conversation is open", async () => (await page.textContent("#thread-meta")).includes("resolved"));

    step("scrolling up loads older messages");
    for (let i = 2; i <= 60; i += 1) {
      const r = await api("POST", `/v1/conversations/${second.body.id}/messages`, {
        sdk: other,
        body: { body: `Line ${i}`, local_id: `p-${i}` },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    step("after a reload the list shows each conversation's newest message and unread count");
    await page.reload();
    await page.waitForSelector("#inbox:not([hidden])");
    const secondItem = `.conversation[data-id="${second.body.id}"]`;
    await page.waitForSelector(secondItem);
    assert.equal(await page.textContent(`${secondItem} .preview`), "Line 60");
    assert.equal(await page.textContent(`${secondItem} .badge`), "60");
    assert.equal(await page.title(), "(60) Tidings inbox");
    await page.click(".segmented [data-status=resolved]");
    await page.waitForSelector(`${item} .preview >> text=Are you still there?`);
    await page.click(".segmented [data-status=open]");
    await page.selectOption("#platform-filter", "ios");
    await eventually("no iOS conversation", async () => (await page.textContent("#list-state")) === "No open conversations.");
    await page.selectOption("#platform-filter", "web");
    await page.click(`.conversation[data-id="${second.body.id}"]`);
    await page.waitForSelector(".message.in >> text=Line 60");
    assert.equal(await page.locator(".message").count(), 50, "the newest page first");
    await page.locator("#messages").evaluate((el) => {
      el.scrollTop = 0;
    });
    await page.waitForSelector(".message.in >> text=Hi there");
    assert.equal(await page.locator(".message").count(), 60);
    assert.equal(await page.textContent("#history-state"), "Start of the conversation");

    step("team and apps: invite an agent, issue and revoke a key");
    page.on("dialog", (dialog) => dialog.accept());
    await page.click("#show-settings");
    await page.waitForSelector("#team >> text=Ada Lovelace (you)");
    await page.fill("#invite-name", "Bob");
    await page.fill("#invite-email", "bob@acme.test");
    await page.click("#invite-form button[type=submit]");
    await page.waitForSelector("#team >> text=bob@acme.test");
    await page.waitForSelector(`.app[data-id="${app}"] tbody tr`);
    assert.equal(await page.locator(`.app[data-id="${app}"] tbody tr`).count(), 1, "the setup's client key");
    await page.click(`.app[data-id="${app}"] >> text=New server key`);
    await page.waitForSelector("#new-key:not([hidden])");
    const serverKey = await page.textContent("#new-key-value");
    assert.match(serverKey, /^tdk_s_/);
    const me = await fetch(`${base}/v1/auth/me`, { headers: { "x-api-key": serverKey } });
    assert.equal(me.status, 200);
    await eventually("two keys listed", async () => (await page.locator(`.app[data-id="${app}"] tbody tr`).count()) === 2);
    await page.click(`.app[data-id="${app}"] tbody tr:nth-child(2) >> text=Revoke`);
    await eventually("one key left", async () => (await page.locator(`.app[data-id="${app}"] tbody tr`).count()) === 1);
    const revoked = await fetch(`${base}/v1/auth/me`, { headers: { "x-api-key": serverKey } });
    assert.equal(revoked.status, 401);
    await page.screenshot({ path: join(shots, "team-and-apps.png") });
    await page.click("#show-inbox");
    await page.waitForSelector("#thread-view:not([hidden])");

    const token = agent.body.access_token;

    step("webhooks: an endpoint added in the page gets the company's events, shown in its delivery log");
    await page.click("#show-webhooks");
    await page.waitForSelector("#webhooks-state >> text=No endpoint yet: add one below.");
    await page.fill("#webhook-url", "http://hooks.example.com/tidings");
    await page.click("#webhook-submit");
    await page.waitForSelector("#webhooks-error:not([hidden])");
    assert.equal(await page.textContent("#webhooks-error"), "url: must use https", "the envelope's message");
    await page.fill("#webhook-url", hook.url);
    await page.uncheck('#webhook-form input[value="message.updated"]');
    await page.uncheck('#webhook-form input[value="message.status"]');
    await page.click("#webhook-submit");
    await page.waitForSelector("#webhook-secret:not([hidden])");
    assert.match(await page.textContent("#webhook-secret-value"), /^whsec_/);
    const endpoints = await api("GET", "/v1/webhooks", { token });
    assert.deepEqual(
      endpoints.body.data.map((e) => [e.url, e.events]),
      [[hook.url, ["message.created"]]],
    );
    const endpointRow = `#webhooks tr[data-id="${endpoints.body.data[0].id}"]`;
    await page.waitForSelector(`${endpointRow} >> text=enabled`);
    await api("POST", `/v1/conversations/${second.body.id}/messages`, { sdk: other, body: { body: "Hooked?", local_id: "p-hook" } });
    const delivered = await eventually("the endpoint gets the message", () => hook.seen.find((r) => r.event === "message.created"));
    assert.match(delivered.signature, /^t=\d+,v1=[0-9a-f]{64}/);
    assert.equal(JSON.parse(delivered.body).data.message.body, "Hooked?");
    await page.click(`${endpointRow} >> text=Deliveries`);
    await page.waitForSelector("#delivery-log:not([hidden])");
    await eventually("the delivery in the log", async () => {
      await page.click("#deliveries-refresh");
      return (await page.locator("#deliveries-table tbody tr:has-text('message.created'):has-text('200')").count()) === 1;
    });
    await page.click(`${endpointRow} >> text=Send test`);
    await eventually("the ping in the log", async () => {
      await page.click("#deliveries-refresh");
      return (await page.locator("#deliveries-table tbody tr:has-text('ping')").count()) === 1;
    });
    assert.ok(hook.seen.some((r) => r.event === "ping"), "the endpoint got the ping");
    const firstSecret = await page.textContent("#webhook-secret-value");
    await page.click(`${endpointRow} >> text=Rotate secret`);
    await eventually("a new secret", async () => (await page.textContent("#webhook-secret-value")) !== firstSecret);
    assert.match(await page.textContent("#webhook-secret-value"), /^whsec_/);
    await page.click(`${endpointRow} >> text=Disable`);
    await page.waitForSelector(`${endpointRow} >> text=disabled`);
    await page.click(`${endpointRow} >> text=Enable`);
    await page.waitForSelector(`${endpointRow} >> text=enabled`);
    await page.click(`${endpointRow} >> text=Edit`);
    assert.equal(await page.inputValue("#webhook-url"), hook.url);
    await page.check('#webhook-form input[value="conversation.updated"]');
    await page.click("#webhook-submit");
    await page.waitForSelector(`${endpointRow} >> text=conversation.updated, message.created`);
    const edited = await api("GET", `/v1/webhooks/${endpoints.body.data[0].id}`, { token });
    assert.deepEqual(edited.body.events.sort(), ["conversation.updated", "message.created"]);
    await page.screenshot({ path: join(shots, "webhooks.png"), fullPage: true });

    step("dead letters: deliveries to a failing endpoint die, show in the page, are retried and discarded");
    hook.status = 500;
    for (const n of [1, 2]) {
      const r = await api("POST", `/v1/conversations/${second.body.id}/messages`, { sdk: other, body: { body: `Failing ${n}`, local_id: `p-fail-${n}` } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    const dead = await eventually("two dead deliveries", async () => {
      const r = await api("GET", "/v1/outbox?status=dead&kind=webhook.delivery", { token });
      return r.body.data.length === 2 && r.body.data;
    });
    await page.click("#show-outbox");
    await page.selectOption("#outbox-kind", "webhook.delivery");
    const deadRow = (item) => `#outbox tr[data-id="${item.id}"]`;
    await page.waitForSelector(deadRow(dead[0]));
    await page.waitForSelector(deadRow(dead[1]));
    assert.equal(await page.textContent(`${deadRow(dead[0])} .attempts`), "2");
    assert.match(await page.textContent(`${deadRow(dead[0])} .error-cell`), /500/);
    await page.screenshot({ path: join(shots, "dead-letters.png"), fullPage: true });
    hook.status = 200;
    await page.click(`${deadRow(dead[0])} >> text=Retry`);
    await page.waitForSelector(deadRow(dead[0]), { state: "detached" });
    await eventually("the retried delivery arrives", () =>
      hook.seen.find((r) => r.delivery === dead[0].idempotency_key && r.status === 200),
    );
    await page.click(`${deadRow(dead[1])} >> text=Discard`);
    await page.waitForSelector(deadRow(dead[1]), { state: "detached" });
    await page.waitForSelector("#outbox-state >> text=No dead letters");
    const left = await api("GET", "/v1/outbox?kind=webhook.delivery&limit=200", { token });
    assert.ok(!left.body.data.some((i) => i.id === dead[1].id), "the discarded letter is gone");
    assert.equal(left.body.data.find((i) => i.id === dead[0].id).status, "delivered");

    step("integrations: a bad value shows the API's message; connect the Facebook page; disconnect");
    await page.click("#show-integrations");
    await page.waitForSelector("#meta-status >> text=not connected");
    await page.waitForSelector("#calendar-status >> text=not connected");
    await page.fill("#meta-page_id", "1001");
    await page.fill("#meta-app_id", "1234");
    await page.fill("#meta-page_access_token", "EAAB-page-access-token-0123456789");
    await page.fill("#meta-verify_token", "short");
    await page.click("#meta-form button[type=submit]");
    await page.waitForSelector("#meta-error:not([hidden])");
    assert.equal(await page.textContent("#meta-error"), "verify_token: at least 16 characters");
    await page.fill("#meta-verify_token", "verify-token-0123456789");
    await page.click("#meta-form button[type=submit]");
    await page.waitForSelector("#meta-status >> text=page 1001");
    const meta = await api("GET", "/v1/integrations/meta", { token });
    assert.equal(meta.body.page_id, "1001");
    assert.notEqual(meta.body.page_access_token, "EAAB-page-access-token-0123456789", "a secret is never shown back");
    assert.ok((await page.getAttribute("#meta-page_access_token", "placeholder")).includes(meta.body.page_access_token));
    assert.equal(await page.inputValue("#meta-page_access_token"), "");
    await page.screenshot({ path: join(shots, "integrations.png"), fullPage: true });
    await page.click("#meta-disconnect");
    await page.waitForSelector("#meta-status >> text=not connected");
    assert.equal((await api("GET", "/v1/integrations/meta", { token })).body.page_id, null);

    step("appointments: a booking made over the API shows in the week calendar; confirm; book and cancel in the page");
    let slot = null;
    for (let i = 1; i <= 7 && !slot; i += 1) {
      const date = new Date(Date.now() + i * 86400000).toISOString().slice(0, 10);
      const r = await api("GET", `/v1/appointments/availability?date=${date}`, { token });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      if (r.body.slots.length) slot = { date, ...r.body.slots[0] };
    }
    assert.ok(slot, "a free slot within a week");
    const booked = await api("POST", "/v1/appointments", {
      token,
      body: { starts_at: slot.starts_at, duration: 30, name: "Grace Hopper", email: "grace@example.com", inquiry: "Compiler demo" },
    });
    assert.equal(booked.status, 201, JSON.stringify(booked.body));
    await page.click("#show-appointments");
    await page.waitForSelector("#calendar .day");
    assert.equal(await page.locator("#calendar .day").count(), 7, "a week");
    const chip = `.booking[data-id="${booked.body.id}"]`;
    for (let i = 0; i < 3; i += 1) {
      await page.waitForFunction(() => document.querySelector("#calendar-state").textContent !== "Loading appointments…");
      if (await page.locator(chip).count()) break;
      await page.click("#calendar-next");
    }
    await page.waitForSelector(chip);
    assert.match(await page.textContent(chip), /Grace Hopper/);
    assert.equal(await page.getAttribute(chip, "data-status"), "pending");
    await page.screenshot({ path: join(shots, "appointments-week.png"), fullPage: true });
    await page.click(chip);
    await page.click("#appointment >> text=Confirm");
    await page.waitForSelector(`${chip}[data-status=confirmed]`);
    assert.equal((await api("GET", `/v1/appointments/${booked.body.id}`, { token })).body.status, "confirmed");
    await page.click(`.day:has(${chip}) .day-head`);
    await page.waitForSelector("#calendar[data-mode=day]");
    assert.equal(await page.locator("#calendar .day").count(), 1, "a day");
    await page.waitForSelector(`${chip} >> text=Compiler demo`);
    await page.fill("#book-date", slot.date);
    // The company's time zone is UTC: the day's free starts begin with its date.
    await page.waitForSelector(`#book-slot option[value^="${slot.date}"]`, { state: "attached" });
    await page.fill("#book-name", "Alan Turing");
    await page.click("#book-form button[type=submit]");
    await page.waitForSelector("#book-state >> text=Booked for");
    const from = new Date(Date.now()).toISOString();
    const listed = await api("GET", `/v1/appointments?from=${encodeURIComponent(from)}&limit=200`, { token });
    const alan = listed.body.data.find((a) => a.name === "Alan Turing");
    assert.ok(alan, JSON.stringify(listed.body));
    const alanChip = `.booking[data-id="${alan.id}"]`;
    await page.click(alanChip);
    await page.click("#appointment-cancel");
    await page.waitForSelector(alanChip, { state: "detached" });
    assert.equal((await api("GET", `/v1/appointments/${alan.id}`, { token })).body.status, "cancelled");
    await page.check("#calendar-cancelled");
    await page.waitForSelector(`${alanChip}[data-status=cancelled]`);
    await page.screenshot({ path: join(shots, "appointments-day.png"), fullPage: true });

    step("a phone shows one pane at a time: the list, then the conversation, where the agent answers");
    await page.click("#show-inbox");
    await page.waitForSelector("#thread-view:not([hidden])");
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok(await page.isVisible("#back"));
    assert.ok(!(await page.isVisible("#conversations")));
    await page.click("#back");
    assert.ok(await page.isVisible("#conversations"));
    assert.ok(!(await page.isVisible("#thread-view")));
    const fits = () => page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert.ok(await fits(), "nothing wider than the phone");
    await page.screenshot({ path: join(shots, "list-phone.png") });
    await page.click(`.conversation[data-id="${second.body.id}"]`);
    await page.waitForSelector("#thread-view:not([hidden])");
    assert.ok(!(await page.isVisible("#conversations")));
    await page.fill("#composer-body", "Answered from a phone");
    await page.press("#composer-body", "Enter");
    await page.waitForSelector(".message.out[data-sequence] >> text=Answered from a phone");
    assert.ok(await fits(), "nothing wider than the phone");
    await page.screenshot({ path: join(shots, "inbox-phone.png") });
    await page.click("#show-appointments");
    await page.waitForSelector("#calendar .day");
    assert.ok(await fits(), "the calendar fits the phone");
    await page.screenshot({ path: join(shots, "appointments-phone.png"), fullPage: true });
    await page.click("#show-inbox");

    step("the setup page's snippets work as printed");
    const snippetContext = await browser.newContext({ bypassCSP: true });
    const snippetPage = await snippetContext.newPage();
    const logged = [];
    snippetPage.on("console", (m) => logged.push(m.text()));
    await snippetPage.goto(`${base}/health`);
    await snippetPage.evaluate(`(async () => { ${wsSnippet} })()`);
    const snippetDevice = { app, key, device: "device-1" };
    const own = await api("POST", "/v1/conversations", { sdk: snippetDevice });
    // Sent before or after the snippet's resume, the message reaches it once (replay or live).
    await api("POST", `/v1/conversations/${own.body.id}/messages`, { sdk: snippetDevice, body: { body: "Hello!", local_id: "hello-1" } });
    await eventually("the snippet printed the message", async () => logged.includes("contact Hello!"));

    // The curl snippet, where curl and jq are installed: it posts into the same conversation, and
    // its local_id is the one used above, so it gets the same message back and stores nothing.
    const tools = ["curl", "jq"].every((tool) => {
      try {
        execFileSync("sh", ["-c", `command -v ${tool}`]);
        return true;
      } catch {
        return false;
      }
    });
    if (tools) {
      const out = JSON.parse(execFileSync("bash", ["-c", curlSnippet], { encoding: "utf8" }));
      assert.equal(out.body, "Hello!");
      assert.equal(out.conversation_id, own.body.id);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(logged.filter((l) => l === "contact Hello!").length, 1, "the retry stored nothing new");
    } else {
      console.log("info: curl or jq missing, the curl snippet was not run");
    }
    await snippetContext.close();

    assert.deepEqual(problems, [], "the page logged errors");
    failing = null;
  } finally {
    // What the page showed when a check failed.
    if (failing) await failing.screenshot({ path: join(shots, "failure.png"), fullPage: true }).catch(() => {});
    await browser.close();
    receiver.close();
  }
}

main().then(
  () => {
    console.log("all checks passed");
    process.exit(0);
  },
  (err) => {
    console.error(err);
    if (problems.length) console.error(problems.join("\n"));
    process.exit(1);
  },
);
