"""FastAPI dependencies every route shares: the session (Db), the signed-in actor
(CurrentUser), the response language (Lang) and the audit trail of the request (AuditTrail).

Those that do no I/O are `async def`: FastAPI runs a plain `def` dependency in its thread pool,
a hop that costs more than the dependency itself.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from gridweave.core.settings import Settings
from gridweave.sharing import audit, identities
from gridweave.sharing.errors import Refusal, not_authenticated
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


def unit_of_work(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Run a (sync) route and commit its sessions in the same thread; roll back on an error,
    except a Refusal: the refused access was audited, and that entry must stay."""
    if inspect.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        sessions = [v for v in kwargs.values() if isinstance(v, Session)]
        try:
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
        return result

    return run


class UnitOfWorkRoute(APIRoute):
    """Every route of the API: its work is one transaction, committed in its own thread."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, unit_of_work(endpoint), **kwargs)


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


def get_current_user(db: Db, settings: AppSettings, credentials: Credentials) -> Actor:
    if credentials is None:
        raise not_authenticated()
    try:
        return identities.authenticate(db, settings=settings, token=credentials.credentials)
    finally:
        db.rollback()  # a read: end it here and give the connection back before the route


CurrentUser = Annotated[Actor, Depends(get_current_user)]
