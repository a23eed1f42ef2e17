"""Public advisories and their review (issue 18): one row per advisory, draft to published or rejected.

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


def downgrade() -> None:
    op.drop_table("advisories")
