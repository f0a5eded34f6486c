"""Alembic environment: always run programmatically by ``raise_.metadata.database``.

The caller passes an open connection in ``config.attributes["connection"]`` so migrations run
inside the same lock the store took to migrate (see ``database.migrate``).
"""

from __future__ import annotations

from alembic import context

from raise_.catalog.search_index import is_search_index_object
from raise_.metadata.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - we never run alembic from its CLI
    raise RuntimeError("Raise migrations run through raise_.metadata.database.migrate(), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_name=lambda name, type_, parent: not is_search_index_object(name),
)
with context.begin_transaction():
    context.run_migrations()
