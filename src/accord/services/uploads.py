"""Uploads from the console: a STIX bundle or an IOC list, received in pieces, stored in the background.

The node takes request bodies of at most ``HttpSettings.body_limit`` (1 MB) outside TAXII Add
Objects, and ATT&CK for ICS is 3.5 MB, so the console sends a file in pieces to an upload job and
then polls the job's progress while it is stored. Storing goes through the same path as ``accord
load`` and ``accord list load`` (:func:`accord.services.admin.load_bundle`,
:func:`accord.interop.lists.load_list`), that is through TAXII Add Objects: validation, ownership,
privacy minimisation and the audit log all apply. Jobs live in this process's memory (they are
short-lived), belong to the account that started them, and at most :data:`KEEP` are kept.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from accord.domain.errors import AccordError, InvalidInput, NotFound
from accord.domain.model import Principal
from accord.domain.tlp import Tlp
from accord.store.repository import Store

MAX_SIZE = 64 * 1024 * 1024  # one upload, whole
KEEP = 32  # jobs remembered (the oldest finished ones are forgotten first)
BATCH = 100  # objects per Add Objects envelope: the progress moves every BATCH objects
KINDS = ("auto", "bundle", "list", "csv")


@dataclass
class Job:
    id: str
    account_id: int
    name: str
    kind: str
    collection: str
    tlp: Tlp
    expected: int  # bytes announced
    data: bytearray = field(default_factory=bytearray)
    pieces: int = 0  # requests the file came in
    received: int = 0
    state: str = "receiving"  # receiving, storing, done, failed
    total: int = 0  # objects to store, once parsed
    done: int = 0  # objects sent through Add Objects so far
    stored: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)  # (first 50) TAXII status failures, list problems
    failed: int = 0
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "state": self.state, "received": self.received, "pieces": self.pieces,
                "expected": self.expected, "total": self.total, "done": self.done, "stored": self.stored,
                "failed": self.failed, "failures": self.failures[:50], "error": self.error}


def kind_of(name: str, kind: str) -> str:
    """The kind of a file: as chosen, or by its name's ending for "auto" (JSON is a bundle)."""
    if kind != "auto":
        return kind
    lower = name.lower()
    return "bundle" if lower.endswith(".json") else "csv" if lower.endswith(".csv") else "list"


class Uploads:
    """The jobs of one application (one per ``create_app``)."""

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="accord-upload")  # one upload stored at a time

    def start(self, principal: Principal, name: str, kind: str, collection: str, tlp: Tlp, expected: int) -> Job:
        if kind not in KINDS:
            raise InvalidInput(f"unknown kind {kind!r}")
        if expected > MAX_SIZE:
            raise InvalidInput(f"the file is {expected} bytes; an upload takes at most {MAX_SIZE}")
        job = Job(secrets.token_urlsafe(16), principal.account_id, name[:200], kind_of(name, kind), collection, tlp,
                  expected)
        with self._lock:
            self._jobs[job.id] = job
            finished = [k for k, j in self._jobs.items() if j.state in ("done", "failed")]
            while len(self._jobs) > KEEP and finished:
                self._jobs.pop(finished.pop(0))
        return job

    def get(self, principal: Principal, job_id: str) -> Job:
        """The job if this account started it; another account's is not found, like an unknown one."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.account_id != principal.account_id:
            raise NotFound("no such upload")
        return job

    def append(self, job: Job, piece: bytes) -> None:
        if job.state != "receiving":
            raise InvalidInput("this upload has all its pieces already")
        if len(job.data) + len(piece) > min(job.expected, MAX_SIZE):
            raise InvalidInput("more bytes than the file's announced size")
        job.data += piece
        job.pieces += 1
        job.received = len(job.data)

    def finish(self, store: Store, principal: Principal, job: Job) -> None:
        """Store what was received, in the background; the job's counters tell how far it got."""
        if job.state != "receiving":
            raise InvalidInput("this upload is being stored already")
        if len(job.data) != job.expected:
            raise InvalidInput(f"received {len(job.data)} of the {job.expected} bytes announced")
        job.state = "storing"
        self._pool.submit(_store, store, principal, job)


def _store(store: Store, principal: Principal, job: Job) -> None:
    from accord.interop import lists
    from accord.services import admin

    def moved(count: int) -> None:
        job.done += count

    try:
        raw = bytes(job.data)
        if job.kind == "bundle":
            objects = admin.read_bundle(raw, job.name)
            job.total = len(objects)
            job.stored, failures = admin.load_bundle(store, principal, job.collection, objects, BATCH, moved)
            job.failures = [{"id": f.get("id", ""), "message": f.get("message", "")} for f in failures[:50]]
            job.failed = len(failures)
        else:
            options = lists.ListOptions(tlp=job.tlp)
            parsed = lists.read_list(raw, job.kind == "csv", options)
            job.total = len(parsed.entries)
            loaded = lists.load_list(store, principal, job.collection, parsed, options, moved)
            job.stored = loaded.stored
            job.failures = [{"id": f"line {line}", "message": why} for line, why in loaded.problems[:50]]
            job.failed = len(loaded.problems)
        job.state = "done"
    except AccordError as exc:
        job.error, job.state = exc.message, "failed"
    except Exception as exc:  # reported on the job's page; the node keeps serving
        job.error, job.state = f"the upload could not be stored ({type(exc).__name__})", "failed"
    finally:
        job.data = bytearray()  # what is stored is in the store now; the bytes are not kept
