// The supervisor board, live: the server renders the board; this module fetches it
// again whenever the agent WebSocket says something moved, ticks the timers, and
// turns drag and drop onto an agent into a reassignment (POST .../assign).
import { connectAgentSocket } from "/static/agent_status/socket.js";

const board = document.getElementById("board");
const liveState = document.getElementById("live-state");
const REFRESH_AFTER_MS = 400;
const FULL_REFRESH_MS = 30_000;
const QUIET_EVENTS = new Set(["notification.created", "notification.read"]);

let pending = null;
let inFlight = false;
let again = false;

function say(text) {
  if (liveState) liveState.textContent = text;
}

function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

function tick() {
  const now = Date.now();
  for (const element of board.querySelectorAll("[data-since]")) {
    const since = Date.parse(element.dataset.since);
    if (!Number.isNaN(since)) element.textContent = formatDuration((now - since) / 1000);
  }
}

async function refresh() {
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  try {
    // Keep an open "Move" menu open across the refresh.
    const open = board.querySelector("details.move[open] input[name=conversation_id]")?.value;
    const response = await fetch(board.dataset.boardUrl, { credentials: "same-origin" });
    if (response.ok) {
      board.innerHTML = await response.text();
      if (open) {
        const form = board.querySelector(`details.move input[name=conversation_id][value="${open}"]`);
        form?.closest("details")?.setAttribute("open", "");
      }
      board.dataset.refreshedAt = String(Date.now());
      board.dispatchEvent(new CustomEvent("board:refreshed"));
    } else if (response.status === 401 || response.status === 403) {
      say("Signed out: reload the page.");
    }
  } finally {
    inFlight = false;
    if (again) {
      again = false;
      schedule();
    }
  }
}

function schedule() {
  clearTimeout(pending);
  pending = setTimeout(refresh, REFRESH_AFTER_MS);
}

async function reassign(conversationId, agentId, agentName, number) {
  say(`Moving #${number} to ${agentName}…`);
  const response = await fetch(`/api/v1/conversations/${conversationId}/assign`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": board.dataset.csrf },
    body: JSON.stringify({ assignee_id: Number(agentId) }),
  });
  if (response.ok) {
    say(`Moved #${number} to ${agentName}.`);
  } else {
    let message = "could not move it";
    try {
      message = (await response.json()).error.message;
    } catch {
      /* keep the generic text */
    }
    say(`#${number}: ${message}`);
  }
  schedule();
}

// Drag and drop, delegated so that it survives every refresh.
board.addEventListener("dragstart", (event) => {
  const chat = event.target.closest?.(".sv-chat");
  if (!chat) return;
  event.dataTransfer.setData("text/plain", chat.dataset.conversationId);
  event.dataTransfer.setData("application/x-helpline-number", chat.dataset.number);
  event.dataTransfer.effectAllowed = "move";
  chat.classList.add("sv-dragging");
});
board.addEventListener("dragend", (event) => {
  event.target.closest?.(".sv-chat")?.classList.remove("sv-dragging");
  for (const row of board.querySelectorAll(".sv-drop")) row.classList.remove("sv-drop");
});
board.addEventListener("dragover", (event) => {
  const agent = event.target.closest?.(".sv-agent");
  if (!agent) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "move";
  for (const row of board.querySelectorAll(".sv-drop")) if (row !== agent) row.classList.remove("sv-drop");
  agent.classList.add("sv-drop");
});
board.addEventListener("drop", (event) => {
  const agent = event.target.closest?.(".sv-agent");
  if (!agent) return;
  event.preventDefault();
  agent.classList.remove("sv-drop");
  const conversationId = event.dataTransfer.getData("text/plain");
  const number = event.dataTransfer.getData("application/x-helpline-number") || conversationId;
  if (!/^\d+$/.test(conversationId)) return;
  reassign(conversationId, agent.dataset.agentId, agent.dataset.agentName, number);
});

connectAgentSocket({
  onOpen: () => {
    say("Live");
    schedule(); // catch up with anything missed while connecting
  },
  onClose: () => say("Reconnecting…"),
  onFrame: (frame) => {
    if (frame.type === "event" && !QUIET_EVENTS.has(frame.event?.type)) schedule();
  },
});
setInterval(tick, 1000);
setInterval(schedule, FULL_REFRESH_MS);
