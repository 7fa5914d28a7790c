"""Real-browser tests: Chromium through Playwright against a live server."""
