"""Errors of the sharing gate and the API: a stable code, an HTTP status, zh-CN and en text."""

from __future__ import annotations

from datetime import datetime

from gridweave.core.errors import GridweaveError


class SharingError(GridweaveError):
    """An error with a message in both locales; `message` (the CLI's) is the English one."""

    status = 400

    def __init__(self, code: str, en: str, zh: str, *, status: int | None = None) -> None:
        super().__init__(en)
        self.code = code
        self.zh = zh
        if status is not None:
            self.status = status

    def text(self, lang: str) -> str:
        return self.message if lang == "en" else self.zh


class Refusal(SharingError):
    """A refusal already written to the audit log: its transaction commits, not rolls back."""

    status = 403


def forbidden(code: str, en: str, zh: str) -> Refusal:
    return Refusal(code, en, zh, status=403)


def not_authenticated(en: str = "not signed in, or the session has expired") -> SharingError:
    return SharingError("not_authenticated", en, "未登录或登录已过期", status=401)


def invalid_credentials() -> Refusal:
    return Refusal(
        "invalid_credentials", "wrong username or password", "用户名或密码错误", status=401
    )


def account_locked(until: datetime) -> Refusal:
    when = f"{until:%Y-%m-%d %H:%M} UTC"
    return Refusal(
        "account_locked",
        f"too many failed logins: the account is locked until {when}",
        f"登录失败次数过多，账号已锁定至 {when}",
        status=423,
    )


def invalid(code: str, en: str, zh: str) -> SharingError:
    return SharingError(code, en, zh, status=400)
