// Dialogs of the workspace: a small generic form (transfer, tags, assign, new
// ticket…), the cheat sheet with remapping, and the Ctrl+K command palette. All are
// native <dialog> elements: modal, focus kept inside, Esc closes.

import { api } from "./api.js";
import { el, PRIORITY_LABELS } from "./format.js";
import { chordFromEvent, display, takenHere } from "./keys.js";

export class Dialogs {
  constructor(app) {
    this.app = app;
    this.capturing = false;
    this.formDialog = document.getElementById("ws-form-dialog");
    this.cheat = document.getElementById("ws-cheatsheet");
    this.paletteDialog = document.getElementById("ws-palette");
    for (const dialog of [this.formDialog, this.cheat, this.paletteDialog]) {
      for (const button of dialog.querySelectorAll("[data-close]")) {
        button.addEventListener("click", () => dialog.close());
      }
    }
    this.setupRemap();
    this.setupPalette();
  }

  isOpen() {
    return [this.formDialog, this.cheat, this.paletteDialog].some((dialog) => dialog.open);
  }

  // ------------------------------------------------------------------ generic form

  ask({ title, fields, submit = "OK" }) {
    const dialog = this.formDialog;
    const form = document.getElementById("ws-form");
    const box = document.getElementById("ws-form-fields");
    const error = document.getElementById("ws-form-error");
    document.getElementById("ws-form-title").textContent = title;
    document.getElementById("ws-form-submit").textContent = submit;
    error.hidden = true;
    box.replaceChildren(
      ...fields.map((field) => {
        let control;
        if (field.type === "select") {
          control = el("select", { name: field.name });
          for (const option of field.options) control.append(el("option", { value: option.value, text: option.label }));
          if (field.value !== undefined) control.value = field.value;
        } else if (field.type === "textarea") {
          control = el("textarea", { name: field.name, rows: "3" });
          control.value = field.value || "";
        } else {
          control = el("input", { type: field.type || "text", name: field.name, autocomplete: "off" });
          control.value = field.value || "";
        }
        if (field.required) control.required = true;
        return el("label", {}, field.label, control);
      }),
    );
    return new Promise((resolve) => {
      const done = (value) => {
        form.removeEventListener("submit", onSubmit);
        dialog.removeEventListener("close", onClose);
        resolve(value);
      };
      const onSubmit = (event) => {
        event.preventDefault();
        const values = Object.fromEntries(new FormData(form).entries());
        dialog.close();
        done(values);
      };
      const onClose = () => done(null);
      form.addEventListener("submit", onSubmit);
      dialog.addEventListener("close", onClose);
      dialog.showModal();
      const first = box.querySelector("input, select, textarea");
      if (first) first.focus();
    });
  }

  teamOptions({ minTier = 1 } = {}) {
    return [{ value: "", label: "— no team —" }].concat(
      this.app.boot.teams.filter((team) => team.tier >= minTier).map((team) => ({ value: String(team.id), label: `${team.name} (tier ${team.tier})` })),
    );
  }

  async transfer(pane) {
    const values = await this.ask({
      title: `Transfer chat #${pane.conversation.number} (${pane.name})`,
      submit: "Transfer",
      fields: [
        { name: "to_team_id", label: "To team", type: "select", options: this.teamOptions() },
        { name: "to_user_id", label: "To agent", type: "select", options: [{ value: "", label: "— anyone in the team —" }].concat(this.app.agentOptions()) },
        { name: "note", label: "Note for the colleague", type: "textarea" },
      ],
    });
    if (!values) return;
    const body = {};
    if (values.to_team_id) body.to_team_id = Number(values.to_team_id);
    if (values.to_user_id) body.to_user_id = Number(values.to_user_id);
    if (values.note && values.note.trim()) body.note = values.note.trim();
    if (!body.to_team_id && !body.to_user_id) return this.app.toast("Choose a team or an agent", "error");
    await this.write(pane, `/conversations/${pane.id}/transfer`, body, `Chat #${pane.conversation.number} transferred`);
  }

  async escalate(pane) {
    const options = this.teamOptions({ minTier: 2 }).filter((option) => option.value);
    if (!options.length) return this.app.toast("There is no tier-2 team to escalate to", "error");
    const values = await this.ask({
      title: `Escalate chat #${pane.conversation.number}`,
      submit: "Escalate",
      fields: [
        { name: "to_team_id", label: "Tier-2 team", type: "select", options },
        { name: "note", label: "Why (for the team)", type: "textarea", required: true },
      ],
    });
    if (!values) return;
    await this.write(
      pane,
      `/conversations/${pane.id}/transfer`,
      { to_team_id: Number(values.to_team_id), note: `Escalated: ${values.note.trim()}` },
      `Chat #${pane.conversation.number} escalated`,
    );
  }

  async assign(pane) {
    const values = await this.ask({
      title: `Assign chat #${pane.conversation.number}`,
      submit: "Assign",
      fields: [
        {
          name: "assignee_id",
          label: "Agent",
          type: "select",
          options: [{ value: "", label: "— unassigned —" }].concat(this.app.agentOptions()),
          value: pane.conversation.assignee ? String(pane.conversation.assignee.id) : String(this.app.user.id),
        },
      ],
    });
    if (!values) return;
    await this.write(
      pane,
      `/conversations/${pane.id}/assign`,
      { assignee_id: values.assignee_id ? Number(values.assignee_id) : null },
      "Assignment changed",
    );
  }

  async tags(pane) {
    const values = await this.ask({
      title: `Tags of chat #${pane.conversation.number}`,
      submit: "Save tags",
      fields: [{ name: "tags", label: "Tags, comma separated", value: (pane.conversation.tags || []).join(", ") }],
    });
    if (!values) return;
    const tags = values.tags.split(",").map((tag) => tag.trim()).filter(Boolean);
    try {
      await api("PUT", `/conversations/${pane.id}/tags`, { tags });
      pane.refresh();
      this.app.inbox.reload();
    } catch (error) {
      this.app.toast(error.message, "error");
    }
  }

  async category(pane) {
    const values = await this.ask({
      title: `Category of chat #${pane.conversation.number}`,
      submit: "Save",
      fields: [{ name: "category", label: "Category", value: pane.conversation.category || "" }],
    });
    if (!values || !values.category.trim()) return;
    await pane.patch({ category: values.category.trim() });
  }

  async write(pane, path, body, done) {
    try {
      await api("POST", path, body);
      this.app.toast(done);
      pane.refresh();
      this.app.inbox.reload();
    } catch (error) {
      this.app.toast(error.message, "error");
    }
  }

  async newTicket() {
    const inboxes = this.app.boot.inboxes;
    if (!inboxes.length) return this.app.toast("You are not a member of any inbox", "error");
    const values = await this.ask({
      title: "New ticket",
      submit: "Create",
      fields: [
        { name: "inbox_id", label: "Inbox", type: "select", options: inboxes.map((inbox) => ({ value: String(inbox.id), label: inbox.name })) },
        { name: "email", label: "Customer email", type: "email", required: true },
        { name: "name", label: "Customer name" },
        { name: "subject", label: "Subject", required: true },
        { name: "priority", label: "Priority", type: "select", options: Object.entries(PRIORITY_LABELS).map(([value, label]) => ({ value, label })), value: "normal" },
        { name: "first_message", label: "What the customer asked", type: "textarea" },
      ],
    });
    if (!values) return;
    try {
      const body = {
        inbox_id: Number(values.inbox_id),
        contact: { email: values.email.trim(), ...(values.name.trim() ? { name: values.name.trim() } : {}) },
        subject: values.subject.trim(),
        priority: values.priority,
      };
      if (values.first_message.trim()) body.first_message = values.first_message.trim();
      const created = await api("POST", "/conversations", body);
      await this.app.openConversation(created.id, { focus: true });
      this.app.inbox.reload();
    } catch (error) {
      this.app.toast(error.message, "error");
    }
  }

  // ------------------------------------------------------------------ cheat sheet

  cheatSheet() {
    if (this.paletteDialog.open) this.paletteDialog.close();
    this.renderCheatSheet();
    if (!this.cheat.open) this.cheat.showModal();
    const first = this.cheat.querySelector("button");
    if (first) first.focus();
  }

  renderCheatSheet() {
    const app = this.app;
    const body = document.getElementById("ws-cheatsheet-body");
    const note = document.getElementById("ws-cheatsheet-note");
    note.textContent =
      (app.env.windows || app.sawAltGraph ? app.boot.altgr_note + " " : "") +
      "Shown first: the shortcuts that work in this browser. Enter sends, Shift+Enter starts a new line, / in the composer opens canned responses.";
    const groups = new Map();
    for (const action of app.boot.actions) {
      if (!groups.has(action.group)) groups.set(action.group, []);
      groups.get(action.group).push(action);
    }
    const sections = [];
    for (const [group, actions] of groups) {
      const table = el("table", { class: "cheat" }, el("caption", { text: group }));
      for (const action of actions) {
        const { working, taken } = app.keymap.describe(action.name, app.env, app.sawAltGraph);
        const keys = el("td", { class: "keys" });
        for (const chord of working) keys.append(el("kbd", { class: "works", text: display(chord) }), " ");
        if (!working.length && !taken.length) keys.append(el("span", { class: "muted", text: "none" }));
        const takenCell = el("td", { class: "taken small muted" });
        for (const item of taken) {
          takenCell.append(el("span", { class: "taken-chord" }, el("kbd", { class: "taken", text: display(item.chord) }), ` may not work here: ${item.reason}`), " ");
        }
        const change = el("button", {
          type: "button",
          class: "small-button",
          text: "Change",
          "aria-label": `Change the shortcut for ${action.label}`,
          onclick: () => this.openRemap(action),
        });
        table.append(
          el(
            "tr",
            { "data-action": action.name },
            el("th", { scope: "row" }, action.label, app.remapped.has(action.name) ? el("span", { class: "remapped", text: " (yours)" }) : null),
            keys,
            takenCell,
            el("td", {}, change),
          ),
        );
      }
      sections.push(table);
    }
    body.replaceChildren(...sections);
  }

  setupRemap() {
    const form = document.getElementById("ws-remap");
    const input = document.getElementById("ws-remap-input");
    input.addEventListener("focus", () => (this.capturing = true));
    input.addEventListener("blur", () => (this.capturing = false));
    input.addEventListener("keydown", (event) => {
      // Record the chord the agent presses; plain typing (letters, comma) still edits.
      const chord = chordFromEvent(event);
      if (!chord || !/^(Ctrl|Alt|Meta)\+|^Shift\+(Escape|F\d+)/.test(chord)) return;
      event.preventDefault();
      event.stopPropagation();
      input.value = input.value.trim() ? `${input.value.replace(/,\s*$/, "")}, ${chord}` : chord;
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chords = input.value.split(",").map((chord) => chord.trim()).filter(Boolean);
      await this.saveKeymap({ [this.remapping.name]: chords });
    });
    document.getElementById("ws-remap-default").addEventListener("click", () => this.saveKeymap({ [this.remapping.name]: null }));
    document.getElementById("ws-remap-cancel").addEventListener("click", () => {
      form.hidden = true;
    });
    document.getElementById("ws-keymap-reset").addEventListener("click", async () => {
      const preferences = await api("DELETE", "/workspace/preferences/keymap");
      this.applyPreferences(preferences);
    });
  }

  openRemap(action) {
    this.remapping = action;
    const form = document.getElementById("ws-remap");
    document.getElementById("ws-remap-title").textContent = `Shortcut for “${action.label}”`;
    document.getElementById("ws-remap-error").hidden = true;
    const input = document.getElementById("ws-remap-input");
    input.value = this.app.keymap.chords(action.name).join(", ");
    form.hidden = false;
    input.focus();
    input.select();
  }

  async saveKeymap(changes) {
    const error = document.getElementById("ws-remap-error");
    try {
      const preferences = await api("PATCH", "/workspace/preferences/keymap", { keymap: changes });
      this.applyPreferences(preferences);
      document.getElementById("ws-remap").hidden = true;
    } catch (failure) {
      error.hidden = false;
      error.textContent = failure.message;
    }
  }

  applyPreferences(preferences) {
    this.app.keymap.update(preferences.keymap);
    this.app.remapped = new Set(preferences.remapped);
    this.app.layout();
    this.app.decorateButtons();
    this.renderCheatSheet();
    this.app.toast("Shortcuts saved");
  }

  // ------------------------------------------------------------------ command palette

  setupPalette() {
    const input = document.getElementById("ws-palette-input");
    this.paletteList = document.getElementById("ws-palette-list");
    input.addEventListener("input", () => this.renderPalette());
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const count = this.paletteItems.length || 1;
        this.paletteActive = (this.paletteActive + (event.key === "ArrowDown" ? 1 : -1) + count) % count;
        this.drawPalette();
      } else if (event.key === "Enter") {
        event.preventDefault();
        this.choosePalette(this.paletteActive);
      }
    });
  }

  palette() {
    if (this.cheat.open) this.cheat.close();
    const input = document.getElementById("ws-palette-input");
    input.value = "";
    this.renderPalette();
    if (!this.paletteDialog.open) this.paletteDialog.showModal();
    input.focus();
  }

  renderPalette() {
    const q = document.getElementById("ws-palette-input").value.trim().toLowerCase();
    const items = [];
    for (const command of this.app.commands()) {
      items.push({ label: command.label, hint: command.hint, run: () => this.app.run(command.name) });
    }
    for (const id of this.app.order) {
      const pane = this.app.panes.get(id);
      items.push({ label: `Go to chat #${pane.conversation.number} ${pane.name}`, hint: "", run: () => this.app.focusPane(id) });
    }
    for (const view of this.app.inbox.savedViews) {
      items.push({ label: `Saved filter: ${view.name}`, hint: "", run: () => this.app.inbox.setFilters(view.filters) });
    }
    this.paletteItems = q ? items.filter((item) => item.label.toLowerCase().includes(q)) : items;
    this.paletteActive = 0;
    this.drawPalette();
  }

  drawPalette() {
    this.paletteList.replaceChildren(
      ...this.paletteItems.map((item, index) => {
        const option = el(
          "li",
          { role: "option", "aria-selected": String(index === this.paletteActive), class: "palette-item" },
          el("span", { text: item.label }),
          item.hint ? el("kbd", { text: display(item.hint) }) : null,
        );
        option.addEventListener("mousedown", (event) => {
          event.preventDefault();
          this.choosePalette(index);
        });
        return option;
      }),
    );
    const active = this.paletteList.children[this.paletteActive];
    if (active) active.scrollIntoView({ block: "nearest" });
  }

  choosePalette(index) {
    const item = this.paletteItems[index];
    if (!item) return;
    this.paletteDialog.close();
    item.run();
  }
}

export { takenHere };
