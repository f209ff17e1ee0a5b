#!/usr/bin/env python3
"""The load client of bench/sync.sh: event streams (`GET /api/{user}/events`) held open by the
thousand, and writes while they are open.

  sync_load.py rss --base URL --secret S --pid PID --streams 10000
      Opens one stream per user (distinct users), waits for each stream's `ready`, holds them
      all, and prints the server's resident memory (VmRSS of PID) before and with them open.

  sync_load.py idle --base URL --pid PID --connections 10000
      The same number of connections, each kept open after one `GET /health`, without a
      stream: what the HTTP server (poem on hyper) holds per connection, for comparison.

  sync_load.py delays --base URL
      The server's own histogram of the same delay (to the event handed to the connection), from
      /metrics: the bucket bounds holding p50 and p99.

  sync_load.py latency --streams-base URL --writes-base URL --secret S --streams 1000 \\
                       --rate 500 --seconds 30
      Opens one stream per user on the first server, then creates tasks through the second
      (the same server, or another replica on the same database) at `rate` a second, each for a
      user picked at random, and measures for every event the delay from the write to its
      arrival: the arrival time minus the task's `updated_at`, which the server takes inside the
      write transaction before it commits (so the figure overstates the delay from the commit by
      the time the commit itself takes). Also, from the writer's 201 (sent after the commit) to
      the event, 0 when the event came first (which understates it). Both clocks are this
      machine's. Prints percentiles as JSON.

Needs aiohttp (`pip install aiohttp`). Tokens are HS256 JWTs signed with the server's
BETTER_AUTH_SECRET.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import random
import sys
import time
from datetime import datetime

import aiohttp


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(secret: str, user: str, ttl: int = 3600) -> str:
    now = int(time.time())
    header = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64url(json.dumps({"sub": user, "iat": now, "exp": now + ttl}).encode())
    signing = f"{header}.{claims}".encode()
    signature = hmac.new(secret.encode(), signing, hashlib.sha256).digest()
    return f"{header}.{claims}.{b64url(signature)}"


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


class Stream:
    """One event stream: `ready` is set once the server said so; `on_change` gets each change
    with its arrival time."""

    def __init__(self, session, base, secret, user, on_change=None):
        self.session, self.base, self.secret, self.user = session, base, secret, user
        self.on_change = on_change
        self.ready = asyncio.Event()
        self.failed = None

    async def run(self):
        headers = {"Authorization": f"Bearer {token(self.secret, self.user)}"}
        try:
            async with self.session.get(f"{self.base}/api/{self.user}/events", headers=headers) as response:
                if response.status != 200:
                    self.failed = f"{response.status}: {await response.text()}"
                    self.ready.set()
                    return
                event, data = None, None
                async for raw in response.content:
                    line = raw.decode().rstrip("\n")
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data = line[5:].strip()
                    elif line == "":
                        if event == "ready":
                            self.ready.set()
                        elif event == "change" and self.on_change:
                            self.on_change(time.time(), json.loads(data))
                        elif event in ("reauth", "resync"):
                            self.failed = f"unexpected {event}"
                        event, data = None, None
        except (aiohttp.ClientError, asyncio.TimeoutError) as err:
            self.failed = repr(err)
            self.ready.set()


async def open_streams(session, base, secret, users, on_change=None, parallel=200):
    """Opens a stream per user, `parallel` connections being set up at a time; returns them once
    every one is ready."""
    streams = [Stream(session, base, secret, user, on_change) for user in users]
    gate = asyncio.Semaphore(parallel)
    tasks = []

    async def start(stream):
        async with gate:
            tasks.append(asyncio.create_task(stream.run()))
            await stream.ready.wait()

    await asyncio.gather(*(start(s) for s in streams))
    failed = [s.failed for s in streams if s.failed]
    if failed:
        raise SystemExit(f"{len(failed)} streams failed, e.g. {failed[0]}")
    return streams, tasks


def session(connections):
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None, sock_connect=30)
    return aiohttp.ClientSession(connector=connector, timeout=timeout)


async def rss(args):
    users = [f"rss{n}" for n in range(args.streams)]
    before = rss_kib(args.pid)
    async with session(args.streams) as http:
        started = time.time()
        streams, tasks = await open_streams(http, args.base, args.secret, users)
        opened = time.time() - started
        # Held a while (heartbeats go out meanwhile); the highest sample counts.
        peak = 0
        for _ in range(args.hold):
            await asyncio.sleep(1)
            peak = max(peak, rss_kib(args.pid))
        async with http.get(f"{args.base}/metrics") as response:
            metrics = await response.text()
        open_now = next(
            (float(line.split()[-1]) for line in metrics.splitlines()
             if line.startswith("todo_api_event_streams_open ")),
            None,
        )
        for task in tasks:
            task.cancel()
    print(json.dumps({
        "streams": len(streams),
        "server_says_open": open_now,
        "open_seconds": round(opened, 1),
        "rss_before_kib": before,
        "rss_kib": peak,
        "kib_per_stream": round((peak - before) / len(streams), 2),
    }))


async def idle(args):
    """The same number of connections, each kept open after one `GET /health` and no stream:
    what the HTTP server itself holds per connection."""
    host, port = args.base.removeprefix("http://").rsplit(":", 1)
    before = rss_kib(args.pid)
    gate = asyncio.Semaphore(200)
    connections = []

    async def one():
        async with gate:
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit(f"GET /health: {head[:40]!r}")
            connections.append(writer)

    await asyncio.gather(*(one() for _ in range(args.connections)))
    peak = 0
    for _ in range(args.hold):
        await asyncio.sleep(1)
        peak = max(peak, rss_kib(args.pid))
    for writer in connections:
        writer.close()
    print(json.dumps({
        "connections": len(connections),
        "rss_before_kib": before,
        "rss_kib": peak,
        "kib_per_connection": round((peak - before) / len(connections), 2),
    }))


async def delays(args):
    """The server's own view: `todo_api_event_delay_seconds` (from a task's `updated_at` to its
    event handed to the connection), as the upper bounds of the buckets holding p50 and p99."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{args.base}/metrics") as response:
            text = await response.text()
    buckets = []
    for line in text.splitlines():
        if line.startswith("todo_api_event_delay_seconds_bucket{"):
            bound = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), float(line.split()[-1])))
    total = buckets[-1][1] if buckets else 0

    def bound(p):
        for upper, count in buckets:
            if count >= p / 100 * total:
                return None if upper == float("inf") else round(upper * 1000)
        return None

    print(json.dumps({"count": total, "p50_le_ms": bound(50), "p99_le_ms": bound(99)}))


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[k]


async def latency(args):
    users = [f"lat{n}" for n in range(args.streams)]
    delays = []
    expected = set()
    arrived = {}
    acked = {}

    def on_change(at, change):
        task = change.get("task")
        if change.get("type") != "upsert" or task is None:
            return
        written = datetime.fromisoformat(task["updated_at"]).timestamp()
        delays.append((at - written) * 1000)
        arrived[task["id"]] = at

    async with session(args.streams + 64) as http:
        streams, tasks = await open_streams(http, args.streams_base, args.secret, users, on_change)
        tokens = {user: token(args.secret, user) for user in users}
        gate = asyncio.Semaphore(64)
        errors = []

        async def write(n):
            user = random.choice(users)
            async with gate:
                try:
                    async with http.post(
                        f"{args.writes_base}/api/{user}/tasks",
                        headers={"Authorization": f"Bearer {tokens[user]}"},
                        json={"title": f"bench {n}"},
                    ) as response:
                        body = await response.json()
                        if response.status != 201:
                            errors.append(f"{response.status}: {body}")
                        else:
                            expected.add(body["id"])
                            acked[body["id"]] = time.time()
                except aiohttp.ClientError as err:
                    errors.append(repr(err))

        writes = []
        started = time.monotonic()
        total = args.rate * args.seconds
        for n in range(total):
            due = started + n / args.rate
            pause = due - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            writes.append(asyncio.create_task(write(n)))
        await asyncio.gather(*writes)
        elapsed = time.monotonic() - started
        # Late events get a few seconds more.
        for _ in range(50):
            if expected <= arrived.keys():
                break
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
    delays.sort()
    # From the writer's 201 (sent after the commit) to the event: 0 when the event came first.
    after_ack = sorted(max(0.0, (arrived[i] - acked[i]) * 1000) for i in expected if i in arrived)
    print(json.dumps({
        "streams": len(streams),
        "writes": len(expected),
        "write_errors": len(errors),
        "first_error": errors[0] if errors else None,
        "writes_per_second": round(len(expected) / elapsed, 1),
        "events": len(delays),
        "missing_events": len(expected - arrived.keys()),
        "p50_ms": round(percentile(delays, 50), 1) if delays else None,
        "p90_ms": round(percentile(delays, 90), 1) if delays else None,
        "p99_ms": round(percentile(delays, 99), 1) if delays else None,
        "max_ms": round(delays[-1], 1) if delays else None,
        "after_ack_p50_ms": round(percentile(after_ack, 50), 1) if after_ack else None,
        "after_ack_p99_ms": round(percentile(after_ack, 99), 1) if after_ack else None,
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    modes = parser.add_subparsers(dest="mode", required=True)
    r = modes.add_parser("rss")
    r.add_argument("--base", required=True)
    r.add_argument("--secret", required=True)
    r.add_argument("--pid", type=int, required=True)
    r.add_argument("--streams", type=int, default=10000)
    r.add_argument("--hold", type=int, default=20, help="seconds the streams are held open")
    i = modes.add_parser("idle")
    i.add_argument("--base", required=True)
    i.add_argument("--pid", type=int, required=True)
    i.add_argument("--connections", type=int, default=10000)
    i.add_argument("--hold", type=int, default=5)
    d = modes.add_parser("delays")
    d.add_argument("--base", required=True)
    l = modes.add_parser("latency")
    l.add_argument("--streams-base", required=True)
    l.add_argument("--writes-base", required=True)
    l.add_argument("--secret", required=True)
    l.add_argument("--streams", type=int, default=1000)
    l.add_argument("--rate", type=int, default=500)
    l.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()
    asyncio.run({"rss": rss, "idle": idle, "latency": latency, "delays": delays}[args.mode](args))


if __name__ == "__main__":
    sys.exit(main())
