"""One file per schema revision of the PostgreSQL audit store, oldest first."""
