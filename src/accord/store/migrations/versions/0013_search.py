"""The console's search index (issue 15): addresses as ranges, reversed domains, hashes, ATT&CK ids,
references and full text (FTS5 on SQLite, tsvector with GIN on PostgreSQL).

Revision ID: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_FTS_SQLITE = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_text', content_rowid='date_added', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_text_ai AFTER INSERT ON search_text BEGIN "
    "INSERT INTO search_fts(rowid, body) VALUES (new.date_added, new.body); END",
    "CREATE TRIGGER search_text_ad AFTER DELETE ON search_text BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.date_added, old.body); END",
)


def upgrade() -> None:
    op.create_table(
        "search_addresses",
        sa.Column("date_added", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("family", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("low", sa.LargeBinary(16), primary_key=True),
        sa.Column("high", sa.LargeBinary(16), primary_key=True),
    )
    op.create_index("search_addresses_range", "search_addresses", ["family", "low", "high"])
    op.create_table(
        "search_domains",
        sa.Column("date_added", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("reversed", sa.String(300), primary_key=True),
    )
    op.create_index("search_domains_key", "search_domains", ["reversed"])
    op.create_table(
        "search_hashes",
        sa.Column("date_added", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("algorithm", sa.String(20), primary_key=True),
        sa.Column("value", sa.String(128), primary_key=True),
    )
    op.create_index("search_hashes_value", "search_hashes", ["value"])
    op.create_table(
        "search_attack",
        sa.Column("date_added", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("attack_id", sa.String(20), primary_key=True),
    )
    op.create_index("search_attack_id", "search_attack", ["attack_id"])
    op.create_table(
        "search_refs",
        sa.Column("date_added", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("ref_id", sa.String(300), primary_key=True),
    )
    op.create_index("search_refs_ref", "search_refs", ["ref_id"])
    op.create_table(
        "search_text",
        sa.Column("date_added", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        for statement in _FTS_SQLITE:
            op.execute(statement)
    else:
        op.execute("CREATE INDEX search_text_tsv ON search_text USING gin (to_tsvector('english', body))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
    for name in ("search_text", "search_refs", "search_attack", "search_hashes", "search_domains", "search_addresses"):
        op.drop_table(name)
