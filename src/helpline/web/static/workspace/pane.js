// One conversation pane: header (who, which chat, badges, timers), the whole
// timeline, the customer sidebar, the actions and the composer. The pane's colour,
// avatar and "Replying to Anna Kowalska, chat #1245" sit on the header *and* on
// the composer, so the agent always sees where the text goes.

import { api, query } from "./api.js";
import {
  PRIORITY_LABELS,
  STATUS_LABELS,
  activityClass,
  clock,
  contactName,
  describeActivity,
  el,
  frustrationLevel,
  frustrationOf,
  frustrationShown,
  initials,
  shortTime,
  slaDeadline,
} from "./format.js";

const HISTORY_PAGE = 200;
let clientCounter = 0;

function clientMessageId() {
  clientCounter += 1;
  return `ws-${Date.now().toString(36)}-${clientCounter}-${Math.random().toString(36).slice(2, 8)}`;
}

export class Pane {
  constructor(app, conversation, colour) {
    this.app = app;
    this.id = conversation.id;
    this.conversation = conversation;
    this.colour = colour;
    this.lastSeq = 0;
    this.seen = new Set();
    this.unread = 0;
    this.mode = "reply";
    this.files = [];
    this.usedCanned = new Set();
    this.picker = null;
    this.customer = null;
    this.refreshTimer = null;
    this.draftStartedAt = null; // when the text in the composer was begun
    this.repliedSince = null; // a colleague who answered the customer since then
    this.build();
  }

  get name() {
    return contactName(this.conversation);
  }

  get label() {
    return `${this.name}, chat #${this.conversation.number}`;
  }

  // ------------------------------------------------------------------ building

  build() {
    this.avatar = el("span", { class: "avatar", "aria-hidden": "true" });
    this.title = el("h2", { class: "pane-name" });
    this.number = el("span", { class: "pane-number" });
    this.slotKey = el("kbd", { class: "pane-key", title: "Focus this pane" });
    this.focusMark = el("span", { class: "pane-focus-mark", text: "Typing goes here" });
    this.unreadBadge = el("span", { class: "badge unread", hidden: true });
    this.statusBadge = el("span", { class: "badge status" });
    this.priorityBadge = el("button", {
      type: "button",
      class: "badge priority",
      "aria-expanded": "false",
      onclick: () => this.toggleBreakdown(),
    });
    this.frustrationBadge = el("span", { class: "badge frustration", hidden: true });
    this.slaTimer = el("span", { class: "timer sla", role: "timer" });
    this.waitTimer = el("span", { class: "timer wait", role: "timer" });
    this.breakdown = el("div", { class: "breakdown", hidden: true });
    this.subject = el("p", { class: "pane-subject" });
    this.viewersLine = el("p", { class: "pane-viewers", role: "status" });
    this.closeButton = el("button", {
      type: "button",
      class: "pane-close",
      "aria-label": "Close this pane",
      text: "×",
      onclick: () => this.app.closePane(this.id),
    });

    this.header = el(
      "header",
      { class: "pane-head" },
      el(
        "div",
        { class: "pane-who" },
        this.avatar,
        el("div", { class: "pane-names" }, this.title, el("div", { class: "pane-sub" }, this.number, this.subject)),
        el("div", { class: "pane-corner" }, this.focusMark, this.slotKey, this.closeButton),
      ),
      el(
        "div",
        { class: "pane-badges" },
        this.unreadBadge,
        this.statusBadge,
        this.priorityBadge,
        this.frustrationBadge,
        this.slaTimer,
        this.waitTimer,
      ),
      this.viewersLine,
      this.breakdown,
    );

    this.customerBox = el("details", { class: "pane-customer" }, el("summary", { text: "Customer" }));
    this.timeline = el("ol", { class: "timeline", "aria-label": "Conversation history" });
    this.timelineWrap = el("div", { class: "timeline-wrap", tabindex: "0", role: "log" }, this.timeline);
    this.typingLine = el("p", { class: "typing", "aria-live": "polite" });

    this.buildActions();
    this.buildComposer();

    this.element = el(
      "article",
      { class: "pane", "data-conversation-id": this.id, tabindex: "-1" },
      this.header,
      this.customerBox,
      this.timelineWrap,
      this.typingLine,
      this.actions,
      this.composer,
    );
    this.element.style.setProperty("--pane-color", this.colour.value);
    this.element.addEventListener("focusin", () => this.app.focusPane(this.id, { moveFocus: false }));
    this.element.addEventListener("mousedown", () => this.app.focusPane(this.id, { moveFocus: false }));
    this.applyConversation(this.conversation);
  }

  buildActions() {
    const statusSelect = el("select", { class: "pane-status", "aria-label": "Status" });
    for (const [value, label] of Object.entries(STATUS_LABELS)) {
      statusSelect.append(el("option", { value, text: label }));
    }
    statusSelect.addEventListener("change", () => this.setStatus(statusSelect.value));
    const prioritySelect = el("select", { class: "pane-priority", "aria-label": "Priority" });
    for (const [value, label] of Object.entries(PRIORITY_LABELS)) {
      prioritySelect.append(el("option", { value, text: label }));
    }
    prioritySelect.addEventListener("change", () => this.patch({ priority: prioritySelect.value }));
    this.statusSelect = statusSelect;
    this.prioritySelect = prioritySelect;
    const button = (text, handler) => el("button", { type: "button", class: "small-button", text, onclick: handler });
    this.actions = el(
      "div",
      { class: "pane-actions", role: "group", "aria-label": "Conversation actions" },
      statusSelect,
      prioritySelect,
      button("Tags", () => this.app.dialogs.tags(this)),
      button("Category", () => this.app.dialogs.category(this)),
      button("Assign", () => this.app.dialogs.assign(this)),
      button("Transfer", () => this.app.dialogs.transfer(this)),
      button("Escalate", () => this.app.dialogs.escalate(this)),
    );
  }

  buildComposer() {
    this.composerAvatar = el("span", { class: "avatar small", "aria-hidden": "true" });
    this.composerTarget = el("span", { class: "composer-target-text" });
    this.replyTab = el("button", {
      type: "button",
      class: "mode",
      "aria-pressed": "true",
      text: "Reply",
      onclick: () => this.setMode("reply"),
    });
    this.noteTab = el("button", {
      type: "button",
      class: "mode",
      "aria-pressed": "false",
      text: "Internal note",
      onclick: () => this.setMode("note"),
    });
    this.textarea = el("textarea", { rows: "3", class: "composer-text" });
    this.textarea.addEventListener("keydown", (event) => this.onComposerKey(event));
    this.textarea.addEventListener("input", () => this.onComposerInput());
    this.fileInput = el("input", { type: "file", multiple: true, hidden: true, class: "composer-file" });
    this.fileInput.addEventListener("change", () => {
      for (const file of this.fileInput.files) this.files.push(file);
      this.fileInput.value = "";
      this.renderFiles();
    });
    this.fileList = el("ul", { class: "composer-files", "aria-label": "Files to send" });
    this.sendButton = el("button", { type: "submit", class: "primary", text: "Send" });
    this.solveButton = el("button", {
      type: "button",
      class: "send-solve",
      text: "Send and solve",
      onclick: () => this.send({ solve: true }),
    });
    this.composerError = el("p", { class: "form-error composer-error", hidden: true, role: "alert" });
    // "Maria is typing a reply": right above the text, where a collision happens.
    this.collisionLine = el("p", { class: "composer-collision", role: "status" });
    this.composer = el(
      "form",
      { class: "composer", "data-mode": "reply" },
      el(
        "div",
        { class: "composer-target" },
        this.composerAvatar,
        this.composerTarget,
        el("span", { class: "composer-modes", role: "group", "aria-label": "Message kind" }, this.replyTab, this.noteTab),
      ),
      this.collisionLine,
      this.textarea,
      this.fileList,
      this.composerError,
      el(
        "div",
        { class: "composer-buttons" },
        el("button", { type: "button", text: "Attach", onclick: () => this.fileInput.click() }),
        el("button", { type: "button", text: "Canned /", onclick: () => this.openPicker("canned") }),
        el("button", { type: "button", text: "Article", onclick: () => this.openPicker("article") }),
        el("span", { class: "spacer" }),
        this.solveButton,
        this.sendButton,
      ),
      this.fileInput,
    );
    this.composer.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send({ solve: false });
    });
  }

  // ------------------------------------------------------------------ loading

  async load() {
    let after = 0;
    for (let page = 0; page < 50; page += 1) {
      const history = await api("GET", `/conversations/${this.id}/history${query({ after_seq: after, limit: HISTORY_PAGE })}`);
      for (const entry of history.data) this.addEntry(entry);
      if (history.next_after_seq === null || history.next_after_seq === undefined) break;
      after = history.next_after_seq;
    }
    this.loadCustomer();
    this.scrollToEnd();
  }

  async loadCustomer() {
    try {
      this.customer = await api("GET", `/workspace/conversations/${this.id}/customer`);
    } catch {
      return;
    }
    this.renderCustomer();
  }

  async refresh() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(async () => {
      try {
        this.applyConversation(await api("GET", `/conversations/${this.id}`));
      } catch (error) {
        if (error.status === 404) this.app.lostSight(this.id);
      }
    }, 150);
  }

  // ------------------------------------------------------------------ rendering

  applyConversation(conversation) {
    // Live events carry a slimmer conversation (no contact, tags, breakdown): keep
    // what we know and take what changed.
    this.conversation = { ...this.conversation, ...conversation };
    if (!conversation.contact && this.conversation.contact) this.conversation.contact = this.conversation.contact;
    const c = this.conversation;
    this.avatar.textContent = initials(this.name);
    this.composerAvatar.textContent = initials(this.name);
    this.title.textContent = this.name;
    this.number.textContent = `#${c.number}`;
    this.subject.textContent = c.subject || "";
    this.statusBadge.textContent = STATUS_LABELS[c.status] || c.status;
    this.statusBadge.dataset.status = c.status;
    this.statusSelect.value = c.status;
    this.prioritySelect.value = c.priority;
    const score = Math.round(Number(c.priority_score || 0));
    this.priorityBadge.textContent = `${PRIORITY_LABELS[c.priority] || c.priority} · ${score}`;
    this.priorityBadge.dataset.priority = c.priority;
    this.priorityBadge.setAttribute("aria-label", `Priority ${PRIORITY_LABELS[c.priority] || c.priority}, score ${score}: show why`);
    this.renderBreakdown();
    const frustration = frustrationOf(c);
    if (frustrationShown(frustration)) {
      const level = frustrationLevel(frustration);
      const percent = Math.round(frustration.score * 100);
      const why = frustration.reasons.filter(Boolean).join("; ");
      this.frustrationBadge.hidden = false;
      this.frustrationBadge.dataset.level = level;
      this.frustrationBadge.textContent = `Frustration ${level} · ${percent}%`;
      this.frustrationBadge.title = why;
      this.frustrationBadge.setAttribute("aria-label", `Frustration ${level}, ${percent}%` + (why ? `: ${why}` : ""));
    } else {
      this.frustrationBadge.hidden = true;
      this.frustrationBadge.removeAttribute("title");
      this.frustrationBadge.removeAttribute("aria-label");
    }
    this.element.setAttribute("aria-label", `Chat #${c.number} with ${this.name}`);
    this.updateComposerTarget();
    const closed = c.status === "closed";
    this.textarea.disabled = closed;
    this.sendButton.disabled = closed;
    this.solveButton.disabled = closed;
    this.tick(Date.now());
  }

  renderBreakdown() {
    const reasons = this.conversation.priority_breakdown || [];
    this.breakdown.replaceChildren(
      el("p", { class: "breakdown-title", text: `Priority score ${Math.round(Number(this.conversation.priority_score || 0))}` }),
      reasons.length
        ? el(
            "ul",
            {},
            reasons.map((reason) =>
              el("li", {}, el("span", { text: reason.reason }), el("span", { class: "points", text: `+${Math.round(reason.points)}` })),
            ),
          )
        : el("p", { class: "muted", text: "No breakdown yet." }),
    );
  }

  toggleBreakdown() {
    const open = this.breakdown.hidden;
    this.breakdown.hidden = !open;
    this.priorityBadge.setAttribute("aria-expanded", String(open));
  }

  updateComposerTarget() {
    const note = this.mode === "note";
    const text = note
      ? `Internal note on chat #${this.conversation.number} — ${this.name} will not see it`
      : `Replying to ${this.label}`;
    this.composerTarget.textContent = text;
    this.textarea.setAttribute("aria-label", text);
    this.textarea.placeholder = note ? "Note for colleagues…" : `Message to ${this.name}… ( / for canned responses)`;
  }

  renderCustomer() {
    const data = this.customer;
    if (!data) return;
    const contact = data.contact;
    const money = new Intl.NumberFormat(undefined, { style: "currency", currency: "EUR" }).format(
      (contact.lifetime_value_cents || 0) / 100,
    );
    const summary = el(
      "summary",
      {},
      el("span", { class: "strong", text: "Customer" }),
      ` · ${contact.plan || "no plan"} · ${money} · ${contact.orders_count} orders`,
    );
    const rows = [
      ["Email", contact.email],
      ["Phone", contact.phone],
      ["Plan", contact.plan],
      ["Lifetime value", money],
      ["Orders", String(contact.orders_count)],
      ["Language", contact.language || this.conversation.language],
      ["Customer since", contact.first_seen_at ? new Date(contact.first_seen_at).toLocaleDateString() : ""],
    ];
    for (const [key, value] of Object.entries(contact.custom_attributes || {})) {
      rows.push([key, typeof value === "object" ? JSON.stringify(value) : String(value)]);
    }
    const list = el("dl", { class: "facts" });
    for (const [term, value] of rows) {
      if (value === null || value === undefined || value === "") continue;
      list.append(el("dt", { text: term }), el("dd", { text: value }));
    }
    const previous = el("ul", { class: "previous" });
    for (const item of data.previous) {
      previous.append(
        el(
          "li",
          {},
          el("button", {
            type: "button",
            class: "link-like",
            text: `#${item.number} ${item.subject || "(no subject)"}`,
            onclick: () => this.app.openConversation(item.id, { focus: true }),
          }),
          el("span", { class: "muted", text: ` ${STATUS_LABELS[item.status] || item.status}` }),
        ),
      );
    }
    const parts = [summary, list];
    if (contact.notes) parts.push(el("p", { class: "notes", text: contact.notes }));
    parts.push(el("h3", { text: "Previous conversations" }));
    parts.push(data.previous.length ? previous : el("p", { class: "muted", text: "None." }));
    this.customerBox.replaceChildren(...parts);
  }

  addEntry(entry) {
    if (this.seen.has(entry.seq)) return false;
    this.seen.add(entry.seq);
    if (entry.seq > this.lastSeq) this.lastSeq = entry.seq;
    const item = this.renderEntry(entry);
    // Keep the timeline in sequence order even if an entry arrives late.
    const after = [...this.timeline.children].find((child) => Number(child.dataset.seq) > entry.seq);
    if (after) this.timeline.insertBefore(item, after);
    else this.timeline.append(item);
    return true;
  }

  renderEntry(entry) {
    if (entry.message) {
      const message = entry.message;
      const who = message.author_type === "contact" ? "contact" : message.author_type === "agent" ? "agent" : "system";
      const kind = message.kind === "note" ? "note" : "reply";
      const attachments = (message.attachments || []).map((file) =>
        el("a", { class: "attachment", href: `/api/v1/attachments/${file.id}`, text: `📎 ${file.name || "file"}` }),
      );
      return el(
        "li",
        { class: `entry message ${who} ${kind}`, "data-seq": entry.seq },
        el(
          "div",
          { class: "entry-meta" },
          el("span", { class: "author", text: message.author_name || entry.author_name || "" }),
          kind === "note" ? el("span", { class: "note-label", text: "Internal note" }) : null,
          el("time", { datetime: message.created_at, text: shortTime(message.created_at) }),
        ),
        el("div", { class: "body", text: message.body }),
        attachments.length ? el("div", { class: "attachments" }, attachments) : null,
      );
    }
    const activity = entry.activity || {};
    const text = describeActivity(activity, activity.actor_name || null, this.name);
    return el(
      "li",
      { class: `entry activity ${activityClass(activity.kind || "")}`, "data-seq": entry.seq, "data-kind": activity.kind },
      el("span", { text }),
      " ",
      el("time", { datetime: entry.created_at, text: shortTime(entry.created_at) }),
    );
  }

  renderFiles() {
    this.fileList.replaceChildren(
      ...this.files.map((file, index) =>
        el(
          "li",
          {},
          file.name,
          el("button", {
            type: "button",
            class: "link-like",
            "aria-label": `Remove ${file.name}`,
            text: "×",
            onclick: () => {
              this.files.splice(index, 1);
              this.renderFiles();
            },
          }),
        ),
      ),
    );
  }

  scrollToEnd() {
    this.timelineWrap.scrollTop = this.timelineWrap.scrollHeight;
  }

  tick(now) {
    const c = this.conversation;
    const deadline = slaDeadline(c);
    if (deadline) {
      const left = (new Date(deadline.due).getTime() - now) / 1000;
      this.slaTimer.hidden = false;
      this.slaTimer.textContent = left >= 0 ? `${deadline.label} due in ${clock(left)}` : `${deadline.label} overdue ${clock(-left)}`;
      this.slaTimer.dataset.state = left < 0 ? "missed" : left < 300 ? "soon" : "ok";
    } else {
      this.slaTimer.hidden = true;
    }
    if (c.waiting_since && !["solved", "closed"].includes(c.status)) {
      const waited = (now - new Date(c.waiting_since).getTime()) / 1000;
      this.waitTimer.hidden = false;
      this.waitTimer.textContent = c.first_response_at ? `Waiting ${clock(waited)}` : `First response: waiting ${clock(waited)}`;
    } else if (!c.first_response_at && c.created_at && !["solved", "closed"].includes(c.status)) {
      this.waitTimer.hidden = false;
      this.waitTimer.textContent = `No first response for ${clock((now - new Date(c.created_at).getTime()) / 1000)}`;
    } else {
      this.waitTimer.hidden = true;
    }
  }

  setUnread(count) {
    this.unread = count;
    this.unreadBadge.hidden = count === 0;
    this.unreadBadge.textContent = `${count} new`;
    this.unreadBadge.setAttribute("aria-label", `${count} unread messages`);
    this.app.renderTabs();
  }

  setSlot(index, hint) {
    this.slotKey.textContent = hint || `${index + 1}`;
  }

  setFocused(focused) {
    this.element.classList.toggle("is-focused", focused);
    this.element.setAttribute("aria-current", focused ? "true" : "false");
    if (focused && this.unread) this.setUnread(0);
    if (focused && this.lastSeq) this.app.socket.read(this.id, this.lastSeq);
  }

  focusComposer() {
    this.textarea.focus();
  }

  // ------------------------------------------------------------------ live events

  onLive(event, frame) {
    if (event.conversation) this.applyConversation(event.conversation);
    let added = false;
    if (event.type === "message.created" && event.message) {
      added = this.addEntry({ seq: event.message.seq, created_at: event.message.created_at, message: event.message });
      this.noticeColleagueReply(event.message, added);
      if (added && event.message.author_type === "contact") {
        if (!this.app.isFocused(this.id) || document.visibilityState !== "visible") {
          this.setUnread(this.unread + 1);
          this.app.notifyBackground(this, event.message);
        } else {
          this.app.socket.read(this.id, event.message.seq);
        }
      }
    } else if (event.type === "conversation.rated") {
      const score = event.csat ? event.csat.score : event.score;
      const comment = event.csat ? event.csat.comment : event.comment;
      const recommend = typeof event.nps === "number" ? ` · would recommend us: ${event.nps}/10` : "";
      this.timeline.append(
        el("li", { class: "entry activity csat" }, `Customer rated the chat ${score}/5` + (comment ? `: “${comment}”` : "") + recommend),
      );
    } else if (Array.isArray(event.activities)) {
      for (const activity of event.activities) {
        added = this.addEntry({ seq: activity.seq, created_at: activity.created_at, activity }) || added;
      }
      this.refresh();
    }
    if (frame.seq) this.app.socket.advance(this.id, frame.seq);
    if (added) this.scrollToEnd();
  }

  onTyping(frame) {
    if (frame.who !== "contact") {
      this.typingLine.textContent = frame.active ? `${frame.name || "A colleague"} is typing…` : "";
      return;
    }
    this.typingLine.textContent = frame.active ? `${this.name} is typing…` : "";
    clearTimeout(this.typingTimer);
    if (frame.active) this.typingTimer = setTimeout(() => (this.typingLine.textContent = ""), 6000);
  }

  // ------------------------------------------------------------------ composer

  setMode(mode) {
    this.mode = mode;
    this.composer.dataset.mode = mode;
    this.replyTab.setAttribute("aria-pressed", String(mode === "reply"));
    this.noteTab.setAttribute("aria-pressed", String(mode === "note"));
    this.sendButton.textContent = mode === "note" ? "Add note" : "Send";
    this.solveButton.hidden = mode === "note";
    this.updateComposerTarget();
  }

  toggleMode() {
    this.setMode(this.mode === "note" ? "reply" : "note");
    this.app.announce(this.mode === "note" ? "Internal note mode" : "Reply mode");
  }

  onComposerKey(event) {
    if (this.picker && this.picker.handleKey(event)) return;
    if (event.key === "Enter" && !event.shiftKey && !event.ctrlKey && !event.altKey && !event.metaKey && !event.isComposing) {
      event.preventDefault();
      this.send({ solve: false });
      return;
    }
    if (event.key === "/" && !event.ctrlKey && !event.altKey && !event.metaKey) {
      const before = this.textarea.value.slice(0, this.textarea.selectionStart);
      if (before === "" || /\s$/.test(before)) {
        event.preventDefault();
        this.openPicker("canned");
      }
    }
  }

  onComposerInput() {
    const now = Date.now();
    if (!this.textarea.value.trim()) {
      this.draftStartedAt = null;
      this.repliedSince = null;
      this.renderPresence();
      if (this.lastTypingSent) this.app.socket.typing(this.id, false);
      this.lastTypingSent = 0;
      return;
    }
    if (this.draftStartedAt === null) this.draftStartedAt = now;
    if (!this.lastTypingSent || now - this.lastTypingSent > 3000) {
      this.lastTypingSent = now;
      if (this.mode === "reply") this.app.socket.typing(this.id, true);
    }
  }

  openPicker(kind) {
    this.closePicker();
    this.picker = new Picker(this, kind);
    this.composer.append(this.picker.element);
    this.picker.open();
  }

  closePicker({ focus = true } = {}) {
    if (!this.picker) return;
    this.picker.element.remove();
    this.picker = null;
    if (focus) this.textarea.focus();
  }

  insertText(text) {
    const area = this.textarea;
    const start = area.selectionStart ?? area.value.length;
    const end = area.selectionEnd ?? area.value.length;
    const before = area.value.slice(0, start);
    const after = area.value.slice(end);
    const spacer = before && !/\s$/.test(before) ? " " : "";
    area.value = before + spacer + text + after;
    const caret = (before + spacer + text).length;
    area.focus();
    area.setSelectionRange(caret, caret);
  }

  showError(message) {
    this.composerError.hidden = !message;
    this.composerError.textContent = message || "";
  }

  async send({ solve }) {
    const body = this.textarea.value.trim();
    const kind = this.mode;
    if (!body && !this.files.length) {
      if (solve) await this.setStatus("solved");
      return;
    }
    if (kind === "reply" && body && !(await this.confirmCollision())) return;
    this.showError("");
    this.sendButton.disabled = true;
    const files = [...this.files];
    const usedCanned = [...this.usedCanned];
    try {
      if (body) {
        const message = await api("POST", `/conversations/${this.id}/messages`, {
          body,
          kind,
          client_message_id: clientMessageId(),
        });
        this.addEntry({ seq: message.seq, created_at: message.created_at, message });
      }
      for (const file of files) {
        const form = new FormData();
        form.append("file", file);
        form.append("kind", kind);
        form.append("client_message_id", clientMessageId());
        const message = await api("POST", `/conversations/${this.id}/attachments`, form, { form: true });
        this.addEntry({ seq: message.seq, created_at: message.created_at, message });
      }
      this.textarea.value = "";
      this.files = [];
      this.usedCanned.clear();
      this.renderFiles();
      this.scrollToEnd();
      this.app.socket.typing(this.id, false);
      this.lastTypingSent = 0;
      this.draftStartedAt = null;
      this.repliedSince = null;
      this.renderPresence();
      for (const id of usedCanned) api("POST", `/canned/${id}/used`, { conversation_id: this.id }).catch(() => {});
      if (solve && kind === "reply") await this.setStatus("solved");
      this.app.announce(kind === "note" ? `Note added to chat #${this.conversation.number}` : `Sent to ${this.label}`);
    } catch (error) {
      this.showError(error.message || "Could not send. Try again.");
    } finally {
      this.sendButton.disabled = this.conversation.status === "closed";
    }
  }

  // ------------------------------------------------------------------ collisions

  /** A colleague's reply to the customer while this agent has a draft going. */
  noticeColleagueReply(message, added) {
    if (!added || message.author_type !== "agent" || message.kind === "note") return;
    if (message.author_user_id === this.app.user.id || this.draftStartedAt === null) return;
    this.repliedSince = message.author_name || "A colleague";
    this.renderPresence();
  }

  /** Why sending now may collide with a colleague, or null. */
  collisionReason() {
    const typing = this.app.collisions.typingText(this.id);
    if (typing) return typing;
    if (this.repliedSince) return `${this.repliedSince} replied since you started writing`;
    return null;
  }

  /** True to go ahead: nobody else is answering, or the agent said "send anyway". */
  async confirmCollision() {
    const reason = this.collisionReason();
    if (!reason) return true;
    const go = await this.app.collisions.confirm(reason, this.label);
    if (go) {
      this.repliedSince = null; // seen and accepted
      return true;
    }
    this.focusComposer();
    this.app.announce("Not sent: your draft is still in the composer");
    return false;
  }

  /** Who else has this conversation open, and the composer's warning. */
  renderPresence() {
    const viewers = this.app.collisions.viewers(this.id);
    const names = viewers.map((viewer) => viewer.name).join(", ");
    if (this.viewersLine.dataset.names !== names) {
      this.viewersLine.dataset.names = names;
      this.viewersLine.replaceChildren(
        ...(viewers.length
          ? [
              el("span", { class: "pane-viewers-label", text: "Also viewing:" }),
              ...viewers.map((viewer) =>
                el(
                  "span",
                  { class: "pane-viewer", "data-user-id": viewer.userId },
                  el("span", { class: "avatar tiny", "aria-hidden": "true", text: initials(viewer.name || "?") }),
                  el("span", { class: "pane-viewer-name", text: viewer.name || "A colleague" }),
                ),
              ),
            ]
          : []),
      );
    }
    const warning = this.collisionReason() || "";
    if (this.collisionLine.textContent !== warning) this.collisionLine.textContent = warning;
  }

  // ------------------------------------------------------------------ actions

  async setStatus(status) {
    if (this.conversation.status === status) return;
    try {
      this.applyConversation(await api("POST", `/conversations/${this.id}/status`, { status }));
      this.app.announce(`Chat #${this.conversation.number} is now ${STATUS_LABELS[status].toLowerCase()}`);
      this.app.inbox.reload();
    } catch (error) {
      this.statusSelect.value = this.conversation.status;
      this.app.toast(error.message, "error");
    }
  }

  async patch(fields) {
    try {
      this.applyConversation(await api("PATCH", `/conversations/${this.id}`, fields));
      this.app.inbox.reload();
    } catch (error) {
      this.applyConversation({});
      this.app.toast(error.message, "error");
    }
  }
}

// ------------------------------------------------------------------ canned / article picker

class Picker {
  constructor(pane, kind) {
    this.pane = pane;
    this.kind = kind;
    this.items = [];
    this.active = 0;
    this.timer = null;
    const label = kind === "canned" ? "Search canned responses" : "Search help-center articles";
    this.input = el("input", {
      type: "search",
      class: "picker-search",
      "aria-label": label,
      placeholder: kind === "canned" ? "Shortcut, title or tag…" : "Article title or words…",
      role: "combobox",
      "aria-expanded": "true",
      autocomplete: "off",
    });
    this.list = el("ul", { class: "picker-list", role: "listbox", "aria-label": kind === "canned" ? "Canned responses" : "Articles" });
    this.input.setAttribute("aria-controls", "");
    this.element = el(
      "div",
      { class: "picker", "data-kind": kind },
      el("div", { class: "picker-head", text: kind === "canned" ? "Canned responses — Enter inserts, Esc closes" : "Insert article link" }),
      this.input,
      this.list,
    );
    this.input.addEventListener("keydown", (event) => this.handleKey(event));
    this.input.addEventListener("input", () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.search(), 120);
    });
  }

  open() {
    this.input.focus();
    this.search();
  }

  async search() {
    const q = this.input.value.trim();
    try {
      if (this.kind === "canned") {
        const result = await api("GET", `/canned/suggest${query({ conversation_id: this.pane.id, q, limit: 8 })}`);
        this.items = result.data.map((item) => ({ id: item.id, title: `/${item.shortcut} · ${item.title}`, detail: item.text, text: item.text }));
      } else {
        const result = await api("GET", `/articles/search${query({ q, limit: 8, language: this.pane.conversation.language })}`);
        this.items = result.data.map((item) => ({
          id: item.id,
          title: item.title,
          detail: item.url || "internal article (no public link)",
          text: item.url ? `${item.title}: ${item.url}` : item.title,
        }));
      }
    } catch (error) {
      this.items = [];
      this.list.replaceChildren(el("li", { class: "muted", text: error.message }));
      return;
    }
    if (!this.pane.picker) return;
    this.active = 0;
    this.render();
  }

  render() {
    if (!this.items.length) {
      this.list.replaceChildren(el("li", { class: "muted", text: "Nothing found." }));
      return;
    }
    this.list.replaceChildren(
      ...this.items.map((item, index) => {
        const option = el(
          "li",
          { role: "option", "aria-selected": String(index === this.active), class: "picker-item" },
          el("span", { class: "picker-title", text: item.title }),
          el("span", { class: "picker-detail", text: item.detail }),
        );
        option.addEventListener("mousedown", (event) => {
          event.preventDefault();
          this.choose(index);
        });
        return option;
      }),
    );
  }

  choose(index) {
    const item = this.items[index];
    if (!item) return;
    const pane = this.pane;
    pane.closePicker();
    pane.insertText(item.text);
    if (this.kind === "canned") pane.usedCanned.add(item.id);
  }

  handleKey(event) {
    if (event.key === "Escape" && !event.shiftKey) {
      event.preventDefault();
      this.pane.closePicker();
      return true;
    }
    if (event.target !== this.input) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.items.length) % Math.max(1, this.items.length);
      this.render();
      return true;
    }
    if (event.key === "Enter") {
      event.preventDefault();
      this.choose(this.active);
      return true;
    }
    return false;
  }
}
