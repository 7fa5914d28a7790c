"""End-to-end tests of the embeddable chat widget in Chromium."""
