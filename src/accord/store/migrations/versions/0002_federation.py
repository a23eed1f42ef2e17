"""Federation: peers and their agreements, node keys, provenance, quarantine, subscriptions.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("peers",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(100), nullable=False, unique=True),
                    sa.Column("kind", sa.String(10), nullable=False),
                    sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False, unique=True),
                    sa.Column("node_id", sa.String(100), nullable=True),
                    sa.Column("url", sa.Text, nullable=False),
                    sa.Column("api_root", sa.String(100), nullable=False),
                    sa.Column("remote_collection", sa.String(100), nullable=False),
                    sa.Column("credential", sa.Text, nullable=True),
                    sa.Column("collections", sa.Text, nullable=False),
                    sa.Column("levels", sa.String(40), nullable=False),
                    sa.Column("groups", sa.String(400), nullable=False),
                    sa.Column("push_cursor", sa.BigInteger, nullable=False),
                    sa.Column("pull_cursor", sa.Text, nullable=False),
                    sa.Column("last_error", sa.Text, nullable=True),
                    sa.Column("last_ok", sa.BigInteger, nullable=True))
    op.create_table("node_keys",
                    sa.Column("key_id", sa.String(32), primary_key=True),
                    sa.Column("node_id", sa.String(100), nullable=False),
                    sa.Column("ed25519", sa.LargeBinary, nullable=False),
                    sa.Column("ml_dsa_65", sa.LargeBinary, nullable=False),
                    sa.Column("added", sa.BigInteger, nullable=False),
                    sa.Column("retired", sa.BigInteger, nullable=True))
    op.create_index("node_keys_node", "node_keys", ["node_id"])
    op.create_table("provenance",
                    sa.Column("date_added", sa.BigInteger, primary_key=True, autoincrement=False),
                    sa.Column("origin", sa.String(100), nullable=False),
                    sa.Column("key_id", sa.String(32), nullable=False),
                    sa.Column("ed25519", sa.LargeBinary, nullable=False),
                    sa.Column("ml_dsa_65", sa.LargeBinary, nullable=False),
                    sa.Column("hops", sa.SmallInteger, nullable=False),
                    sa.Column("via_peer", sa.Integer, nullable=True),
                    sa.Column("covered", sa.Text, nullable=False))
    op.create_table("quarantine",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("at", sa.BigInteger, nullable=False),
                    sa.Column("peer_id", sa.Integer, nullable=True),
                    sa.Column("object_id", sa.String(300), nullable=False),
                    sa.Column("version", sa.String(40), nullable=False),
                    sa.Column("reason", sa.Text, nullable=False),
                    sa.Column("body", sa.LargeBinary, nullable=False))
    op.create_table("subscriptions",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
                    sa.Column("name", sa.String(100), nullable=False, unique=True),
                    sa.Column("filter", sa.Text, nullable=False),
                    sa.Column("webhook_url", sa.Text, nullable=True),
                    sa.Column("webhook_secret", sa.String(100), nullable=True),
                    sa.Column("webhook_cursor", sa.BigInteger, nullable=False),
                    sa.Column("last_error", sa.Text, nullable=True))
    op.create_table("sightings_seen",
                    sa.Column("indicator_id", sa.String(300), primary_key=True),
                    sa.Column("org_identity", sa.String(100), primary_key=True),
                    sa.Column("date_added", sa.BigInteger, nullable=False))


def downgrade() -> None:
    for name in ("sightings_seen", "subscriptions", "quarantine", "provenance", "node_keys", "peers"):
        op.drop_table(name)
