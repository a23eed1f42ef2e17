"""Each organisation holds its own lineage of an object id: the version index includes the owner.

Before, (collection, id, version) was unique, so a second organisation posting an id held by another
was refused, and the refusal told it that the id existed even where it could not read it (an
existence oracle, docs/sharing.md "Several organisations, one id").

Revision ID: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("objects_version", table_name="objects")
    op.create_index("objects_version", "objects", ["collection_id", "id", "owner_org", "version"], unique=True)


def downgrade() -> None:
    op.drop_index("objects_version", table_name="objects")
    op.create_index("objects_version", "objects", ["collection_id", "id", "version"], unique=True)
