"""Storage: chats' preferences (and, later, subscriptions and the delivery ledger) in SQL.

SQLite by default, PostgreSQL through BRIEFINGS_DATABASE_URL; the schema changes only through
Alembic migrations, so an upgrade keeps what users set.
"""
