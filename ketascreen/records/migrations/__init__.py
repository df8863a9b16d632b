"""Alembic migrations of the records database (run by :meth:`Database.migrate`)."""
