// The staff WebSocket (/api/v1/ws, signed in by the page's session cookie) with
// reconnects: exponential backoff from 0.5 s to 30 s with jitter, at once when the
// browser comes back online. Shared by the status control and the supervisor view.

export function connectAgentSocket({ onFrame, onOpen, onClose } = {}) {
  let socket = null;
  let delay = 500;
  let stopped = false;
  let pinger = null;
  let retry = null;

  function open() {
    clearTimeout(retry);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/api/v1/ws`);
    socket.addEventListener("open", () => {
      delay = 500;
      onOpen?.();
    });
    socket.addEventListener("message", (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (frame.type === "hello" && frame.ping_seconds) {
        clearInterval(pinger);
        pinger = setInterval(() => send({ type: "ping" }), frame.ping_seconds * 1000);
      }
      onFrame?.(frame);
    });
    socket.addEventListener("close", (event) => {
      clearInterval(pinger);
      onClose?.(event);
      if (stopped || event.code === 4401) return;
      retry = setTimeout(open, delay + Math.random() * (delay / 2));
      delay = Math.min(delay * 2, 30_000);
    });
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  window.addEventListener("online", () => {
    if (!stopped && socket && socket.readyState === WebSocket.CLOSED) {
      delay = 500;
      open();
    }
  });
  open();
  return {
    send,
    close() {
      stopped = true;
      socket?.close();
    },
  };
}
