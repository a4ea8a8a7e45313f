"""Seed a PostGIS database with N benchmark listings, fast (COPY).

    .venv/bin/python bench/seed_listings.py --n 1000000 \
        --database-url postgis://postgres@127.0.0.1:5432/mp_bench

Steps: migrate; the demo category tree (`listings.demo.seed_categories`); a
few thousand users; then, in ONE transaction, empty the listing tables, drop
their secondary indexes and foreign keys, COPY the listings and their photo
rows, re-create the very same indexes and keys (definitions read back from
the catalogue before dropping), commit, VACUUM ANALYZE. A crash rolls the
whole load back with the indexes in place.

The `search_vector` column is a STORED GENERATED column (listings migration
0004): COPY leaves it out and PostgreSQL computes it for every row with the
app's own expression, so the search index is exactly what the app maintains.

Rows are deterministic for a given --n and --seed. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_EMAIL = "bench-user-{:05d}@bench.invalid"
LISTING_COLUMNS = (
    "id",
    "owner_id",
    "category_id",
    "title",
    "description",
    "price",
    "currency",
    "is_negotiable",
    "condition",
    "city",
    "location",
    "attributes",
    "status",
    "rejection_reason",
    "archived_from",
    "created_at",
    "updated_at",
    "published_at",
    "expires_at",
    "bumped_at",
    "expiry_warned_at",
    "featured_until",
    "top_until",
    "view_count",
    "favourite_count",
    "is_promoted",
)
IMAGE_COLUMNS = (
    "listing_id",
    "image",
    "thumbnail",
    "width",
    "height",
    "position",
    "created_at",
)
# Share of listings per status (the rest of 1.0 is active).
STATUS_SHARES = [
    ("sold", 0.04),
    ("expired", 0.04),
    ("archived", 0.02),
    ("draft", 0.01),
    ("pending", 0.005),
    ("rejected", 0.005),
]
# Rough share of listings per city: big cities dominate, as on a real site.
CITY_WEIGHTS = {
    "Almaty": 26,
    "Astana": 18,
    "Shymkent": 11,
    "Karaganda": 7,
    "Aktobe": 5,
    "Taraz": 4,
    "Pavlodar": 4,
    "Oskemen": 4,
    "Semey": 3,
    "Atyrau": 3,
    "Kostanay": 3,
    "Kyzylorda": 3,
    "Aktau": 3,
    "Oral": 2,
    "Petropavl": 2,
    "Turkestan": 2,
}
# Leaf categories: some are far more common than others.
LEAF_WEIGHTS = {
    "phones": 12,
    "laptops": 5,
    "tv-audio": 4,
    "cars": 10,
    "motorcycles": 2,
    "spare-parts": 8,
    "apartments": 10,
    "houses": 4,
    "commercial": 2,
    "furniture": 9,
    "appliances": 7,
    "clothing": 9,
    "shoes": 5,
    "sports": 4,
    "books": 3,
    "toys": 3,
    "strollers": 3,
}


# --- Progress -------------------------------------------------------------------


class Progress:
    """A one-line progress bar on stderr (no dependency)."""

    def __init__(self, label: str, total: int, stream=sys.stderr):
        self.label, self.total, self.stream = label, max(total, 1), stream
        self.start = time.monotonic()
        self.last = 0.0
        self.interactive = stream.isatty()

    def update(self, done: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < (0.2 if self.interactive else 5.0):
            return
        self.last = now
        elapsed = now - self.start
        share = min(done / self.total, 1.0)
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 else 0.0
        bar = "#" * int(share * 30)
        line = (
            f"{self.label:<10} [{bar:<30}] {share:6.1%} {done:>9,}/{self.total:,} "
            f"{rate:>8,.0f}/s  {elapsed:5.0f}s  eta {eta:4.0f}s"
        )
        end = "\r" if self.interactive else "\n"
        self.stream.write(line + end)
        self.stream.flush()

    def close(self, done: int) -> None:
        self.update(done, force=True)
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()


def step(message: str) -> float:
    sys.stderr.write(f"-- {message}\n")
    sys.stderr.flush()
    return time.monotonic()


# --- Row generation -------------------------------------------------------------


def _weighted(weights: dict[str, int]) -> tuple[list[str], list[float]]:
    names = list(weights)
    total = sum(weights.values())
    cumulative, running = [], 0.0
    for name in names:
        running += weights[name] / total
        cumulative.append(running)
    return names, cumulative


def _copy_text(value: str) -> str:
    """Text in COPY text format (escapes backslash, tab, newline, CR)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value


class _Timestamps:
    """Epoch seconds as ISO text, fast: the date part is cached per day."""

    def __init__(self):
        self.days: dict[int, str] = {}

    def __call__(self, epoch: float | None) -> str:
        if epoch is None:
            return "\\N"
        whole = int(epoch)
        day, seconds = divmod(whole, 86_400)
        date = self.days.get(day)
        if date is None:
            date = datetime.fromtimestamp(day * 86_400, UTC).strftime("%Y-%m-%d")
            self.days[day] = date
        hours, rest = divmod(seconds, 3600)
        return f"{date} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}+00"


class ListingGenerator:
    """Deterministic listing rows (and photo rows): chunk `k` of the ids is
    made from its own seed, so the data does not depend on the worker count."""

    def __init__(self, *, category_ids, owner_ids, seed: int, now: float):
        from bench import vocabulary
        from listings import demo
        from listings.cities import CITIES

        self.seed = seed
        self.rng = random.Random(seed)
        self.demo = demo
        self.nouns = vocabulary.NOUNS
        self.adjectives = vocabulary.ADJECTIVES
        self.phrases = vocabulary.PHRASES
        self.cities = CITIES
        self.category_ids = category_ids
        self.owner_ids = owner_ids
        self.now = now
        self.leaves, self.leaf_cum = _weighted(LEAF_WEIGHTS)
        self.city_names, self.city_cum = _weighted(CITY_WEIGHTS)
        self.ts = _Timestamps()

    def _pick(self, names, cumulative):
        x = self.rng.random()
        for name, edge in zip(names, cumulative, strict=True):
            if x <= edge:
                return name
        return names[-1]

    def _one(self, seq):
        return seq[int(self.rng.random() * len(seq))]

    def _status(self) -> str:
        x = self.rng.random()
        for status, share in STATUS_SHARES:
            if x < share:
                return status
            x -= share
        return "active"

    def chunk(self, index: int, first: int, last: int) -> tuple[str, str, int]:
        """COPY text of listings first..last (inclusive) and of their photos."""
        self.rng.seed(self.seed * 1_000_003 + index)
        listings: list[str] = []
        photos: list[str] = []
        for pk in range(first, last + 1):
            self._row(pk, listings, photos)
        listing_text = "\n".join(listings) + "\n"
        photo_text = "\n".join(photos) + "\n" if photos else ""
        return listing_text, photo_text, len(photos)

    def _row(self, pk: int, listings: list[str], photos: list[str]) -> None:
        rng, one, ts = self.rng, self._one, self.ts
        slug = self._pick(self.leaves, self.leaf_cum)
        city = self._pick(self.city_names, self.city_cum)
        attributes = self.demo._attributes_for(slug, rng)
        noun = one(self.nouns[slug])
        # The demo's templates (brand, make/model/year, rooms, size, ...) plus a
        # noun and an adjective from the category's word list.
        base = self.demo._title(slug, rng, attributes)
        title = f"{one(self.adjectives).capitalize()} {noun}: {base}"[:120]
        count = 3 + int(rng.random() * 4)
        description = " ".join(
            one(self.phrases).format(noun=noun, adj=one(self.adjectives), city=city)
            for _ in range(count)
        )
        low, high = self.demo._ITEMS[slug][1]
        # Prices cluster at the low end of the range, as real prices do.
        price_major = int(low + (high - low) * rng.random() ** 2.5)
        price_major -= price_major % (500 if high > 100_000 else 100)
        status = self._status()
        # Active listings live 30 days (renewals aside): published within the
        # last 30 days; the others are older.
        day = 86_400.0
        if status in ("active", "pending"):
            age = rng.random() * 30 * day
        else:
            age = (30 + rng.random() * 150) * day
        created = self.now - age - rng.random() * 3600
        published = None if status in ("draft", "pending") else created + 60.0
        bumped = published
        if published is not None and rng.random() < 0.08:
            bumped = published + rng.random() * (self.now - published)
        expires = published + 30 * day if published is not None else None
        featured = top = None
        if status == "active":
            x = rng.random()
            if x < 0.02:
                featured = self.now + rng.random() * 7 * day
            elif x < 0.027:
                top = self.now + rng.random() * 3 * day
        location = "\\N"
        if rng.random() >= 0.003:  # a few listings without a point
            lat, lng = self.cities[city]
            # Scattered around the centre: most within ~10 km, a tail further.
            radius = abs(rng.gauss(0, 0.06))
            angle = rng.random() * 2 * math.pi
            lat += radius * math.sin(angle)
            lng += radius * math.cos(angle) * 1.35
            location = f"SRID=4326;POINT({lng:.6f} {lat:.6f})"
        views = int(rng.expovariate(1 / 40))
        owner = self.owner_ids[int(rng.random() ** 2 * len(self.owner_ids))]
        negotiable = "t" if rng.random() < 0.4 else "f"
        condition = "new" if rng.random() < 0.25 else "used"
        attributes_json = json.dumps(
            attributes, ensure_ascii=False, separators=(",", ":")
        )
        rejection = "Photos do not show the item." if status == "rejected" else ""
        # Archived listings say what they were (the model's check constraint).
        archived_from = "expired" if status == "archived" else ""
        favourites = min(views // 10, int(rng.random() * 21))
        # The stored flag the promotion services keep (listings migration 0005).
        promoted = "t" if featured is not None or top is not None else "f"
        created_ts = ts(created)
        listings.append(
            f"{pk}\t{owner}\t{self.category_ids[slug]}\t{_copy_text(title)}\t"
            f"{_copy_text(description)}\t{price_major * 100}\tKZT\t{negotiable}\t"
            f"{condition}\t{city}\t{location}\t{_copy_text(attributes_json)}\t"
            f"{status}\t{rejection}\t{archived_from}\t{created_ts}\t"
            f"{ts(bumped or created)}\t"
            f"{ts(published)}\t{ts(expires)}\t{ts(bumped)}\t\\N\t{ts(featured)}\t"
            f"{ts(top)}\t{views}\t{favourites}\t{promoted}"
        )
        if rng.random() < 0.8:
            for position in range(one((1, 1, 2, 3, 4))):
                variant = (pk + position) % 8
                photos.append(
                    f"{pk}\tlistings/bench/{slug}-{variant}.jpg\t"
                    f"listings/thumbs/bench/{slug}-{variant}.jpg\t800\t600\t"
                    f"{position}\t{created_ts}"
                )


# --- Database steps -------------------------------------------------------------


def ensure_users(count: int) -> list[int]:
    """`count` bench users (created once; unusable passwords); their ids."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from listings.cities import CITIES

    existing = set(
        User.objects.filter(email__endswith="@bench.invalid").values_list(
            "email", flat=True
        )
    )
    rng = random.Random(7)
    cities = list(CITIES)
    unusable = make_password(None)
    new = [
        User(
            email=BENCH_EMAIL.format(i),
            display_name=f"Seller {i}",
            city=rng.choice(cities),
            is_verified=rng.random() < 0.1,
            password=unusable,
        )
        for i in range(count)
        if BENCH_EMAIL.format(i) not in existing
    ]
    User.objects.bulk_create(new, batch_size=1000)
    return list(
        User.objects.filter(email__endswith="@bench.invalid")
        .order_by("pk")
        .values_list("pk", flat=True)[:count]
    )


def _secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = %s::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        [table],
    )
    return list(cursor.fetchall())


def _foreign_keys(cursor, table: str) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY 1",
        [table],
    )
    return list(cursor.fetchall())


def _connect(autocommit: bool = False):
    """A plain psycopg connection to Django's database (for the loaders)."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    keep = ("dbname", "user", "password", "host", "port", "options")
    return psycopg.connect(
        **{k: v for k, v in params.items() if k in keep and v},
        autocommit=autocommit,
    )


def _loader(
    k: int, workers: int, jobs: list, generator_args: dict, queue
) -> None:  # pragma: no cover - runs in a child process
    """Loader process `k`: make every `workers`-th chunk of rows and COPY it,
    listings first, then their photos, in one transaction."""
    try:
        generator = ListingGenerator(**generator_args)
        photo_chunks: list[str] = []
        with _connect() as conn, conn.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            sql = f"COPY listings_listing ({', '.join(LISTING_COLUMNS)}) FROM STDIN"
            with cursor.copy(sql) as copy:
                for index, first, last in jobs[k::workers]:
                    text, photo_text, count = generator.chunk(index, first, last)
                    copy.write(text)
                    photo_chunks.append(photo_text)
                    queue.put(("listings", last - first + 1, count))
            sql = f"COPY listings_listingimage ({', '.join(IMAGE_COLUMNS)}) FROM STDIN"
            with cursor.copy(sql) as copy:
                for text in photo_chunks:
                    copy.write(text)
                    queue.put(("photos", text.count("\n"), 0))
        queue.put(("done", k, 0))
    except BaseException as exc:
        queue.put(("error", k, repr(exc)))
        raise


def _run_statements(statements: list[str], workers: int, label: str) -> dict:
    """Run DDL statements on `workers` connections at once (CREATE INDEX on
    one table from several sessions is allowed: SHARE locks do not clash)."""
    from concurrent.futures import ThreadPoolExecutor

    progress = Progress(label, len(statements))
    times: dict[str, float] = {}
    done = 0

    def run(batch: list[str]) -> None:
        nonlocal done
        with _connect(autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '1GB'")
            for statement in batch:
                started = time.monotonic()
                conn.execute(statement)
                times[statement.split(" USING ")[0][:80]] = round(
                    time.monotonic() - started, 1
                )
                done += 1
                progress.update(done, force=True)

    # Longest first (GIN, GiST), spread round-robin over the connections.
    ordered = sorted(statements, key=lambda s: (" gin " not in s, " gist " not in s, s))
    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(run, ordered[i::workers]) for i in range(workers)]:
            future.result()
    progress.close(len(statements))
    return times


def load(*, n: int, seed: int, users: int, workers: int, batch: int = 5000) -> dict:
    from django.db import connection
    from django.utils import timezone

    from listings.demo import seed_categories

    timings: dict[str, float] = {}
    t = step("categories (listings.demo.seed_categories) and users")
    categories = seed_categories()
    owner_ids = ensure_users(users)
    timings["categories_users_s"] = time.monotonic() - t

    generator_args = {
        "category_ids": {slug: c.pk for slug, c in categories.items()},
        "owner_ids": owner_ids,
        "seed": seed,
        "now": timezone.now().timestamp(),
    }
    jobs = [
        (index, first, min(first + batch - 1, n))
        for index, first in enumerate(range(1, n + 1, batch))
    ]
    tables = ("listings_listing", "listings_listingimage")
    t_load = time.monotonic()
    with connection.cursor() as cursor:
        saved = {
            table: (_secondary_indexes(cursor, table), _foreign_keys(cursor, table))
            for table in tables
        }
    if not saved["listings_listing"][0]:
        raise SystemExit(
            "listings_listing has no secondary index: a previous load stopped "
            "half-way? Run `manage.py migrate listings 0003` and `migrate` again."
        )
    t = step("empty the listing tables; drop their secondary indexes and keys")
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE listings_listing, listings_listingimage RESTART IDENTITY CASCADE"
        )
        for table, (indexes, keys) in saved.items():
            for name, _ in keys:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {name}")
    # Loader processes are forked: close ours so none inherits it.
    connection.close()
    photos = 0
    try:
        t = step(f"COPY {n:,} listings from {workers} loader processes")
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        loaders = [
            context.Process(
                target=_loader, args=(k, workers, jobs, generator_args, queue)
            )
            for k in range(workers)
        ]
        for process in loaders:
            process.start()
        listing_bar = Progress("listings", n)
        done_listings = done_photos = 0
        finished = 0
        while finished < workers:
            kind, amount, extra = queue.get()
            if kind == "listings":
                done_listings += amount
                photos += extra
                listing_bar.update(done_listings)
            elif kind == "photos":
                done_photos += amount
            elif kind == "done":
                finished += 1
            else:
                raise RuntimeError(f"loader {amount} failed: {extra}")
        for process in loaders:
            process.join()
        listing_bar.close(n)
        step(f"{done_photos:,} photo rows copied")
        timings["copy_s"] = time.monotonic() - t
    finally:
        # Put the indexes and keys back even when the load failed half-way.
        t = step("re-create the indexes (2 sessions), then the foreign keys")
        index_times = _run_statements(
            [d for indexes, _ in saved.values() for _, d in indexes], 2, "indexes"
        )
        index_times.update(
            _run_statements(
                [
                    f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
                    for table, (_, keys) in saved.items()
                    for name, definition in keys
                ],
                1,
                "keys",
            )
        )
        timings["indexes_s"] = time.monotonic() - t
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
    timings["load_total_s"] = time.monotonic() - t_load

    t = step("VACUUM ANALYZE")
    with connection.cursor() as cursor:
        # The users and categories too: every table a card joins. Without
        # statistics (autovacuum off, as on these machines, or not yet run)
        # the planner took the users for a few hundred rows and hashed the
        # whole table for each page of cards (1.1 ms instead of 0.2).
        for table in (*tables, "accounts_user", "listings_category"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    timings["vacuum_analyze_s"] = time.monotonic() - t
    return {
        "listings": n,
        "photos": photos,
        "users": len(owner_ids),
        "timings": {k: round(v, 1) for k, v in timings.items()},
        "index_times_s": index_times,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="listings to load")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="postgis://user@host:port/name (default: $DATABASE_URL)",
    )
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--workers", type=int, default=2, help="processes that generate rows"
    )
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgis://", "postgres://")):
        parser.error("--database-url must be a postgis:// URL (PostgreSQL only)")
    if args.n < 1:
        parser.error("--n must be at least 1")

    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
    os.environ["DJANGO_READ_DOT_ENV"] = "false"
    import django

    django.setup()
    from django.core.management import call_command

    started = time.monotonic()
    t = step("migrate")
    call_command("migrate", interactive=False, verbosity=0)
    migrate_s = time.monotonic() - t
    report = load(n=args.n, seed=args.seed, users=args.users, workers=args.workers)
    report["timings"]["migrate_s"] = round(migrate_s, 1)
    report["timings"]["total_s"] = round(time.monotonic() - started, 1)
    report["load_average"] = os.getloadavg()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
