"""The storage tests' PostgreSQL fixtures (skip without a server, fail without one in CI)."""

from tests.storage.conftest import postgres_admin, postgres_url

__all__ = ["postgres_admin", "postgres_url"]
