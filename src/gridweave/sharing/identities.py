"""Accounts and their credentials: argon2 passwords, lockout, session and API tokens.

Tokens are random; only an HMAC-SHA256 of each (keyed by settings.secret_key) is stored, so a
copy of the database lets no one sign in. Every change and every login attempt is audited in the
same transaction.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from gridweave.areas.models import Area
from gridweave.core import clock
from gridweave.core.settings import Settings
from gridweave.registry.models import Person
from gridweave.sharing import audit, catalog
from gridweave.sharing.errors import (
    SharingError,
    account_locked,
    forbidden,
    invalid,
    invalid_credentials,
    not_authenticated,
)
from gridweave.sharing.gate import Actor
from gridweave.sharing.models import Account, ApiToken
from gridweave.sharing.roles import ADMIN_ROLES, SCOPE_LEVEL, Role

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,59}$")
MIN_PASSWORD = 10
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown: a miss costs as long as a wrong password."""
    return _hasher.hash("not a password of anyone")


def actor_of(account: Account) -> Actor:
    """The actor an account acts as."""
    return Actor(
        account_id=account.id,
        username=account.username,
        role=Role(account.role),
        department=account.department,
        area_code=account.area_code,
        person_id=account.person_id,
    )


def console_actor(role: Role) -> Actor:
    """The operator at the console, acting in one duty (the CLI has no login)."""
    return Actor(account_id=None, username=f"console:{getpass.getuser()}", role=role)


def token_digest(secret: str, token: str) -> str:
    """The keyed hash under which a token is stored and looked up."""
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def _require(actor: Actor, role: Role, what_en: str, what_zh: str) -> None:
    if actor.role != role:
        raise forbidden(
            "forbidden_role",
            f"only a {role.value} may {what_en}",
            f"仅{role.value}可以{what_zh}",
        )


def _check_account(
    session: Session,
    role: Role,
    department: str | None,
    area_code: str | None,
    person_id: int | None,
) -> None:
    """Refuse a role without what it needs, or with what it must not have."""
    if (role == Role.department_officer) != (department is not None):
        raise invalid(
            "invalid_account",
            "a department officer needs a department, and only a department officer has one",
            "部门工作人员必须指定部门，其他角色不能指定部门",
        )
    if department is not None:
        known = catalog.departments(session)
        if department not in known:
            raise invalid(
                "invalid_account",
                f"unknown department {department!r}: one of {', '.join(sorted(known))}"
                " (a department joins with its first source contract)",
                f"未知部门 {department!r}（部门随其首个数据源契约登记）",
            )
    if role == Role.resident:
        if person_id is None or session.get(Person, person_id) is None:
            raise invalid(
                "invalid_account",
                f"a resident account needs the id of their golden person record, {person_id!r}"
                " is not one",
                "居民账号必须绑定本人的人口基础信息记录",
            )
    elif person_id is not None:
        raise invalid("invalid_account", "only a resident is bound to a person", "仅居民绑定人员")
    if role in ADMIN_ROLES or role == Role.resident:
        if area_code is not None:
            raise invalid("invalid_account", f"a {role.value} has no area scope", "该角色无区域")
        return
    area = session.get(Area, area_code) if area_code else None
    if area is None:
        raise invalid(
            "invalid_account",
            f"a {role.value} needs an area scope from the area tree; {area_code!r} is not one",
            "该角色必须指定区域树中的区域",
        )
    level = SCOPE_LEVEL[role]
    if level is not None and area.level != level:
        raise invalid(
            "invalid_account",
            f"a {role.value}'s scope is a {level}; {area_code} is a {area.level}",
            f"该角色的区域应为{level}级，{area_code} 为{area.level}级",
        )


def create_account(
    session: Session,
    *,
    actor: Actor,
    trail: audit.Trail,
    username: str,
    display_name: str,
    role: Role,
    password: str | None,
    department: str | None = None,
    area_code: str | None = None,
    person_id: int | None = None,
) -> Account:
    """Add an account (system administrators only); password None: API tokens only."""
    _require(actor, Role.system_admin, "add accounts", "添加账号")
    if not USERNAME.match(username):
        raise invalid(
            "invalid_account",
            f"username {username!r}: 3–60 of a-z 0-9 _ . -, starting with a letter or digit",
            "用户名须为3至60位小写字母、数字或 _ . -",
        )
    if session.scalar(select(Account.id).where(Account.username == username)) is not None:
        raise invalid("account_exists", f"account {username!r} exists", f"账号 {username} 已存在")
    _check_account(session, role, department, area_code, person_id)
    if password is not None:
        _check_password(password)
    now = clock.now()
    account = Account(
        username=username,
        display_name=display_name,
        password_hash=_hasher.hash(password) if password is not None else None,
        role=role.value,
        department=department,
        area_code=area_code,
        person_id=person_id,
        is_active=True,
        failed_logins=0,
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    session.flush()
    detail = {
        "username": username,
        "role": role.value,
        "department": department,
        "area_code": area_code,
        "person_id": person_id,
    }
    event = audit.Event("account.created", "ok", "account", account.id, detail=detail)
    audit.append(session, actor=actor, events=[event], trail=trail)
    return account


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise invalid(
            "weak_password",
            f"a password needs at least {MIN_PASSWORD} characters",
            f"密码至少 {MIN_PASSWORD} 位",
        )


def _end_sessions(session: Session, account_id: int, *, keep: str | None = None) -> int:
    """Revoke an account's open sign-in sessions (not its API tokens), but the one `keep`
    (a token digest); how many ended."""
    where = [
        ApiToken.account_id == account_id,
        ApiToken.kind == "session",
        ApiToken.revoked_at.is_(None),
    ]
    if keep is not None:
        where.append(ApiToken.token_hash != keep)
    ended = session.execute(update(ApiToken).where(*where).values(revoked_at=clock.now()))
    return int(ended.rowcount or 0)  # type: ignore[attr-defined]


def _no_password(username: str) -> SharingError:
    return invalid(
        "no_password",
        f"account {username!r} signs in with API tokens only: it has no password",
        f"账号 {username} 仅使用接口令牌，没有密码",
    )


def change_password(
    session: Session,
    *,
    actor: Actor,
    trail: audit.Trail,
    settings: Settings,
    token: str,
    current: str,
    new: str,
) -> int:
    """Change one's own password. The current one must be given: a wrong one counts towards
    the lockout like a failed sign-in. Every other session of the account ends (a stolen
    session does not outlive the change); the one making the change goes on. Returns how many
    sessions ended."""
    account = session.scalar(
        select(Account).where(Account.id == actor.account_id).with_for_update()
    )
    if account is None or account.password_hash is None:
        raise _no_password(actor.username)
    now = clock.now()
    if account.locked_until is not None and account.locked_until > now:
        raise account_locked(account.locked_until)
    if not _verify(account.password_hash, current):
        reason = _count_failure(account, settings, now)
        event = audit.Event(
            "account.password_changed", "fail", "account", account.id, detail={"reason": reason}
        )
        audit.append(session, actor=actor, events=[event], trail=trail)
        raise invalid_credentials()
    _check_password(new)
    if new == current:
        raise invalid(
            "weak_password",
            "the new password must differ from the current one",
            "新密码不能与当前密码相同",
        )
    account.password_hash = _hasher.hash(new)
    account.updated_at = now
    ended = _end_sessions(session, account.id, keep=token_digest(settings.secret_key, token))
    event = audit.Event(
        "account.password_changed", "ok", "account", account.id, detail={"sessions_ended": ended}
    )
    audit.append(session, actor=actor, events=[event], trail=trail)
    return ended


def reset_password(
    session: Session, *, actor: Actor, trail: audit.Trail, username: str, password: str
) -> int:
    """Set a new password for someone who lost theirs (security administrators only): the
    lockout is lifted and every session of the account ends. Returns how many ended."""
    _require(actor, Role.security_admin, "reset passwords", "重置密码")
    account = get_account(session, username)
    if account.password_hash is None:
        raise _no_password(username)
    _check_password(password)
    account.password_hash = _hasher.hash(password)
    account.failed_logins = 0
    account.locked_until = None
    account.updated_at = clock.now()
    ended = _end_sessions(session, account.id)
    detail = {"username": username, "sessions_ended": ended}
    event = audit.Event("account.password_reset", "ok", "account", account.id, detail=detail)
    audit.append(session, actor=actor, events=[event], trail=trail)
    return ended


def list_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.username)))


def get_account(session: Session, username: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise SharingError(
            "not_found", f"no account {username!r}", f"账号 {username} 不存在", status=404
        )
    return account


def disable_account(
    session: Session, *, actor: Actor, trail: audit.Trail, username: str
) -> Account:
    """Disable an account and revoke its tokens (system administrators only)."""
    _require(actor, Role.system_admin, "disable accounts", "停用账号")
    account = get_account(session, username)
    now = clock.now()
    account.is_active = False
    account.updated_at = now
    session.execute(
        update(ApiToken)
        .where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    event = audit.Event(
        "account.disabled", "ok", "account", account.id, detail={"username": username}
    )
    audit.append(session, actor=actor, events=[event], trail=trail)
    return account


def _issue(
    session: Session, account: Account, kind: str, name: str | None, life: timedelta, secret: str
) -> tuple[str, ApiToken]:
    token = secrets.token_urlsafe(32)
    now = clock.now()
    row = ApiToken(
        account_id=account.id,
        token_hash=token_digest(secret, token),
        kind=kind,
        name=name,
        created_at=now,
        expires_at=now + life,
    )
    session.add(row)
    session.flush()
    return token, row


def login(
    session: Session, *, trail: audit.Trail, settings: Settings, username: str, password: str
) -> tuple[str, ApiToken]:
    """Check a password and open a session; after too many failures the account locks."""
    now = clock.now()
    account = session.scalar(select(Account).where(Account.username == username).with_for_update())
    if account is None or account.password_hash is None or not account.is_active:
        _verify(_dummy_hash(), password)
        _fail(session, trail, None, username, "unknown or disabled account")
        raise invalid_credentials()
    actor = actor_of(account)
    if account.locked_until is not None and account.locked_until > now:
        _fail(session, trail, actor, username, "locked")
        raise account_locked(account.locked_until)
    if not _verify(account.password_hash, password):
        _fail(session, trail, actor, username, _count_failure(account, settings, now))
        raise invalid_credentials()
    account.failed_logins = 0
    account.locked_until = None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    token, row = _issue(
        session,
        account,
        "session",
        None,
        timedelta(minutes=settings.session_minutes),
        settings.secret_key,
    )
    event = audit.Event("auth.login", "ok", "account", account.id, detail={"token_id": row.id})
    audit.append(session, actor=actor, events=[event], trail=trail)
    return token, row


def _count_failure(account: Account, settings: Settings, now: datetime) -> str:
    """A wrong password given for the account: count it, lock the account after too many;
    the reason to audit."""
    account.failed_logins += 1
    if account.failed_logins < settings.login_max_failures:
        return "wrong password"
    account.locked_until = now + timedelta(minutes=settings.lockout_minutes)
    account.failed_logins = 0
    return f"wrong password; locked until {account.locked_until.isoformat()}"


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _fail(
    session: Session, trail: audit.Trail, actor: Actor | None, username: str, reason: str
) -> None:
    event = audit.Event(
        "auth.login_failed", "fail", detail={"username": username, "reason": reason}
    )
    audit.append(session, actor=actor, events=[event], trail=trail, name=username)


def issue_api_token(
    session: Session,
    *,
    actor: Actor,
    trail: audit.Trail,
    settings: Settings,
    username: str,
    name: str,
    days: int | None = None,
) -> tuple[str, ApiToken]:
    """A long-lived token for a department system's account (security administrators only)."""
    _require(actor, Role.security_admin, "issue API tokens", "签发接口令牌")
    account = get_account(session, username)
    if not account.is_active:
        raise invalid("account_disabled", f"account {username!r} is disabled", "账号已停用")
    life = timedelta(days=days or settings.api_token_days)
    token, row = _issue(session, account, "api", name, life, settings.secret_key)
    detail = {"username": username, "name": name, "expires_at": row.expires_at.isoformat()}
    event = audit.Event("token.issued", "ok", "account", account.id, detail=detail)
    audit.append(session, actor=actor, events=[event], trail=trail)
    return token, row


def logout(
    session: Session, *, actor: Actor, trail: audit.Trail, settings: Settings, token: str
) -> None:
    """Revoke the token this request came with."""
    digest = token_digest(settings.secret_key, token)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if row is not None and row.revoked_at is None:
        row.revoked_at = clock.now()
        event = audit.Event("auth.logout", "ok", "account", row.account_id)
        audit.append(session, actor=actor, events=[event], trail=trail)


_BY_TOKEN = (
    select(
        ApiToken.expires_at,
        ApiToken.revoked_at,
        Account.is_active,
        Account.id,
        Account.username,
        Account.role,
        Account.department,
        Account.area_code,
        Account.person_id,
    )
    .join(Account, Account.id == ApiToken.account_id)
    .where(ApiToken.token_hash == bindparam("digest"))
)


def authenticate(session: Session, *, settings: Settings, token: str) -> Actor:
    """The actor a bearer token stands for; refused if unknown, revoked, expired or disabled."""
    return actor_for_digest(session, token_digest(settings.secret_key, token))


def actor_for_digest(session: Session, digest: str) -> Actor:
    """The actor of the token stored under `digest`; refused if unknown, revoked, expired or
    disabled. One indexed query (columns, not the Account entity: this runs on every request)."""
    found = session.connection().execute(_BY_TOKEN, {"digest": digest}).one_or_none()
    if found is None:
        raise not_authenticated()
    expires_at, revoked_at, active, account_id, username, role, department, area, person = found
    if revoked_at is not None or not active:
        raise not_authenticated("this token was revoked or its account disabled")
    if expires_at <= clock.now():
        raise not_authenticated("this token has expired: sign in again")
    return Actor(account_id, username, Role(role), department, area, person)
