// Words, colours and times the workspace shows. Everything user-written is put into
// the page with textContent (never innerHTML), so a message can never be markup.

export const PANE_COLOURS = [
  { name: "blue", value: "#1f5fd6" },
  { name: "green", value: "#17803d" },
  { name: "purple", value: "#7a3ec8" },
  { name: "orange", value: "#b54708" },
  { name: "teal", value: "#0e7490" },
  { name: "pink", value: "#be185d" },
  { name: "brown", value: "#7c4a1e" },
  { name: "slate", value: "#475467" },
];

export const STATUS_LABELS = {
  open: "Open",
  pending: "Pending",
  on_hold: "On hold",
  solved: "Solved",
  closed: "Closed",
};
export const PRIORITY_LABELS = { urgent: "Urgent", high: "High", normal: "Normal", low: "Low" };

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function initials(name) {
  const parts = String(name || "?").trim().split(/\s+/).filter(Boolean);
  if (!parts.length) return "?";
  const first = parts[0][0] || "";
  const last = parts.length > 1 ? parts[parts.length - 1][0] : "";
  return (first + last).toUpperCase();
}

export function contactName(conversation) {
  return (conversation.contact && conversation.contact.name) || "Customer";
}

export function clock(seconds) {
  const negative = seconds < 0;
  let rest = Math.abs(Math.round(seconds));
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const secs = rest - minutes * 60;
  const text = hours
    ? `${hours}:${String(minutes).padStart(2, "0")}:${String(secs).padStart(2, "0")}`
    : `${minutes}:${String(secs).padStart(2, "0")}`;
  return negative ? "-" + text : text;
}

export function shortTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** The SLA deadline that matters now, as {label, due} or null. */
export function slaDeadline(conversation) {
  if (!conversation) return null;
  if (["solved", "closed"].includes(conversation.status)) return null;
  if (!conversation.first_response_at && conversation.first_response_due_at) {
    return { label: "First response", due: conversation.first_response_due_at };
  }
  if (conversation.waiting_since && conversation.next_response_due_at) {
    return { label: "Next response", due: conversation.next_response_due_at };
  }
  if (conversation.resolution_due_at) return { label: "Resolution", due: conversation.resolution_due_at };
  return null;
}

/** The frustration the AI computes, whichever shape the API gives it; null if absent. */
export function frustrationOf(conversation) {
  if (!conversation) return null;
  const raw = conversation.frustration ?? conversation.frustration_score ?? null;
  if (raw === null || raw === undefined) return null;
  if (typeof raw === "number") {
    const reasons = (conversation.frustration_reasons || []).map(reasonText);
    return { score: raw, level: conversation.frustration_level || null, reasons };
  }
  if (typeof raw === "object" && typeof raw.score === "number") {
    const reasons = (raw.reasons || []).map(reasonText);
    return { score: raw.score, level: raw.level || null, reasons };
  }
  return null;
}

/** "trigger phrase: lawyer" from the API's {kind, evidence}. */
function reasonText(reason) {
  if (typeof reason === "string") return reason;
  if (!reason) return "";
  const kind = String(reason.kind || "").replace(/_/g, " ");
  const evidence = reason.evidence || reason.text || "";
  return kind && evidence ? `${kind}: ${evidence}` : kind || evidence;
}

/** Worth a badge: the AI found at least some frustration (low is shown as nothing). */
export function frustrationShown(frustration) {
  return Boolean(frustration) && frustrationLevel(frustration) !== "low";
}

export function frustrationLevel(frustration) {
  if (frustration.level) return frustration.level;
  if (frustration.score >= 0.7) return "high";
  if (frustration.score >= 0.4) return "medium";
  return "low";
}

const names = new Map();
export function rememberNames(agents) {
  for (const agent of agents) names.set(agent.id, agent.name);
}
export function agentName(id) {
  return names.get(id) || "An agent";
}

/** One history line in plain words, for activities that arrive live (the history API
 * gives the actor's name; live events give only the id). */
export function describeActivity(activity, actorName, contact) {
  const data = activity.data || {};
  const actor =
    activity.actor_type === "contact"
      ? contact
      : actorName || (activity.actor_user_id ? agentName(activity.actor_user_id) : "Helpline");
  switch (activity.kind) {
    case "created":
      return `${actor} started the conversation`;
    case "status_changed":
      return `${actor} changed the status from ${STATUS_LABELS[data.from] || data.from} to ${STATUS_LABELS[data.to] || data.to}`;
    case "snoozed":
      return `${actor} snoozed the conversation`;
    case "reopened":
      return data.reason === "snooze_over" ? "The snooze ended: open again" : `Reopened: ${actor} wrote again`;
    case "auto_closed":
      return "Closed automatically after it was solved";
    case "assigned":
      if (activity.actor_user_id && activity.actor_user_id === data.to) return `${actor} took the conversation`;
      if (!activity.actor_user_id) return `Routed to ${data.to_name || agentName(data.to)}`;
      return `${actor} assigned the conversation to ${data.to_name || agentName(data.to)}`;
    case "unassigned":
      return `${actor} unassigned ${data.from_name || "the agent"}`;
    case "transferred": {
      const target = data.to_user_name || data.to_team_name || "another team";
      return `${actor} transferred the conversation to ${target}` + (data.note ? ` — “${data.note}”` : "");
    }
    case "team_changed":
      return `${actor} moved the conversation to ${data.to_name || data.to_team_name || "no team"}`;
    case "priority_changed":
      return `${actor} changed the priority from ${PRIORITY_LABELS[data.from] || data.from} to ${PRIORITY_LABELS[data.to] || data.to}`;
    case "category_changed":
      return `${actor} changed the category from ${data.from || "none"} to ${data.to || "none"}`;
    case "tags_changed": {
      const parts = [];
      if ((data.added || []).length) parts.push("added " + data.added.join(", "));
      if ((data.removed || []).length) parts.push("removed " + data.removed.join(", "));
      return `${actor} ${parts.length ? parts.join("; ") : "changed the tags"}`;
    }
    case "sla_breached":
      return `SLA target missed: ${String(data.target || "response").replace(/_/g, " ")}`;
    case "sla_warning":
      return `SLA warning: ${String(data.target || "").replace(/_/g, " ")} due soon`;
    case "sla_paused":
      return `SLA clock paused: ${data.reason || "paused"}`;
    case "sla_resumed":
      return "SLA clock running again";
    case "escalated":
      if ((data.rules || []).length) return `Escalation rule ${data.rules.join(", ")}`;
      return `${actor} escalated the conversation to ${data.to_team_name || data.team_name || "tier 2"}`;
    case "reoffered":
      return `Taken back from ${data.from_name || "the agent"} and offered again`;
    case "participant_joined":
      return `${data.user_name || actor} joined the conversation`;
    case "participant_left":
      return `${data.user_name || actor} left the conversation`;
    case "rated":
    case "csat":
      return `Customer rated the chat ${data.score}/5` + (data.comment ? `: “${data.comment}”` : "");
    default:
      return `${actor}: ${String(activity.kind).replace(/_/g, " ")}`;
  }
}

export function activityClass(kind) {
  if (kind.startsWith("sla") || kind === "escalated") return "sla";
  if (["assigned", "unassigned", "transferred", "team_changed", "reoffered"].includes(kind)) return "assignment";
  if (kind.startsWith("participant")) return "participant";
  return "change";
}
