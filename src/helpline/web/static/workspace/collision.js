// Collision warning for the workspace: who else has a pane's conversation open and
// who is typing in it, from the workspace's own agent socket. The bookkeeping is the
// shared PresenceTracker of the status control (static/agent_status/presence.js);
// this module adds what only the workspace needs: forgetting a closed pane, starting
// over after a reconnect, and the "send anyway?" question before a reply collides.

import { PresenceTracker } from "/static/agent_status/presence.js";

export class Collisions {
  constructor(myUserId) {
    this.me = myUserId;
    this.tracker = new PresenceTracker(myUserId);
    this.dialog = document.getElementById("ws-collision");
    this.text = document.getElementById("ws-collision-text");
    this.pending = null;
    this.dialog.addEventListener("close", () => this.settle(this.dialog.returnValue === "send"));
    this.dialog.querySelector("[data-keep]").addEventListener("click", () => this.dialog.close("keep"));
  }

  /** Feeds a "presence" or agent "typing" frame; true when something changed. */
  handleFrame(frame) {
    return this.tracker.handleFrame(frame);
  }

  /** After a reconnect every colleague answers again: drop what may be stale. */
  reset() {
    this.tracker = new PresenceTracker(this.me);
  }

  /** A closed pane: its colleagues will be asked again when it is reopened. */
  forget(conversationId) {
    this.tracker.viewing.delete(conversationId);
    this.tracker.typing.delete(conversationId);
  }

  viewers(conversationId) {
    return this.tracker.viewers(conversationId);
  }

  typists(conversationId) {
    return this.tracker.typists(conversationId);
  }

  /** "Maria is typing a reply", "Maria, Ravi are typing", or null. */
  typingText(conversationId) {
    return this.typists(conversationId).length ? this.tracker.warning(conversationId) : null;
  }

  isOpen() {
    return this.dialog.open;
  }

  /**
   * Asks before a reply goes out over a colleague's: resolves true to send, false to
   * keep the draft. "Send anyway" has the focus, so Enter sends and Esc keeps.
   */
  confirm(reason, label) {
    if (this.pending) this.settle(false);
    this.text.textContent = `${reason}. Send your reply to ${label} anyway?`;
    this.dialog.returnValue = "";
    this.dialog.showModal();
    this.dialog.querySelector("[data-send]").focus();
    return new Promise((resolve) => {
      this.pending = resolve;
    });
  }

  settle(answer) {
    const resolve = this.pending;
    this.pending = null;
    if (resolve) resolve(answer);
  }
}
