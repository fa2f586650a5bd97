"""FastAPI dependencies every route shares: the session (Db), the signed-in actor
(CurrentUser), the response language (Lang) and the audit trail of the request (AuditTrail).

Those that do no I/O are `async def`: FastAPI runs a plain `def` dependency in its thread pool,
a hop that costs more than the dependency itself. For the same reason a token seen in the last
few seconds is not checked in a transaction of its own before the route but as the first
statement of the route's own (SignIns; decision 0009).
"""

from __future__ import annotations

import functools
import inspect
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import TypeAdapter
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from gridweave.core.settings import Settings
from gridweave.sharing import audit, identities
from gridweave.sharing.errors import Refusal, SharingError, not_authenticated
from gridweave.sharing.gate import Actor


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_db(request: Request) -> AsyncIterator[Session]:
    """The request's session. Its transactions end in the thread that ran them: the sign-in
    check ends its own, and a route's work commits (or rolls back) with the route, by
    UnitOfWorkRoute. So no connection is held while a request waits for a thread, and the audit
    chain's lock is never held across one (both starve a busy server)."""
    session: Session = request.app.state.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():  # begun outside a unit of work: end it off the loop
            await run_in_threadpool(_discard, session)
        else:
            session.close()  # nothing checked out: no I/O


def _discard(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()


SIGN_IN_SECONDS = 5.0  # how long a worker remembers a token's actor (decision 0009)
SIGN_IN_ENTRIES = 10_000


class SignIns:
    """Token digest → the actor it stood for when last checked, for SIGN_IN_SECONDS; per worker.

    Only a hint that lets a route start without a sign-in transaction of its own: the token is
    still checked on every request, as the first statement of the route's transaction
    (`_recheck`), so a revoked or expired token or a disabled account is refused on the very
    next request, in every worker.
    """

    def __init__(self, seconds: float = SIGN_IN_SECONDS, entries: int = SIGN_IN_ENTRIES) -> None:
        self.seconds, self.entries = seconds, entries
        self._known: OrderedDict[str, tuple[float, Actor]] = OrderedDict()

    def get(self, digest: str) -> Actor | None:
        found = self._known.get(digest)
        if found is None:
            return None
        if found[0] <= time.monotonic():
            self._known.pop(digest, None)
            return None
        return found[1]

    def put(self, digest: str, actor: Actor) -> None:
        self._known.pop(digest, None)
        self._known[digest] = (time.monotonic() + self.seconds, actor)
        while len(self._known) > self.entries:
            self._known.popitem(last=False)

    def drop(self, digest: str) -> None:
        self._known.pop(digest, None)


@dataclass(frozen=True)
class _Recheck:
    """A remembered sign-in the route's unit of work must confirm before the route runs."""

    sign_ins: SignIns
    session: Session
    digest: str
    actor: Actor


# set by get_current_user on the event loop, read by the unit of work in the route's thread
# (anyio runs the route in a copy of the request's context)
_pending: ContextVar[_Recheck | None] = ContextVar("gridweave_sign_in_recheck", default=None)


def _recheck(sessions: list[Session]) -> None:
    """Confirm a remembered sign-in in the route's transaction: the token as it is now."""
    pending = _pending.get()
    if pending is None:
        return
    try:
        actor = identities.actor_for_digest(pending.session, pending.digest)
    except SharingError:
        pending.sign_ins.drop(pending.digest)
        raise
    finally:
        if all(pending.session is not s for s in sessions):
            pending.session.rollback()  # the route has no use for it: end it in this thread
    if actor != pending.actor:  # the account changed since: the route was given the old one
        pending.sign_ins.drop(pending.digest)
        raise not_authenticated("your account changed since this token was checked: send again")


def unit_of_work(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Run a (sync) route and commit its sessions in the same thread; roll back on an error,
    except a Refusal: the refused access was audited, and that entry must stay. A remembered
    sign-in is confirmed first, in the same transaction. The result leaves as `run.respond`
    makes it (set by UnitOfWorkRoute), also in this thread."""
    if inspect.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        sessions = [v for v in kwargs.values() if isinstance(v, Session)]
        try:
            _recheck(sessions)
            result = endpoint(*args, **kwargs)
        except Refusal:
            for session in sessions:
                session.commit()
            raise
        except BaseException:
            for session in sessions:
                session.rollback()
            raise
        for session in sessions:
            session.commit()
        respond = run.respond  # type: ignore[attr-defined]
        return result if respond is None or isinstance(result, Response) else respond(result)

    run.confirms_sign_in = True  # type: ignore[attr-defined]
    run.respond = None  # type: ignore[attr-defined]
    return run


class UnitOfWorkRoute(APIRoute):
    """Every route of the API: its work is one transaction, committed in its own thread, where
    its result is also validated and serialised as JSON.

    (FastAPI would validate a sync route's result in a second trip through the thread pool,
    which costs a busy server more than the validation: a tenth of a person look-up's CPU.)
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        work = unit_of_work(endpoint)
        super().__init__(path, work, **kwargs)
        plain = self.status_code in (None, 200) and isinstance(
            self.response_class, DefaultPlaceholder
        )
        if work is not endpoint and self.response_model is not None and plain:
            work.respond = _json_response(TypeAdapter(self.response_model))  # type: ignore[attr-defined]


def _json_response(adapter: TypeAdapter[Any]) -> Callable[[Any], Response]:
    """What FastAPI's own response handling does for a route: validate against the response
    model, then JSON (by alias)."""

    def respond(value: Any) -> Response:
        content = adapter.dump_json(adapter.validate_python(value), by_alias=True)
        return Response(content, media_type="application/json")

    return respond


async def get_trail(request: Request) -> audit.Trail:
    return audit.Trail(
        algorithm=request.app.state.settings.audit_hash,
        request_id=getattr(request.state, "request_id", None),
    )


def language(request: Request) -> str:
    """en when the first language the client asks for is English; zh-CN otherwise."""
    header = request.headers.get("accept-language", "")
    first = header.split(",", 1)[0].split(";", 1)[0].strip().lower()
    return "en" if first.startswith("en") else "zh"


async def get_lang(request: Request) -> str:
    return language(request)


bearer = HTTPBearer(auto_error=False, description="a session token (POST /auth/token) or API token")

Db = Annotated[Session, Depends(get_db, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]
AuditTrail = Annotated[audit.Trail, Depends(get_trail)]
Lang = Annotated[str, Depends(get_lang)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def get_current_user(
    request: Request, db: Db, settings: AppSettings, credentials: Credentials
) -> Actor:
    if credentials is None:
        raise not_authenticated()
    digest = identities.token_digest(settings.secret_key, credentials.credentials)
    sign_ins: SignIns = request.app.state.sign_ins
    remembered = sign_ins.get(digest)
    route = request.scope.get("route")
    confirmed_later = getattr(getattr(route, "endpoint", None), "confirms_sign_in", False)
    if remembered is not None and confirmed_later:
        _pending.set(_Recheck(sign_ins, db, digest, remembered))
        return remembered
    _pending.set(None)
    actor = await run_in_threadpool(_sign_in, db, digest)
    sign_ins.put(digest, actor)
    return actor


def _sign_in(db: Session, digest: str) -> Actor:
    try:
        return identities.actor_for_digest(db, digest)
    finally:
        db.rollback()  # a read: end it here and give the connection back before the route


CurrentUser = Annotated[Actor, Depends(get_current_user)]
