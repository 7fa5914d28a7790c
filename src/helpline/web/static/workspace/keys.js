// Keyboard shortcuts: turn a keydown into a chord ("Ctrl+Alt+S"), find the action
// the agent's keymap binds to it, and know which chords this browser keeps for
// itself. Letters and digits are read from `event.code`, so the physical key
// counts whatever the layout; Ctrl+Alt chords never fire while AltGraph is down
// (on Windows Ctrl+Alt *is* AltGr: ś, ó, ń on a Polish keyboard).

const MODIFIER_KEYS = new Set(["Control", "Alt", "Shift", "Meta", "AltGraph", "OS", "CapsLock"]);
const NAMED = {
  " ": "Space",
  Esc: "Escape",
};

export function chordFromEvent(event) {
  if (MODIFIER_KEYS.has(event.key)) return null;
  let key;
  let shiftImplied = false;
  const code = event.code || "";
  if (/^Key[A-Z]$/.test(code)) key = code.slice(3);
  else if (/^Digit[0-9]$/.test(code)) key = code.slice(5);
  else if (/^Numpad[0-9]$/.test(code)) key = code.slice(6);
  else if (NAMED[event.key]) key = NAMED[event.key];
  else if (event.key && event.key.length === 1) {
    key = event.key.toUpperCase();
    shiftImplied = true; // "?" is Shift+/ on one layout and a key of its own on another
  } else key = event.key;
  if (!key || key === "Unidentified" || key === "Dead") return null;
  const parts = [];
  if (event.ctrlKey) parts.push("Ctrl");
  if (event.altKey) parts.push("Alt");
  if (event.shiftKey && !shiftImplied) parts.push("Shift");
  if (event.metaKey) parts.push("Meta");
  parts.push(key);
  return parts.join("+");
}

export function altGraphDown(event) {
  return Boolean(event.getModifierState && event.getModifierState("AltGraph"));
}

/** True when this chord must not fire now: Ctrl+Alt chords while AltGr is held. */
export function blockedByAltGraph(chord, event) {
  return altGraphDown(event) && chord.startsWith("Ctrl+Alt+");
}

export function environment() {
  const ua = navigator.userAgent || "";
  const platform = (navigator.userAgentData && navigator.userAgentData.platform) || navigator.platform || ua;
  const firefox = /Firefox\//.test(ua);
  return {
    chromium: !firefox && /Chrome\/|Chromium\//.test(ua),
    firefox,
    linux: /Linux/i.test(platform) && !/Android/i.test(ua),
    windows: /Win/i.test(platform),
    mac: /Mac/i.test(platform),
  };
}

/** Why this browser or system may swallow `chord` before the page sees it, or null. */
export function takenHere(chord, env, sawAltGraph) {
  if (chord === "Shift+Escape" && env.chromium && !env.mac) return "Chrome opens its task manager";
  if (chord === "Ctrl+Shift+J" && (env.chromium || env.firefox)) return "the browser opens its developer console";
  if (chord === "Ctrl+Shift+U" && env.linux) return "Linux input methods start Unicode entry";
  if (chord.startsWith("Ctrl+Alt+") && (env.windows || sawAltGraph)) {
    return "Ctrl+Alt is AltGr on this keyboard";
  }
  return null;
}

export function display(chord) {
  return chord
    .replace("Escape", "Esc")
    .replace("ArrowDown", "↓")
    .replace("ArrowUp", "↑")
    .replace("ArrowLeft", "←")
    .replace("ArrowRight", "→");
}

/** aria-keyshortcuts wants "Control+Alt+S". */
export function ariaShortcut(chord) {
  return chord.replace("Ctrl", "Control");
}

export class Keymap {
  constructor(actions, keymap) {
    this.actions = actions;
    this.update(keymap);
  }

  update(keymap) {
    this.keymap = keymap;
    this.byChord = new Map();
    for (const [action, chords] of Object.entries(keymap)) {
      for (const chord of chords) this.byChord.set(chord, action);
    }
  }

  actionFor(chord) {
    return this.byChord.get(chord) || null;
  }

  chords(action) {
    return this.keymap[action] || [];
  }

  /** The chords that work here, first; then the ones the browser may take, with why. */
  describe(action, env, sawAltGraph) {
    const working = [];
    const taken = [];
    for (const chord of this.chords(action)) {
      const reason = takenHere(chord, env, sawAltGraph);
      if (reason) taken.push({ chord, reason });
      else working.push(chord);
    }
    return { working, taken };
  }

  /** The chord to show on a button or tab: the first that works here. */
  hint(action, env, sawAltGraph) {
    const { working, taken } = this.describe(action, env, sawAltGraph);
    return working[0] || (taken[0] && taken[0].chord) || "";
  }
}
