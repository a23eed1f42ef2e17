"""Uploads from the console: a STIX bundle or an IOC list, received in pieces, stored in the background.

The node takes request bodies of at most ``HttpSettings.body_limit`` (1 MB) outside TAXII Add
Objects, and ATT&CK for ICS is 3.5 MB, so the console sends a file in pieces to an upload job and
then polls the job's progress while it is stored. Storing goes through the same path as ``accord
load`` and ``accord list load`` (:func:`accord.services.admin.load_bundle`,
:func:`accord.interop.lists.load_list`), that is through TAXII Add Objects: validation, ownership,
privacy minimisation and the audit log all apply.

Jobs and their pieces are in the store (migration 0015), not in a process's memory: with several
API workers behind one address, each piece, the finish and each progress poll may reach a
different worker. Each change is one conditional statement (a piece only to a job still receiving
and within its announced size; storing starts once, in the worker that took the finish). A job
belongs to the account that started it; each account keeps its :data:`KEEP` newest finished jobs,
and a job untouched for :data:`FORGET` is forgotten. A job whose worker stopped while storing it
(no progress for :data:`STALLED`) is reported failed and its pieces dropped; what it had stored
stays stored.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson

from accord.domain.errors import AccordError, InvalidInput, NotFound
from accord.domain.model import Principal
from accord.domain.tlp import Tlp
from accord.stix.timestamps import now_micros
from accord.store.repository import Store
from accord.store.uploads import UploadRow

MAX_SIZE = 64 * 1024 * 1024  # one upload, whole
KEEP = 32  # finished jobs remembered per account (the oldest are forgotten first)
BATCH = 100  # objects per Add Objects envelope: the progress moves every BATCH objects
KINDS = ("auto", "bundle", "list", "csv")
SECOND = 1_000_000
FORGET = 24 * 3600 * SECOND  # a job untouched this long is forgotten, finished or not
STALLED = 10 * 60 * SECOND  # a job storing without progress this long lost its worker


@dataclass(frozen=True, slots=True)
class Job:
    """An upload job as the store has it now."""

    id: str
    account_id: int
    name: str
    kind: str
    collection: str
    tlp: Tlp
    expected: int  # bytes announced
    pieces: int = 0  # requests the file came in
    received: int = 0
    state: str = "receiving"  # receiving, storing, done, failed
    total: int = 0  # objects to store, once parsed
    done: int = 0  # objects sent through Add Objects so far
    stored: int = 0
    failed: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)  # (first 50) TAXII status failures, list problems
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "state": self.state, "received": self.received, "pieces": self.pieces,
                "expected": self.expected, "total": self.total, "done": self.done, "stored": self.stored,
                "failed": self.failed, "failures": self.failures[:50], "error": self.error}


def _job(row: UploadRow) -> Job:
    return Job(row.id, row.account_id, row.name, row.kind, row.collection, Tlp.parse(row.tlp), row.expected,
               row.pieces, row.received, row.state, row.total, row.done, row.stored, row.failed,
               orjson.loads(row.failures), row.error)


def kind_of(name: str, kind: str) -> str:
    """The kind of a file: as chosen, or by its name's ending for "auto" (JSON is a bundle)."""
    if kind != "auto":
        return kind
    lower = name.lower()
    return "bundle" if lower.endswith(".json") else "csv" if lower.endswith(".csv") else "list"


class Uploads:
    """The upload jobs of a store, and this worker's thread that stores the ones it finishes."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="accord-upload")  # one upload stored at a time

    def start(self, principal: Principal, name: str, kind: str, collection: str, tlp: Tlp, expected: int) -> Job:
        if kind not in KINDS:
            raise InvalidInput(f"unknown kind {kind!r}")
        if expected > MAX_SIZE:
            raise InvalidInput(f"the file is {expected} bytes; an upload takes at most {MAX_SIZE}")
        now = now_micros()
        row = UploadRow(secrets.token_urlsafe(16), principal.account_id, name[:200], kind_of(name, kind),
                        collection[:200], tlp.label, expected, 0, 0, "receiving", 0, 0, 0, 0, "[]", "", now, now)
        with self.store.write(audit_only=True) as tx:  # nothing a reader of objects sees changes
            tx.prune_uploads(principal.account_id, KEEP, now - FORGET)
            tx.add_upload(row)
        return _job(row)

    def get(self, principal: Principal, job_id: str) -> Job:
        """The job if this account started it; another account's is not found, like an unknown one."""
        with self.store.read() as tx:
            row = tx.upload(job_id[:40])
        if row is None or row.account_id != principal.account_id:
            raise NotFound("no such upload")
        now = now_micros()
        if row.state == "storing" and row.updated < now - STALLED:
            with self.store.write(audit_only=True) as tx:
                if tx.move_upload(row.id, "storing", now, state="failed",
                                  error="the node stopped while storing it; what it stored so far is kept"):
                    tx.drop_upload_data(row.id)
                row = tx.upload(row.id) or row
        return _job(row)

    def append(self, principal: Principal, job_id: str, piece: bytes) -> Job:
        job = self.get(principal, job_id)
        if job.state != "receiving":
            raise InvalidInput("this upload has all its pieces already")
        with self.store.write(audit_only=True) as tx:
            if not tx.add_upload_piece(job.id, piece, min(job.expected, MAX_SIZE), now_micros()):
                current = tx.upload(job.id)
                if current is None or current.state != "receiving":
                    raise InvalidInput("this upload has all its pieces already")
                raise InvalidInput("more bytes than the file's announced size")
        return self.get(principal, job_id)

    def finish(self, principal: Principal, job_id: str) -> Job:
        """Store what was received, in the background; the job's counters tell how far it got."""
        job = self.get(principal, job_id)
        if job.state != "receiving":
            raise InvalidInput("this upload is being stored already")
        if job.received != job.expected:
            raise InvalidInput(f"received {job.received} of the {job.expected} bytes announced")
        with self.store.write(audit_only=True) as tx:
            if not tx.move_upload(job.id, "receiving", now_micros(), state="storing"):
                raise InvalidInput("this upload is being stored already")
        self._pool.submit(_store, self.store, principal, job)
        return self.get(principal, job_id)


def _progress(store: Store, job_id: str, **values: Any) -> bool:
    with store.write(audit_only=True) as tx:
        return tx.move_upload(job_id, "storing", now_micros(), **values)


def _store(store: Store, principal: Principal, job: Job) -> None:
    from accord.interop import lists
    from accord.services import admin

    done = 0

    def moved(count: int) -> None:
        nonlocal done
        done += count
        _progress(store, job.id, done=done)

    outcome: dict[str, Any]
    try:
        with store.read() as tx:
            raw = tx.upload_data(job.id)
        if job.kind == "bundle":
            objects = admin.read_bundle(raw, job.name)
            _progress(store, job.id, total=len(objects))
            stored, failures = admin.load_bundle(store, principal, job.collection, objects, BATCH, moved)
            listed = [{"id": f.get("id", ""), "message": f.get("message", "")} for f in failures[:50]]
            outcome = {"stored": stored, "failures": listed, "failed": len(failures)}
        else:
            options = lists.ListOptions(tlp=job.tlp)
            parsed = lists.read_list(raw, job.kind == "csv", options)
            _progress(store, job.id, total=len(parsed.entries))
            loaded = lists.load_list(store, principal, job.collection, parsed, options, moved)
            outcome = {"stored": loaded.stored, "failed": len(loaded.problems),
                       "failures": [{"id": f"line {line}", "message": why} for line, why in loaded.problems[:50]]}
        outcome["state"] = "done"
    except AccordError as exc:
        outcome = {"error": exc.message, "state": "failed"}
    except Exception as exc:  # reported on the job's page; the node keeps serving
        outcome = {"error": f"the upload could not be stored ({type(exc).__name__})", "state": "failed"}
    if "failures" in outcome:
        outcome["failures"] = orjson.dumps(outcome["failures"]).decode()
    with store.write(audit_only=True) as tx:  # what is stored is in the store now; the bytes are not kept
        tx.move_upload(job.id, "storing", now_micros(), **outcome)
        tx.drop_upload_data(job.id)
