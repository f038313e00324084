"""Domain errors raised by the spatial core; `api` maps each to an HTTP status in one place."""

from __future__ import annotations


class GridmapError(Exception):
    """Base of every error the core raises on purpose."""


class LocalDbError(GridmapError):
    """The project-local PostgreSQL cluster could not be installed, started or reached."""


class DatabaseUnavailable(GridmapError):
    """The database cannot be reached or lacks PostGIS."""


class NotFound(GridmapError):
    """The thing asked for does not exist (or is outside the caller's scope)."""


class InvalidInput(GridmapError):
    """Input that cannot be processed; `field` names the offending parameter."""

    def __init__(self, field: str, message: str, where: str = "query") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.where = where  # query | body | path: where the field was (for the 422's loc)


class ImportRejected(GridmapError):
    """A boundary or case import that failed validation; nothing was written."""

    def __init__(self, report: object) -> None:
        super().__init__("import rejected")
        self.report = report


class Forbidden(GridmapError):
    """The caller's role may not do this (403); the message names the role and who may."""


class Conflict(GridmapError):
    """The request clashes with the current state of the thing (409): a workflow action not
    allowed in the case's state, a stale version, a closed time window."""


class NotAuthenticated(GridmapError):
    """No valid credentials: a missing, expired, forged or malformed token, a wrong password,
    an unknown or disabled user (401)."""


class TooManyAttempts(GridmapError):
    """Logins for this user are locked after repeated failures; `retry_after` in seconds (429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins: try again in {retry_after} s")
        self.retry_after = retry_after
