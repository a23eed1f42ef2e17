"""Administration: accounts and organisations can be disabled, API keys can expire.

Revision ID: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("organisations", sa.Column("disabled", sa.BigInteger, nullable=True))
    op.add_column("accounts", sa.Column("disabled", sa.BigInteger, nullable=True))
    op.add_column("api_keys", sa.Column("expires", sa.BigInteger, nullable=True))


def downgrade() -> None:
    op.drop_column("api_keys", "expires")
    op.drop_column("accounts", "disabled")
    op.drop_column("organisations", "disabled")
