"""Privacy by design (issue 17): per-collection minimisation policies, pseudonymisation keys,
retention rules, and withdrawals with their delivery to peers.

Revision ID: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "privacy_policies",
        sa.Column("collection_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("updated", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "pseudonym_keys",
        sa.Column("scope", sa.String(120), primary_key=True),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.String(16), nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "retention_rules",
        sa.Column("collection_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("type", sa.String(250), primary_key=True),
        sa.Column("basis", sa.String(20), nullable=False),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("updated", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("object_id", sa.String(300), nullable=False),
        sa.Column("origin", sa.String(100), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("ed25519", sa.LargeBinary, nullable=False),
        sa.Column("ml_dsa_65", sa.LargeBinary, nullable=False),
        sa.Column("received", sa.BigInteger, nullable=False),
        sa.Column("via_peer", sa.Integer, nullable=True),
    )
    op.create_index("withdrawals_object", "withdrawals", ["object_id", "origin"])
    op.create_table(
        "withdrawal_outbox",
        sa.Column("withdrawal_id", sa.String(64), primary_key=True),
        sa.Column("peer_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("delivered", sa.BigInteger, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("withdrawal_outbox")
    op.drop_index("withdrawals_object", "withdrawals")
    op.drop_table("withdrawals")
    op.drop_table("retention_rules")
    op.drop_table("pseudonym_keys")
    op.drop_table("privacy_policies")
