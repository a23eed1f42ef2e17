"""The schema, as SQLAlchemy Core tables. Alembic migrations in ``migrations/`` create exactly this
(``tests/contract/test_migrations.py`` compares them).

``objects`` is keyed by ``date_added`` in integer microseconds, strictly increasing across the node:
TAXII 2.1 sorts by date_added (section 3.4) and pages with it, so making it the primary key keeps a
full pull a walk along one index and lets a ``next`` token be a single integer.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

metadata = MetaData()

settings = Table(
    "settings", metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

organisations = Table(
    "organisations", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("country", String(2), nullable=False),
    Column("sectors", Text, nullable=False, default=""),
    Column("identity_id", String(100), nullable=False, unique=True),
    Column("created", BigInteger, nullable=False),
    Column("disabled", BigInteger, nullable=True),  # when; its accounts then cannot authenticate (0005)
)

accounts = Table(
    "accounts", metadata,
    Column("id", Integer, primary_key=True),
    Column("org_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("disabled", BigInteger, nullable=True),  # when; its keys then cannot authenticate (0005)
)

api_keys = Table(
    "api_keys", metadata,
    Column("key_id", String(32), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("secret_sha256", String(64), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("revoked", BigInteger, nullable=True),
    Column("expires", BigInteger, nullable=True),  # the key stops authenticating then (0005)
)

sharing_groups = Table(
    "sharing_groups", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("marking_id", String(100), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
)

group_members = Table(
    "group_members", metadata,
    Column("group_id", Integer, ForeignKey("sharing_groups.id"), primary_key=True),
    Column("org_id", Integer, ForeignKey("organisations.id"), primary_key=True),
)

api_roots = Table(
    "api_roots", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("max_content_length", BigInteger, nullable=False),
)

collections = Table(
    "collections", metadata,
    Column("id", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("api_root_id", Integer, ForeignKey("api_roots.id"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("alias", String(100), nullable=True),
)

collection_access = Table(
    "collection_access", metadata,
    Column("collection_id", Integer, ForeignKey("collections.id"), primary_key=True),
    Column("org_id", Integer, ForeignKey("organisations.id"), primary_key=True),
    Column("can_read", Boolean, nullable=False),
    Column("can_write", Boolean, nullable=False),
)

objects = Table(
    "objects", metadata,
    Column("date_added", BigInteger, primary_key=True, autoincrement=False),
    Column("collection_id", Integer, nullable=False),
    Column("id", String(300), nullable=False),
    Column("type", String(250), nullable=False),
    Column("spec_version", String(10), nullable=False),
    Column("version", String(40), nullable=False),
    Column("is_latest", Boolean, nullable=False),
    Column("is_first", Boolean, nullable=False),
    Column("revoked", Boolean, nullable=False),
    Column("tlp", SmallInteger, nullable=True),
    Column("groups", Text, nullable=False, default=""),
    Column("owner_org", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Index("objects_version", "collection_id", "id", "owner_org", "version", unique=True),
    Index("objects_added", "collection_id", "date_added"),
)

statuses = Table(
    "statuses", metadata,
    Column("id", String(36), primary_key=True),
    Column("api_root_id", Integer, nullable=False),
    Column("org_id", Integer, nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Index("statuses_created", "created"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", BigInteger, nullable=False),
    Column("account_id", Integer, nullable=True),
    Column("org_id", Integer, nullable=True),
    Column("action", String(60), nullable=False),
    Column("details", LargeBinary, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# --- federation (issue 5; migration 0002) -------------------------------------------------------

peers = Table(
    "peers", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("kind", String(10), nullable=False),  # "node" (an Accord peer) or "feed" (any TAXII 2.1 server)
    Column("org_id", Integer, ForeignKey("organisations.id"), nullable=False, unique=True),
    Column("node_id", String(100), nullable=True),  # the peer's identity id (STIX) when it is a node
    Column("url", Text, nullable=False),
    Column("api_root", String(100), nullable=False),
    Column("remote_collection", String(100), nullable=False),
    Column("credential", Text, nullable=True),  # our API key (or user:password) at the peer
    Column("collections", Text, nullable=False, default=""),  # local collection ids that flow to it
    Column("levels", String(40), nullable=False, default=""),
    Column("groups", String(400), nullable=False, default=""),
    Column("push_cursor", BigInteger, nullable=False, default=0),
    Column("pull_cursor", Text, nullable=False, default=""),
    Column("last_error", Text, nullable=True),
    Column("last_ok", BigInteger, nullable=True),
)

node_keys = Table(
    "node_keys", metadata,
    Column("key_id", String(32), primary_key=True),
    Column("node_id", String(100), nullable=False),
    Column("ed25519", LargeBinary, nullable=False),
    Column("ml_dsa_65", LargeBinary, nullable=False),
    Column("added", BigInteger, nullable=False),
    Column("retired", BigInteger, nullable=True),
    Index("node_keys_node", "node_id"),
)

provenance = Table(
    "provenance", metadata,
    Column("date_added", BigInteger, primary_key=True, autoincrement=False),
    Column("origin", String(100), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("ed25519", LargeBinary, nullable=False),
    Column("ml_dsa_65", LargeBinary, nullable=False),
    Column("hops", SmallInteger, nullable=False),
    Column("via_peer", Integer, nullable=True),
    Column("covered", Text, nullable=False, default=""),  # nodes the sender also pushes it to
)

# The ML-DSA-65 signature of a batch (3,309 bytes), once per batch: provenance.ml_dsa_65 then holds
# its SHA-256 (32 bytes) instead of a copy per object. Rows written before this table hold the
# signature itself; readers take whichever is there.
signature_blobs = Table(
    "signature_blobs", metadata,
    Column("digest", LargeBinary(32), primary_key=True),
    Column("signature", LargeBinary, nullable=False),
)

quarantine = Table(
    "quarantine", metadata,
    Column("id", Integer, primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("peer_id", Integer, nullable=True),
    Column("object_id", String(300), nullable=False),
    Column("version", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
)

subscriptions = Table(
    "subscriptions", metadata,
    Column("id", Integer, primary_key=True),
    Column("org_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("name", String(100), nullable=False, unique=True),
    Column("filter", Text, nullable=False),
    Column("webhook_url", Text, nullable=True),
    Column("webhook_secret", String(100), nullable=True),
    Column("webhook_cursor", BigInteger, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
)

sightings_seen = Table(
    "sightings_seen", metadata,
    Column("indicator_id", String(300), primary_key=True),
    Column("org_identity", String(100), primary_key=True),
    Column("date_added", BigInteger, nullable=False),
)

# --- privacy (issue 17; migration 0008) ---------------------------------------------------------

privacy_policies = Table(
    "privacy_policies", metadata,
    Column("collection_id", Integer, primary_key=True, autoincrement=False),
    Column("policy", Text, nullable=False),  # JSON, accord.domain.privacy.Policy.to_json
    Column("updated", BigInteger, nullable=False),
)

# HMAC keys of pseudonymisation, sealed like peer credentials (accord.store.secrets): "node" or
# "group:NAME". The fingerprint (a hash of the key) names the key in pseudonyms; it reveals nothing.
pseudonym_keys = Table(
    "pseudonym_keys", metadata,
    Column("scope", String(120), primary_key=True),
    Column("sealed", Text, nullable=False),
    Column("fingerprint", String(16), nullable=False),
    Column("created", BigInteger, nullable=False),
)

retention_rules = Table(
    "retention_rules", metadata,
    Column("collection_id", Integer, primary_key=True, autoincrement=False),  # 0: every collection
    Column("type", String(250), primary_key=True),
    Column("basis", String(20), nullable=False),  # accord.domain.retention.Basis
    Column("days", Integer, nullable=False),
    Column("updated", BigInteger, nullable=False),
)

# Signed withdrawals, made here or received: an object withdrawn by its origin is never taken again.
withdrawals = Table(
    "withdrawals", metadata,
    Column("id", String(64), primary_key=True),
    Column("object_id", String(300), nullable=False),
    Column("origin", String(100), nullable=False),
    Column("at", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("ed25519", LargeBinary, nullable=False),
    Column("ml_dsa_65", LargeBinary, nullable=False),
    Column("received", BigInteger, nullable=False),
    Column("via_peer", Integer, nullable=True),
    Index("withdrawals_object", "object_id", "origin"),
)

withdrawal_outbox = Table(
    "withdrawal_outbox", metadata,
    Column("withdrawal_id", String(64), primary_key=True),
    Column("peer_id", Integer, primary_key=True, autoincrement=False),
    Column("delivered", BigInteger, nullable=True),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
)

# The sighting lookup's budget (migration 0009): points evaluated per organisation, kept for an
# hour so that every API worker and process charges the same sliding window (services/lookup.py).
lookup_spend = Table(
    "lookup_spend", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("org_id", Integer, nullable=False),
    Column("at", BigInteger, nullable=False),  # microseconds since the epoch
    Column("points", Integer, nullable=False),
    Index("lookup_spend_org_at", "org_id", "at"),
)

# --- decay of indicators (issue 16; migration 0011) ---------------------------------------------

decay_models = Table(
    "decay_models", metadata,
    Column("collection_id", Integer, primary_key=True, autoincrement=False),
    Column("lifetime", BigInteger, nullable=False),  # seconds
    Column("speed", Float, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("base", SmallInteger, nullable=False),
    Column("updated", BigInteger, nullable=False),
)

# The console (issue 15): password hashes of accounts that sign in with a name (scrypt, see
# accord.services.passwords), and signed-in browser sessions, kept by the SHA-256 of their token only.
account_passwords = Table(
    "account_passwords", metadata,
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True, autoincrement=False),
    Column("hash", Text, nullable=False),
    Column("updated", BigInteger, nullable=False),
)

ui_sessions = Table(
    "ui_sessions", metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("key_id", String(32), nullable=True),  # signed in with this API key: its revocation ends the session
    Column("created", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    Index("ui_sessions_account", "account_id"),
)

# --- search (issue 15; migration 0013) ----------------------------------------------------------
# Keys of each stored version (by date_added), extracted at ingest (accord.stix.terms) and removed
# with the version. Searches join them to ``objects`` on date_added and keep only latest versions.

search_addresses = Table(
    "search_addresses", metadata,
    Column("date_added", BigInteger, primary_key=True, autoincrement=False),
    Column("family", SmallInteger, primary_key=True, autoincrement=False),  # 4 or 6
    Column("low", LargeBinary(16), primary_key=True),  # 16-byte big-endian bounds of the block
    Column("high", LargeBinary(16), primary_key=True),
    Index("search_addresses_range", "family", "low", "high"),
)

search_domains = Table(
    "search_domains", metadata,
    Column("date_added", BigInteger, primary_key=True, autoincrement=False),
    Column("reversed", String(300), primary_key=True),  # "com.example.a.": parents are prefixes
    Index("search_domains_key", "reversed"),
)

search_hashes = Table(
    "search_hashes", metadata,
    Column("date_added", BigInteger, primary_key=True, autoincrement=False),
    Column("algorithm", String(20), primary_key=True),
    Column("value", String(128), primary_key=True),  # lower-case hex
    Index("search_hashes_value", "value"),
)

search_attack = Table(
    "search_attack", metadata,
    Column("date_added", BigInteger, primary_key=True, autoincrement=False),
    Column("attack_id", String(20), primary_key=True),
    Index("search_attack_id", "attack_id"),
)

search_refs = Table(
    "search_refs", metadata,
    Column("date_added", BigInteger, primary_key=True, autoincrement=False),
    Column("ref_id", String(300), primary_key=True),
    Index("search_refs_ref", "ref_id"),
)

# Names and descriptions. The full-text index over ``body`` is backend-specific and so not described
# here: SQLite has the FTS5 table ``search_fts`` (external content, kept by triggers), PostgreSQL the
# GIN index ``search_text_tsv`` on to_tsvector('english', body). ``FULL_TEXT_NAMES`` lists them for
# tests/contract/test_migrations.py.
search_text = Table(
    "search_text", metadata,
    Column("date_added", BigInteger, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),
)

FULL_TEXT_NAMES = frozenset({"search_fts", "search_fts_data", "search_fts_idx", "search_fts_docsize",
                             "search_fts_config", "search_text_tsv"})

# Public advisories (issue 18, accord.services.advisories): the review record. ``content`` is the
# reviewed text (JSON of accord.domain.advisories.Content); ``published`` the ``modified`` of the
# report version a person approved, the only version the public pages show.
advisories = Table(
    "advisories", metadata,
    Column("id", String(80), primary_key=True),  # the report's STIX id
    Column("state", String(16), nullable=False),  # draft, published, rejected
    Column("source", String(300), nullable=False),  # "manual", or the incident a draft came from
    Column("content", Text, nullable=False),
    Column("drafted_by", Integer, ForeignKey("accounts.id"), nullable=True),
    Column("drafted_at", BigInteger, nullable=False),
    Column("reviewed_by", Integer, ForeignKey("accounts.id"), nullable=True),
    Column("reviewed_at", BigInteger, nullable=True),
    Column("reason", Text, nullable=True),
    Column("published", String(40), nullable=True),
    Column("first_published", String(40), nullable=True),
    Index("advisories_state", "state"),
)

# The asset registry (issue 18, accord.services.assets): what small organisations own, to warn them.
# Kept on this node only (contacts are personal data); never a STIX object, never federated.
asset_orgs = Table(
    "asset_orgs", metadata,
    Column("org_id", Integer, ForeignKey("organisations.id"), primary_key=True),
    Column("language", String(35), nullable=False),  # RFC 5646 tag of its notices
    Column("covered_by", Integer, ForeignKey("organisations.id"), nullable=False),  # the partner it turns to
    Column("registered_at", BigInteger, nullable=False),
)

assets = Table(
    "assets", metadata,
    Column("id", Integer, primary_key=True),
    Column("org_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # network, domain, software, contact, webhook
    Column("value", String(400), nullable=False),  # normalised (accord.domain.assets.parse_asset)
    Column("disputed", Boolean, nullable=False),  # registered knowing it overlaps another's claim
    Column("added_at", BigInteger, nullable=False),
    Index("assets_claim", "org_id", "kind", "value", unique=True),
    Index("assets_kind", "kind"),
)

# Notices (issue 18, accord.services.notices): what partners' data said about registered assets.
# An item is one (organisation, reason, value) until it is sent in a notice; a notice is one digest.
notice_items = Table(
    "notice_items", metadata,
    Column("id", Integer, primary_key=True),
    Column("org_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("reason", String(16), nullable=False),  # sighting, indicator, advisory
    Column("value", String(400), nullable=False),
    Column("subjects", Text, nullable=False),  # JSON list of the STIX ids that said it (at most 100)
    Column("times", Integer, nullable=False),
    Column("first_seen", BigInteger, nullable=False),
    Column("last_seen", BigInteger, nullable=False),
    Column("notice_id", String(60), ForeignKey("notices.id"), nullable=True),  # None until digested
    Index("notice_items_open", "org_id", "reason", "value"),
)

notices = Table(
    "notices", metadata,
    Column("id", String(60), primary_key=True),  # notice--<uuid4>
    Column("org_id", Integer, ForeignKey("organisations.id"), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("language", String(35), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("acknowledged_at", BigInteger, nullable=True),
    Index("notices_org", "org_id"),
)

# The durable outbox: a message is written with its notice, in the same transaction, and leaves only
# by delivery (sent) or by giving up after bounded retries (failed, kept for an operator).
notice_outbox = Table(
    "notice_outbox", metadata,
    Column("id", Integer, primary_key=True),
    Column("notice_id", String(60), ForeignKey("notices.id"), nullable=False),
    Column("channel", String(10), nullable=False),  # email, webhook
    Column("target", String(400), nullable=False),
    Column("state", String(10), nullable=False),  # pending, sent, failed
    Column("attempts", Integer, nullable=False),
    Column("next_at", BigInteger, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("sent_at", BigInteger, nullable=True),
    Index("notice_outbox_due", "state", "next_at"),
)

# Console uploads in progress (issue 15, accord.services.uploads): in the store, not in one process's
# memory, so that the pieces, the finish and the progress polls may reach any of several workers.
upload_jobs = Table(
    "upload_jobs", metadata,
    Column("id", String(40), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(10), nullable=False),  # bundle, list, csv
    Column("collection", String(200), nullable=False),
    Column("tlp", String(20), nullable=False),
    Column("expected", BigInteger, nullable=False),
    Column("pieces", Integer, nullable=False),
    Column("received", BigInteger, nullable=False),
    Column("state", String(10), nullable=False),  # receiving, storing, done, failed
    Column("total", Integer, nullable=False),
    Column("done", Integer, nullable=False),
    Column("stored", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("failures", Text, nullable=False),  # JSON list of the first 50
    Column("error", Text, nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("updated", BigInteger, nullable=False),
    Index("upload_jobs_account", "account_id"),
)
upload_pieces = Table(
    "upload_pieces", metadata,
    Column("job_id", String(40), ForeignKey("upload_jobs.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)
