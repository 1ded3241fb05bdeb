// Team and apps: the team (invite, change roles, remove) and the apps with their API keys (create,
// rotate, revoke; a key is shown once). Agents see the team only; owners and admins manage both.

import { $, h, show } from "./dom.js";
import { all } from "./pages.js";
import { call, current } from "./session.js";

const RANK = { agent: 1, admin: 2, owner: 3 };

export class Settings {
  constructor() {
    $("invite-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.invite();
    });
    $("app-form").addEventListener("submit", (e) => {
      e.preventDefault();
      this.createApp();
    });
  }

  get admin() {
    return RANK[current.user.role] >= RANK.admin;
  }

  /** Loads both lists. */
  async load() {
    for (const el of document.querySelectorAll("[data-admin]")) show(el, this.admin);
    show($("new-key"), false);
    await Promise.all([this.loadTeam(), this.admin ? this.loadApps() : this.noApps()]);
  }

  fail(where, error) {
    const el = $(where);
    el.textContent = error ? error.message : "";
    show(el, Boolean(error));
  }

  async loadTeam() {
    this.fail("team-error", null);
    try {
      const users = await all("/v1/users");
      const me = current.user;
      $("team").replaceChildren(
        ...users.map((u) => {
          // Nobody acts on themselves or on someone ranked above them.
          const mayManage = this.admin && u.id !== me.id && RANK[u.role] <= RANK[me.role];
          const role = mayManage
            ? h(
                "select",
                { "aria-label": `Role of ${u.name}`, onchange: (e) => this.setRole(u, e.target.value) },
                ...Object.keys(RANK)
                  .filter((r) => RANK[r] <= RANK[me.role])
                  .map((r) => h("option", { value: r, selected: r === u.role }, r)),
              )
            : u.role;
          return h(
            "tr",
            { dataset: { id: u.id } },
            h("td", { text: u.id === me.id ? `${u.name} (you)` : u.name }),
            h("td", { text: u.email }),
            h("td", {}, role),
            h("td", {}, mayManage ? h("button", { type: "button", class: "link danger", onclick: () => this.remove(u) }, "Remove") : null),
          );
        }),
      );
    } catch (error) {
      this.fail("team-error", error);
    }
  }

  async invite() {
    try {
      await call("POST", "/v1/users", {
        name: $("invite-name").value.trim(),
        email: $("invite-email").value.trim(),
        role: $("invite-role").value,
      });
      $("invite-name").value = "";
      $("invite-email").value = "";
      await this.loadTeam();
    } catch (error) {
      this.fail("team-error", error);
    }
  }

  async setRole(user, role) {
    try {
      await call("PATCH", `/v1/users/${user.id}`, { role });
    } catch (error) {
      this.fail("team-error", error);
    }
    await this.loadTeam();
  }

  async remove(user) {
    if (!window.confirm(`Remove ${user.name} from the team?`)) return;
    try {
      await call("DELETE", `/v1/users/${user.id}`);
    } catch (error) {
      this.fail("team-error", error);
    }
    await this.loadTeam();
  }

  noApps() {
    $("apps").replaceChildren(h("p", { class: "muted", text: "Owners and admins manage apps and keys." }));
  }

  async loadApps() {
    this.fail("apps-error", null);
    try {
      const apps = await all("/v1/apps");
      const blocks = await Promise.all(apps.map(async (app) => this.appBlock(app, await all(`/v1/apps/${app.id}/keys`))));
      $("apps").replaceChildren(...(blocks.length ? blocks : [h("p", { class: "muted", text: "No app yet." })]));
    } catch (error) {
      this.fail("apps-error", error);
    }
  }

  appBlock(app, keys) {
    const live = keys.filter((k) => !k.revoked_at);
    return h(
      "div",
      { class: "app", dataset: { id: app.id } },
      h("h3", {}, app.name, " ", h("code", { class: "muted small", text: app.id })),
      h(
        "table",
        { class: "table" },
        h("thead", {}, h("tr", {}, h("th", {}, "Key"), h("th", {}, "Kind"), h("th", {}, "Last used"), h("th", {}, ""))),
        h(
          "tbody",
          {},
          ...live.map((k) =>
            h(
              "tr",
              { dataset: { id: k.id } },
              h("td", {}, h("code", { text: `${k.prefix}…` })),
              h("td", { text: k.kind + (k.expires_at ? ` (expires ${new Date(k.expires_at).toLocaleString()})` : "") }),
              h("td", { text: k.last_used_at ? new Date(k.last_used_at).toLocaleString() : "never" }),
              h(
                "td",
                { class: "row-actions" },
                h("button", { type: "button", class: "link", onclick: () => this.rotate(k) }, "Rotate"),
                h("button", { type: "button", class: "link danger", onclick: () => this.revoke(k) }, "Revoke"),
              ),
            ),
          ),
        ),
      ),
      h(
        "p",
        { class: "row-actions" },
        h("button", { type: "button", onclick: () => this.createKey(app, "client") }, "New client key"),
        h("button", { type: "button", onclick: () => this.createKey(app, "server") }, "New server key"),
      ),
    );
  }

  async createApp() {
    try {
      const app = await call("POST", "/v1/apps", { name: $("app-name").value.trim() });
      $("app-name").value = "";
      await this.createKey(app, "client");
    } catch (error) {
      this.fail("apps-error", error);
    }
  }

  async createKey(app, kind) {
    await this.showKey(() => call("POST", `/v1/apps/${app.id}/keys`, { kind }));
  }

  async rotate(key) {
    await this.showKey(() => call("POST", `/v1/keys/${key.id}/rotate`));
  }

  async revoke(key) {
    if (!window.confirm(`Revoke ${key.prefix}…? Devices and services using it are refused at once.`)) return;
    show($("new-key"), false);
    try {
      await call("DELETE", `/v1/keys/${key.id}`);
    } catch (error) {
      this.fail("apps-error", error);
    }
    await this.loadApps();
  }

  async showKey(issue) {
    try {
      const key = await issue();
      $("new-key-value").textContent = key.key;
      show($("new-key"), true);
    } catch (error) {
      this.fail("apps-error", error);
    }
    await this.loadApps();
  }
}
