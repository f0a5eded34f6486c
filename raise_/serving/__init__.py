"""Online serving (issue 24): the latest value of each entity's features, materialized from the
offline store's commit log into an online store (SQLite, Redis) and looked up in microseconds."""
