"""Pure support-domain rules: no I/O, no framework imports, time passed in."""
