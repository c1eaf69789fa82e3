"""A snapshot's outcome JSON compressed with lz4 instead of pglz (PostgreSQL 14+ built with lz4).

Nearly every snapshot's ``data`` is over the TOAST threshold, so each one the nightly writes is
compressed. pglz was a large part of the server's CPU in a chunk's COPY; lz4 compresses the
same values in a fraction of that, for slightly larger rows (the figures are in the commit
message). Stored values keep their method until rewritten. A server without lz4 keeps pglz, and
other databases are left alone."""

from typing import Any

from django.db import migrations

TABLE = "projections_outcomesnapshot"


def _set_compression(method: str) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(
            "DO $$ BEGIN"
            f" ALTER TABLE {TABLE} ALTER COLUMN data SET COMPRESSION {method};"
            " EXCEPTION WHEN feature_not_supported THEN"
            f" RAISE NOTICE 'compression {method} not supported by this server: {TABLE}.data keeps its own';"
            " END $$"
        )

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("projections", "0005_snapshot_fingerprint_indexes"),
    ]

    operations = [
        migrations.RunPython(_set_compression("lz4"), _set_compression("default")),
    ]
