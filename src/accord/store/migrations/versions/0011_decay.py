"""Decay of indicators (issue 16): each collection's decay model (docs/lists.md, "Decay and scoring").

Revision ID: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decay_models",
        sa.Column("collection_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("lifetime", sa.BigInteger, nullable=False),
        sa.Column("speed", sa.Float, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("base", sa.SmallInteger, nullable=False),
        sa.Column("updated", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("decay_models")
