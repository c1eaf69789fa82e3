"""Each benchmark's own PostgreSQL database: created for the run beside the one ``DATABASE_URL`` names,
dropped at its end whatever happens (a benchmark touches only data it created)."""

from __future__ import annotations

import dj_database_url
import psycopg


def dsn_for(url: str, dbname: str) -> str:
    """A libpq connection string for database ``dbname`` on the server ``url`` names."""
    cfg = dj_database_url.parse(url)
    return f"host={cfg['HOST'] or '127.0.0.1'} port={cfg['PORT'] or 5432} user={cfg['USER']} dbname={dbname}" + (
        f" password={cfg['PASSWORD']}" if cfg.get("PASSWORD") else ""
    )


def database_url_for(url: str, name: str) -> str:
    """``url`` with its database replaced by ``name`` (its query string kept)."""
    base, _, _ = url.partition("?")[0].rpartition("/")
    query = url.partition("?")[2]
    return f"{base}/{name}" + (f"?{query}" if query else "")


def create_database(url: str, name: str) -> str:
    """A new, empty database ``name`` (one left by a killed run is dropped first); its URL."""
    with psycopg.connect(dsn_for(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url_for(url, name)


def drop_database(url: str, name: str) -> None:
    with psycopg.connect(dsn_for(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
