"""Alembic migration scripts (packaged so an installed Spares can migrate itself)."""
