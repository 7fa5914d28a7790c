"""The workspace's keyboard shortcuts: every action, its default chords, the chords
browsers or input methods take for themselves, and how a chord is written.

Pure data and parsing, shared by the preferences service (which validates an
agent's remapping) and the workspace page (which hands the catalogue to the
browser). A chord is written "Ctrl+Alt+Shift+Meta+Key" in that modifier order.
"""

from __future__ import annotations

from dataclasses import dataclass

MODIFIERS = ("Ctrl", "Alt", "Shift", "Meta")
NAMED_KEYS = frozenset(
    {
        "Escape",
        "Enter",
        "Tab",
        "Space",
        "Backspace",
        "Delete",
        "Home",
        "End",
        "PageUp",
        "PageDown",
        "ArrowUp",
        "ArrowDown",
        "ArrowLeft",
        "ArrowRight",
        "Insert",
        *(f"F{n}" for n in range(1, 13)),
    }
)
PUNCTUATION = frozenset("/?.,;'[]\\-=`")
ALIASES = {"esc": "Escape", "control": "Ctrl", "option": "Alt", "cmd": "Meta", "return": "Enter"}
MAX_CHORDS_PER_ACTION = 3


@dataclass(frozen=True, slots=True)
class ShortcutAction:
    """One thing the keyboard can do in the workspace."""

    name: str
    label: str
    defaults: tuple[str, ...]
    """The first chord is the one the issue names; the others always work too."""
    group: str


ACTIONS: tuple[ShortcutAction, ...] = (
    ShortcutAction("new_ticket", "New ticket", ("Ctrl+Alt+N", "Alt+Shift+N"), "Tickets"),
    ShortcutAction("next_ticket", "Next ticket", ("Ctrl+Alt+K", "Alt+Shift+ArrowDown"), "Tickets"),
    ShortcutAction(
        "previous_ticket", "Previous ticket", ("Ctrl+Alt+J", "Alt+Shift+ArrowUp"), "Tickets"
    ),
    ShortcutAction("set_open", "Set open", ("Ctrl+Alt+O", "Alt+Shift+O"), "Status"),
    ShortcutAction("set_pending", "Set pending", ("Ctrl+Alt+P", "Alt+Shift+P"), "Status"),
    ShortcutAction("set_solved", "Set solved", ("Ctrl+Alt+S", "Alt+Shift+S"), "Status"),
    ShortcutAction("set_on_hold", "Set on hold", ("Ctrl+Alt+D", "Alt+Shift+D"), "Status"),
    ShortcutAction("end_chat", "End chat", ("Shift+Escape", "Alt+Shift+E"), "Chat"),
    ShortcutAction("join_chat", "Join chat", ("Ctrl+Shift+J", "Alt+Shift+J"), "Chat"),
    ShortcutAction("leave_chat", "Leave chat", ("Ctrl+Shift+K", "Alt+Shift+L"), "Chat"),
    ShortcutAction("transfer_chat", "Transfer chat", ("Ctrl+Shift+X", "Alt+Shift+X"), "Chat"),
    ShortcutAction("add_attachment", "Add attachment", ("Ctrl+Shift+U", "Alt+Shift+U"), "Composer"),
    ShortcutAction("send_and_solve", "Send and solve", ("Ctrl+E",), "Composer"),
    ShortcutAction("toggle_note", "Internal note mode on/off", ("Alt+I",), "Composer"),
    ShortcutAction("insert_article", "Insert help-center article link", ("Alt+H",), "Composer"),
    ShortcutAction("focus_pane_1", "Focus chat pane 1", ("Alt+1",), "Panes"),
    ShortcutAction("focus_pane_2", "Focus chat pane 2", ("Alt+2",), "Panes"),
    ShortcutAction("focus_pane_3", "Focus chat pane 3", ("Alt+3",), "Panes"),
    ShortcutAction("focus_pane_4", "Focus chat pane 4", ("Alt+4",), "Panes"),
    ShortcutAction("close_pane", "Close the focused pane", ("Alt+W",), "Panes"),
    ShortcutAction("focus_inbox", "Go to the inbox list", ("Alt+0",), "Panes"),
    ShortcutAction("command_palette", "Command palette", ("Ctrl+K",), "Help"),
    ShortcutAction("cheat_sheet", "Keyboard shortcuts", ("?",), "Help"),
)
ACTION_NAMES = frozenset(action.name for action in ACTIONS)

TAKEN_BY_BROWSER: dict[str, str] = {
    "Shift+Escape": "Chrome opens its task manager",
    "Ctrl+Shift+J": "Chrome opens its developer console",
    "Ctrl+Shift+U": "Linux input methods (IBus) start Unicode entry",
}
"""Chords the browser or the system may swallow before the page sees them; the
page tells the agent (and the alternative chord still works)."""

ALTGR_CHORDS_NOTE = (
    "On Windows, Ctrl+Alt is AltGr: ś, ó, ń on a Polish keyboard. Ctrl+Alt shortcuts "
    "never fire while AltGr is held; use the Alt+Shift alternatives."
)


def normalise_chord(raw: str) -> str | None:
    """The canonical spelling of a chord, or None when it is not one.

    Single printable characters ("?", "/") stand alone; letters are upper-case;
    named keys keep their KeyboardEvent.key names. A plain letter or digit without
    Ctrl, Alt or Meta is refused: it would fire while the agent types.
    """
    parts = [part.strip() for part in raw.strip().split("+")]
    if raw.strip().endswith("++"):  # "Ctrl++"
        parts = [*parts[:-2], "+"]
    if not parts or any(not part for part in parts):
        return None
    *modifier_parts, key = parts
    modifiers: set[str] = set()
    for part in modifier_parts:
        name = ALIASES.get(part.lower(), part.capitalize())
        if name not in MODIFIERS or name in modifiers:
            return None
        modifiers.add(name)
    key = ALIASES.get(key.lower(), key)
    if len(key) == 1:
        key = key.upper()
        if not (key.isalnum() or key in PUNCTUATION or key == "+"):
            return None
    else:
        named = {name.lower(): name for name in NAMED_KEYS}
        key = named.get(key.lower(), "")
        if not key:
            return None
    ordered = [modifier for modifier in MODIFIERS if modifier in modifiers]
    if len(key) == 1 and key.isalnum() and not ({"Ctrl", "Alt", "Meta"} & modifiers):
        return None
    if key in PUNCTUATION and not modifiers and key not in "?/":
        return None
    return "+".join([*ordered, key])


def default_keymap() -> dict[str, list[str]]:
    return {action.name: list(action.defaults) for action in ACTIONS}
