"""WebSocket hubs for visitors and agents: live events, resume by sequence
number, typing and read marks, queue positions. See docs/widget-protocol.md."""
