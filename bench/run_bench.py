"""Benchmark the listings read API on a seeded PostGIS database.

    .venv/bin/python bench/run_bench.py --label 1m \
        --database-url postgis://postgres@127.0.0.1:5432/mp_bench \
        --redis-url redis://127.0.0.1:6379/10

For each scenario (detail, newest, nearby, search) it
1. checks in-process that the API answers 200 with the expected page, and
   counts the SQL queries one request runs;
2. captures the exact SQL the ORM sends for sample requests
   (CaptureQueriesContext around the API view) and times each statement with
   EXPLAIN (ANALYZE, BUFFERS, TIMING OFF), next to the best hand-written SQL for
   the same page (bench/handsql.py), checking both return the same rows;
3. serves the app production-like (DEBUG off, persistent database
   connections, Redis cache) with N processes of the chosen server (--server:
   daphne, the default; granian as deployed; nginx in front of it: edge; ...),
   and drives it with wrk (one thread, 16 connections) over random
   paths of the scenario: requests/s, p50, p90, p99, plus CPU milliseconds per
   request of the app processes and of their PostgreSQL backends (a figure
   that depends less on what else runs on a shared machine).

Everything stays on 127.0.0.1; each wrk run is bounded by --duration. Prints a
table and writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from itertools import pairwise
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH = Path(__file__).resolve().parent
SCENARIOS = ("detail", "newest", "nearby", "search", "healthz")
# The floor of the stack (server, Django, one SELECT 1, one Redis round trip):
# load only.
LOAD_ONLY_SCENARIOS = ("healthz",)
# Measured for database time only (no load run).
DB_ONLY_SCENARIOS = ("nearby_sparse",)
CLOCK_TICK = os.sysconf("SC_CLK_TCK")


def server_env(
    database_url: str,
    redis_url: str,
    *,
    db_pool: bool = True,
    conn_max_age: int = 0,
) -> dict[str, str]:
    """The environment of a production-like server on the bench database."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
            "DJANGO_READ_DOT_ENV": "false",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-only-secret-key-not-used-anywhere-else-0123",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            # TLS would end at a proxy in front; the bench talks plain HTTP.
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": database_url,
            "DATABASE_POOL": "true" if db_pool else "false",
            "DATABASE_CONN_MAX_AGE": str(conn_max_age),
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": "mp-bench",
            "CHANNELS_PREFIX": "mp-bench-asgi",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


# --- Request paths --------------------------------------------------------------


def _price_quantile(low: int, high: int, u: float) -> int:
    """The seeder's price distribution (major units): low + (high-low)*u^2.5."""
    return int(low + (high - low) * u**2.5)


def _km(lat1, lng1, lat2, lng2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def build_paths(rng: random.Random, count: int) -> dict[str, list[str]]:
    from django.db import connection

    from bench.seed_listings import CITY_WEIGHTS, _weighted
    from bench.vocabulary import SEARCH_TERMS
    from listings import demo
    from listings.cities import CITIES
    from listings.models import Category

    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM listings_listing")
        top = cursor.fetchone()[0] or 0
        candidates = [rng.randint(1, top) for _ in range(count * 2)]
        cursor.execute(
            "SELECT id FROM listings_listing WHERE id = ANY(%s) AND status = 'active'",
            [candidates],
        )
        active = [row[0] for row in cursor.fetchall()]
    rng.shuffle(active)
    paths = {"detail": [f"/api/v1/listings/{pk}/" for pk in active[:count]]}
    paths["newest"] = ["/api/v1/listings/?ordering=newest&page_size=20"]
    paths["healthz"] = ["/healthz"]

    names, cumulative = _weighted(CITY_WEIGHTS)
    nearby = []
    for _ in range(count):
        x = rng.random()
        city = next((n for n, e in zip(names, cumulative, strict=True) if x <= e), "")
        lat, lng = CITIES[city or names[-1]]
        query = {
            "lat": f"{lat + rng.gauss(0, 0.03):.5f}",
            "lng": f"{lng + rng.gauss(0, 0.04):.5f}",
            "radius_km": "10",
            "ordering": "distance",
            "page_size": "20",
        }
        nearby.append(f"/api/v1/listings/?{urlencode(query)}")
    paths["nearby"] = nearby
    # Points in the steppe, 60+ km from any city: fewer than a page of
    # listings within 10 km (the case where a KNN scan with the radius in the
    # WHERE never reaches its LIMIT). Database time only.
    sparse = []
    while len(sparse) < min(count, 50):
        lat, lng = rng.uniform(44.0, 52.0), rng.uniform(55.0, 82.0)
        if all(_km(lat, lng, *centre) > 60 for centre in CITIES.values()):
            query = {
                "lat": f"{lat:.5f}",
                "lng": f"{lng:.5f}",
                "radius_km": "10",
                "ordering": "distance",
                "page_size": "20",
            }
            sparse.append(f"/api/v1/listings/?{urlencode(query)}")
    paths["nearby_sparse"] = sparse

    paths_by_slug = dict(Category.objects.values_list("slug", "path"))
    search = []
    for _ in range(count):
        word, slug = rng.choice(SEARCH_TERMS)
        leaves = [
            s
            for s in demo._ITEMS
            if s in paths_by_slug
            and paths_by_slug[s].startswith(paths_by_slug.get(slug, "-"))
        ]
        low = min(demo._ITEMS[s][1][0] for s in leaves)
        high = max(demo._ITEMS[s][1][1] for s in leaves)
        price_min = _price_quantile(low, high, rng.uniform(0.0, 0.4))
        price_max = _price_quantile(low, high, rng.uniform(0.6, 1.0))
        query = {
            "q": word,
            "category": slug,
            "price_min": str(price_min - price_min % 1000),
            "price_max": str(price_max - price_max % 1000 + 1000),
        }
        search.append(f"/api/v1/listings/?{urlencode(query)}")
    paths["search"] = search
    return paths


# --- In-process checks and database time ------------------------------------------


def _explain_ms(cursor, sql: str, params=None) -> tuple[float, float]:
    """(planning, execution) milliseconds of one statement."""
    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) " + sql, params)
    plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    return plan["Planning Time"], plan["Execution Time"]


def _explain_text(cursor, sql: str, params=None, settings=None) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) under `settings`; a statement its time
    limit cancels is shown as planned (EXPLAIN without ANALYZE)."""
    from django.db import OperationalError, transaction

    settings = settings or {}
    try:
        with transaction.atomic():
            if settings:
                cursor.execute(
                    "; ".join(f"SET LOCAL {k} = {v}" for k, v in settings.items())
                )
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            return "\n".join(row[0] for row in cursor.fetchall())
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != "57014":
            raise
    with transaction.atomic():
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    limit = settings["statement_timeout"]
    return f"(cancelled after statement_timeout={limit})\n{plan}"


def _hand_ids(cursor, sql: str, params, settings=None) -> list:
    from django.db import transaction

    with transaction.atomic():
        if settings:
            cursor.execute(
                "; ".join(f"SET LOCAL {k} = {v}" for k, v in settings.items())
            )
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _timed(cursor, sql: str, params=None, settings=None) -> float:
    """Planning + execution ms: the second of two runs (the first warms).

    `settings` ({name: value}) are SET LOCAL around the runs, as the app set
    them for the statement (search_page_rows); a statement its
    statement_timeout cancels counts as that many milliseconds, the time it
    held the database in the app."""
    from django.db import OperationalError, transaction

    if not settings:
        _explain_ms(cursor, sql, params)
        planning, execution = _explain_ms(cursor, sql, params)
        return planning + execution
    try:
        with transaction.atomic():
            cursor.execute(
                "; ".join(f"SET LOCAL {k} = {v}" for k, v in settings.items())
            )
            _explain_ms(cursor, sql, params)
            planning, execution = _explain_ms(cursor, sql, params)
            return planning + execution
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != "57014":
            raise
        return float(settings["statement_timeout"])


_SET_LOCAL = re.compile(r"SET LOCAL (\w+) = (\w+)", re.IGNORECASE)


def _replayed(captured) -> list[tuple[str, dict]]:
    """The reads among captured queries, each with the SET LOCAL settings in
    force when the app ran it: those of a statement of their own last until
    the transaction or savepoint that set them ends; those sent in front of
    a read, in the same message (search_pages outside a transaction), apply
    to that read only."""
    reads, settings = [], {}
    for query in captured:
        sql = query["sql"].lstrip()
        parts = sql.split("; ")
        lead = []
        while parts and parts[0][:9].upper() == "SET LOCAL":
            lead.append(parts.pop(0))
        rest = "; ".join(parts).lstrip()
        if lead and rest:
            own = dict(settings)
            own.update(_SET_LOCAL.findall("; ".join(lead)))
            if rest[:20].upper().startswith(("SELECT", "WITH", "(")):
                reads.append((rest, own))
            continue
        head = sql[:20].upper()
        if head.startswith("SET LOCAL"):
            for name, value in _SET_LOCAL.findall(sql):
                if value.upper() == "DEFAULT":
                    settings.pop(name, None)
                else:
                    settings[name] = value
        elif head.startswith(("COMMIT", "ROLLBACK", "RELEASE")):
            settings = {}
        elif head.startswith(("SELECT", "WITH", "(")):
            reads.append((sql, dict(settings)))
    return reads


def _query_kind(sql: str) -> str:
    text = sql.lstrip().upper()
    if text.startswith("SELECT COUNT(*)"):
        return "count"
    if '"LISTINGS_LISTINGIMAGE"' in text[:400]:
        return "photos"
    if '"LISTINGS_CATEGORY"' in text[:200] and '"LISTINGS_LISTING"' not in text:
        return "category"
    if '"LISTINGS_LISTING"' in text:
        return "listing"
    return "other"


def hand_written(scenario: str, path: str):
    from bench import handsql
    from listings.models import Category
    from listings.search import parse_search_params
    from listings.selectors import category_descendant_ids

    if scenario == "detail":
        return handsql.detail(int(path.rstrip("/").rsplit("/", 1)[1]))
    params = parse_search_params(dict(parse_qsl(urlsplit(path).query)))
    if scenario == "newest":
        return handsql.newest()
    if scenario in ("nearby", "nearby_sparse"):
        return handsql.nearby(params)
    category = Category.objects.get(slug=params.category)
    return handsql.search(
        params, category_descendant_ids(category), rum=_rum_indexes_present()
    )


def _rum_indexes_present() -> bool:
    """Whether listings migration 0006 built its RUM indexes here (the best
    hand SQL for newest first then reads them, whatever the app is set to)."""
    from django.db import connection

    from listings.search_pages import RUM_INDEXES

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relname = ANY(%s)", [list(RUM_INDEXES)]
        )
        return cursor.fetchone()[0] == len(RUM_INDEXES)


def run_patched(scenario: str, path: str) -> list[int]:
    from bench import patched
    from listings.search import parse_search_params

    if scenario == "detail":
        return patched.detail(int(path.rstrip("/").rsplit("/", 1)[1]))
    params = parse_search_params(dict(parse_qsl(urlsplit(path).query)))
    function = {
        "newest": patched.newest,
        "nearby": patched.nearby,
        "nearby_sparse": patched.nearby,
        "search": patched.search,
    }[scenario]
    return function(params)


def measure_database(paths: dict[str, list[str]], samples: int) -> dict:
    """Per scenario: the API's queries and their database time, against the
    hand-written SQL, on `samples` requests."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT="application/json")
    results = {}
    for scenario, scenario_paths in paths.items():
        rows = []
        plans = {}
        for path in scenario_paths[:samples]:
            # Warm the ORM path once (caches, connection), then capture.
            client.get(path)
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code}")
            data = response.json()
            api_ids = (
                [r["id"] for r in data["results"]]
                if "results" in data
                else [data["id"]]
            )
            check_page(scenario, path, data)
            sql, params, *hand_settings = hand_written(scenario, path)
            hand_settings = hand_settings[0] if hand_settings else None
            by_kind: dict[str, float] = {}
            with connection.cursor() as cursor:
                # The reads, with the SET LOCAL settings search_page_rows
                # gave them (time limits, scans switched off).
                statements = _replayed(captured.captured_queries)
                for number, (statement, settings) in enumerate(statements):
                    kind = _query_kind(statement)
                    by_kind[kind] = by_kind.get(kind, 0.0) + _timed(
                        cursor, statement, settings=settings
                    )
                    if not rows:
                        plans[f"orm {number + 1} ({kind})"] = {
                            "sql": statement,
                            "settings": settings,
                            "plan": _explain_text(cursor, statement, None, settings),
                        }
                hand_ms = _timed(cursor, sql, params, hand_settings)
                if not rows:
                    plans["hand-written"] = {
                        "sql": cursor.mogrify(sql, params)
                        if hasattr(cursor, "mogrify")
                        else sql,
                        "settings": hand_settings,
                        "plan": _explain_text(cursor, sql, params, hand_settings),
                    }
                hand_ids = _hand_ids(cursor, sql, params, hand_settings)
            with CaptureQueriesContext(connection) as patched_queries:
                patched_ids = run_patched(scenario, path)
            with connection.cursor() as cursor:
                patched_ms = sum(
                    _timed(cursor, q["sql"]) for q in patched_queries.captured_queries
                )
                if len(rows) == 0:
                    for number, q in enumerate(patched_queries.captured_queries):
                        plans[f"patched {number + 1}"] = {
                            "sql": q["sql"],
                            "plan": _explain_text(cursor, q["sql"]),
                        }
            rows.append(
                {
                    "path": path,
                    "queries": len(statements),
                    "orm_ms_by_kind": {k: round(v, 3) for k, v in by_kind.items()},
                    "orm_ms": sum(by_kind.values()),
                    "orm_page_ms": sum(v for k, v in by_kind.items() if k != "count"),
                    "count_ms": by_kind.get("count", 0.0),
                    "hand_ms": hand_ms,
                    "same_result": api_ids == hand_ids,
                    "patched_ms": patched_ms,
                    "patched_queries": len(patched_queries.captured_queries),
                    "patched_same_result": api_ids == patched_ids,
                    "results": len(api_ids),
                }
            )
        results[scenario] = {
            "samples": rows,
            "queries_per_request": max(r["queries"] for r in rows),
            "orm_ms_median": statistics.median(r["orm_ms"] for r in rows),
            "orm_page_ms_median": statistics.median(r["orm_page_ms"] for r in rows),
            "count_ms_median": statistics.median(r["count_ms"] for r in rows),
            "hand_ms_median": statistics.median(r["hand_ms"] for r in rows),
            "same_result": all(r["same_result"] for r in rows),
            "patched_ms_median": statistics.median(r["patched_ms"] for r in rows),
            "patched_same_result": all(r["patched_same_result"] for r in rows),
            "patched_queries": max(r["patched_queries"] for r in rows),
            "results_median": statistics.median(r["results"] for r in rows),
            "plans": plans,
        }
        entry = results[scenario]
        entry["ratio"] = entry["orm_ms_median"] / max(entry["hand_ms_median"], 1e-6)
        entry["page_ratio"] = entry["orm_page_ms_median"] / max(
            entry["hand_ms_median"], 1e-6
        )
        print(
            f"  db {scenario:<7} ORM {entry['orm_ms_median']:8.2f} ms "
            f"(page {entry['orm_page_ms_median']:.2f}, count "
            f"{entry['count_ms_median']:.2f}) hand {entry['hand_ms_median']:7.2f} ms "
            f"ratio {entry['ratio']:.1f}x same={entry['same_result']} | patched "
            f"{entry['patched_ms_median']:.2f} ms "
            f"same={entry['patched_same_result']}",
            file=sys.stderr,
        )
    return results


def check_page(scenario: str, path: str, data: dict) -> None:
    """The API answered what was asked (not just 200)."""
    if scenario == "detail":
        expected = int(path.rstrip("/").rsplit("/", 1)[1])
        assert data["id"] == expected, (path, data.get("id"))
        return
    results = data["results"]
    assert len(results) <= 20, path
    if scenario == "newest":
        assert len(results) == 20, path
    if scenario in ("nearby", "nearby_sparse"):
        distances = [r["distance_km"] for r in results]
        assert all(d is not None and d <= 10.0 for d in distances), path
        # Sorted by the KNN operator `<->`; the distance shown is ST_Distance on
        # the sphere: they may disagree by a metre or so.
        assert all(a <= b + 0.005 for a, b in pairwise(distances)), path
    if scenario == "search":
        query = dict(parse_qsl(urlsplit(path).query))
        for r in results:
            assert int(query["price_min"]) * 100 <= r["price"], path
            assert r["price"] <= int(query["price_max"]) * 100, path


# --- Load -----------------------------------------------------------------------


def _cpu_seconds(pids) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / CLOCK_TICK


def _backend_pids(database: str) -> list[int]:
    out = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-At",
            "-c",
            "SELECT pid FROM pg_stat_activity WHERE datname = "
            f"'{database}' AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return [int(line) for line in out.stdout.split()]


def _drain(database: str, limit: int, timeout: float = 120.0) -> None:
    """Wait until at most `limit` connections to the bench database are left."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(_backend_pids(database)) > limit:
        time.sleep(2)


class Servers:
    """The app server; `port` is where wrk connects.

    - daphne, uvicorn: N ASGI processes accepting on one listening socket
      (like N workers behind a proxy, without the proxy);
    - granian: the `web` service as deployed (tests.edge.start_granian: the
      Dockerfile's command and GRANIAN_* defaults, which GRANIAN_* variables
      in the environment override, as in the container), N workers;
    - edge: that granian behind nginx with the repo's config
      (deploy/nginx.conf.template), its micro-cache on or off;
    - gunicorn: for comparison only, the WSGI server used before granian
      (requirements-dev.txt): N gthread workers with 2 threads each, on one
      listening socket like the ASGI servers.
    """

    def __init__(
        self, *, kind: str, workers: int, env: dict, port: int, cache: bool = True
    ):
        from tests.edge import Nginx, Process, free_port, start_granian

        self.kind = kind
        self.folder = Path(tempfile.mkdtemp(prefix="mp-bench-servers-"))
        self.sock = None
        if kind in ("granian", "edge"):
            self.port = port if port and kind == "granian" else free_port()
            self.processes = [
                start_granian(
                    env, self.folder, port=self.port, workers=workers, access_log=False
                )
            ]
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("127.0.0.1", port))
            self.sock.listen(1024)
            self.sock.set_inheritable(True)
            self.port = self.sock.getsockname()[1]
            fd = self.sock.fileno()
            if kind == "gunicorn":
                command = [
                    sys.executable, "-m", "gunicorn", "--bind", f"fd://{fd}",
                    "--workers", str(workers), "--worker-class", "gthread",
                    "--threads", "2", "--log-level", "warning",
                    "marketplace.wsgi:application",
                ]  # fmt: skip
                self.processes = [
                    Process(
                        command,
                        env=env,
                        log_path=self.folder / "gunicorn.log",
                        pass_fds=[fd],
                    )
                ]
            else:
                asgi_options = {
                    "daphne": ["-v", "0"],
                    "uvicorn": ["--log-level", "warning", "--no-access-log"],
                }[kind]
                command = [
                    str(Path(sys.executable).parent / kind),
                    "--fd", str(fd), *asgi_options, "marketplace.asgi:application",
                ]  # fmt: skip
                self.processes = [
                    Process(
                        command,
                        env=env,
                        log_path=self.folder / f"{kind}{n}.log",
                        pass_fds=[fd],
                    )
                    for n in range(workers)
                ]
        self.proxy = None
        if kind == "edge":
            # No websocket is benchmarked: the ws upstream is a closed port.
            self.proxy = Nginx(
                self.folder,
                web=f"127.0.0.1:{self.port}",
                ws=f"127.0.0.1:{free_port()}",
                port=port or None,
                cache=cache,
            )
            self.port = self.proxy.port

    @property
    def pids(self) -> list[int]:
        """The app server processes and their children (granian's or
        gunicorn's workers)."""
        return [pid for process in self.processes for pid in process.pids]

    @property
    def proxy_pids(self) -> list[int]:
        """nginx's master and workers (edge only)."""
        return self.proxy.pids if self.proxy else []

    def proxy_log_offset(self) -> int:
        return self.proxy.log_path.stat().st_size if self.proxy else 0

    def cache_statuses(self, since: int) -> dict[str, int]:
        """X-Cache-Status of the requests nginx logged after `since` bytes."""
        if self.proxy is None:
            return {}
        with open(self.proxy.log_path, "rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
        counts: dict[str, int] = {}
        for status in re.findall(r" cache=(\S*) ", text):
            counts[status or "-"] = counts.get(status or "-", 0) + 1
        return counts

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}/healthz"
        everything = [*self.processes, *([self.proxy] if self.proxy else [])]
        while time.monotonic() < deadline:
            for server in everything:
                if server.process.poll() is not None:
                    raise SystemExit(
                        f"{server.log_path.name} exited at start:\n{server.log()}"
                    )
            try:
                with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise SystemExit("the app server did not become ready")

    def stop(self) -> None:
        if self.proxy:
            self.proxy.stop()
        for process in self.processes:
            process.stop()
        if self.sock:
            self.sock.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def wrk(
    url: str, paths_file: str, *, concurrency: int, duration: int, pace_ms: int = 0
) -> dict:
    """wrk over random paths; with `pace_ms` each connection pauses that long
    between requests (bench/paced.lua): latency at a set rate, not at
    saturation."""
    script, extra = ("paced.lua", [str(pace_ms)]) if pace_ms else ("paths.lua", [])
    command = [
        "wrk",
        "-t1",
        f"-c{concurrency}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(BENCH / script),
        url,
        "--",
        paths_file,
        *extra,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=duration + 60
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRK_JSON "))
    data = json.loads(line.removeprefix("WRK_JSON "))
    data["wrk_cpu_s"] = (after.ru_utime - before.ru_utime) + (
        after.ru_stime - before.ru_stime
    )
    return data


def run_load(
    paths: dict[str, list[str]],
    *,
    env: dict,
    database: str,
    workers: int,
    concurrency: int,
    duration: int,
    warmup: int,
    port: int,
    pause: int,
    max_connections: int,
    server: str,
    cache: bool = True,
    pace_ms: int = 0,
) -> dict:
    results = {}
    servers = Servers(kind=server, workers=workers, env=env, port=port, cache=cache)
    folder = Path(tempfile.mkdtemp(prefix="mp-bench-"))
    try:
        servers.wait_ready()
        url = f"http://127.0.0.1:{servers.port}"
        for scenario, scenario_paths in paths.items():
            paths_file = folder / f"{scenario}.txt"
            paths_file.write_text("\n".join(scenario_paths) + "\n")
            wrk(url, str(paths_file), concurrency=concurrency, duration=warmup)
            backends = _backend_pids(database)
            load_before = os.getloadavg()
            app_cpu = _cpu_seconds(servers.pids)
            proxy_cpu = _cpu_seconds(servers.proxy_pids)
            log_offset = servers.proxy_log_offset()
            db_cpu_before = {pid: _cpu_seconds([pid]) for pid in backends}
            if len(backends) > max_connections:
                # Requests pile up (each holding a connection) faster than the
                # database answers them: stop here rather than exhaust a
                # shared server, record why, let them drain, go on.
                print(
                    f"  load {scenario:<7} ABORTED: {len(backends)} database "
                    f"connections after the warm-up (limit {max_connections})",
                    file=sys.stderr,
                )
                results[scenario] = {
                    "aborted": f"{len(backends)} database connections after the "
                    f"{warmup} s warm-up (limit {max_connections}): requests "
                    "pile up, each holding a connection",
                    "load_average_after": [round(x, 2) for x in os.getloadavg()],
                }
                _drain(database, max_connections // 2)
                continue
            data = wrk(
                url,
                str(paths_file),
                concurrency=concurrency,
                duration=duration,
                pace_ms=pace_ms,
            )
            app_cpu = _cpu_seconds(servers.pids) - app_cpu
            proxy_cpu = _cpu_seconds(servers.proxy_pids) - proxy_cpu
            cache_statuses = servers.cache_statuses(log_offset)
            backends_after = _backend_pids(database)
            # Backend CPU: the connections open at the end (a pool may have
            # opened more during the run: all their CPU counts). Unknown when
            # a connection closed during the run (new ones per request).
            db_cpu = sum(
                _cpu_seconds([pid]) - db_cpu_before.get(pid, 0.0)
                for pid in backends_after
            )
            if not backends or not set(backends) <= set(backends_after):
                db_cpu = None
            seconds = data["duration_us"] / 1e6
            requests = max(data["requests"], 1)
            if not data["requests"]:
                print(
                    f"  load {scenario:<7} no request completed in {duration} s; "
                    "CPU figures below are totals, not per request",
                    file=sys.stderr,
                )
            # No percentiles when no request completed.
            latency = {
                k: v / 1000 if data["requests"] else None
                for k, v in data["latency_us"].items()
            }
            entry = {
                "requests": data["requests"],
                "seconds": round(seconds, 1),
                "rps": round(data["requests"] / seconds, 1),
                "p50_ms": latency["p50"],
                "p90_ms": latency["p90"],
                "p99_ms": latency["p99"],
                "max_ms": latency["max"],
                "errors": data["errors"],
                # Per completed request (none completed: the total, in ms).
                "app_cpu_ms_per_request": round(app_cpu * 1000 / requests, 2),
                "db_cpu_ms_per_request": None
                if db_cpu is None
                else round(db_cpu * 1000 / requests, 2),
                # nginx (edge only): its CPU, and X-Cache-Status of what it
                # logged during the run.
                "proxy_cpu_ms_per_request": round(proxy_cpu * 1000 / requests, 2)
                if servers.proxy
                else None,
                "cache_statuses": cache_statuses,
                "cache_hit_percent": _hit_percent(cache_statuses),
                "wrk_cpu_s": round(data["wrk_cpu_s"], 1),
                "db_connections": len(backends),
                "db_connections_after": len(backends_after),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
            }
            results[scenario] = entry
            entry["errors_total"] = sum(entry["errors"].values())
            print(
                f"  load {scenario:<7} {entry['rps']:8.1f} req/s  p50 "
                f"{_fmt(entry['p50_ms'])} ms  p99 {_fmt(entry['p99_ms'])} ms  "
                f"errors {sum(entry['errors'].values())}  app CPU "
                f"{entry['app_cpu_ms_per_request']} ms/req  db CPU "
                f"{entry['db_cpu_ms_per_request']} ms/req  proxy CPU "
                f"{entry['proxy_cpu_ms_per_request']} ms/req  cache "
                f"{cache_statuses or '-'}  load {entry['load_average_after'][0]}",
                file=sys.stderr,
            )
            time.sleep(pause)
            _drain(database, max_connections // 2)
    finally:
        servers.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return results


def _hit_percent(statuses: dict[str, int]) -> float | None:
    """Answers nginx gave from its cache (fresh or stale), in percent of the
    requests it looked up; None when it looked none up (status "-": a path
    it does not cache, /healthz, or the cache off)."""
    total = sum(v for k, v in statuses.items() if k != "-")
    if not total:
        return None
    served = sum(statuses.get(s, 0) for s in ("HIT", "STALE", "UPDATING"))
    return round(100 * served / total, 1)


# --- Report ---------------------------------------------------------------------


def _fmt(value, spec=".1f") -> str:
    return "-" if value is None else format(value, spec)


def table(report: dict) -> str:
    """Two Markdown tables: the load runs, then the database time."""
    lines = [
        "| scenario | req/s | p50 ms | p90 ms | p99 ms | errors | app CPU ms/req "
        "| DB CPU ms/req | proxy CPU ms/req | cache hits % | DB conns (start/end) "
        "| load avg (1 min) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario, load in report["load"].items():
        if "aborted" in load:
            lines.append(f"| {scenario} | aborted: {load['aborted']} |" + " |" * 10)
            continue
        lines.append(
            f"| {scenario} | {_fmt(load['rps'])} | {_fmt(load['p50_ms'])} "
            f"| {_fmt(load['p90_ms'])} | {_fmt(load['p99_ms'])} "
            f"| {sum(load['errors'].values())} "
            f"| {_fmt(load['app_cpu_ms_per_request'], '.2f')} "
            f"| {_fmt(load['db_cpu_ms_per_request'], '.2f')} "
            f"| {_fmt(load.get('proxy_cpu_ms_per_request'), '.2f')} "
            f"| {_fmt(load.get('cache_hit_percent'))} "
            f"| {load['db_connections']}/{load['db_connections_after']} "
            f"| {load['load_average_after'][0]} |"
        )
    lines += [
        "",
        "| scenario | queries/req | ORM DB ms: all (page + count) | hand SQL ms "
        "| ORM / hand (page only) | same rows | patched ms (queries) "
        "| patched / hand | patched same rows |",
        "|---|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    for scenario, db in report["database"].items():
        hand = max(db["hand_ms_median"], 1e-6)
        lines.append(
            f"| {scenario} | {db['queries_per_request']} "
            f"| {db['orm_ms_median']:.2f} ({db['orm_page_ms_median']:.2f} + "
            f"{db['count_ms_median']:.2f}) | {db['hand_ms_median']:.2f} "
            f"| {db['ratio']:.1f}x ({db['page_ratio']:.1f}x) | {db['same_result']} "
            f"| {db['patched_ms_median']:.2f} ({db['patched_queries']}) "
            f"| {db['patched_ms_median'] / hand:.1f}x "
            f"| {db['patched_same_result']} |"
        )
    return "\n".join(lines)


def _server_description(server: str, edge_cache: str, env: dict) -> str:
    if server in ("daphne", "uvicorn"):
        return f"{server} (ASGI), one process per worker, shared socket"
    if server == "gunicorn":
        return "gunicorn (WSGI), gthread workers, 2 threads, shared socket"
    from tests.edge import granian_settings

    threads = granian_settings(env, port=0)["GRANIAN_BLOCKING_THREADS"]
    granian = f"granian (WSGI, the Dockerfile's command), {threads} blocking thread(s)"
    if server == "edge":
        return f"nginx (micro-cache {edge_cache}) in front of {granian}"
    return granian


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--label", default="bench")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument(
        "--server",
        choices=("daphne", "uvicorn", "granian", "edge", "gunicorn"),
        default="daphne",
        help="daphne or uvicorn (ASGI, N processes on one socket), granian "
        "(WSGI, the Dockerfile's command and GRANIAN_* settings; GRANIAN_* "
        "variables in the environment override them, e.g. "
        "GRANIAN_BLOCKING_THREADS=2), edge (that granian behind nginx with "
        "deploy/nginx.conf.template, as deployed) or gunicorn (for comparison: "
        "WSGI, gthread workers, 2 threads, from requirements-dev.txt)",
    )
    parser.add_argument(
        "--edge-cache",
        choices=("on", "off"),
        default="on",
        help="edge: nginx's micro-cache of anonymous public API reads "
        "(off: the same proxy, every request reaches granian)",
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--pace-ms",
        type=int,
        default=0,
        help="each connection pauses this long between requests: latency at "
        "about concurrency x 1000 / (pace + latency) requests/s instead of at "
        "saturation (0: no pause)",
    )
    parser.add_argument("--duration", type=int, default=25, help="seconds per run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds before each")
    parser.add_argument("--pause", type=int, default=5, help="seconds between runs")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--paths", type=int, default=2000, help="paths per scenario")
    parser.add_argument("--samples", type=int, default=10, help="EXPLAIN samples")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--no-db-pool",
        dest="db_pool",
        action="store_false",
        help="serve without Django's psycopg pool (DATABASE_POOL=false), "
        "with --conn-max-age instead",
    )
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=0,
        help="DATABASE_CONN_MAX_AGE of the server (default 0: under daphne a "
        "value above 0 keeps one connection per finished request thread)",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=24,
        help="stop when the server holds more database connections than this",
    )
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-db", action="store_true")
    args = parser.parse_args(argv)
    if not args.database_url.startswith(("postgis://", "postgres://")):
        parser.error("--database-url must be a postgis:// URL")
    scenarios = [s for s in args.scenarios.split(",") if s]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    if not args.skip_load and shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install wrk)")
    if not 1 <= args.duration <= 120:
        parser.error("--duration is 1..120 seconds")
    if args.server == "edge" and not args.skip_load:
        from tests.edge import nginx_binary

        if nginx_binary() is None:
            parser.error("--server edge needs nginx (apt-get install nginx)")

    env = server_env(
        args.database_url,
        args.redis_url,
        db_pool=args.db_pool,
        conn_max_age=0 if args.db_pool else args.conn_max_age,
    )
    if args.server == "edge":
        # As deployed: the client's address comes from the proxy's header.
        env["DJANGO_TRUSTED_PROXY_COUNT"] = "1"
    # In-process measurements use the app's own settings.
    os.environ.update({**env, "DJANGO_SETTINGS_MODULE": "marketplace.settings"})
    import django

    django.setup()
    from django.db import connection

    database = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'active') "
            "FROM listings_listing"
        )
        total, active = cursor.fetchone()
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
    print(
        f"{database}: {total:,} listings ({active:,} active), jit={jit}",
        file=sys.stderr,
    )
    rng = random.Random(args.seed)
    all_paths = build_paths(rng, args.paths)
    paths = {s: all_paths[s] for s in scenarios}
    db_paths = {s: p for s, p in paths.items() if s not in LOAD_ONLY_SCENARIOS}
    if "nearby" in scenarios:
        db_paths.update({s: all_paths[s] for s in DB_ONLY_SCENARIOS})

    report = {
        "label": args.label,
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "database": {},
        "load": {},
        "listings": total,
        "active_listings": active,
        "settings": {
            "workers": args.workers,
            "server": _server_description(args.server, args.edge_cache, env),
            "db_connections": "psycopg pool (DATABASE_POOL)"
            if args.db_pool
            else f"CONN_MAX_AGE={args.conn_max_age}",
            "concurrency": args.concurrency,
            "pace_ms": args.pace_ms,
            "duration_s": args.duration,
            "load_generator": "wrk -t1 (same machine)",
            "jit": jit,
        },
        "scenarios": scenarios,
    }
    if not args.skip_db:
        print(
            "database time (EXPLAIN ANALYZE of the captured ORM SQL):", file=sys.stderr
        )
        report["database"] = measure_database(db_paths, args.samples)
    connection.close()
    if not args.skip_load:
        print(
            f"load: {args.workers} {args.server} workers, wrk -c{args.concurrency} "
            f"-d{args.duration}s"
            + (f", {args.pace_ms} ms pauses" if args.pace_ms else ""),
            file=sys.stderr,
        )
        report["load"] = run_load(
            paths,
            env=env,
            database=database,
            workers=args.workers,
            concurrency=args.concurrency,
            duration=args.duration,
            warmup=args.warmup,
            port=args.port,
            pause=args.pause,
            max_connections=args.max_connections,
            server=args.server,
            cache=args.edge_cache == "on",
            pace_ms=args.pace_ms,
        )
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = out / f"{re.sub(r'[^a-z0-9_-]+', '-', args.label.lower())}-{stamp}.json"
    target.write_text(json.dumps(report, indent=2, default=str))
    print(table(report))
    print(f"\nJSON: {target.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
