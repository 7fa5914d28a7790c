// The agent WebSocket: one connection for the workspace, reconnecting with backoff.
// Every open pane is subscribed with the last sequence number it showed, so after a
// reconnect the server sends exactly what was missed (docs/widget-protocol.md).

export class AgentSocket {
  constructor({ onFrame, onState }) {
    this.onFrame = onFrame;
    this.onState = onState;
    this.cursors = new Map(); // conversation id -> last seq shown
    this.socket = null;
    this.attempt = 0;
    this.pingTimer = null;
    this.closedByUs = false;
  }

  connect() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${window.location.host}/api/v1/ws`);
    this.socket = socket;
    this.onState("connecting");
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.onState("open");
      for (const [conversationId, afterSeq] of this.cursors) this._subscribe(conversationId, afterSeq);
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.send({ type: "ping" }), 25000);
    });
    socket.addEventListener("message", (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      this.onFrame(frame);
    });
    socket.addEventListener("close", () => {
      clearInterval(this.pingTimer);
      if (this.socket !== socket || this.closedByUs) return;
      this.onState("closed");
      const delay = Math.min(10000, 300 * 2 ** this.attempt) * (0.7 + Math.random() * 0.6);
      this.attempt += 1;
      setTimeout(() => this.connect(), delay);
    });
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  _subscribe(conversationId, afterSeq) {
    this.send({ type: "subscribe", conversation_id: conversationId, after_seq: afterSeq });
  }

  follow(conversationId, afterSeq) {
    this.cursors.set(conversationId, afterSeq);
    this._subscribe(conversationId, afterSeq);
  }

  unfollow(conversationId) {
    if (this.cursors.delete(conversationId)) {
      this.send({ type: "unsubscribe", conversation_id: conversationId });
    }
  }

  advance(conversationId, seq) {
    if (this.cursors.has(conversationId) && seq > this.cursors.get(conversationId)) {
      this.cursors.set(conversationId, seq);
    }
  }

  typing(conversationId, active) {
    this.send({ type: "typing", conversation_id: conversationId, active });
  }

  read(conversationId, seq) {
    this.send({ type: "read", conversation_id: conversationId, seq });
  }
}
