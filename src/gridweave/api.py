"""The REST API: `create_app(settings)` builds the FastAPI application over one database."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gridweave.core.crypto import CryptoError
from gridweave.core.database import make_engine, migrate, session_factory
from gridweave.core.errors import GridweaveError
from gridweave.core.settings import Settings
from gridweave.registry.api import router as registry_router
from gridweave.registry.keys import verify_keyring
from gridweave.sharing.api import router as sharing_router
from gridweave.sharing.deps import SignIns, language
from gridweave.sharing.errors import SharingError
from gridweave.sharing.purposes import use_purposes_file
from gridweave.sharing.workflows_api import router as workflows_router

log = logging.getLogger("gridweave.api")

# zh-CN messages for errors raised with English text only (core and other domains' errors).
GENERIC_ZH = {
    "not_found": "未找到所请求的资源",
    "invalid_request": "请求参数不正确",
    "method_not_allowed": "不支持该请求方法",
    "internal_error": "服务器内部错误，请稍后再试",
    "gridweave_error": "请求无法完成",
}
HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"code": code, "message": message, **extra}, status, headers=headers)


async def _sharing_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SharingError)
    return _error(exc.status, exc.code, exc.text(language(request)))


async def _gridweave_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GridweaveError)
    if isinstance(exc, CryptoError):  # a missing key or a corrupted value: the operator's to fix
        return await _unexpected(request, exc)
    status = 404 if exc.code == "not_found" else 400
    en = language(request) == "en"
    zh = GENERIC_ZH.get(exc.code, GENERIC_ZH["gridweave_error"])
    return _error(status, exc.code, exc.message if en else f"{zh}：{exc.message}")


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    en = language(request) == "en"
    message = "invalid request parameters" if en else GENERIC_ZH["invalid_request"]
    return _error(422, "invalid_request", message, problems=problems)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    en = language(request) == "en"
    return _error(
        exc.status_code, code, str(exc.detail) if en else GENERIC_ZH.get(code, "请求失败")
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error in %s %s", request.method, request.url.path)
    en = language(request) == "en"
    message = "internal error, please retry later" if en else GENERIC_ZH["internal_error"]
    response = _error(500, "internal_error", message)
    # this handler runs outside RequestHeaders (Starlette's outermost layer): add them here
    response.headers["x-request-id"] = getattr(request.state, "request_id", "")
    response.headers["cache-control"] = "no-store"
    response.headers["x-content-type-options"] = "nosniff"
    return response


class RequestHeaders:
    """Give each request an id (X-Request-ID: audit entries carry it) and safe headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-request-id", request_id.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"cache-control", b"no-store"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _immediate_transactions(engine: Engine) -> None:
    """SQLite: take the write lock at BEGIN, since every request appends to the audit chain
    after reading (a deferred transaction could not upgrade once another writer committed)."""

    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def pool_for(settings: Settings) -> dict[str, Any]:
    """The connection pool of an API worker: as many connections kept open as it runs requests
    at once. A smaller pool than that makes the pool close every connection beyond it when it is
    returned, so a busy server opens a new PostgreSQL backend (a fork, sign-on and catalog
    cache) for most requests, which cost more CPU than the requests themselves."""
    if make_url(settings.resolved_database_url).get_backend_name() == "sqlite":
        return {}
    n = settings.api_concurrency
    return {"pool_size": n, "max_overflow": n}  # overflow only if a request holds two


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # routes run in anyio's thread pool: no more at once than the pool has connections (and
    # fewer threads wait for the GIL)
    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = app.state.settings.api_concurrency
    yield


def create_app(settings: Settings, engine: Engine | None = None) -> FastAPI:
    """The API over the settings' database (migrated to the newest schema), or over `engine`."""
    use_purposes_file(settings.purposes_file)
    if engine is None:
        engine = make_engine(
            settings.resolved_database_url,
            keyring=settings.keyring(),
            **pool_for(settings),
        )
        migrate(engine)
        verify_keyring(engine, keys_from=settings.keys_origin())
    if engine.dialect.name == "sqlite":
        _immediate_transactions(engine)
    app = FastAPI(
        lifespan=_lifespan,
        title="gridweave",
        version="0.1.0",
        description="The base library through the sharing gate: every read decided per field"
        " (allow, mask, deny) and audited in a hash chain.",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.sign_ins = SignIns()
    app.add_exception_handler(SharingError, _sharing_error)
    app.add_exception_handler(GridweaveError, _gridweave_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    app.include_router(sharing_router)
    app.include_router(registry_router)
    app.include_router(workflows_router)
    app.add_middleware(RequestHeaders)
    return app


def app_from_environment() -> FastAPI:
    """The app for `gridweave serve`: settings from GRIDWEAVE_* variables (uvicorn's factory)."""
    from gridweave.core.settings import load_settings

    return create_app(load_settings())
