// A smoke of the web inbox in Firefox (Debian's firefox-esr), driven over WebDriver BiDi with Node's
// own WebSocket client, no driver package: the pages' modules load under their CSP, an agent logs in,
// the live connection comes up, the conversation list and a message show, and the other pages open.
//   node --experimental-websocket firefox.mjs http://127.0.0.1:PORT EMAIL PASSWORD
// Exits 0 when every check holds. Runs after e2e.mjs, on the data it left.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [base, email, password] = process.argv.slice(2);
if (!base || !password) {
  console.error("usage: node --experimental-websocket firefox.mjs http://127.0.0.1:PORT EMAIL PASSWORD");
  process.exit(2);
}
const WAIT_MS = 15000;
const step = (name) => console.log(`step: ${name}`);

const profile = mkdtempSync(join(tmpdir(), "tidings-firefox-"));
// No first-run pages, updates or telemetry: a quiet browser that only loads what the test asks for.
writeFileSync(
  join(profile, "user.js"),
  [
    'user_pref("browser.shell.checkDefaultBrowser", false);',
    'user_pref("browser.startup.homepage_override.mstone", "ignore");',
    'user_pref("datareporting.policy.dataSubmissionEnabled", false);',
    'user_pref("app.update.enabled", false);',
    'user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);',
  ].join("\n"),
);
const firefox = spawn(process.env.FIREFOX || "firefox-esr", ["--headless", "--no-remote", "--profile", profile, "--remote-debugging-port", "0"], {
  stdio: ["ignore", "ignore", "pipe"],
});

/** The BiDi address Firefox prints once it listens. */
const address = new Promise((resolve, reject) => {
  let seen = "";
  firefox.stderr.on("data", (chunk) => {
    seen += chunk;
    const m = seen.match(/WebDriver BiDi listening on (ws:\/\/\S+)/);
    if (m) resolve(m[1]);
  });
  firefox.on("exit", (code) => reject(new Error(`firefox exited (${code}): ${seen}`)));
  setTimeout(() => reject(new Error(`firefox did not listen: ${seen}`)), 30000);
});

let ws;
let nextId = 1;
const pending = new Map();
const errors = [];

function send(method, params = {}) {
  const id = nextId++;
  ws.send(JSON.stringify({ id, method, params }));
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
}

async function connect() {
  ws = new WebSocket(`${await address}/session`);
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.id && pending.has(msg.id)) {
      const { resolve, reject, method } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.type === "error") reject(new Error(`${method}: ${msg.error} ${msg.message}`));
      else resolve(msg.result);
    } else if (msg.method === "log.entryAdded" && msg.params.level === "error") {
      errors.push(msg.params.text);
    }
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error("cannot reach firefox's BiDi socket"));
  });
}

let context;

/** Runs `expression` in the page and returns its value (JSON-able results only). */
async function js(expression) {
  const r = await send("script.evaluate", {
    expression: `(async () => JSON.stringify(await (${expression})))()`,
    target: { context },
    awaitPromise: true,
  });
  if (r.type === "exception") throw new Error(`in the page: ${r.exceptionDetails.text}`);
  return r.result.value === undefined ? undefined : JSON.parse(r.result.value);
}

async function eventually(what, expression) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await js(expression);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main() {
  await connect();
  const session = await send("session.new", { capabilities: {} });
  console.log(`info: ${session.capabilities.browserName} ${session.capabilities.browserVersion}`);
  await send("session.subscribe", { events: ["log.entryAdded"] });
  context = (await send("browsingContext.getTree", {})).contexts[0].context;

  step("the login form");
  await send("browsingContext.navigate", { context, url: `${base}/`, wait: "complete" });
  await eventually("the login form", `!document.getElementById("login").hidden`);

  step("a wrong password shows the API's message");
  const login = (pw) => `(() => {
    document.getElementById("login-email").value = ${JSON.stringify(email)};
    document.getElementById("login-password").value = ${JSON.stringify(pw)};
    document.getElementById("login-submit").click();
    return true;
  })()`;
  await js(login("not the password"));
  await eventually("the error", `document.getElementById("login-error").textContent === "invalid e-mail or password"`);

  step("log in: the list, live");
  await js(login(password));
  await eventually("the inbox", `!document.getElementById("inbox").hidden`);
  await eventually("live", `document.getElementById("live").dataset.state === "live"`);
  await eventually("conversations listed", `document.querySelectorAll(".conversation").length > 0`);
  const preview = await js(`document.querySelector(".conversation .preview").textContent`);
  assert.ok(preview.length > 0, "a preview");

  step("a conversation opens with its messages");
  await js(`(document.querySelector(".conversation").click(), true)`);
  await eventually("messages", `document.querySelectorAll(".message").length > 0`);

  step("the other pages open");
  await js(`(document.getElementById("show-appointments").click(), true)`);
  await eventually("the calendar", `document.querySelectorAll("#calendar .day").length === 7`);
  await js(`(document.getElementById("show-webhooks").click(), true)`);
  await eventually("the endpoints", `document.querySelectorAll("#webhooks tbody tr").length > 0`);
  await js(`(document.getElementById("show-outbox").click(), true)`);
  await eventually("the dead letters' state", `document.getElementById("outbox-state").textContent.length > 0 || document.querySelector("#outbox tbody tr") !== null`);

  // CSP refusals and script errors land in the console.
  assert.deepEqual(errors, [], "the page logged errors");
}

main()
  .then(
    () => {
      console.log("all checks passed");
      return 0;
    },
    (err) => {
      console.error(err);
      return 1;
    },
  )
  .then(async (code) => {
    try {
      await Promise.race([send("session.end"), new Promise((r) => setTimeout(r, 2000))]);
    } catch {
      // Closing anyway.
    }
    firefox.kill();
    rmSync(profile, { recursive: true, force: true });
    process.exit(code);
  });
