"""Each dataset version's prepared form (`kpi.data.prepare_frame`: creation order, categorical dimensions,
furthest stage, normalised channels, derived initiatives), stored once so that opening a version is a plain
Parquet read instead of preparing it again.

A prepared form depends on the settings it was made with (`kpi.data.prepared_key`): it is written when a
version is saved, under the workspace's settings then, and when a version is opened under settings no form
was written for (settings changed since, or a version saved before prepared forms existed). Its file sits
beside the version's (`<version id>.prepared-<key>-<sha256 prefix>.parquet`) and is catalogued as a
document (kind `prepared`) holding its file name, sha256 and row count; a form that is missing, does not
match its sha256 or row count, or cannot be read is never served: the version is prepared again from its
own checked file, the damage is logged, and the form is written anew.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from collections.abc import Mapping
from typing import Any

import polars as pl

from kpi.data import in_creation_order, prepare_frame, prepared_key
from kpi.settings import Settings
from kpi.store.core import _sha256_file
from kpi.store.docs import DocumentStore
from kpi.store.errors import DamagedDocument
from kpi.store.versions import Version, VersionStore

PREPARED_KIND = "prepared"  # the document kind cataloguing prepared forms
log = logging.getLogger(__name__)


def _doc_key(version: Version, key: str) -> str:
    return f"{version.dataset}/{version.id}/{key}"


class PreparedStore(VersionStore, DocumentStore):
    """Dataset versions with their prepared forms."""

    def _committed(self, version: Version, frame: pl.DataFrame, settings: Settings) -> None:
        """Write the prepared form of a version just saved, under the workspace's settings. A failure leaves
        the version saved and is logged: opening it prepares it instead."""
        try:
            self._write_prepared(version, prepare_frame(version.dataset, frame, settings), prepared_key(settings))
        except Exception:
            log.exception("could not store the prepared form of %s v%d in workspace '%s'; it is prepared when "
                          "opened", version.dataset, version.number, version.workspace)

    def _write_prepared(self, version: Version, frame: pl.DataFrame, key: str) -> None:
        folder = self._dataset_dir(version.workspace, version.dataset)
        tmp = folder / f".{version.id}.prepared-{key}.{os.getpid()}.{id(frame):x}.tmp"
        try:
            with open(tmp, "xb") as fh:  # not synced: a form lost in a crash fails its check and is made again
                frame.write_parquet(fh, compression="zstd", statistics=True)
            digest, size = _sha256_file(tmp)
            name = f"{version.id}.prepared-{key}-{digest[:16]}.parquet"
            os.replace(tmp, folder / name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.put_doc(version.workspace, PREPARED_KIND, _doc_key(version, key),
                     {"file": name, "sha256": digest, "rows": frame.height, "bytes": size})

    def _read_prepared(self, version: Version, key: str) -> pl.DataFrame | None:
        """The stored prepared form of `version` for `key`, checked; None when there is none or it is damaged
        (logged)."""
        where = f"the prepared form of {version.dataset} v{version.number} in workspace '{version.workspace}'"
        try:
            doc: Any = self.get_doc(version.workspace, PREPARED_KIND, _doc_key(version, key))
        except DamagedDocument as exc:
            log.warning("%s is not used: %s", where, exc)
            return None
        if doc is None:
            return None
        try:
            data = (self._dataset_dir(version.workspace, version.dataset) / str(doc["file"])).read_bytes()
            if hashlib.sha256(data).hexdigest() != doc["sha256"]:
                raise ValueError("its content does not match the sha256 catalogued for it")
            frame = pl.read_parquet(io.BytesIO(data))
            if frame.height != version.rows or frame.height != doc["rows"]:
                raise ValueError(f"it has {frame.height} rows, the version {version.rows}")
        except Exception as exc:  # missing, damaged or unreadable: never served
            log.warning("%s is not used (%s); preparing the version again", where, exc)
            return None
        return in_creation_order(frame) if version.dataset == "leads" else frame

    def prepared_tables(self, workspace: str, versions: Mapping[str, str] | None = None,
                        settings: Settings | None = None) -> dict[str, pl.DataFrame]:
        """The workspace's tables (`tables`: the latest versions, or exactly `versions`) as
        `kpi.data.prepare` makes them under `settings` (default: the workspace's): each read from its stored
        prepared form, or prepared from its version and stored for the next time."""
        settings = settings or self.settings(workspace)
        key = prepared_key(settings)
        chosen = (self.datasets(workspace) if versions is None
                  else {name: self.version(workspace, name, vid) for name, vid in versions.items()})
        out = {}
        for name, version in chosen.items():
            frame = self._read_prepared(version, key)
            if frame is None:
                frame = prepare_frame(name, self._read(version), settings)
                try:
                    self._write_prepared(version, frame, key)
                except Exception:  # a read-only or full disk still serves the prepared frame
                    log.exception("could not store the prepared form of %s v%d in workspace '%s'", name,
                                  version.number, workspace)
            out[name] = frame
        return out
