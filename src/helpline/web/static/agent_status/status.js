// The agent's status control: online / away / on a break / offline with the time in
// it, the load against the cap, and the break reminder (take the break or snooze).
// Mounts every [data-agent-status] element; state lives on the server
// (GET /api/v1/me/wellbeing), live changes come over the agent WebSocket.
//
// A page that has its own socket (the workspace) can pass frames in instead:
//   <div data-agent-status data-connect="false">, then
//   const control = mountAgentStatus(element); socket.onFrame = control.handleFrame;
import { connectAgentSocket } from "/static/agent_status/socket.js";

const STATUS_TEXT = { online: "Online", away: "Away", on_break: "On a break", offline: "Offline" };
const RELOAD_AFTER_MS = 300;

function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function mountAgentStatus(root) {
  if (root.agentStatusControl) return root.agentStatusControl; // mounted once per element
  const csrf = root.dataset.csrf;
  const select = root.querySelector("[data-status-select]");
  const timer = root.querySelector("[data-status-timer]");
  const load = root.querySelector("[data-load]");
  const reminder = root.querySelector("[data-break-reminder]");
  const reminderText = root.querySelector("[data-break-text]");
  const accept = root.querySelector("[data-break-accept]");
  const snoozeMinutes = root.querySelector("[data-snooze-minutes]");
  const snooze = root.querySelector("[data-break-snooze]");
  const banner = root.querySelector("[data-break-banner]");
  const bannerText = root.querySelector("[data-break-banner-text]");
  const back = root.querySelector("[data-break-back]");
  let view = null;
  let reloadTimer = null;
  let breakOver = false;

  async function call(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${url}: ${response.status}`);
    return response.json();
  }

  function render() {
    if (!view) return;
    root.hidden = false;
    root.dataset.status = view.status;
    select.value = view.status;
    const since = (Date.now() - Date.parse(view.status_since)) / 1000;
    timer.textContent = `for ${formatDuration(since)}`;
    timer.dateTime = view.status_since;
    load.textContent = `${view.open_chats} / ${view.max_concurrent_chats} chats`;
    load.classList.toggle("agent-load-full", view.open_chats >= view.max_concurrent_chats);
    const due =
      view.status === "online" &&
      (view.break_due || (view.break_due_at && Date.now() >= Date.parse(view.break_due_at)));
    if (due && reminder.hidden) {
      const minutes = Math.floor(since / 60);
      reminderText.textContent = `You have been chatting for ${formatDuration(minutes * 60)}. Time for a ${view.break_minutes}-minute break?`;
      accept.textContent = `Take a ${view.break_minutes}-minute break`;
    }
    reminder.hidden = !due;
    const onBreak = view.status === "on_break";
    banner.hidden = !onBreak;
    if (onBreak) {
      bannerText.textContent = breakOver
        ? "Your break is over."
        : view.break_ends_at
          ? `On a break until ${clock(view.break_ends_at)}.`
          : "On a break.";
    }
    root.dispatchEvent(new CustomEvent("agent-status:changed", { bubbles: true, detail: view }));
  }

  async function reload() {
    try {
      view = await call("GET", "/api/v1/me/wellbeing");
      render();
    } catch {
      /* signed out or offline: keep what is shown */
    }
  }

  function scheduleReload() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(reload, RELOAD_AFTER_MS);
  }

  async function setStatus(status) {
    if (status === "on_break") view = await call("POST", "/api/v1/me/wellbeing/break");
    else if (view?.status === "on_break" && status === "online") {
      view = await call("POST", "/api/v1/me/wellbeing/back");
    } else {
      await call("PUT", "/api/v1/routing/status", { status });
      view = await call("GET", "/api/v1/me/wellbeing");
    }
    breakOver = false;
    render();
  }

  select.addEventListener("change", () => setStatus(select.value).catch(reload));
  accept.addEventListener("click", () => setStatus("on_break").catch(reload));
  back.addEventListener("click", () => setStatus("online").catch(reload));
  snooze.addEventListener("click", async () => {
    try {
      view = await call("POST", "/api/v1/me/wellbeing/snooze", {
        minutes: Number(snoozeMinutes.value),
      });
      render();
    } catch {
      reload();
    }
  });

  function handleFrame(frame) {
    if (frame.type !== "event" || !frame.event) return;
    const event = frame.event;
    if (event.type === "wellbeing.break_due") {
      scheduleReload();
    } else if (event.type === "wellbeing.break_over") {
      breakOver = true;
      scheduleReload();
    } else if (event.type === "user.updated" && view && event.user_id === view.user_id) {
      scheduleReload();
    } else if (event.type.startsWith("conversation.") && concernsMe(event)) {
      scheduleReload(); // an assignment or a status change moved the load
    }
  }

  // Mine now, or mine before this change (assigned away, transferred, re-offered).
  function concernsMe(event) {
    if (!view) return true;
    if (event.conversation?.assignee_id === view.user_id) return true;
    const keys = ["from", "to", "from_user_id", "to_user_id", "from_id", "agent_id"];
    return (event.activities ?? []).some((activity) =>
      keys.some((key) => activity.data?.[key] === view.user_id),
    );
  }

  setInterval(render, 1000);
  reload();
  if (root.dataset.connect !== "false") {
    connectAgentSocket({ onFrame: handleFrame, onOpen: scheduleReload });
  }
  root.agentStatusControl = { handleFrame, reload, get view() { return view; } };
  return root.agentStatusControl;
}

for (const root of document.querySelectorAll("[data-agent-status]")) mountAgentStatus(root);
