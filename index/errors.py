"""What can go wrong, as types a front end maps to an exit code or an HTTP status.

The library raises these (never ``SystemExit``); messages are Vietnamese and say how to fix things.
Exit codes, defined once for every command: 0 done (even with no result), 1 the index or an engine
cannot be used, 2 usage (bad input, not allowed).
"""
from __future__ import annotations

__all__ = ["VanbanError", "InvalidInput", "NotFound", "Unavailable", "IndexMismatch", "Busy", "Forbidden",
           "Unauthorized", "TooLarge", "RateLimited", "EXIT_OK", "EXIT_UNAVAILABLE", "EXIT_USAGE"]

EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE = 0, 1, 2


class VanbanError(Exception):
    """Base of the library's errors."""
    exit_code = EXIT_UNAVAILABLE
    http_status = 500

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field      # the input field or file at fault, when there is one


class InvalidInput(VanbanError, ValueError):
    """The caller's input is wrong: a bad option, an empty question, an unknown province."""
    exit_code, http_status = EXIT_USAGE, 422


class NotFound(VanbanError, LookupError):
    """Nothing with that id or number, or nothing the caller may see (a restricted document is
    indistinguishable from a missing one)."""
    exit_code, http_status = EXIT_OK, 404


class Unavailable(VanbanError):
    """The index or an engine cannot be used: missing, unreachable, wrong schema."""
    exit_code, http_status = EXIT_UNAVAILABLE, 503


class IndexMismatch(Unavailable):
    """The index was built with another embedder than the one asked for."""


class Busy(VanbanError):
    """Another ingest holds the index directory."""
    exit_code, http_status = EXIT_UNAVAILABLE, 409


class Unauthorized(VanbanError):
    """The route needs a signed-in user (no or invalid credentials)."""
    exit_code, http_status = EXIT_USAGE, 401


class Forbidden(VanbanError):
    """The caller is known but lacks the role."""
    exit_code, http_status = EXIT_USAGE, 403


class TooLarge(VanbanError):
    """An upload or request over its limit."""
    exit_code, http_status = EXIT_USAGE, 413


class RateLimited(VanbanError):
    """Too many requests from one caller."""
    exit_code, http_status = EXIT_USAGE, 429
