"""The sharing workflows' costs: what loading grants and consents adds to each gated read, and
how fast the outbox dispatcher sends.

    .venv/bin/python bench/workflows.py [--database-url postgresql://postgres@127.0.0.1:5432/test]
                                        [--messages 20000] [--grants 1000] [--consents 20000]

In a fresh PostgreSQL schema (or the SQLite file named): `--grants` approved applications of
five departments and `--consents` granted consents spread over 10,000 people, then
`permits.load` timed for a health officer reading one person for a consent purpose (the query a
read adds: grants of its department, consents of that person) and for a purpose without
consent (grants only). Then `--messages` messages enqueued in one transaction and dispatched in
passes of 500 through the development sender (a JSON-lines file), timed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gridweave.core import clock
from gridweave.core.database import make_engine, migrate, transaction
from gridweave.core.settings import Settings, load_settings
from gridweave.messages import service as messages
from gridweave.messages.senders import LogSender
from gridweave.sharing import permits
from gridweave.sharing.gate import Actor
from gridweave.sharing.models import Application, ConsentRecord
from gridweave.sharing.purposes import purposes
from gridweave.sharing.roles import Role

DEPARTMENTS = ["health", "civil_affairs", "education", "human_resources", "housing"]


def _schema_url(base: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(base).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    url = make_url(base).set(drivername="postgresql+psycopg")
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    ), schema


def fill(engine: object, grants: int, consents: int) -> None:
    now = clock.now()
    rng = random.Random(7)
    with transaction(engine) as session:  # type: ignore[arg-type]
        session.add_all(
            Application(
                resource="hrss_insurance",
                provider="human_resources",
                department=DEPARTMENTS[i % len(DEPARTMENTS)],
                requested_by_name="bench",
                purpose="subsistence_allowance_review",
                fields=[["person", "insurance_months"]],
                reason="bench",
                valid_from=now - timedelta(days=1),
                valid_until=now + timedelta(days=rng.randint(1, 300)),
                status=rng.choice(["approved", "approved", "refused", "pending"]),
                created_at=now,
            )
            for i in range(grants)
        )
        session.add_all(
            ConsentRecord(
                person_id=rng.randint(1, 10_000),
                department=DEPARTMENTS[i % len(DEPARTMENTS)],
                requested_by_name="bench",
                purpose="health_follow_up",
                fields=["phone", "name"],
                reason="bench",
                valid_until=now + timedelta(days=rng.randint(-30, 300)),
                single_use=False,
                by_guardian=False,
                status=rng.choice(["granted", "granted", "revoked", "pending"]),
                uses=0,
                created_at=now,
            )
            for i in range(consents)
        )


def time_loads(engine: object, purpose: str, n: int = 2000) -> list[float]:
    actor = Actor(1, "health", Role.department_officer, "health", "440300")
    chosen = purposes()[purpose]
    rng = random.Random(3)
    took = []
    with transaction(engine) as session:  # type: ignore[arg-type]
        for _ in range(n):
            person = rng.randint(1, 10_000)
            start = time.perf_counter()
            permits.load(session, actor=actor, person_ids=[person], purpose=chosen)
            took.append(time.perf_counter() - start)
    return took


def outbox(engine: object, n: int) -> tuple[float, float]:
    start = time.perf_counter()
    with transaction(engine) as session:  # type: ignore[arg-type]
        for i in range(n):
            messages.enqueue(
                session,
                event="ConsentRequested",
                recipient_kind="person",
                recipient=i,
                payload={"consent_id": i},
            )
    enqueued = time.perf_counter() - start
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        sender = LogSender(Path(tmp) / "messages.log")
        start = time.perf_counter()
        sent = 0
        while True:
            with transaction(engine) as session:  # type: ignore[arg-type]
                done = messages.dispatch(session, sender=sender, settings=settings, limit=500)
            sent += done.sent
            if done.sent == 0:
                break
        dispatched = time.perf_counter() - start
    assert sent == n, (sent, n)
    return n / enqueued, n / dispatched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--grants", type=int, default=1_000)
    parser.add_argument("--consents", type=int, default=20_000)
    args = parser.parse_args()
    schema = None
    url = args.database_url
    if url.startswith("postgresql"):
        url, schema = _schema_url(url)
    engine = make_engine(url, keyring=load_settings().keyring())
    migrate(engine)
    try:
        fill(engine, args.grants, args.consents)
        with transaction(engine) as session:
            start = time.perf_counter()
            for _ in range(2000):
                session.execute(text("SELECT 1")).scalar()
            print(f"a round trip (SELECT 1): {(time.perf_counter() - start) / 2:.2f} ms")
        for purpose in ("health_follow_up", "subsistence_allowance_review"):
            took = sorted(time_loads(engine, purpose))
            p50, p99 = took[len(took) // 2], took[int(len(took) * 0.99)]
            mean = statistics.fmean(took)
            print(
                f"permits.load {purpose}: mean {mean * 1e3:.2f} ms,"
                f" p50 {p50 * 1e3:.2f} ms, p99 {p99 * 1e3:.2f} ms"
            )
        enqueue_rate, send_rate = outbox(engine, args.messages)
        print(
            f"outbox: {args.messages} messages enqueued at {enqueue_rate:,.0f}/s,"
            f" dispatched at {send_rate:,.0f}/s"
        )
    finally:
        engine.dispose()
        if schema is not None:
            admin = create_engine(make_url(args.database_url).set(drivername="postgresql+psycopg"))
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


if __name__ == "__main__":
    main()
