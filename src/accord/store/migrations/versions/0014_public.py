"""The public sphere (issue 18): advisories and their review; the asset registry of small organisations,
notices to them about their assets and the outbox that delivers them.

Revision ID: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "advisories",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("drafted_by", sa.Integer, sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("drafted_at", sa.BigInteger, nullable=False),
        sa.Column("reviewed_by", sa.Integer, sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("reviewed_at", sa.BigInteger, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("published", sa.String(40), nullable=True),
        sa.Column("first_published", sa.String(40), nullable=True),
    )
    op.create_index("advisories_state", "advisories", ["state"])
    op.create_table(
        "asset_orgs",
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), primary_key=True),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("covered_by", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("registered_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "assets",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(400), nullable=False),
        sa.Column("disputed", sa.Boolean, nullable=False),
        sa.Column("added_at", sa.BigInteger, nullable=False),
    )
    op.create_index("assets_claim", "assets", ["org_id", "kind", "value"], unique=True)
    op.create_index("assets_kind", "assets", ["kind"])
    op.create_table(
        "notices",
        sa.Column("id", sa.String(60), primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("acknowledged_at", sa.BigInteger, nullable=True),
    )
    op.create_index("notices_org", "notices", ["org_id"])
    op.create_table(
        "notice_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("value", sa.String(400), nullable=False),
        sa.Column("subjects", sa.Text, nullable=False),
        sa.Column("times", sa.Integer, nullable=False),
        sa.Column("first_seen", sa.BigInteger, nullable=False),
        sa.Column("last_seen", sa.BigInteger, nullable=False),
        sa.Column("notice_id", sa.String(60), sa.ForeignKey("notices.id"), nullable=True),
    )
    op.create_index("notice_items_open", "notice_items", ["org_id", "reason", "value"])
    op.create_table(
        "notice_outbox",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("notice_id", sa.String(60), sa.ForeignKey("notices.id"), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("target", sa.String(400), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_at", sa.BigInteger, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("sent_at", sa.BigInteger, nullable=True),
    )
    op.create_index("notice_outbox_due", "notice_outbox", ["state", "next_at"])


def downgrade() -> None:
    for name in ("notice_outbox", "notice_items", "notices", "assets", "asset_orgs", "advisories"):
        op.drop_table(name)
