"""Server-rendered pages (sign-in, inbox, conversation)."""
