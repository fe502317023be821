"""Storage: SQLModel tables, the engine (SQLite default, PostgreSQL for many hosts) and the
Alembic migrations that create them."""
