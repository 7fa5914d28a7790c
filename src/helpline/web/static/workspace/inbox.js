// The inbox column: views with counts, filters (saved per agent), the list sorted
// by priority score or waiting time, and bulk actions. It reloads itself (debounced)
// whenever the agent socket reports a change, so it is live without polling.

import { api, query } from "./api.js";
import { PRIORITY_LABELS, STATUS_LABELS, clock, contactName, el, frustrationLevel, frustrationOf, frustrationShown, initials, slaDeadline } from "./format.js";

const RELOAD_DELAY_MS = 120;

export class Inbox {
  constructor(app, boot) {
    this.app = app;
    this.views = boot.views;
    // Like /inbox: agents start on Mine, supervisors and admins on All.
    this.view = this.views.some((view) => view.key === "all") ? "all" : "mine";
    this.savedViews = boot.saved_views || [];
    this.rows = [];
    this.selected = new Set();
    this.timer = null;
    this.form = document.getElementById("ws-filters");
    this.list = document.getElementById("ws-list");
    this.countLine = document.getElementById("ws-list-count");
    this.viewTabs = document.getElementById("ws-views");
    this.savedSelect = document.getElementById("ws-saved-views");
    this.bulkBar = document.getElementById("ws-bulk");
    this.counts = {};
    this.buildViews();
    this.renderSaved();
    this.form.addEventListener("change", () => this.reload({ now: true }));
    this.form.addEventListener("input", (event) => {
      if (event.target.type === "text") this.reload();
    });
    this.form.addEventListener("submit", (event) => event.preventDefault());
    this.savedSelect.addEventListener("change", () => this.applySaved(this.savedSelect.value));
    document.getElementById("ws-save-view").addEventListener("click", () => this.saveView());
    document.getElementById("ws-delete-view").addEventListener("click", () => this.deleteView());
    document.getElementById("ws-bulk-apply").addEventListener("click", () => this.applyBulk());
    this.list.addEventListener("keydown", (event) => this.onListKey(event));
  }

  buildViews() {
    this.viewButtons = new Map();
    for (const view of this.views) {
      const count = el("span", { class: "count", text: "" });
      const button = el(
        "button",
        { type: "button", role: "tab", "aria-selected": String(view.key === this.view), "data-view": view.key },
        view.label,
        " ",
        count,
      );
      button.addEventListener("click", () => this.setView(view.key));
      button.addEventListener("keydown", (event) => {
        if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
        const keys = this.views.map((v) => v.key);
        const next = keys[(keys.indexOf(view.key) + (event.key === "ArrowRight" ? 1 : -1) + keys.length) % keys.length];
        this.setView(next);
        this.viewButtons.get(next).button.focus();
      });
      this.viewButtons.set(view.key, { button, count });
      this.viewTabs.append(button);
    }
  }

  setView(key) {
    this.view = key;
    for (const [name, { button }] of this.viewButtons) {
      button.setAttribute("aria-selected", String(name === key));
      button.tabIndex = name === key ? 0 : -1;
    }
    this.selected.clear();
    this.reload({ now: true });
  }

  filters() {
    const data = new FormData(this.form);
    return {
      view: this.view,
      status: data.get("status") || "active",
      sort: data.get("sort") || "priority",
      priority: data.get("priority") || "",
      channel: data.get("channel") || "",
      category: (data.get("category") || "").trim(),
      tag: (data.get("tag") || "").trim(),
      language: (data.get("language") || "").trim(),
      sla_risk: data.get("sla_risk") === "on",
    };
  }

  setFilters(filters) {
    for (const element of this.form.elements) {
      if (!element.name) continue;
      const value = filters[element.name];
      if (element.type === "checkbox") element.checked = Boolean(value);
      else if (element.tagName === "SELECT") element.value = value || element.options[0].value;
      else element.value = value || "";
    }
    if (filters.view && this.viewButtons.has(filters.view)) this.setView(filters.view);
    else this.reload({ now: true });
  }

  reload({ now = false } = {}) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fetch(), now ? 0 : RELOAD_DELAY_MS);
  }

  async fetch() {
    const filters = this.filters();
    const token = (this.token = (this.token || 0) + 1);
    let page;
    try {
      page = await api("GET", `/workspace/inbox${query(filters)}`);
    } catch (error) {
      this.countLine.textContent = error.message;
      return;
    }
    if (token !== this.token) return; // a newer reload is on its way
    this.rows = page.data;
    this.counts = page.counts;
    for (const [key, { count }] of this.viewButtons) {
      const value = page.counts[key];
      count.textContent = value === undefined ? "" : String(value);
    }
    const known = new Set(this.rows.map((row) => row.id));
    for (const id of [...this.selected]) if (!known.has(id)) this.selected.delete(id);
    this.countLine.textContent = `${page.count} conversation${page.count === 1 ? "" : "s"}`;
    this.render();
    this.app.onInboxLoaded(page);
  }

  render() {
    const focused = document.activeElement && this.list.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    const items = this.rows.map((conversation) => this.renderRow(conversation));
    this.list.replaceChildren(...items);
    if (!items.length) this.list.append(el("li", { class: "empty muted", text: "Nothing here." }));
    if (focused) {
      const again = this.list.querySelector(`.row-open[data-id="${focused}"]`);
      if (again) again.focus();
    }
    this.renderBulk();
    this.tick(Date.now());
  }

  renderRow(conversation) {
    const name = contactName(conversation);
    const checkbox = el("input", {
      type: "checkbox",
      class: "row-select",
      "aria-label": `Select #${conversation.number} ${name}`,
    });
    checkbox.checked = this.selected.has(conversation.id);
    checkbox.addEventListener("change", () => {
      if (checkbox.checked) this.selected.add(conversation.id);
      else this.selected.delete(conversation.id);
      this.renderBulk();
    });
    const pane = this.app.panes.get(conversation.id);
    const frustration = frustrationOf(conversation);
    const deadline = slaDeadline(conversation);
    const open = el(
      "button",
      {
        type: "button",
        class: "row-open",
        "data-id": conversation.id,
        "aria-label": `#${conversation.number} ${name}: ${conversation.subject || "no subject"}, ${PRIORITY_LABELS[conversation.priority]} priority, ${STATUS_LABELS[conversation.status]}`,
      },
      el("span", { class: "avatar small", "aria-hidden": "true", text: initials(name) }),
      el(
        "span",
        { class: "row-main" },
        el("span", { class: "row-top" }, el("span", { class: "row-name", text: name }), el("span", { class: "row-number", text: `#${conversation.number}` })),
        el("span", { class: "row-subject", text: conversation.subject || "(no subject)" }),
        el(
          "span",
          { class: "row-badges" },
          el("span", {
            class: "badge priority",
            "data-priority": conversation.priority,
            text: `${PRIORITY_LABELS[conversation.priority]} · ${Math.round(conversation.priority_score || 0)}`,
          }),
          el("span", { class: "badge status", "data-status": conversation.status, text: STATUS_LABELS[conversation.status] }),
          frustrationShown(frustration)
            ? el("span", {
                class: "badge frustration",
                "data-level": frustrationLevel(frustration),
                title: frustration.reasons.filter(Boolean).join("; "),
                text: `Frustration ${frustrationLevel(frustration)}`,
              })
            : null,
          conversation.assignee ? el("span", { class: "row-assignee", text: conversation.assignee.name }) : el("span", { class: "row-assignee muted", text: "Unassigned" }),
          el("span", { class: "row-wait", "data-waiting-since": conversation.waiting_since || "" }),
          deadline ? el("span", { class: "row-sla", "data-due": deadline.due }) : null,
          pane && pane.unread ? el("span", { class: "badge unread", text: `${pane.unread} new` }) : null,
        ),
      ),
    );
    open.addEventListener("click", () => this.app.openConversation(conversation.id, { focus: true }));
    if (pane) open.classList.add("is-open");
    return el("li", { class: "row", "data-id": conversation.id }, checkbox, open);
  }

  tick(now) {
    for (const span of this.list.querySelectorAll(".row-wait")) {
      const since = span.dataset.waitingSince;
      span.textContent = since ? `waiting ${clock((now - new Date(since).getTime()) / 1000)}` : "";
    }
    for (const span of this.list.querySelectorAll(".row-sla")) {
      const left = (new Date(span.dataset.due).getTime() - now) / 1000;
      span.textContent = left < 0 ? `SLA overdue ${clock(-left)}` : `SLA ${clock(left)}`;
      span.dataset.state = left < 0 ? "missed" : left < 1800 ? "soon" : "ok";
    }
  }

  onListKey(event) {
    const buttons = [...this.list.querySelectorAll(".row-open")];
    const index = buttons.indexOf(document.activeElement);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = buttons[Math.max(0, Math.min(buttons.length - 1, index + (event.key === "ArrowDown" ? 1 : -1)))];
      if (next) next.focus();
    }
  }

  focusList() {
    const first = this.list.querySelector(".row-open");
    if (first) first.focus();
  }

  /** The conversation after (or before) `id` in the list, for next/previous ticket. */
  neighbour(id, step) {
    if (!this.rows.length) return null;
    const index = this.rows.findIndex((row) => row.id === id);
    if (index === -1) return this.rows[step > 0 ? 0 : this.rows.length - 1].id;
    const next = this.rows[index + step];
    return next ? next.id : null;
  }

  // ------------------------------------------------------------------ saved views

  renderSaved(selectedId = "") {
    this.savedSelect.replaceChildren(el("option", { value: "", text: "—" }));
    for (const view of this.savedViews) {
      this.savedSelect.append(el("option", { value: view.id, text: view.name }));
    }
    this.savedSelect.value = selectedId;
    document.getElementById("ws-delete-view").disabled = !selectedId;
  }

  applySaved(id) {
    document.getElementById("ws-delete-view").disabled = !id;
    const view = this.savedViews.find((item) => item.id === id);
    if (view) this.setFilters(view.filters);
  }

  async saveView() {
    const values = await this.app.dialogs.ask({
      title: "Save these filters",
      submit: "Save",
      fields: [{ name: "name", label: "Name", type: "text", required: true }],
    });
    if (!values) return;
    const filters = this.filters();
    try {
      const saved = await api("POST", "/workspace/views", { name: values.name, filters });
      this.savedViews = this.savedViews.filter((view) => view.id !== saved.id).concat([saved]);
      this.renderSaved(saved.id);
      this.app.toast(`Saved “${saved.name}”`);
    } catch (error) {
      this.app.toast(error.message, "error");
    }
  }

  async deleteView() {
    const id = this.savedSelect.value;
    if (!id) return;
    try {
      await api("DELETE", `/workspace/views/${encodeURIComponent(id)}`);
      this.savedViews = this.savedViews.filter((view) => view.id !== id);
      this.renderSaved();
    } catch (error) {
      this.app.toast(error.message, "error");
    }
  }

  // ------------------------------------------------------------------ bulk actions

  renderBulk() {
    this.bulkBar.hidden = this.selected.size === 0;
    document.getElementById("ws-bulk-count").textContent = `${this.selected.size} selected`;
  }

  async applyBulk() {
    const choice = document.getElementById("ws-bulk-action").value;
    const body = { conversation_ids: [...this.selected] };
    if (choice === "assign-me") Object.assign(body, { action: "assign", assignee_id: this.app.user.id });
    else if (choice === "unassign") Object.assign(body, { action: "assign", assignee_id: null });
    else if (choice === "assign") {
      const values = await this.app.dialogs.ask({
        title: `Assign ${this.selected.size} conversations`,
        submit: "Assign",
        fields: [{ name: "assignee_id", label: "Agent", type: "select", options: this.app.agentOptions() }],
      });
      if (!values) return;
      Object.assign(body, { action: "assign", assignee_id: Number(values.assignee_id) });
    } else if (choice.startsWith("status-")) Object.assign(body, { action: "status", status: choice.slice(7) });
    else if (choice === "tag") {
      const values = await this.app.dialogs.ask({
        title: `Tag ${this.selected.size} conversations`,
        submit: "Add tag",
        fields: [{ name: "tag", label: "Tag", type: "text", required: true }],
      });
      if (!values) return;
      Object.assign(body, { action: "tag", tag: values.tag });
    }
    try {
      const result = await api("POST", "/workspace/bulk", body);
      const done = result.count - result.failed;
      this.app.toast(
        result.failed ? `${done} changed, ${result.failed} refused (${result.data.find((r) => !r.ok).message})` : `${done} changed`,
        result.failed ? "error" : "info",
      );
      this.selected.clear();
      this.reload({ now: true });
    } catch (error) {
      this.app.toast(error.message, "error");
    }
  }
}
