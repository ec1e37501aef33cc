"""The event database: suggestions and feedback as they happened, the review queue and its labels, the audit trail,
analytics, shadow predictions, retention and the export of reviewed labels (SQLite or PostgreSQL, Alembic
migrations)."""
