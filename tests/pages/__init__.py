"""Server-rendered pages, through a TestClient (SQLite and PostgreSQL)."""
