"""Use cases: load, check rights, call the domain, save, publish after commit.

Naming (see docs/architecture.md): `check_*` validates input, `access_*` loads an
object together with the caller's right to it, `do_*` writes (one transaction).
"""
