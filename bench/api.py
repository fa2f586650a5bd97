"""Person look-ups through the sharing gate over HTTP: requests per second and p50/p99 latency.

    .venv/bin/python bench/api.py [--people 100000] [--rates 150,300] [--seconds 20] [--workers 2]
                                  [--database-url postgresql://postgres@127.0.0.1:5432/test]

A synthetic city of `--people` people (area tree, buildings, rooms, police registration and
migrant records) is ingested into a fresh PostgreSQL schema (not timed); a police officer and a
grid worker get accounts. `gridweave serve` runs in a subprocess on 127.0.0.1, and a separate load
process sends GET /people/{id} at a fixed rate (open loop, so a slow server cannot slow the
clock: latency counts from when each request was due) for `--seconds`, at most
rate × seconds requests, over loopback only. Mixed: police with `police_investigation` (whole
record, confidential) and the grid worker in their own grid (masked). Every request is a real
gated read: token check, record, area path, a decision per field, one audit entry appended to
the hash chain, commit.

Besides latency it prints the CPU time each request cost: the uvicorn workers' (user + system,
from /proc/<pid>/stat before and after the run), PostgreSQL's (the backends serving this bench's
connections, found by application_name) and the load process's; and the load average. Wall-clock
latency on a shared machine is noisy; CPU per request is what the server's code costs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
from sqlalchemy import Engine, text

OUT = Path(__file__).parent / "out" / "api"
SOURCES = {"housing_buildings", "police_household_registration", "migrant_residents"}


def setup(url: str, people: int) -> tuple[list[tuple[str, int]], dict[str, str]]:
    """Ingest the city; return (persona, person id) targets and persona → token."""
    from sqlalchemy import select

    from gridweave.areas.service import load_areas
    from gridweave.core.database import make_engine, migrate, transaction
    from gridweave.core.settings import Settings, load_settings
    from gridweave.ingest.service import ingest_file, register_source
    from gridweave.registry.models import Building, Person, Room
    from gridweave.sharing import audit, identities
    from gridweave.sharing.roles import Role
    from gridweave.synth.city import synthesise

    # about 1 in 30 synthetic people has no valid citizen id (a golden record needs one)
    synthetic = int(people * 1.04)
    city = OUT / f"city-{synthetic}"
    if not (city / "manifest.json").exists():
        print(f"synthesising {synthetic:,} people …", flush=True)
        synthesise(city, people=synthetic, seed=7, sources=SOURCES)
    manifest = orjson.loads((city / "manifest.json").read_bytes())
    engine = make_engine(url, keyring=load_settings().keyring())
    migrate(engine)
    started = time.perf_counter()
    with transaction(engine) as session:
        load_areas(session, path=city / manifest["areas"])
        for e in manifest["extracts"]:
            register_source(session, path=city / e["contract"])
    for e in manifest["extracts"]:
        ingest_file(engine, path=city / e["file"], source_name=e["source"])
    with transaction(engine) as session:
        total = session.scalar(select(Person.id).order_by(Person.id.desc()).limit(1)) or 0
        grid, grid_people = session.execute(
            select(Building.grid_code, Person.id)
            .join(Room, Room.building_code == Building.building_code)
            .join(Person, Person.residence_room_code == Room.room_code)
            .limit(1)
        ).one()
        in_grid = list(
            session.scalars(
                select(Person.id)
                .join(Room, Room.room_code == Person.residence_room_code)
                .join(Building, Building.building_code == Room.building_code)
                .where(Building.grid_code == grid)
            )
        )
        city_code = "440300"
        console = identities.console_actor(Role.system_admin)
        for username, role, dept, area in (
            ("bench_police", Role.department_officer, "public_security", city_code),
            ("bench_grid", Role.grid_worker, None, grid),
        ):
            identities.create_account(
                session,
                actor=console,
                trail=audit.Trail(),
                username=username,
                display_name=username,
                role=role,
                password=None,
                department=dept,
                area_code=area,
            )
    settings = Settings(database_url=url)
    tokens = {}
    with transaction(engine) as session:
        for username in ("bench_police", "bench_grid"):
            tokens[username], _ = identities.issue_api_token(
                session,
                actor=identities.console_actor(Role.security_admin),
                trail=audit.Trail(),
                settings=settings,
                username=username,
                name="bench",
            )
    with transaction(engine) as session:
        people_loaded = session.query(Person).count()
    engine.dispose()
    print(
        f"loaded {people_loaded:,} people (ids up to {total:,}) in"
        f" {time.perf_counter() - started:.0f} s; grid {grid} has {len(in_grid)}",
        flush=True,
    )
    rng = random.Random(1)
    police = [("bench_police", rng.randint(1, total)) for _ in range(4000)]
    grid_targets = [("bench_grid", rng.choice(in_grid)) for _ in range(1000)]
    del grid_people
    return police + grid_targets, tokens


TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """A process's user + system CPU time so far; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def _children(pid: int) -> list[int]:
    """Every descendant of a process (uvicorn's supervisor → its workers)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids = [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            found += [kid, *_children(kid)]
    return found


class CpuMeter:
    """CPU seconds spent by the server's processes (workers, PostgreSQL backends) over a run."""

    def __init__(self, server: int, admin: Engine, application: str) -> None:
        self.server, self.admin, self.application = server, admin, application

    def _backends(self) -> list[int]:
        """The PostgreSQL backends serving the server's connections (named `application`)."""
        with self.admin.connect() as conn:
            return list(
                conn.scalars(
                    text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
                    {"name": self.application},
                )
            )

    def sample(self) -> dict[str, dict[int, float]]:
        return {
            "workers": {p: _cpu_seconds(p) for p in [self.server, *_children(self.server)]},
            "postgres": {p: _cpu_seconds(p) for p in self._backends()},
            "sessions": {0: self._sessions()},
        }

    def _sessions(self) -> float:
        """Sessions opened on the database so far, by any client: a backend that starts and ends
        between two samples is missed by the CPU meter but counted here."""
        with self.admin.connect() as conn:
            count = conn.scalar(
                text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            )
        return float(count or 0)

    @staticmethod
    def spent(
        before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
    ) -> dict[str, float]:
        """Seconds per kind of process between two samples (a new backend counts from 0)."""
        return {
            kind: sum(t - before[kind].get(p, 0.0) for p, t in after[kind].items())
            for kind in after
        }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _connection(
    stagger: float,
    host: str,
    port: int,
    jobs: list[tuple[float, bytes]],
    latencies: list[float],
    statuses: dict[int, int],
) -> None:
    """One keep-alive connection sending its share of requests, each when it is due."""
    # opened well before the first is due, and one by one, so that every uvicorn worker gets
    # its share of the connections (a burst of connects is accepted by whichever wakes first)
    await asyncio.sleep(stagger)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for i, (due, request) in enumerate(jobs):
            pause = due - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            writer.write(request)
            try:
                status = await asyncio.wait_for(_response(reader), TIMEOUT)
            except (TimeoutError, OSError, asyncio.IncompleteReadError):
                statuses[0] = statuses.get(0, 0) + len(jobs) - i  # no answer; the rest unsent
                return
            latencies.append(time.perf_counter() - due)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


TIMEOUT = 10.0  # seconds a request may take before the load process gives up on it


async def _response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response; its status."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return int(head[9:12])


def drive(
    base: str,
    targets: list[tuple[str, int]],
    tokens: dict[str, str],
    rate: float,
    seconds: float,
    connections: int,
) -> None:
    """The load process: send at `rate` per second for `seconds`; print the figures as JSON.

    A minimal HTTP/1.1 client on asyncio, so that the load process spends little of the
    machine's CPU (a full client such as httpx costs about as much per request as the server).
    """
    host, port = base.removeprefix("http://").split(":")
    total = int(rate * seconds)
    start = time.perf_counter() + 0.5 + connections * 0.02
    jobs: list[list[tuple[float, bytes]]] = [[] for _ in range(connections)]
    for i in range(total):
        persona, pid = targets[i % len(targets)]
        query = "?purpose=police_investigation" if persona == "bench_police" else ""
        request = (
            f"GET /people/{pid}{query} HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {tokens[persona]}\r\n\r\n"
        ).encode()
        jobs[i % connections].append((start + i / rate, request))
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def run() -> None:
        await asyncio.gather(
            *(
                _connection(k * 0.02, host, int(port), j, latencies, statuses)
                for k, j in enumerate(jobs)
            )
        )

    asyncio.run(run())
    elapsed = time.perf_counter() - start
    latencies.sort()
    n = len(latencies)
    cpu = os.times()
    print(
        orjson.dumps(
            {
                "cpu_s": round(cpu.user + cpu.system, 3),
                "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
                "requests": n,
                "seconds": round(elapsed, 2),
                "rps": round(n / elapsed, 1),
                "p50_ms": round(latencies[n // 2] * 1000, 2),
                "p99_ms": round(latencies[int(n * 0.99)] * 1000, 2),
                "max_ms": round(latencies[-1] * 1000, 2),
                "statuses": {str(k): v for k, v in sorted(statuses.items())},
            }
        ).decode(),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument(
        "--rates", default="150,300", help="requests per second sent, one run per rate"
    )
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--concurrency", type=int, help="requests a worker runs at once (GRIDWEAVE_API_CONCURRENCY)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "GRIDWEAVE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument(
        "--keep",
        metavar="SCHEMA",
        help="ingest into this schema and keep it; a later run with the same name reuses it"
        " (for profiling a server against the same data)",
    )
    parser.add_argument("--drive", help=argparse.SUPPRESS)  # internal: the load process
    args = parser.parse_args()
    if args.drive:
        job = orjson.loads(Path(args.drive).read_bytes())
        drive(
            job["base"],
            [tuple(t) for t in job["targets"]],
            job["tokens"],
            float(args.rates),
            args.seconds,
            args.connections,
        )
        return

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    schema = args.keep or f"bench_api_{uuid.uuid4().hex[:8]}"
    admin_url = make_url(args.database_url).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url)
    kept = OUT / f"{schema}.json"
    reuse = args.keep is not None and kept.exists()
    if not reuse:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    # named, so that the CPU meter finds the backends of this bench's connections
    url = admin_url.update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    ).render_as_string(hide_password=False)
    server = None
    try:
        if reuse:
            saved = orjson.loads(kept.read_bytes())
            targets, tokens = [tuple(t) for t in saved["targets"]], saved["tokens"]
        else:
            targets, tokens = setup(url, args.people)
            if args.keep:
                kept.write_bytes(orjson.dumps({"targets": targets, "tokens": tokens}))
        port = free_port()
        env = {**os.environ, "GRIDWEAVE_DATABASE_URL": url}
        if args.concurrency:
            env["GRIDWEAVE_API_CONCURRENCY"] = str(args.concurrency)
        from gridweave.core.settings import Settings

        concurrency = args.concurrency or Settings().api_concurrency
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gridweave",
                "--database-url",
                url,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            env=env,
        )
        base = f"http://127.0.0.1:{port}"
        _wait(base)
        job = OUT / "job.json"
        job.write_bytes(orjson.dumps({"base": base, "targets": targets, "tokens": tokens}))
        warm = [
            sys.executable,
            __file__,
            "--drive",
            str(job),
            "--rates",
            "100",
            "--seconds",
            "3",
            "--connections",
            str(args.connections),
        ]
        subprocess.run(warm, check=True, stdout=subprocess.DEVNULL)
        meter = CpuMeter(server.pid, admin, schema)
        for rate in [float(r) for r in str(args.rates).split(",")]:
            print(
                f"driving {rate:.0f} requests/s for {args.seconds:.0f} s"
                f" ({args.workers} uvicorn workers running"
                f" {concurrency} requests each at once,"
                f" {args.connections} connections) …",
                flush=True,
            )
            before = meter.sample()
            load = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--drive",
                    str(job),
                    "--rates",
                    str(rate),
                    "--seconds",
                    str(args.seconds),
                    "--connections",
                    str(args.connections),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            out, _ = load.communicate()
            spent = CpuMeter.spent(before, meter.sample())
            if load.returncode:
                raise SystemExit(f"the load process failed ({load.returncode})")
            figures = orjson.loads(out.strip().splitlines()[-1])
            n = max(figures["requests"], 1)
            print(
                f"  person look-ups through the gate: {figures['rps']} requests/s,"
                f" p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms,"
                f" max {figures['max_ms']} ms; {figures['requests']} requests, statuses"
                f" {figures['statuses']}",
                flush=True,
            )
            print(
                f"  CPU per request: workers {spent['workers'] / n * 1000:.2f} ms"
                f" ({args.workers} together), PostgreSQL {spent['postgres'] / n * 1000:.2f} ms,"
                f" load process {figures['cpu_s'] / n * 1000:.2f} ms;"
                f" load average {figures['load_average']}; {spent['sessions']:.0f} PostgreSQL"
                " sessions opened meanwhile",
                flush=True,
            )
        _verify(url)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _wait(base: str) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def _verify(url: str) -> None:
    from gridweave.core.database import make_engine, transaction
    from gridweave.core.settings import load_settings
    from gridweave.sharing import audit

    engine = make_engine(url, keyring=load_settings().keyring())
    started = time.perf_counter()
    with transaction(engine) as session:
        result = audit.verify(session)
    engine.dispose()
    state = "intact" if result.ok else f"BROKEN ({len(result.problems)} problems)"
    print(
        f"audit chain {state}: {result.entries:,} entries verified in"
        f" {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
