"""`gridmap users add | list | disable`: who may log in, with which role and scope."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from geo.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _open_session() -> Session:
    """A session on the configured database (the local cluster is started when needed)."""
    from api.cli import _database_url, _session  # here, not at the top: api.cli imports us

    session: Session = _session(_database_url())
    return session


def _fail(flag: str, message: str) -> int:
    print(f"gridmap: error: {flag}: {message}", file=sys.stderr)
    return 2


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        # One line; the newline the shell or `echo` adds is not part of the password.
        return sys.stdin.readline().rstrip("\r\n")
    password: str | None = args.password
    return password


def cmd_users_add(args: argparse.Namespace) -> int:
    """Add a user; prints the generated password once when none was given."""
    from geo.access.users import create_user, resolve_unit

    password = _read_password(args)
    with _open_session() as session:
        try:
            unit_id = resolve_unit(session, args.unit) if args.unit is not None else None
            user, plain = create_user(
                session, args.username, args.role, password=password,
                grid_codes=args.grid or (), community_code=args.community,
                street_code=args.street, unit_id=unit_id, display_name=args.name)
        except InvalidInput as exc:
            session.rollback()
            flag = "--password-stdin" if exc.field == "password" and args.password_stdin \
                else f"--{exc.field}"
            return _fail(flag, exc.message)
        session.commit()
    print(f"user {user.username} ({user.role}) created")
    if password is None:
        # Shown once: only the argon2 hash is stored.
        print(f"password: {plain}")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    """List users with role, scope and state."""
    from geo.access.users import list_users

    now = datetime.now(UTC)
    with _open_session() as session:
        users = list_users(session)
        print(f"{'username':20}  {'role':12}  {'state':8}  {'scope':30}  name")
        for u in users:
            scope = (",".join(u.grid_codes) or u.community_code or u.street_code
                     or (f"unit {u.unit_id}" if u.unit_id else "district"))
            locked = u.locked_until is not None and u.locked_until > now
            state = "disabled" if u.disabled else "locked" if locked else "active"
            print(f"{u.username:20}  {u.role:12}  {state:8}  {scope:30}  {u.display_name or ''}")
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    """Disable a user: no logins, and their tokens stop working."""
    from geo.access.users import disable_user

    with _open_session() as session:
        try:
            disable_user(session, args.username)
        except NotFound as exc:
            return _fail("USERNAME", str(exc))
        session.commit()
    print(f"user {args.username} disabled")
    return 0


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `users` group (add, list, disable) to the top-level sub-commands."""
    from geo.models import ROLES

    users = subparsers.add_parser("users", help="who may log in").add_subparsers(
        dest="action", required=True)
    p = users.add_parser(
        "add", help="add a user with a role and the scope the role needs",
        description="grid_worker / grid_leader need --grid (one or more); community needs "
                    "--community; street needs --street; unit_handler needs --unit; "
                    "registrar, commander, discipline and admin see the whole district.")
    p.add_argument("--username", required=True)
    # No argparse `choices`: create_user names the roles in its own error (exit 2 either way).
    p.add_argument("--role", required=True, help=" | ".join(ROLES))
    p.add_argument("--grid", action="append", metavar="CODE",
                   help="15-digit grid code (repeat for several grids)")
    p.add_argument("--community", metavar="CODE", help="12-digit 社区 code")
    p.add_argument("--street", metavar="CODE", help="12-digit 街道 code")
    p.add_argument("--unit", metavar="ID", help="unit id or code")
    p.add_argument("--name", help="display name (姓名)")
    pw = p.add_mutually_exclusive_group()
    pw.add_argument("--password", help="at least 10 characters (default: generate one and "
                    "print it once); visible in the process list, prefer --password-stdin")
    pw.add_argument("--password-stdin", action="store_true",
                    help="read the password from the first line of standard input")
    p.set_defaults(func=cmd_users_add)
    users.add_parser("list", help="list users").set_defaults(func=cmd_users_list)
    p = users.add_parser("disable", help="disable a user (their tokens stop working)")
    p.add_argument("username", metavar="USERNAME")
    p.set_defaults(func=cmd_users_disable)
