// @mention notifications in the workspace header: the unread count, the list, and a
// click that opens the conversation in a pane. Loaded from /api/v1/notifications
// when the socket (re)connects, then kept live by the `notification.created` and
// `notification.read` events on the same socket (docs/supervision.md).

import { api, query } from "./api.js";
import { el, shortTime } from "./format.js";

const PAGE = 30;

export class Mentions {
  constructor(app) {
    this.app = app;
    this.items = [];
    this.unread = 0;
    this.root = document.getElementById("ws-mentions");
    this.button = document.getElementById("ws-mentions-button");
    this.count = document.getElementById("ws-mentions-count");
    this.panel = document.getElementById("ws-mentions-panel");
    this.list = document.getElementById("ws-mentions-list");
    this.readAll = document.getElementById("ws-mentions-read-all");
    this.button.addEventListener("click", () => this.toggle());
    this.readAll.addEventListener("click", () => this.markRead(null));
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.toggle(false);
        this.button.focus();
      }
    });
    document.addEventListener("mousedown", (event) => {
      if (!this.panel.hidden && !this.root.contains(event.target)) this.toggle(false);
    });
  }

  async load() {
    try {
      const page = await api("GET", `/notifications${query({ limit: PAGE })}`);
      this.items = page.data;
      this.unread = page.unread;
    } catch {
      return; // keep what is shown; the next reconnect loads again
    }
    this.render();
  }

  /** A live event of the agent socket; true when it was one of ours. */
  onEvent(event) {
    if (event.type === "notification.created" && event.notification) {
      const item = event.notification;
      if (this.items.some((known) => known.id === item.id)) return true;
      this.items = [item, ...this.items].slice(0, PAGE);
      if (!item.read_at) this.unread += 1;
      this.render();
      const who = item.data?.actor_name || "A colleague";
      const number = item.data?.conversation_number;
      this.app.announce(`${who} mentioned you${number ? ` in chat #${number}` : ""}`);
      this.app.toast(`${who} mentioned you${number ? ` in chat #${number}` : ""}`);
      return true;
    }
    if (event.type === "notification.read") {
      this.load(); // read elsewhere (another tab): take the server's word
      return true;
    }
    return false;
  }

  toggle(open = this.panel.hidden) {
    this.panel.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (open) this.list.querySelector("button")?.focus();
  }

  render() {
    this.count.hidden = this.unread === 0;
    this.count.textContent = String(this.unread);
    this.button.setAttribute(
      "aria-label",
      `Mentions, ${this.unread} unread`,
    );
    this.readAll.disabled = this.unread === 0;
    if (!this.items.length) {
      this.list.replaceChildren(el("li", { class: "muted", text: "Nobody has mentioned you yet." }));
      return;
    }
    this.list.replaceChildren(...this.items.map((item) => this.renderItem(item)));
  }

  renderItem(item) {
    const data = item.data || {};
    const who = data.actor_name || "A colleague";
    const chat = data.conversation_number ? `chat #${data.conversation_number}` : "a conversation";
    const open = el(
      "button",
      {
        type: "button",
        class: "ws-mention",
        "data-id": item.id,
        "data-conversation-id": item.conversation_id,
        "data-unread": String(!item.read_at),
      },
      el("span", { class: "ws-mention-title", text: `${who} in ${chat}${data.subject ? `: ${data.subject}` : ""}` }),
      el("span", { class: "ws-mention-excerpt", text: data.excerpt || "" }),
      el("time", { datetime: item.created_at, text: shortTime(item.created_at) }),
    );
    open.addEventListener("click", () => this.openItem(item));
    return el("li", {}, open);
  }

  async openItem(item) {
    this.toggle(false);
    if (!item.read_at) this.markRead([item.id]);
    await this.app.openConversation(item.conversation_id, { focus: true });
  }

  async markRead(ids) {
    const now = new Date().toISOString();
    const wanted = ids === null ? null : new Set(ids);
    let changed = 0;
    for (const item of this.items) {
      if (!item.read_at && (wanted === null || wanted.has(item.id))) {
        item.read_at = now;
        changed += 1;
      }
    }
    this.unread = ids === null ? 0 : Math.max(0, this.unread - changed);
    this.render();
    try {
      await api("POST", "/notifications/read", ids === null ? {} : { ids });
    } catch (error) {
      this.app.toast(error.message, "error");
      this.load();
    }
  }
}
