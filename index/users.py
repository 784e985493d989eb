"""Accounts: readers and administrators, their groups, passwords (argon2id) and API tokens.

Passwords are hashed with argon2id (argon2-cffi, memory-hard); an API token is 32 random bytes shown
once, and only its SHA-256 is stored (a token has full entropy, so a fast hash is enough and lets a
request be matched in one lookup). Making a new token replaces the old one. Accounts live in the
catalogue, so they survive ``--rebuild`` and the deletion of index generations.
"""
from __future__ import annotations

import hashlib
import re
import secrets

from .access import ROLES, Principal
from .errors import InvalidInput, NotFound, Unauthorized

__all__ = ["check_name", "hash_password", "verify_password", "new_token", "token_hash", "principal_of"]

_NAME = re.compile(r"^[\w.@-]{1,64}$")
MIN_PASSWORD = 8


def check_name(value: str, what: str = "tên") -> str:
    """User and group names: letters (Vietnamese too), digits, . _ - @; 1 to 64 characters."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise InvalidInput(f"{what.capitalize()} “{value}” không hợp lệ: chỉ dùng chữ, số và . _ - @ (tối đa 64 ký tự).",
                           field=what)
    return value


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"Vai trò “{role}” không hợp lệ; chọn một trong: {', '.join(ROLES)}.", field="role")
    return role


def hash_password(password: str) -> str:
    from argon2 import PasswordHasher
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise InvalidInput(f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự.", field="password")
    return PasswordHasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError
    if not stored or not isinstance(password, str):
        return False
    try:
        return PasswordHasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> tuple[str, str]:
    """(token shown once, its hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def principal_of(user: dict) -> Principal:
    return Principal(name=user["name"], role=user["role"], groups=frozenset(user["groups"]))


def sign_in(catalog, name: str, password: str) -> Principal:
    """The account's principal if the password matches; one message for every failure."""
    user = catalog.user(name) if isinstance(name, str) and _NAME.fullmatch(name or "") else None
    if user is None or not verify_password(user["password_hash"], password):
        raise Unauthorized("Tên đăng nhập hoặc mật khẩu không đúng.")
    return principal_of(user)


def principal_for_token(catalog, token: str) -> Principal:
    user = catalog.user_by_token_hash(token_hash(token)) if token else None
    if user is None:
        raise Unauthorized("Mã truy cập (token) không hợp lệ hoặc đã bị thay.")
    return principal_of(user)


def require_user(catalog, name: str) -> dict:
    user = catalog.user(name)
    if user is None:
        raise NotFound(f"Không có người dùng “{name}”.")
    return user
