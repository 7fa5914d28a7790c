"""Transport: REST API, pages and (later) WebSocket hubs. Parse, authorise, call a service."""
