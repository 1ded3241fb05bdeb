// Appointments: the company's bookings as a day or a week calendar (previous, today, next), each
// one's details with confirm / complete / no-show / cancel, and a booking form that offers the free
// slots of a day. Times are shown in the browser's time zone; business hours are the company's.

import { query } from "./api.js";
import { h, show } from "./dom.js";
import { Status, action, all, field } from "./pages.js";
import { call } from "./session.js";

const DAY_MS = 24 * 60 * 60 * 1000;
// What an agent may do next, by status (the API's transitions).
const NEXT = {
  pending: [["confirmed", "Confirm"]],
  confirmed: [
    ["completed", "Completed"],
    ["no_show", "No-show"],
  ],
};

/** Local midnight of the day `d` falls on. */
function midnight(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate());
}

/** `d` plus `n` days, at local midnight (a day is not always 24 hours long). */
function addDays(d, n) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
}

/** `YYYY-MM-DD` of a local date. */
function isoDate(d) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

const time = (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

export class Appointments {
  constructor(root) {
    this.mode = "week";
    this.anchor = midnight(new Date());
    this.items = [];
    this.selected = null;
    this.generation = 0;
    this.state = new Status({ id: "calendar-state" });
    this.title = h("h2", { id: "calendar-title" });
    this.modeButtons = ["day", "week"].map((mode) =>
      h("button", { type: "button", dataset: { mode }, "aria-pressed": String(mode === this.mode), onclick: () => this.setMode(mode) }, mode === "day" ? "Day" : "Week"),
    );
    this.showCancelled = h("input", { id: "calendar-cancelled", type: "checkbox", onchange: () => this.render() });
    this.grid = h("div", { id: "calendar", class: "calendar" });
    this.details = h("section", { id: "appointment", class: "card wide", hidden: true });
    this.bookState = new Status({ id: "book-state" });
    this.date = h("input", { id: "book-date", type: "date", required: true, onchange: () => this.loadSlots() });
    this.duration = h(
      "select",
      { id: "book-duration", onchange: () => this.loadSlots() },
      ...[15, 30, 45, 60].map((m) => h("option", { value: m, selected: m === 30 }, `${m} minutes`)),
    );
    this.slot = h("select", { id: "book-slot", required: true });
    this.name = h("input", { id: "book-name", required: true, maxlength: 200 });
    this.email = h("input", { id: "book-email", type: "email", maxlength: 254 });
    this.phone = h("input", { id: "book-phone", type: "tel", maxlength: 40 });
    this.inquiry = h("textarea", { id: "book-inquiry", rows: 2, maxlength: 2000 });
    this.confirmed = h("input", { id: "book-confirmed", type: "checkbox" });
    root.append(
      h(
        "div",
        { class: "settings-grid calendar-page" },
        h(
          "section",
          { class: "card wide" },
          h(
            "div",
            { class: "calendar-bar" },
            h(
              "div",
              { class: "row-actions" },
              h("button", { type: "button", id: "calendar-prev", "aria-label": "Previous", onclick: () => this.move(-1) }, "‹"),
              h("button", { type: "button", id: "calendar-today", onclick: () => this.go(new Date()) }, "Today"),
              h("button", { type: "button", id: "calendar-next", "aria-label": "Next", onclick: () => this.move(1) }, "›"),
            ),
            this.title,
            h("div", { class: "segmented", role: "group", "aria-label": "View" }, ...this.modeButtons),
          ),
          h("label", { class: "check" }, this.showCancelled, "Show cancelled"),
          this.state.el,
          this.grid,
          h("p", { class: "muted small", text: "Times are in your browser's time zone." }),
        ),
        this.details,
        h(
          "section",
          { class: "card wide" },
          h("h2", { text: "Book an appointment" }),
          h(
            "form",
            { id: "book-form", class: "stack-form", onsubmit: (e) => (e.preventDefault(), this.book()) },
            h("div", { class: "inline-form" }, field("Day", this.date), field("Length", this.duration), field("Free time", this.slot)),
            h("div", { class: "inline-form" }, field("Name", this.name), field("E-mail", this.email), field("Phone", this.phone)),
            field("What about", this.inquiry),
            h("label", { class: "check" }, this.confirmed, "Confirmed already"),
            h("p", {}, h("button", { type: "submit", class: "primary" }, "Book")),
          ),
          this.bookState.el,
        ),
      ),
    );
  }

  /** The first day shown and the day after the last. */
  range() {
    if (this.mode === "day") return [this.anchor, addDays(this.anchor, 1)];
    const monday = addDays(this.anchor, -((this.anchor.getDay() + 6) % 7));
    return [monday, addDays(monday, 7)];
  }

  setMode(mode) {
    this.mode = mode;
    for (const b of this.modeButtons) b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
    this.load();
  }

  openDay(day) {
    this.anchor = midnight(day);
    this.setMode("day");
  }

  move(step) {
    this.go(addDays(this.anchor, step * (this.mode === "day" ? 1 : 7)));
  }

  go(day) {
    this.anchor = midnight(day);
    this.load();
  }

  async load() {
    if (!this.date.value) {
      this.date.value = isoDate(this.anchor);
      this.loadSlots();
    }
    const generation = ++this.generation;
    const [from, to] = this.range();
    this.title.textContent =
      this.mode === "day"
        ? from.toLocaleDateString([], { weekday: "long", day: "numeric", month: "long", year: "numeric" })
        : `${from.toLocaleDateString([], { day: "numeric", month: "short" })} – ${addDays(to, -1).toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" })}`;
    this.state.set("Loading appointments…");
    try {
      const items = await all(`/v1/appointments${query({ from: from.toISOString(), to: to.toISOString() })}`);
      if (generation !== this.generation) return;
      this.items = items;
      this.render();
      if (this.selected) {
        const still = items.find((a) => a.id === this.selected.id);
        this.select(still || null);
      }
    } catch (error) {
      if (generation === this.generation) {
        this.grid.replaceChildren();
        this.state.fail(error);
      }
    }
  }

  render() {
    const [from, to] = this.range();
    const shown = this.items.filter((a) => this.showCancelled.checked || a.status !== "cancelled");
    const days = [];
    for (let d = from; d < to; d = addDays(d, 1)) days.push(d);
    const today = midnight(new Date()).getTime();
    this.grid.dataset.mode = this.mode;
    this.grid.replaceChildren(
      ...days.map((day) => {
        const next = addDays(day, 1);
        const mine = shown.filter((a) => {
          const t = new Date(a.starts_at);
          return t >= day && t < next;
        });
        return h(
          "div",
          { class: `day${day.getTime() === today ? " today" : ""}`, dataset: { date: isoDate(day) } },
          h(
            "button",
            { type: "button", class: "link day-head", title: "Show this day", onclick: () => this.openDay(day) },
            day.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" }),
          ),
          mine.length
            ? h("ol", { class: "bookings" }, ...mine.map((a) => h("li", {}, this.chip(a))))
            : h("p", { class: "muted small free", text: "Nothing booked" }),
        );
      }),
    );
    this.state.set(shown.length ? "" : this.mode === "day" ? "No appointment on this day." : "No appointment this week.");
  }

  chip(a) {
    return h(
      "button",
      {
        type: "button",
        class: `booking ${a.status}${this.selected && this.selected.id === a.id ? " selected" : ""}`,
        dataset: { id: a.id, status: a.status },
        onclick: () => this.select(a),
      },
      h("span", { class: "booking-time", text: `${time(a.starts_at)}–${time(a.ends_at)}` }),
      h("span", { class: "booking-who", text: a.name || a.email || "No name" }),
      this.mode === "day" && a.inquiry ? h("span", { class: "booking-what muted", text: a.inquiry }) : null,
      h("span", { class: "booking-status", text: a.status.replace("_", "-") }),
    );
  }

  /** Shows an appointment's details and what can be done with it. */
  select(a) {
    this.selected = a;
    show(this.details, Boolean(a));
    this.render();
    if (!a) return;
    const error = new Status({ id: "appointment-error" });
    const rows = [
      ["When", `${new Date(a.starts_at).toLocaleString([], { dateStyle: "full", timeStyle: "short" })} (${a.duration} min)`],
      ["Status", a.status.replace("_", "-")],
      ["Name", a.name],
      ["E-mail", a.email],
      ["Phone", a.phone],
      ["Company", a.company_name],
      ["What about", a.inquiry],
      ["Booked by", a.created_by.startsWith("contact:") ? "the customer" : "an agent"],
    ].filter(([, v]) => v);
    const actions = (NEXT[a.status] || []).map(([status, label]) => action(label, () => this.setStatus(a, status, error), { class: "primary" }));
    if (a.status === "pending" || a.status === "confirmed") {
      actions.push(action("Cancel appointment", () => this.cancel(a, error), { class: "danger", id: "appointment-cancel" }));
    }
    this.details.replaceChildren(
      h("div", { class: "card-head" }, h("h2", { text: a.name || "Appointment" }), h("button", { type: "button", class: "link", onclick: () => this.select(null) }, "Close")),
      h("dl", { class: "details" }, ...rows.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])),
      h("p", { class: "row-actions" }, ...actions),
      error.el,
    );
  }

  async setStatus(a, status, error) {
    try {
      this.selected = await call("PATCH", `/v1/appointments/${a.id}`, { status });
      await this.load();
    } catch (e) {
      error.fail(e);
    }
  }

  async cancel(a, error) {
    if (!window.confirm(`Cancel the appointment of ${a.name || a.email || "this customer"}?`)) return;
    try {
      this.selected = await call("DELETE", `/v1/appointments/${a.id}`);
      await this.load();
    } catch (e) {
      error.fail(e);
    }
  }

  /** The free starts of the chosen day, for the booking form. */
  async loadSlots() {
    const generation = (this.slotGeneration = (this.slotGeneration || 0) + 1);
    this.bookState.clear();
    this.slot.replaceChildren(h("option", { value: "" }, "Loading…"));
    try {
      const day = await call("GET", `/v1/appointments/availability${query({ date: this.date.value, duration: this.duration.value })}`);
      if (generation !== this.slotGeneration) return;
      this.slot.replaceChildren(
        ...(day.slots.length
          ? day.slots.map((s) => h("option", { value: s.starts_at }, time(s.starts_at)))
          : [h("option", { value: "" }, "No free time that day")]),
      );
    } catch (error) {
      if (generation !== this.slotGeneration) return;
      this.slot.replaceChildren(h("option", { value: "" }, "—"));
      this.bookState.fail(error);
    }
  }

  async book() {
    this.bookState.clear();
    if (!this.slot.value) {
      this.bookState.set("Choose a day with free time first.", true);
      return;
    }
    const text = (input) => input.value.trim() || undefined;
    try {
      const booked = await call("POST", "/v1/appointments", {
        starts_at: this.slot.value,
        duration: Number(this.duration.value),
        name: text(this.name),
        email: text(this.email),
        phone: text(this.phone),
        inquiry: text(this.inquiry),
        status: this.confirmed.checked ? "confirmed" : undefined,
      });
      for (const input of [this.name, this.email, this.phone, this.inquiry]) input.value = "";
      this.selected = booked;
      this.anchor = midnight(new Date(booked.starts_at));
      // The slot taken leaves the free times; the confirmation comes after, as loading clears the line.
      await Promise.all([this.load(), this.loadSlots()]);
      this.bookState.set(`Booked for ${new Date(booked.starts_at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" })}.`);
    } catch (error) {
      this.bookState.fail(error);
    }
  }
}
