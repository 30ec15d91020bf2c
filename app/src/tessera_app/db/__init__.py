"""The database: one declarative ``Base`` (``db.base``), engines and sessions for SQLite
(the embedded default) and PostgreSQL (production), and the models by area."""
