"""Who is signed in: sign-in sessions kept across page loads, and single sign-on identities as Principals.

Local accounts (``python -m index users add``): the sign-in form calls ``Library.sign_in``; the Principal
goes into a server-side table of sign-in sessions under a random token, and the browser keeps the token
in a cookie (SameSite=Strict, 8 hours), so that a full page load (every link in the app is one) keeps the
sign-in. The table lives in the server process: a restart signs everyone out. Each script run re-reads
the account (``Library.current_principal``), so a removed account or a changed role acts at once.

Single sign-on: with Streamlit's OIDC login configured (``[auth]`` in .streamlit/secrets.toml), ``st.login``
signs in through the province's identity provider and ``principal_from_claims`` maps ``st.user``'s claims
to a Principal with the ``[vanban_sso]`` table (administrators, groups); see README.
"""
from __future__ import annotations

import json
import re
import secrets
import threading
import time
from typing import Callable

from index.access import Principal

__all__ = ["COOKIE", "TTL_SECONDS", "SignIns", "cookie_script", "principal_from_claims"]

COOKIE = "vanban_phien"
TTL_SECONDS = 8 * 3600
MAX_FAILURES = 5            # failed sign-ins for one name ...
FAILURE_WINDOW = 300        # ... within this many seconds block that name for the rest of the window


class SignIns:
    """The sign-in sessions of this server process (token -> Principal until it expires), and the
    failed attempts per account name (five in five minutes hold that name back)."""

    def __init__(self, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._sessions: dict[str, tuple[Principal, float]] = {}
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def open(self, who: Principal) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[token] = (who, self.clock() + self.ttl)
            self._failures.pop((who.name or "").casefold(), None)
        return token

    def get(self, token: str | None) -> Principal | None:
        if not token:
            return None
        with self._lock:
            found = self._sessions.get(token)
            if found is None:
                return None
            if found[1] <= self.clock():
                del self._sessions[token]
                return None
            return found[0]

    def close(self, token: str | None) -> None:
        with self._lock:
            self._sessions.pop(token or "", None)

    def failed(self, name: str) -> None:
        key = (name or "").casefold()
        now = self.clock()
        with self._lock:
            recent = [t for t in self._failures.get(key, []) if t > now - FAILURE_WINDOW]
            self._failures[key] = recent + [now]

    def blocked_for(self, name: str) -> int:
        """Seconds before ``name`` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            recent = [t for t in self._failures.get((name or "").casefold(), []) if t > now - FAILURE_WINDOW]
        if len(recent) < MAX_FAILURES:
            return 0
        return max(1, int(recent[-MAX_FAILURES] + FAILURE_WINDOW - now))


def cookie_script(token: str | None, ttl: int = TTL_SECONDS) -> str:
    """A script that stores (or, with no token, deletes) the sign-in cookie in the browser. The token is
    URL-safe base64 from ``secrets.token_urlsafe``, written as a JSON string."""
    if token is not None and not re.fullmatch(r"[A-Za-z0-9_\-]{20,100}", token):
        raise ValueError("not a sign-in token")
    value = f"{COOKIE}={token}; path=/; max-age={int(ttl)}; samesite=strict" if token else \
        f"{COOKIE}=; path=/; max-age=0; samesite=strict"
    return ("<script>document.cookie = " + json.dumps(value)
            + " + (location.protocol === 'https:' ? '; secure' : '');</script>")


_NAME = re.compile(r"^[\w.@-]{1,64}$")


def principal_from_claims(claims: dict, config: dict | None = None) -> Principal:
    """A single sign-on identity (the claims of ``st.user``) as a Principal.

    ``config`` (``[vanban_sso]`` in secrets.toml): ``admins`` (e-mail addresses or subjects that are
    administrators), ``admin_groups`` (groups whose members are administrators), ``groups_claim`` (the
    claim listing the user's groups, default "groups"), ``groups`` (the access groups the app takes from
    that claim; default all). Everyone else signed in is a reader; groups outside the allowed names
    (letters, digits, . _ - @; up to 64 characters) are dropped.
    """
    config = dict(config or {})
    name = str(claims.get("email") or claims.get("preferred_username") or claims.get("sub") or "").strip()
    if not name:
        raise ValueError("the identity provider sent no e-mail, preferred_username or sub claim")
    raw = claims.get(config.get("groups_claim", "groups")) or []
    if isinstance(raw, str):
        raw = [g for g in re.split(r"[,\s]+", raw) if g]
    groups = {str(g) for g in raw if _NAME.fullmatch(str(g))}
    allowed = config.get("groups")
    if allowed is not None:
        groups &= {str(g) for g in allowed}
    admins = {str(a).casefold() for a in config.get("admins") or []}
    admin_groups = {str(g) for g in config.get("admin_groups") or []}
    is_admin = name.casefold() in admins or bool({str(g) for g in raw} & admin_groups)
    return Principal(name=name, role="admin" if is_admin else "reader", groups=frozenset(groups))
