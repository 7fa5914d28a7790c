// Who else is in a conversation: feed it the agent socket's frames ("presence",
// "typing") and ask for the composer's collision warning, e.g. "Maria is typing a
// reply". It keeps no state on the server: newcomers ask, others answer.

const TYPING_FRESH_MS = 6000;

export class PresenceTracker {
  constructor(myUserId) {
    this.me = myUserId;
    this.viewing = new Map(); // conversation id -> Map(connection -> {userId, name})
    this.typing = new Map(); // conversation id -> Map(user id -> {name, at})
  }

  /** Returns true when the frame changed what `warning()` says. */
  handleFrame(frame) {
    if (frame.type === "presence" && frame.user_id !== this.me) {
      const people = this.viewing.get(frame.conversation_id) ?? new Map();
      const key = frame.connection ?? String(frame.user_id);
      if (frame.viewing) people.set(key, { userId: frame.user_id, name: frame.name });
      else people.delete(key);
      this.viewing.set(frame.conversation_id, people);
      if (!frame.viewing) this.typing.get(frame.conversation_id)?.delete(frame.user_id);
      return true;
    }
    if (frame.type === "typing" && frame.who === "agent" && frame.user_id !== this.me) {
      const typists = this.typing.get(frame.conversation_id) ?? new Map();
      if (frame.active) typists.set(frame.user_id, { name: frame.name, at: Date.now() });
      else typists.delete(frame.user_id);
      this.typing.set(frame.conversation_id, typists);
      return true;
    }
    return false;
  }

  /** Colleagues with the conversation open, each once. */
  viewers(conversationId) {
    const byUser = new Map();
    for (const person of this.viewing.get(conversationId)?.values() ?? []) {
      byUser.set(person.userId, person.name);
    }
    return [...byUser].map(([userId, name]) => ({ userId, name }));
  }

  /** Colleagues typing in it within the last few seconds. */
  typists(conversationId) {
    const now = Date.now();
    return [...(this.typing.get(conversationId) ?? new Map())]
      .filter(([, typist]) => now - typist.at < TYPING_FRESH_MS)
      .map(([userId, typist]) => ({ userId, name: typist.name }));
  }

  /** The composer's warning, or null when nobody else is there. */
  warning(conversationId) {
    const typists = this.typists(conversationId);
    if (typists.length === 1) return `${typists[0].name} is typing a reply`;
    if (typists.length > 1) return `${typists.map((t) => t.name).join(", ")} are typing`;
    const viewers = this.viewers(conversationId);
    if (viewers.length === 1) return `${viewers[0].name} is also viewing this conversation`;
    if (viewers.length > 1) {
      return `${viewers.map((v) => v.name).join(", ")} are also viewing this conversation`;
    }
    return null;
  }
}
