"""Chat benchmark: many sockets, messages at a fixed rate, delivery latency.

Starts its own ASGI server (`--server daphne`, the default and what
production runs, or `uvicorn` to compare; `--servers` processes, default
one) on loopback, seeds `--sockets`/2 conversations through the site's
services, opens a socket for the buyer and one for the seller of each (two
people with the conversation page open) and runs three bounded phases:

1. throughput: `--rate` messages/s spread over `--conversations` conversations
   for `--seconds` (buyers send, the rest stay idle); reports persisted
   messages/s (acknowledged after the commit) and delivery latency (send ->
   `message.new` on the seller's socket) p50/p99;
2. single: one conversation at `--single-rate` messages/s; latency p50/p99;
3. idle (with `--idle-minutes N`): every socket stays open and quiet for N
   minutes; reports unexpected disconnects.

With `--servers N` (N server processes against one database and Redis, as
production runs one per core), a conversation's buyer and seller sockets are
on different processes, so every message crosses through channels-redis.

The server's resident memory is printed after each step, and for phases 1
and 2 the CPU time the server processes (of it, their event loop threads;
the rest is worker threads) and, on PostgreSQL, the database backends
serving them spent per persisted message: on a shared machine that is
steadier than latency. `--py-spy FILE` records phase 1 with py-spy (if it is
on PATH) into FILE as collapsed stacks. Only 127.0.0.1 is contacted and every
loop ends by itself.

    # production-like: PostGIS + Redis (channels-redis)
    DATABASE_URL=postgis://postgres@127.0.0.1:5432/mp_chat \\
    REDIS_URL=redis://127.0.0.1:6379/6 .venv/bin/python bench/chat_bench.py
    # embedded default: a throwaway SpatiaLite file, in-memory channel layer
    .venv/bin/python bench/chat_bench.py --sockets 200 --rate 50
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from chat.tests.live import SERVER_ARGS, LiveServer, server_env  # noqa: E402

SEED = """
import json, sys
from django.test import Client
from accounts.tests.factories import UserFactory
from listings.tests.factories import ListingFactory
from chat.services import conversation_start

n = {n}
tag = "{tag}"
out = []
for i in range(n):
    # No usable password: bench users only ever log in by session.
    seller = UserFactory(email=f"bench-s{{i}}-{{tag}}@example.com", password=None)
    buyer = UserFactory(email=f"bench-b{{i}}-{{tag}}@example.com", password=None)
    listing = ListingFactory(owner=seller, title=f"Bench listing {{i}}")
    convo, _ = conversation_start(user=buyer, listing_id=listing.pk, text="start")
    sessions = []
    for user in (buyer, seller):
        client = Client()
        client.force_login(user)
        sessions.append(client.cookies["sessionid"].value)
    out.append({{"id": convo.pk, "buyer": sessions[0], "seller": sessions[1]}})
print("SEED" + json.dumps(out))
"""


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def cpu_seconds(pid, thread=None) -> float:
    """User + system CPU time of one process (or one of its threads) so far
    (Linux /proc), 0 if gone."""
    path = f"/proc/{pid}/stat" if thread is None else f"/proc/{pid}/task/{thread}/stat"
    try:
        with open(path) as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat(5); fields[0] is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU spent by the server and by its database backends between two points.

    The backends are the PostgreSQL client backends connected to the bench's
    database (found in pg_stat_activity; the server runs on this machine).
    """

    def __init__(self, server, database_url):
        self.server = server
        self.dsn = None
        if database_url.startswith(("postgis://", "postgres://", "postgresql://")):
            self.dsn = "postgresql://" + database_url.split("://", 1)[1]

    def _backend_pids(self):
        if self.dsn is None:
            return []
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
            ).fetchall()
        return [pid for (pid,) in rows]

    def snapshot(self):
        pids = self._backend_pids()
        return (
            sum(cpu_seconds(pid) for pid in self.server.pids),
            # The main thread runs the event loop; the others, database calls.
            sum(cpu_seconds(pid, thread=pid) for pid in self.server.pids),
            {pid: cpu_seconds(pid) for pid in pids},
        )

    def since(self, start):
        server0, loop0, backends0 = start
        server1, loop1, backends1 = self.snapshot()
        # Backends that ended meanwhile are lost; with CONN_MAX_AGE they live on.
        database = sum(cpu - backends0.get(pid, 0.0) for pid, cpu in backends1.items())
        return server1 - server0, loop1 - loop0, (database if self.dsn else None)


class Socket:
    """One client socket: records what it receives, never sends by itself."""

    def __init__(self, bench, conversation, session, role):
        self.bench = bench
        self.conversation = conversation
        self.session = session
        self.role = role
        self.ws = None
        self.reader = None
        self.closed_unexpectedly = False

    async def open(self, server, attempts=3):
        for attempt in range(attempts):
            try:
                return await self._open(server)
            except Exception as exc:  # refused or reset under load: retry
                if attempt == attempts - 1:
                    raise
                self.bench.connect_retries += 1
                self.bench.last_connect_error = repr(exc)
                await asyncio.sleep(0.5 * (attempt + 1))

    async def _open(self, server):
        from websockets.asyncio.client import connect

        self.ws = await connect(
            f"{server.ws_url}/ws/chat/{self.conversation}/",
            origin=server.url,
            additional_headers={"Cookie": f"sessionid={self.session}"},
            open_timeout=30,
            ping_interval=None,  # daphne pings us; we answer
            max_queue=None,
        )
        hello = json.loads(await self.ws.recv())
        assert hello["type"] == "hello", hello
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                kind = frame["type"]
                if kind == "message.new":
                    self.bench.delivered(frame["message"], self)
                elif kind == "message.ack":
                    self.bench.acked(frame)
                elif kind == "error":
                    self.bench.errors.append(frame)
        except ConnectionClosed:
            pass
        if not self.bench.closing:
            self.closed_unexpectedly = True

    async def send(self, text, client_id):
        await self.ws.send(
            json.dumps({"type": "message.send", "text": text, "client_id": client_id})
        )

    async def close(self):
        with contextlib.suppress(Exception):
            await self.ws.close()
        if self.reader:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.reader, 5)


class Bench:
    def __init__(self):
        self.sent_at = {}
        self.latencies = []
        self.acks = 0
        self.ack_times = []
        self.errors = []
        self.closing = False
        self.connect_retries = 0
        self.last_connect_error = ""

    def delivered(self, message, socket):
        sent = self.sent_at.get(message.get("client_id"))
        if sent is not None and socket.role == "receiver":
            self.latencies.append((time.perf_counter() - sent) * 1000)

    def acked(self, frame):
        if frame["client_id"] in self.sent_at:
            self.acks += 1
            self.ack_times.append(time.perf_counter())

    def reset(self):
        self.sent_at.clear()
        self.latencies.clear()
        self.acks = 0
        self.ack_times.clear()
        self.errors.clear()


async def paced_sends(bench, senders, rate, seconds):
    """Send `rate` messages/s in total, round-robin over the senders."""
    interval = 1 / rate
    total = int(rate * seconds)
    start = time.perf_counter()
    cycle = itertools.cycle(senders)
    for n in range(total):
        target = start + n * interval
        delay = target - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sender = next(cycle)
        client_id = uuid.uuid4().hex
        bench.sent_at[client_id] = time.perf_counter()
        await sender.send(f"bench message {n}", client_id)
    return total, time.perf_counter() - start


async def drain(bench, expected, timeout=120):
    deadline = time.perf_counter() + timeout
    while bench.acks < expected and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # late deliveries to the other sockets


def report_phase(name, bench, total, elapsed, receivers, cpu=None):
    first = min(bench.sent_at.values()) if bench.sent_at else 0
    last_ack = max(bench.ack_times) if bench.ack_times else first
    persisted_rate = bench.acks / (last_ack - first) if last_ack > first else 0
    lat = bench.latencies
    expected_deliveries = total * receivers
    print(f"\n== {name}")
    print(
        f"  sent {total} messages in {elapsed:.2f}s (offered {total / elapsed:.0f}/s)"
    )
    print(f"  persisted (acked) {bench.acks}/{total}: {persisted_rate:.0f} messages/s")
    print(
        f"  deliveries {len(lat)}/{expected_deliveries}; latency ms "
        f"p50={percentile(lat, 50):.1f} p90={percentile(lat, 90):.1f} "
        f"p99={percentile(lat, 99):.1f} max={max(lat, default=float('nan')):.1f}"
        f" mean={statistics.fmean(lat) if lat else float('nan'):.1f}"
    )
    if bench.errors:
        print(f"  errors: {len(bench.errors)} e.g. {bench.errors[0]}")
    result = {
        "persisted_per_s": persisted_rate,
        "p50": percentile(lat, 50),
        "p99": percentile(lat, 99),
        "errors": len(bench.errors),
    }
    if cpu is not None and bench.acks:
        server_cpu, loop_cpu, database_cpu = cpu
        result["server_cpu_ms_per_message"] = server_cpu * 1000 / bench.acks
        result["loop_cpu_ms_per_message"] = loop_cpu * 1000 / bench.acks
        line = (
            f"  CPU per persisted message: server "
            f"{result['server_cpu_ms_per_message']:.2f} ms "
            f"(event loop thread {result['loop_cpu_ms_per_message']:.2f} ms)"
        )
        if database_cpu is not None:
            result["database_cpu_ms_per_message"] = database_cpu * 1000 / bench.acks
            line += f", database {result['database_cpu_ms_per_message']:.2f} ms"
        print(line + f" (server {server_cpu:.2f} s in total)")
    return result


def start_py_spy(args, server):
    import shutil

    exe = shutil.which("py-spy")
    if not args.py_spy:
        return None
    if exe is None:
        print("py-spy is not on PATH: not profiling")
        return None
    return subprocess.Popen(
        [
            *(exe, "record", "--pid", str(server.process.pid), "--rate", "250"),
            *("--format", "raw", "--output", args.py_spy, "--gil"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


def stop_py_spy(process):
    if process is None:
        return
    import signal

    process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class Servers:
    """N server processes on one database and Redis; memory and CPU summed."""

    def __init__(self, count, *, kind, env, folder):
        self.members = [
            LiveServer(env=env, kind=kind, log_path=folder / f"{kind}-{i}.log")
            for i in range(count)
        ]
        self.process = self.members[0].process  # py-spy records the first

    @property
    def pids(self):
        return [m.process.pid for m in self.members]

    def pick(self, index):
        return self.members[index % len(self.members)]

    def wait_ready(self):
        for member in self.members:
            member.wait_ready()

    def rss_kib(self):
        return sum(m.rss_kib() for m in self.members)

    def stop(self):
        for member in self.members:
            member.stop()


async def run(args, server, conversations):
    bench = Bench()
    meter = CpuMeter(server, args.database_url)
    sockets = []
    # Each conversation has its buyer's socket (the sender) and its seller's
    # (the receiver, where delivery latency is measured), as two people with
    # the conversation page open; the conversations beyond the active ones stay
    # idle. Extra sockets (an odd count) are more tabs of the first seller.
    # With several servers the sender and the receiver of a conversation are
    # on different processes (the message crosses through the channel layer).
    senders = {}
    homes = {}
    for n, c in enumerate(conversations):
        sender = Socket(bench, c["id"], c["buyer"], "sender")
        receiver = Socket(bench, c["id"], c["seller"], "receiver")
        senders[c["id"]] = sender
        homes[sender], homes[receiver] = server.pick(n), server.pick(n + 1)
        sockets += [sender, receiver]
    while len(sockets) < args.sockets:
        c = conversations[0]
        extra = Socket(bench, c["id"], c["seller"], "receiver")
        homes[extra] = server.pick(len(sockets))
        sockets.append(extra)
    sockets = sockets[: args.sockets]

    rss_idle = server.rss_kib()
    t0 = time.perf_counter()
    for batch in range(0, len(sockets), 20):
        await asyncio.gather(*(s.open(homes[s]) for s in sockets[batch : batch + 20]))
    connect_time = time.perf_counter() - t0
    rss_open = server.rss_kib()
    print(
        f"opened {len(sockets)} sockets over {len(conversations)} conversations "
        f"in {connect_time:.1f}s; server RSS {mib(rss_idle)} -> {mib(rss_open)} "
        f"({(rss_open - rss_idle) / len(sockets):.1f} KiB/socket); "
        f"{bench.connect_retries} connect retries {bench.last_connect_error}"
    )
    results = {}
    try:
        # 1. throughput over --conversations conversations
        throughput_convos = [c["id"] for c in conversations[: args.conversations]]
        receivers_per_convo = 1
        bench.reset()
        profiler = start_py_spy(args, server)
        cpu_start = meter.snapshot()
        try:
            total, elapsed = await paced_sends(
                bench, [senders[c] for c in throughput_convos], args.rate, args.seconds
            )
            await drain(bench, total)
            cpu = meter.since(cpu_start)
        finally:
            stop_py_spy(profiler)
        results["throughput"] = report_phase(
            f"throughput: {args.rate}/s over {len(throughput_convos)} conversations",
            bench,
            total,
            elapsed,
            receivers_per_convo,
            cpu,
        )
        print(f"  server RSS {mib(server.rss_kib())}")

        # 2. one conversation, low rate: per-message latency
        bench.reset()
        one = conversations[-1]["id"]
        cpu_start = meter.snapshot()
        total, elapsed = await paced_sends(
            bench, [senders[one]], args.single_rate, args.single_seconds
        )
        await drain(bench, total)
        results["single"] = report_phase(
            f"single conversation: {args.single_rate}/s",
            bench,
            total,
            elapsed,
            receivers_per_convo,
            meter.since(cpu_start),
        )

        # 3. idle soak
        if args.idle_minutes > 0:
            print(
                f"\n== idle: {len(sockets)} sockets quiet for {args.idle_minutes} min"
            )
            end = time.perf_counter() + args.idle_minutes * 60
            while time.perf_counter() < end:
                await asyncio.sleep(min(30, max(0, end - time.perf_counter())))
                dropped = sum(s.closed_unexpectedly for s in sockets)
                left = max(0, end - time.perf_counter())
                print(
                    f"  {left / 60:5.1f} min left: {dropped} unexpected disconnects, "
                    f"server RSS {mib(server.rss_kib())}"
                )
            dropped = sum(s.closed_unexpectedly for s in sockets)
            results["idle_disconnects"] = dropped
            # Still alive? One message must reach a receiver after the soak.
            bench.reset()
            total, elapsed = await paced_sends(bench, [senders[one]], 10, 0.5)
            await drain(bench, total)
            print(
                f"  unexpected disconnects: {dropped}; after the soak "
                f"{len(bench.latencies)} deliveries of {total * receivers_per_convo}"
            )
    finally:
        bench.closing = True
        await asyncio.gather(*(s.close() for s in sockets))
    print(f"\nserver RSS at the end {mib(server.rss_kib())}")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=16)
    parser.add_argument("--rate", type=int, default=300, help="messages/s in total")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--single-rate", type=int, default=5)
    parser.add_argument("--single-seconds", type=float, default=10)
    parser.add_argument("--idle-minutes", type=float, default=0)
    parser.add_argument(
        "--threads", type=int, default=16, help="daphne's ASGI_THREADS (daphne only)"
    )
    parser.add_argument(
        "--servers", type=int, default=1, help="server processes (1 to 8)"
    )
    parser.add_argument(
        "--server",
        choices=sorted(SERVER_ARGS),
        default="daphne",
        help="the ASGI server (production runs daphne)",
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument(
        "--py-spy",
        metavar="FILE",
        help="record phase 1 with py-spy (collapsed stacks) into FILE",
    )
    args = parser.parse_args()
    if args.conversations < 1 or args.sockets < args.conversations * 2:
        parser.error("need at least two sockets per active conversation")
    if not 1 <= args.servers <= 8:
        parser.error("--servers is 1 to 8")

    folder = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    database_url = os.environ.get("DATABASE_URL") or (
        f"spatialite:///{folder / 'db.sqlite3'}"
    )
    args.database_url = database_url
    env = server_env(
        DATABASE_URL=database_url,
        REDIS_URL=os.environ.get("REDIS_URL") or None,
        MEDIA_ROOT=folder / "media",
        CELERY_TASK_ALWAYS_EAGER="true",
        # The benchmark is one client sending for many users; lift the limit.
        CHAT_RATE_LIMIT_MESSAGES=10_000_000,
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY="bench-" + uuid.uuid4().hex,
        DJANGO_SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        # Threads for the consumers' database calls (daphne's default executor).
        ASGI_THREADS=args.threads,
    )
    print(
        f"database {database_url.split('@')[-1]}, "
        f"channel layer {'redis' if env.get('REDIS_URL') else 'in-memory'}"
    )
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=BASE_DIR)
    total_conversations = max(args.conversations, args.sockets // 2)
    print(f"seeding {total_conversations} conversations...")
    seed = SEED.format(n=total_conversations, tag=uuid.uuid4().hex[:8])
    out = subprocess.run(
        [*manage, "shell", "-c", seed],
        env=env,
        check=True,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
    ).stdout
    conversations = json.loads(
        next(x for x in out.splitlines() if x.startswith("SEED"))[4:]
    )
    server = Servers(args.servers, kind=args.server, env=env, folder=folder)
    try:
        server.wait_ready()
        print(f"{args.server} pids {', '.join(map(str, server.pids))}")
        results = asyncio.run(run(args, server, conversations))
    finally:
        server.stop()
    if args.json:
        print(json.dumps(results))
    print(f"(server logs: {folder}/{args.server}-*.log)")


if __name__ == "__main__":
    main()
