// The agent workspace: inbox on the left, up to four conversation panes (more as
// tabs), one agent WebSocket, keyboard first. Sending always goes to the focused
// pane, and the focused pane is marked (border, "Typing goes here", its colour on
// the composer). See docs/workspace.md.

import { api, setCsrf } from "./api.js";
import { PANE_COLOURS, contactName, el, initials, rememberNames } from "./format.js";
import { Inbox } from "./inbox.js";
import { Keymap, ariaShortcut, blockedByAltGraph, chordFromEvent, display, environment } from "./keys.js";
import * as notify from "./notify.js";
import { Pane } from "./pane.js";
import { AgentSocket } from "./socket.js";
import { Dialogs } from "./dialogs.js";
import { Collisions } from "./collision.js";
import { Mentions } from "./mentions.js";
import { mountAgentStatus } from "/static/agent_status/status.js";

const ACTIVE = new Set(["open", "pending", "on_hold"]);

class Workspace {
  constructor(boot) {
    this.boot = boot;
    this.user = boot.user;
    setCsrf(boot.csrf);
    rememberNames(boot.agents);
    this.env = environment();
    this.sawAltGraph = false;
    this.keymap = new Keymap(boot.actions, boot.keymap);
    this.remapped = new Set(boot.remapped);
    this.panes = new Map();
    this.order = []; // open conversations, in tab order (Alt+1 is the first)
    this.visible = []; // the ones shown side by side
    this.recent = []; // most recently focused first
    this.focusedId = null;
    this.root = document.getElementById("ws");
    this.paneBox = document.getElementById("ws-panes");
    this.tabs = document.getElementById("ws-tabs");
    this.dialogs = new Dialogs(this);
    this.inbox = new Inbox(this, boot);
    this.collisions = new Collisions(this.user.id);
    this.mentions = new Mentions(this);
    // The top bar's status control is included with agent_status_connect = false:
    // it hears this page's socket instead of opening a second one.
    const statusElement = document.querySelector("[data-agent-status]");
    this.agentStatus = statusElement ? mountAgentStatus(statusElement) : null;
    this.socket = new AgentSocket({
      onFrame: (frame) => this.onFrame(frame),
      onState: (state) => this.onSocketState(state),
    });
    this.extensions = {
      // Join / leave a colleague's conversation (participants API of the
      // collaboration work); replaced at start when that API says it is there.
      join: (pane) => this.participants(pane, "join"),
      leave: (pane) => this.participants(pane, "leave"),
    };
    notify.settings.sound = Boolean(boot.notifications.sound);
    notify.settings.desktop = Boolean(boot.notifications.desktop);
  }

  start() {
    document.addEventListener("keydown", (event) => this.onKey(event), true);
    window.addEventListener("resize", () => this.layout());
    document.addEventListener("visibilitychange", () => {
      const pane = this.focusedPane();
      if (pane && document.visibilityState === "visible" && pane.unread) pane.setUnread(0);
    });
    this.setupNotificationSwitches();
    document.getElementById("ws-help-button").addEventListener("click", () => this.dialogs.cheatSheet());
    document.getElementById("ws-palette-button").addEventListener("click", () => this.dialogs.palette());
    this.decorateButtons();
    this.socket.connect();
    this.inbox.reload({ now: true });
    this.layout();
    setInterval(() => this.tick(), 1000);
    this.root.dataset.state = "ready";
  }

  // ------------------------------------------------------------------ socket

  onSocketState(state) {
    const line = document.getElementById("ws-connection");
    line.dataset.state = state;
    line.textContent = state === "open" ? "Live" : state === "connecting" ? "Connecting…" : "Reconnecting…";
    this.root.dataset.socket = state;
    if (state === "open") {
      this.mentions.load(); // also what was missed while disconnected
      this.agentStatus?.reload();
    } else if (state === "closed") {
      this.collisions.reset(); // colleagues answer again when we resubscribe
      for (const pane of this.panes.values()) pane.renderPresence();
    }
  }

  onFrame(frame) {
    this.agentStatus?.handleFrame(frame);
    if (frame.type === "event") {
      const event = frame.event || {};
      if (this.mentions.onEvent(event)) return;
      const id = frame.conversation_id;
      const pane = id ? this.panes.get(id) : null;
      if (pane) pane.onLive(event, frame);
      else if (event.conversation) this.maybeOpenNew(event);
      this.inbox.reload();
    } else if (frame.type === "presence" || (frame.type === "typing" && frame.who === "agent")) {
      this.collisions.handleFrame(frame);
      this.panes.get(frame.conversation_id)?.renderPresence();
    } else if (frame.type === "typing") {
      const pane = this.panes.get(frame.conversation_id);
      if (pane) pane.onTyping(frame);
    } else if (frame.type === "resync") {
      const pane = this.panes.get(frame.conversation_id);
      if (pane) this.reloadPane(pane);
    } else if (frame.type === "error" && frame.code === "not_found" && frame.conversation_id) {
      this.lostSight(frame.conversation_id);
    }
  }

  /** A chat that just became mine opens by itself (and rings, when allowed). */
  maybeOpenNew(event) {
    const conversation = event.conversation;
    if (conversation.assignee_id !== this.user.id || !ACTIVE.has(conversation.status)) return;
    if (this.panes.has(conversation.id) || this.dismissed?.has(conversation.id)) return;
    this.openConversation(conversation.id, { focus: this.panes.size === 0 }).then((pane) => {
      if (!pane) return;
      this.notifyNew(pane);
    });
  }

  async reloadPane(pane) {
    pane.timeline.replaceChildren();
    pane.seen.clear();
    pane.lastSeq = 0;
    await pane.load();
    this.socket.follow(pane.id, pane.lastSeq);
  }

  lostSight(id) {
    const pane = this.panes.get(id);
    if (!pane) return;
    this.toast(`Chat #${pane.conversation.number} moved out of your view and was closed`);
    this.closePane(id);
  }

  // ------------------------------------------------------------------ panes

  maxVisible() {
    const width = window.innerWidth;
    if (width >= 1920) return 4;
    if (width >= 1600) return 3;
    if (width >= 1000) return 2;
    return 1;
  }

  pickColour() {
    const used = new Set([...this.panes.values()].map((pane) => pane.colour.name));
    return PANE_COLOURS.find((colour) => !used.has(colour.name)) || PANE_COLOURS[this.panes.size % PANE_COLOURS.length];
  }

  async openConversation(id, { focus = true } = {}) {
    if (this.panes.has(id)) {
      if (focus) this.focusPane(id);
      return this.panes.get(id);
    }
    if (this.opening?.has(id)) return null;
    this.opening = this.opening || new Set();
    this.opening.add(id);
    try {
      const conversation = await api("GET", `/conversations/${id}`);
      if (this.panes.has(id)) return this.panes.get(id);
      const pane = new Pane(this, conversation, this.pickColour());
      this.panes.set(id, pane);
      this.order.push(id);
      this.show(id);
      this.layout(); // in the page first: a detached textarea cannot take focus
      if (focus || this.focusedId === null) this.focusPane(id);
      await pane.load();
      this.socket.follow(id, pane.lastSeq);
      this.inbox.render();
      return pane;
    } catch (error) {
      this.toast(error.message, "error");
      return null;
    } finally {
      this.opening.delete(id);
    }
  }

  show(id) {
    if (this.visible.includes(id)) return;
    const room = this.maxVisible();
    if (this.visible.length >= room) {
      // Replace the visible pane focused longest ago.
      const victim = [...this.visible].sort((a, b) => this.rank(b) - this.rank(a))[0];
      this.visible.splice(this.visible.indexOf(victim), 1, id);
    } else {
      this.visible.push(id);
    }
  }

  rank(id) {
    const index = this.recent.indexOf(id);
    return index === -1 ? Number.MAX_SAFE_INTEGER : index;
  }

  closePane(id) {
    const pane = this.panes.get(id);
    if (!pane) return;
    this.dismissed = this.dismissed || new Set();
    this.dismissed.add(id);
    this.socket.unfollow(id);
    this.collisions.forget(id);
    pane.element.remove();
    this.panes.delete(id);
    this.order = this.order.filter((item) => item !== id);
    this.visible = this.visible.filter((item) => item !== id);
    this.recent = this.recent.filter((item) => item !== id);
    for (const other of this.order) {
      if (this.visible.length >= this.maxVisible()) break;
      if (!this.visible.includes(other)) this.visible.push(other);
    }
    if (this.focusedId === id) {
      this.focusedId = null;
      const next = this.recent.find((item) => this.panes.has(item)) || this.visible[0];
      if (next) this.focusPane(next);
    }
    this.layout();
    this.inbox.render();
  }

  focusPane(id, { moveFocus = true } = {}) {
    const pane = this.panes.get(id);
    if (!pane) return;
    const changed = this.focusedId !== id;
    this.focusedId = id;
    this.recent = [id, ...this.recent.filter((item) => item !== id)];
    if (!this.visible.includes(id)) {
      this.show(id);
      this.layout();
    }
    for (const other of this.panes.values()) other.setFocused(other.id === id);
    this.renderTabs();
    if (moveFocus) pane.focusComposer();
    if (changed) this.announce(`Now in chat #${pane.conversation.number} with ${pane.name}`);
  }

  focusedPane() {
    return this.focusedId === null ? null : this.panes.get(this.focusedId) || null;
  }

  isFocused(id) {
    return this.focusedId === id;
  }

  layout() {
    const room = this.maxVisible();
    while (this.visible.length > room) {
      const victim = [...this.visible].sort((a, b) => this.rank(b) - this.rank(a))[0];
      this.visible.splice(this.visible.indexOf(victim), 1);
    }
    for (const id of this.order) {
      if (this.visible.length >= room) break;
      if (!this.visible.includes(id)) this.visible.push(id);
    }
    const shown = this.order.filter((id) => this.visible.includes(id));
    const active = document.activeElement;
    const wanted = shown.map((id) => this.panes.get(id).element);
    const current = [...this.paneBox.querySelectorAll(":scope > .pane")];
    if (wanted.length !== current.length || wanted.some((node, index) => node !== current[index])) {
      for (const node of current) if (!wanted.includes(node)) node.remove();
      wanted.forEach((node, index) => {
        if (this.paneBox.children[index + 1] !== node) this.paneBox.insertBefore(node, this.paneBox.children[index + 1] || null);
      });
      if (active && document.contains(active)) active.focus({ preventScroll: true });
    }
    this.paneBox.dataset.visible = String(shown.length);
    document.getElementById("ws-empty").hidden = shown.length > 0;
    this.order.forEach((id, index) => {
      const pane = this.panes.get(id);
      pane.setSlot(index, index < 4 ? this.keymap.hint(`focus_pane_${index + 1}`, this.env, this.sawAltGraph) : "");
    });
    this.renderTabs();
    this.updateLoad();
  }

  renderTabs() {
    const tabs = this.order.map((id, index) => {
      const pane = this.panes.get(id);
      const hint = index < 4 ? this.keymap.hint(`focus_pane_${index + 1}`, this.env, this.sawAltGraph) : "";
      const tab = el(
        "button",
        {
          type: "button",
          role: "tab",
          class: "ws-tab",
          "aria-selected": String(id === this.focusedId),
          "data-id": id,
          "data-visible": String(this.visible.includes(id)),
          "aria-keyshortcuts": hint ? ariaShortcut(hint) : null,
        },
        el("span", { class: "avatar tiny", "aria-hidden": "true", text: initials(pane.name) }),
        el("span", { class: "ws-tab-name", text: `${pane.name} #${pane.conversation.number}` }),
        pane.unread ? el("span", { class: "badge unread", text: String(pane.unread) }) : null,
        hint ? el("kbd", { text: display(hint) }) : null,
      );
      tab.style.setProperty("--pane-color", pane.colour.value);
      tab.addEventListener("click", () => this.focusPane(id));
      return tab;
    });
    this.tabs.replaceChildren(...tabs);
    this.tabs.hidden = tabs.length === 0;
  }

  updateLoad() {
    const mine = this.inbox.counts.mine;
    const load = document.getElementById("ws-load");
    if (mine !== undefined) load.textContent = `${mine} open chat${mine === 1 ? "" : "s"} assigned to you`;
  }

  onInboxLoaded() {
    this.updateLoad();
  }

  tick() {
    const now = Date.now();
    for (const pane of this.panes.values()) {
      pane.tick(now);
      pane.renderPresence(); // a colleague who stopped typing drops off after a while
    }
    this.inbox.tick(now);
  }

  // ------------------------------------------------------------------ notifications

  setupNotificationSwitches() {
    const sound = document.getElementById("ws-sound");
    const desktop = document.getElementById("ws-desktop");
    sound.checked = notify.settings.sound;
    desktop.checked = notify.settings.desktop;
    sound.addEventListener("change", () => this.saveNotifications({ sound: sound.checked }));
    desktop.addEventListener("change", async () => {
      if (desktop.checked && !(await notify.askDesktopPermission())) {
        desktop.checked = false;
        this.toast("The browser did not allow notifications", "error");
      }
      this.saveNotifications({ desktop: desktop.checked });
    });
  }

  async saveNotifications(changes) {
    Object.assign(notify.settings, changes);
    try {
      await api("PATCH", "/workspace/preferences/notifications", changes);
    } catch (error) {
      this.toast(error.message, "error");
    }
  }

  notifyNew(pane) {
    this.root.dataset.lastNotice = `new:${pane.id}`;
    notify.beep();
    notify.desktop(`New chat: ${pane.name}`, pane.conversation.subject || `Chat #${pane.conversation.number}`, () => this.focusPane(pane.id));
    this.toast(`New chat from ${pane.name} (#${pane.conversation.number})`);
  }

  notifyBackground(pane, message) {
    this.root.dataset.lastNotice = `reply:${pane.id}`;
    notify.beep();
    notify.desktop(`${pane.name} wrote (#${pane.conversation.number})`, message.body.slice(0, 140), () => this.focusPane(pane.id));
  }

  // ------------------------------------------------------------------ feedback

  announce(text) {
    const region = document.getElementById("ws-announce");
    region.textContent = "";
    setTimeout(() => (region.textContent = text), 30);
  }

  toast(text, kind = "info") {
    const box = document.getElementById("ws-toasts");
    const item = el("div", { class: `ws-toast ${kind}`, text });
    box.append(item);
    setTimeout(() => item.remove(), kind === "error" ? 8000 : 4000);
  }

  agentOptions() {
    return this.boot.agents.map((agent) => ({ value: String(agent.id), label: agent.name }));
  }

  decorateButtons() {
    for (const [id, action] of [
      ["ws-palette-button", "command_palette"],
      ["ws-help-button", "cheat_sheet"],
    ]) {
      const hint = this.keymap.hint(action, this.env, this.sawAltGraph);
      const button = document.getElementById(id);
      button.setAttribute("aria-keyshortcuts", hint ? ariaShortcut(hint) : "");
      const kbd = button.querySelector("kbd");
      if (kbd) kbd.textContent = hint ? display(hint) : "";
    }
  }

  // ------------------------------------------------------------------ keyboard

  onKey(event) {
    const target = event.target;
    const inField = target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
    if (this.dialogs.capturing) return; // the remap form is recording a chord
    if (this.collisions.isOpen()) return; // "send anyway?": Enter and Esc answer it
    const chord = chordFromEvent(event);
    if (!chord) return;
    const action = this.keymap.actionFor(chord);
    if (!action) {
      if (chord === "/" && !inField && !this.dialogs.isOpen()) {
        const pane = this.focusedPane();
        if (pane) {
          event.preventDefault();
          pane.focusComposer();
          pane.openPicker("canned");
        }
      }
      return;
    }
    if (blockedByAltGraph(chord, event)) {
      // AltGr+S is "ś": let the character through, and say so in the cheat sheet.
      if (!this.sawAltGraph) {
        this.sawAltGraph = true;
        this.layout();
      }
      return;
    }
    const bare = !/^(Ctrl|Alt|Meta)\+/.test(chord) && !chord.startsWith("Shift+");
    if (bare && inField) return; // "?" typed into a message is a question mark
    if (this.dialogs.isOpen() && !["command_palette", "cheat_sheet"].includes(action)) return;
    event.preventDefault();
    event.stopPropagation();
    this.run(action);
  }

  commands() {
    return this.boot.actions.map((action) => ({
      name: action.name,
      label: action.label,
      hint: this.keymap.hint(action.name, this.env, this.sawAltGraph),
    }));
  }

  async run(action) {
    const pane = this.focusedPane();
    const needPane = () => {
      if (!pane) this.toast("Open a conversation first", "error");
      return Boolean(pane);
    };
    const focusMatch = /^focus_pane_(\d)$/.exec(action);
    if (focusMatch) {
      const id = this.order[Number(focusMatch[1]) - 1];
      if (id !== undefined) this.focusPane(id);
      else this.toast(`No chat in pane ${focusMatch[1]}`);
      return;
    }
    switch (action) {
      case "cheat_sheet":
        return this.dialogs.cheatSheet();
      case "command_palette":
        return this.dialogs.palette();
      case "focus_inbox":
        return this.inbox.focusList();
      case "new_ticket":
        return this.dialogs.newTicket();
      case "next_ticket":
      case "previous_ticket": {
        const next = this.inbox.neighbour(this.focusedId, action === "next_ticket" ? 1 : -1);
        if (next === null) return this.toast("No more conversations in this view");
        return this.openConversation(next, { focus: true });
      }
      case "set_open":
      case "set_pending":
      case "set_solved":
      case "set_on_hold":
        if (needPane()) await pane.setStatus(action.slice(4));
        return;
      case "end_chat":
        if (!needPane()) return;
        if (!["solved", "closed"].includes(pane.conversation.status)) await pane.setStatus("solved");
        this.closePane(pane.id);
        return;
      case "send_and_solve":
        if (needPane()) await pane.send({ solve: true });
        return;
      case "toggle_note":
        if (needPane()) {
          pane.toggleMode();
          pane.focusComposer();
        }
        return;
      case "insert_article":
        if (needPane()) pane.openPicker("article");
        return;
      case "add_attachment":
        if (needPane()) pane.fileInput.click();
        return;
      case "transfer_chat":
        if (needPane()) this.dialogs.transfer(pane);
        return;
      case "join_chat":
        if (needPane()) await this.extensions.join(pane);
        return;
      case "leave_chat":
        if (needPane()) await this.extensions.leave(pane);
        return;
      case "close_pane":
        if (needPane()) this.closePane(pane.id);
        return;
      default:
        return undefined;
    }
  }

  async participants(pane, what) {
    try {
      await api("POST", `/conversations/${pane.id}/${what}`, {});
      this.announce(what === "join" ? `You joined chat #${pane.conversation.number}` : `You left chat #${pane.conversation.number}`);
      this.toast(what === "join" ? `Joined chat #${pane.conversation.number}` : `Left chat #${pane.conversation.number}`);
    } catch (error) {
      this.toast(error.message, "error");
    }
  }
}

const bootElement = document.getElementById("ws-boot");
if (bootElement) {
  const workspace = new Workspace(JSON.parse(bootElement.textContent));
  window.helplineWorkspace = workspace; // for extensions and tests
  workspace.start();
}
