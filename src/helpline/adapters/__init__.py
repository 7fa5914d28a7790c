"""I/O behind small interfaces: database, mail, event bus."""
