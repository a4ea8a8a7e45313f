"""PostgreSQL only: a stored generated tsvector column for free-text search and
GIN indexes on it and on `attributes`. The model does not declare the column
(listings.search reads it through an expression), so SQLite/SpatiaLite
migrations are untouched and stay plain.

Note: PostgreSQL refuses to change the type of `title` or `description` while
the generated column uses them; a migration that does must drop and re-add the
column (reverse this migration first).
"""

from django.db import migrations

FORWARD = [
    """
    ALTER TABLE listings_listing ADD COLUMN IF NOT EXISTS search_vector tsvector
    GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('simple'::regconfig, coalesce(description, '')), 'B')
    ) STORED
    """,
    "CREATE INDEX IF NOT EXISTS listing_search_vector_gin "
    "ON listings_listing USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS listing_attributes_gin "
    "ON listings_listing USING gin (attributes jsonb_path_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS listing_attributes_gin",
    "DROP INDEX IF EXISTS listing_search_vector_gin",
    "ALTER TABLE listings_listing DROP COLUMN IF EXISTS search_vector",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in FORWARD:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in BACKWARD:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("listings", "0003_search_indexes_saved_search_match")]

    operations = [migrations.RunPython(forwards, backwards)]
