"""The initial schema.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("settings",
                    sa.Column("key", sa.String(100), primary_key=True),
                    sa.Column("value", sa.Text, nullable=False))
    op.create_table("organisations",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(200), nullable=False, unique=True),
                    sa.Column("kind", sa.String(40), nullable=False),
                    sa.Column("country", sa.String(2), nullable=False),
                    sa.Column("sectors", sa.Text, nullable=False),
                    sa.Column("identity_id", sa.String(100), nullable=False, unique=True),
                    sa.Column("created", sa.BigInteger, nullable=False))
    op.create_table("accounts",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), nullable=False),
                    sa.Column("name", sa.String(200), nullable=False, unique=True),
                    sa.Column("role", sa.String(20), nullable=False),
                    sa.Column("created", sa.BigInteger, nullable=False))
    op.create_table("api_keys",
                    sa.Column("key_id", sa.String(32), primary_key=True),
                    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
                    sa.Column("secret_sha256", sa.String(64), nullable=False),
                    sa.Column("created", sa.BigInteger, nullable=False),
                    sa.Column("revoked", sa.BigInteger, nullable=True))
    op.create_table("sharing_groups",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(200), nullable=False, unique=True),
                    sa.Column("marking_id", sa.String(100), nullable=False, unique=True),
                    sa.Column("description", sa.Text, nullable=False))
    op.create_table("group_members",
                    sa.Column("group_id", sa.Integer, sa.ForeignKey("sharing_groups.id"), primary_key=True),
                    sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), primary_key=True))
    op.create_table("api_roots",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("name", sa.String(100), nullable=False, unique=True),
                    sa.Column("title", sa.String(200), nullable=False),
                    sa.Column("description", sa.Text, nullable=False),
                    sa.Column("max_content_length", sa.BigInteger, nullable=False))
    op.create_table("collections",
                    sa.Column("id", sa.Integer, primary_key=True),
                    sa.Column("uuid", sa.String(36), nullable=False, unique=True),
                    sa.Column("api_root_id", sa.Integer, sa.ForeignKey("api_roots.id"), nullable=False),
                    sa.Column("title", sa.String(200), nullable=False),
                    sa.Column("description", sa.Text, nullable=False),
                    sa.Column("alias", sa.String(100), nullable=True))
    op.create_table("collection_access",
                    sa.Column("collection_id", sa.Integer, sa.ForeignKey("collections.id"), primary_key=True),
                    sa.Column("org_id", sa.Integer, sa.ForeignKey("organisations.id"), primary_key=True),
                    sa.Column("can_read", sa.Boolean, nullable=False),
                    sa.Column("can_write", sa.Boolean, nullable=False))
    op.create_table("objects",
                    sa.Column("date_added", sa.BigInteger, primary_key=True, autoincrement=False),
                    sa.Column("collection_id", sa.Integer, nullable=False),
                    sa.Column("id", sa.String(300), nullable=False),
                    sa.Column("type", sa.String(250), nullable=False),
                    sa.Column("spec_version", sa.String(10), nullable=False),
                    sa.Column("version", sa.String(40), nullable=False),
                    sa.Column("is_latest", sa.Boolean, nullable=False),
                    sa.Column("is_first", sa.Boolean, nullable=False),
                    sa.Column("revoked", sa.Boolean, nullable=False),
                    sa.Column("tlp", sa.SmallInteger, nullable=True),
                    sa.Column("groups", sa.Text, nullable=False),
                    sa.Column("owner_org", sa.Integer, nullable=False),
                    sa.Column("body", sa.LargeBinary, nullable=False))
    op.create_index("objects_version", "objects", ["collection_id", "id", "version"], unique=True)
    op.create_index("objects_added", "objects", ["collection_id", "date_added"])
    op.create_table("statuses",
                    sa.Column("id", sa.String(36), primary_key=True),
                    sa.Column("api_root_id", sa.Integer, nullable=False),
                    sa.Column("org_id", sa.Integer, nullable=False),
                    sa.Column("created", sa.BigInteger, nullable=False),
                    sa.Column("body", sa.LargeBinary, nullable=False))
    op.create_index("statuses_created", "statuses", ["created"])
    op.create_table("audit_log",
                    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
                    sa.Column("at", sa.BigInteger, nullable=False),
                    sa.Column("account_id", sa.Integer, nullable=True),
                    sa.Column("org_id", sa.Integer, nullable=True),
                    sa.Column("action", sa.String(60), nullable=False),
                    sa.Column("details", sa.LargeBinary, nullable=False),
                    sa.Column("prev_hash", sa.String(64), nullable=False),
                    sa.Column("hash", sa.String(64), nullable=False))


def downgrade() -> None:
    for table in ("audit_log", "statuses", "objects", "collection_access", "collections", "api_roots",
                  "group_members", "sharing_groups", "api_keys", "accounts", "organisations", "settings"):
        op.drop_table(table)
