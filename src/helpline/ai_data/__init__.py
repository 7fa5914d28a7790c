"""Data files shipped with the AI features (see README.md here for sources and licences)."""
