"""`voicecart staff ...`: staff accounts and the notification webhooks.

    voicecart staff add --store S --role barista|manager EMAIL [--name NAME]
    voicecart staff list [--store S]
    voicecart staff remove EMAIL [--store S]
    voicecart staff webhook add URL [--store S] [--event order.ready ...]
    voicecart staff webhook list
    voicecart staff webhook dead
    voicecart staff webhook redeliver DELIVERY_ID

A new account's password comes from $VOICECART_STAFF_PASSWORD, else from a prompt (or one
line of standard input when it is not a terminal); it is stored only as an argon2 hash.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable

from sqlalchemy.orm import Session

from orders import outbox
from orders.clock import utc_now
from orders.db import make_sessions, require_migrated
from orders.staff import add_staff, list_staff, normalise_email, remove_staff
from orders.staff_tables import StaffRole
from orders.webhook import add_endpoint, list_endpoints
from server.cli.db import add_database_options, engine_from

PASSWORD_ENV = "VOICECART_STAFF_PASSWORD"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `staff` command group."""
    group = subparsers.add_parser("staff", help="staff accounts and webhooks", description=__doc__)
    commands = group.add_subparsers(dest="staff_command", required=True)
    add = commands.add_parser("add", help="create a staff account or give it a store role")
    add.add_argument("email", metavar="EMAIL")
    add.add_argument("--store", required=True, help="store id")
    add.add_argument("--role", required=True, choices=[r.value for r in StaffRole])
    add.add_argument("--name", default="", help="display name (default: the email's name)")
    _command(add, run_add)
    listing = commands.add_parser("list", help="list staff and their roles")
    listing.add_argument("--store", default=None, help="only this store's staff")
    _command(listing, run_list)
    remove = commands.add_parser("remove", help="take a member off a store, or deactivate")
    remove.add_argument("email", metavar="EMAIL")
    remove.add_argument("--store", default=None, help="only this store (default: deactivate)")
    _command(remove, run_remove)
    _register_webhooks(commands)


def _register_webhooks(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `staff webhook` commands."""
    webhook = commands.add_parser("webhook", help="signed notification webhooks")
    hooks = webhook.add_subparsers(dest="webhook_command", required=True)
    add = hooks.add_parser("add", help="register an endpoint; prints its signing secret")
    add.add_argument("url", metavar="URL")
    add.add_argument("--store", default=None, help="only this store's orders (default: all)")
    add.add_argument("--event", action="append", default=[], help="e.g. order.ready (repeat)")
    _command(add, run_webhook_add)
    _command(hooks.add_parser("list", help="list endpoints"), run_webhook_list)
    _command(hooks.add_parser("dead", help="list dead-lettered deliveries"), run_dead)
    redo = hooks.add_parser("redeliver", help="retry a dead delivery")
    redo.add_argument("delivery_id", type=int, metavar="DELIVERY_ID")
    _command(redo, run_redeliver)


def _command(parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], int]) -> None:
    """Database options and the function to run."""
    add_database_options(parser)
    parser.set_defaults(func=run)


def _with_session(args: argparse.Namespace, work: Callable[[Session], int]) -> int:
    """Run `work` in a session on the migrated database the options name."""
    engine = engine_from(args)
    try:
        require_migrated(engine)
        with make_sessions(engine)() as session:
            return work(session)
    finally:
        engine.dispose()


def read_password() -> str:
    """The new account's password: environment, prompt, or one line of standard input."""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if sys.stdin.isatty():
        return getpass.getpass("password for the new account: ")
    return sys.stdin.readline().rstrip("\n")


def run_add(args: argparse.Namespace) -> int:
    """Create the account (asking for a password) or add the store role to an existing one."""

    def work(session: Session) -> int:
        email = normalise_email(args.email)
        known = any(user.email == email for user in list_staff(session))
        password = None if known else read_password()
        user = add_staff(
            session,
            email=email,
            store_id=args.store,
            role=StaffRole(args.role),
            password=password,
            name=args.name,
        )
        print(f"{user.email}: {args.role} at {args.store}" + ("" if known else " (new account)"))
        return 0

    return _with_session(args, work)


def run_list(args: argparse.Namespace) -> int:
    """One line per member: email, name, roles, active."""

    def work(session: Session) -> int:
        for user in list_staff(session, store_id=args.store):
            roles = ", ".join(f"{m.role} at {m.store_id}" for m in user.memberships)
            state = "" if user.active else " [deactivated]"
            print(f"{user.email}\t{user.name}\t{roles or 'no store'}{state}")
        return 0

    return _with_session(args, work)


def run_remove(args: argparse.Namespace) -> int:
    """Take the member off a store, or deactivate the account (ending its sessions)."""

    def work(session: Session) -> int:
        if not remove_staff(session, args.email, store_id=args.store):
            print(f"no staff account {args.email}", file=sys.stderr)
            return 1
        print(f"{args.email}: " + (f"removed from {args.store}" if args.store else "deactivated"))
        return 0

    return _with_session(args, work)


def run_webhook_add(args: argparse.Namespace) -> int:
    """Register the endpoint and print its id and secret (shown only here)."""

    def work(session: Session) -> int:
        endpoint = add_endpoint(session, url=args.url, store_id=args.store, events=args.event)
        print(f"webhook {endpoint.id}: {endpoint.url}")
        print(f"secret: {endpoint.secret}")
        return 0

    return _with_session(args, work)


def run_webhook_list(args: argparse.Namespace) -> int:
    """One line per endpoint."""

    def work(session: Session) -> int:
        for endpoint in list_endpoints(session):
            events = ",".join(endpoint.events) or "all events"
            state = "on" if endpoint.active else "off"
            where = endpoint.store_id or "all stores"
            print(f"{endpoint.id}\t{state}\t{where}\t{events}\t{endpoint.url}")
        return 0

    return _with_session(args, work)


def run_dead(args: argparse.Namespace) -> int:
    """The dead letters, newest first."""

    def work(session: Session) -> int:
        for delivery in outbox.dead_letters(session):
            print(
                f"{delivery.id}\t{delivery.channel}:{delivery.target}\t"
                f"notification {delivery.notification_id}\t{delivery.attempts} attempts\t"
                f"{delivery.last_error}"
            )
        return 0

    return _with_session(args, work)


def run_redeliver(args: argparse.Namespace) -> int:
    """Queue a dead delivery again."""

    def work(session: Session) -> int:
        if not outbox.redeliver(session, args.delivery_id, now=utc_now()):
            print(f"delivery {args.delivery_id} is not dead", file=sys.stderr)
            return 1
        print(f"delivery {args.delivery_id} queued again")
        return 0

    return _with_session(args, work)
