"""The node's store: SQLAlchemy Core on SQLite (default) or PostgreSQL, with Alembic migrations."""
