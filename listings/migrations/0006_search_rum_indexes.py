"""PostgreSQL with the `rum` extension only (Debian: postgresql-15-rum): two
partial RUM indexes on the search vector with `bumped_at` attached, one over
the active promoted listings and one over the other active listings, so a
newest-first text search reads its page from inside the index
(listings.search_pages). Optional: where the extension is not available or
cannot be created (a managed service without it, no privilege), nothing
happens and search reads pages the plain way; running `migrate` again after
installing the package adds them (reverse to 0005 first).

Built CONCURRENTLY (the migration is not atomic), so a live site keeps taking
writes while the indexes build (about 40 s at 1M listings). The extension is
dropped again on reverse only when nothing else uses it.
"""

from django.db import DatabaseError, migrations

INDEXES = {
    "listing_search_rum_promoted": "status = 'active' AND is_promoted",
    "listing_search_rum_rest": "status = 'active' AND NOT is_promoted",
}


def _rum_installable(cursor) -> bool:
    cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")
    if cursor.fetchone() is None:
        return False
    try:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS rum")
    except DatabaseError:  # e.g. not a superuser on a managed service
        return False
    return True


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if not _rum_installable(cursor):
            return
        for name, where in INDEXES.items():
            # A build that failed half-way leaves an invalid index behind.
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            cursor.execute(
                f"CREATE INDEX CONCURRENTLY {name} ON listings_listing "
                "USING rum (search_vector rum_tsvector_addon_ops, bumped_at) "
                "WITH (attach = 'bumped_at', to = 'search_vector') "
                f"WHERE {where}"
            )


def backwards(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for name in INDEXES:
            cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        try:
            cursor.execute("DROP EXTENSION IF EXISTS rum")
        except DatabaseError:  # something else uses it (or no privilege)
            pass


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("listings", "0005_promoted_flag_feed_index")]

    operations = [migrations.RunPython(forwards, backwards)]
