"""The fault suite reaches PostgreSQL as the storage tests do: the same fixtures."""

from tests.storage.conftest import postgres_admin, postgres_url

__all__ = ["postgres_admin", "postgres_url"]
