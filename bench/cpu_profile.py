"""CPU per request of the listings read API, in-process, production-like.

    .venv/bin/python bench/cpu_profile.py \
        --database-url postgis://postgres@127.0.0.1:5432/mp_bench \
        --redis-url redis://127.0.0.1:6379/10 --requests 400

Calls the WSGI application directly (what a granian worker does, without
the server's own cost) with the environment run_bench.py gives its servers
(DEBUG off, the Redis cache, the database pool), over the same random paths
as run_bench.py. For each scenario it prints the CPU milliseconds of this
process per request (`time.process_time`, so the database server's work is
not in it) and the wall time. `--profile SCENARIO` also runs cProfile over
that scenario's requests and prints the top functions.

Scenarios: the run_bench.py ones (detail, newest, nearby, search, healthz),
the HTML pages (page_search; page_detail, which records a view, a write, so
only when asked for), and with `--auth` the API ones
again as a logged-in client (detail_jwt, newest_jwt, ...: a Bearer access
token; `--auth` writes one user session to the database, so do not use it
on a database that must stay read-only).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run_bench import build_paths, server_env  # noqa: E402

API_SCENARIOS = ("detail", "newest", "nearby", "search")
PAGE_SCENARIOS = ("page_detail", "page_search")
# page_detail records a view (a write): not by default.
DEFAULT_SCENARIOS = (*API_SCENARIOS, "healthz", "page_search")


def _page_paths(paths: dict[str, list[str]]) -> dict[str, list[str]]:
    """The HTML counterparts: /listings/<id>/ and /search/?<same query>."""
    return {
        "page_detail": [
            p.replace("/api/v1/listings/", "/listings/") for p in paths["detail"]
        ],
        "page_search": ["/search/?" + urlsplit(p).query for p in paths["search"]],
    }


def _environ(path: str, headers: dict[str, str]) -> dict:
    parts = urlsplit(path)
    environ = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": parts.path,
        "QUERY_STRING": parts.query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_ACCEPT": "application/json" if path.startswith("/api/") else "*/*",
        "HTTP_USER_AGENT": "cpu_profile",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def _call(application, path: str, headers: dict[str, str]) -> tuple[str, int]:
    status = []

    def start_response(code, response_headers, exc_info=None):
        status.append(code)

    body = application(_environ(path, headers), start_response)
    size = 0
    try:
        for chunk in body:
            size += len(chunk)
    finally:
        if hasattr(body, "close"):
            body.close()
    return status[0], size


def _bearer_headers() -> dict[str, str]:
    """A logged-in client: a session (written to the database) and its JWT."""
    from allauth.headless.tokens.strategies.jwt.internal import create_access_token
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.filter(is_active=True).order_by("pk").first()
    client = Client()
    client.force_login(user)
    token = create_access_token(user, client.session, {"scope": "read"})
    return {"Authorization": f"Bearer {token}"}


def run(application, paths, headers, requests: int, rng: random.Random):
    """(cpu ms per request, wall ms per request, statuses) over `requests`."""
    chosen = [rng.choice(paths) for _ in range(requests)]
    statuses: dict[str, int] = {}
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for path in chosen:
        status, _ = _call(application, path, headers)
        statuses[status] = statuses.get(status, 0) + 1
    cpu = (time.process_time() - cpu0) * 1000 / requests
    wall = (time.perf_counter() - wall0) * 1000 / requests
    return cpu, wall, statuses


def _profile(args, application, paths, headers, rng) -> None:
    """One more round under cProfile, timed in CPU seconds (waiting for the
    database is not in it). Its overhead inflates pure-Python code more than
    C: read it for where the time goes, the table for how much."""
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    run(application, paths, headers, args.requests, rng)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats(args.sort).print_stats(args.top)
    print(out.getvalue(), file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/10")
    parser.add_argument("--requests", type=int, default=300, help="per round")
    parser.add_argument("--rounds", type=int, default=3, help="median of rounds")
    parser.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS))
    parser.add_argument(
        "--auth", action="store_true", help="also the API scenarios with a JWT"
    )
    parser.add_argument("--profile", default="", help="cProfile this scenario")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--no-db-pool",
        dest="db_pool",
        action="store_false",
        help="persistent connections (--conn-max-age) instead of the pool",
    )
    parser.add_argument("--conn-max-age", type=int, default=600)
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required")

    os.environ.update(
        server_env(
            args.database_url,
            args.redis_url,
            db_pool=args.db_pool,
            conn_max_age=0 if args.db_pool else args.conn_max_age,
        )
    )
    scenarios = [s for s in args.scenarios.split(",") if s]
    if set(scenarios) & set(PAGE_SCENARIOS) and "STATIC_ROOT" not in os.environ:
        # Pages with DEBUG off need the hashed static files' manifest.
        os.environ["STATIC_ROOT"] = str(Path(tempfile.gettempdir()) / "mp-cpu-static")
    import django

    django.setup()
    if set(scenarios) & set(PAGE_SCENARIOS):
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    rng = random.Random(args.seed)
    paths = build_paths(rng, 500)
    paths.update(_page_paths(paths))
    plan = [(s, paths[s], {}) for s in scenarios]
    if args.auth:
        headers = _bearer_headers()
        plan += [
            (f"{s}_jwt", paths[s], headers)
            for s in scenarios
            if s in paths and s in API_SCENARIOS
        ]

    load = os.getloadavg()[0]
    print(
        f"{args.requests} requests x {args.rounds} rounds per scenario; "
        f"1-min load average {load:.2f}",
        file=sys.stderr,
    )
    print("| scenario | CPU ms/req | best round | wall ms/req | statuses |")
    print("|---|---:|---:|---:|---|")
    for name, scenario_paths, headers in plan:
        # Warm: imports, URL resolver, templates, connections.
        run(application, scenario_paths, headers, min(50, args.requests), rng)
        rounds = [
            run(application, scenario_paths, headers, args.requests, rng)
            for _ in range(args.rounds)
        ]
        cpu = statistics.median(r[0] for r in rounds)
        best = min(r[0] for r in rounds)
        wall = statistics.median(r[1] for r in rounds)
        statuses: dict[str, int] = {}
        for r in rounds:
            for k, v in r[2].items():
                statuses[k] = statuses.get(k, 0) + v
        print(
            f"| {name} | {cpu:.2f} | {best:.2f} | {wall:.2f} | {statuses} |",
            flush=True,
        )
        if set(statuses) != {"200 OK"}:
            raise SystemExit(f"{name}: not every answer was 200 OK: {statuses}")
        if name == args.profile:
            _profile(args, application, scenario_paths, headers, rng)
    print(f"1-min load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
