"""Where attachment bytes live: files under `data_dir/uploads`, named by the server.

Names are random keys (never the uploaded name), spread over two directory
levels; a file is written to a temporary name and renamed into place, so a key
either names a complete file or nothing. Several server processes on one machine
(or a shared volume) see the same files.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_KEY_PATTERN = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}$")
CHUNK_BYTES = 64 * 1024


class TooLarge(Exception):
    """The stream is longer than the limit it was stored with."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    size: int
    sha256: str
    head: bytes
    """The first bytes, for type sniffing."""


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _KEY_PATTERN.match(key):
            raise ValueError("not a storage key")
        return self.root / key

    def save(self, chunks: Iterable[bytes], *, max_bytes: int, head_bytes: int = 512) -> StoredFile:
        """Write the chunks under a new key; TooLarge (and nothing kept) past `max_bytes`."""
        name = secrets.token_hex(16)
        key = f"{name[:2]}/{name[2:4]}/{name}"
        final = self._path(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        temporary = final.with_name(f".{name}.part")
        digest = hashlib.sha256()
        size = 0
        head = b""
        try:
            with temporary.open("xb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge
                    if len(head) < head_bytes:
                        head += chunk[: head_bytes - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            temporary.replace(final)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return StoredFile(key=key, size=size, sha256=digest.hexdigest(), head=head)

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def path(self, key: str) -> Path:
        return self._path(key)

    def delete(self, key: str) -> None:
        with contextlib.suppress(ValueError):
            self._path(key).unlink(missing_ok=True)


def read_chunks(stream: BinaryIO, chunk_bytes: int = CHUNK_BYTES) -> Iterable[bytes]:
    while chunk := stream.read(chunk_bytes):
        yield chunk
