"""The metadata database below every service: the catalog's SQLAlchemy engine and sessions
(``database``), its tables (``models``, one Alembic history in ``raise_/catalog/migrations``), the
rules names follow (``naming``) and SQLite's WAL checkpointer. The catalog's services and
governance both build on it; it imports neither."""
