"""Safe on-disk format for trained models: numpy arrays in an ``.npz`` (loaded with
``allow_pickle=False``) plus a JSON manifest that records the arrays' SHA-256.

Pickle is never used, so a model file from an untrusted place can at worst be wrong, never
run code; the hash catches truncated or tampered files before they are used.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ARRAYS_FILE = "arrays.npz"
MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1


class ModelFileError(Exception):
    """A model directory is missing, unreadable, of another kind, or fails its hash check."""


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks (model files can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_model(
    directory: Path,
    kind: str,
    arrays: Mapping[str, npt.NDArray[Any]],
    meta: Mapping[str, Any],
) -> None:
    """Write `arrays` and `meta` into `directory` (created if needed), atomically per file."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        if array.dtype == object:
            raise ValueError(f"array {name!r} has dtype object; it would need pickle")
    fd, tmp_name = tempfile.mkstemp(dir=directory, suffix=".npz.tmp")
    os.close(fd)
    tmp_arrays = Path(tmp_name)
    with tmp_arrays.open("wb") as stream:
        np.savez(stream, **arrays)  # type: ignore[arg-type]
    digest = sha256_of(tmp_arrays)
    tmp_arrays.replace(directory / ARRAYS_FILE)
    manifest = {
        "format": FORMAT_VERSION,
        "kind": kind,
        "arrays_sha256": digest,
        "meta": dict(meta),
    }
    tmp_manifest = directory / (MANIFEST_FILE + ".tmp")
    tmp_manifest.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    tmp_manifest.replace(directory / MANIFEST_FILE)


def read_model(directory: Path, kind: str) -> tuple[dict[str, npt.NDArray[Any]], dict[str, Any]]:
    """Read a model written by `write_model`, checking its kind and hash."""
    manifest_path = directory / MANIFEST_FILE
    arrays_path = directory / ARRAYS_FILE
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"cannot read {manifest_path}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise ModelFileError(f"{manifest_path} is not a Helpline model manifest")
    if manifest.get("kind") != kind:
        raise ModelFileError(f"{directory} holds a {manifest.get('kind')!r}, not a {kind!r}")
    if not arrays_path.is_file():
        raise ModelFileError(f"{arrays_path} is missing")
    if sha256_of(arrays_path) != manifest.get("arrays_sha256"):
        raise ModelFileError(f"{arrays_path} does not match the SHA-256 in its manifest")
    with np.load(arrays_path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    meta = manifest.get("meta")
    if not isinstance(meta, dict):
        raise ModelFileError(f"{manifest_path} has no metadata")
    return arrays, meta
