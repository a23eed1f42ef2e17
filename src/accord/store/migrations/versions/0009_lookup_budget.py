"""The sighting lookup's budget, per organisation and shared by every worker (issue 17).

Revision ID: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lookup_spend",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("org_id", sa.Integer, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
    )
    op.create_index("lookup_spend_org_at", "lookup_spend", ["org_id", "at"])


def downgrade() -> None:
    op.drop_index("lookup_spend_org_at", "lookup_spend")
    op.drop_table("lookup_spend")
