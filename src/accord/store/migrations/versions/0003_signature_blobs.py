"""Batch signatures stored once: signature_blobs, referenced from provenance by SHA-256.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("signature_blobs",
                    sa.Column("digest", sa.LargeBinary(32), primary_key=True),
                    sa.Column("signature", sa.LargeBinary, nullable=False))


def downgrade() -> None:
    op.drop_table("signature_blobs")
