"""`voicecart customers add|list|token`: create shoppers and issue their API tokens.

    voicecart customers add NAME [--store STORE_ID] [--phone PHONE]
    voicecart customers list
    voicecart customers token CUSTOMER_ID

A token is printed once; only its hash is stored, so a lost token is replaced, not recovered.
"""

from __future__ import annotations

import argparse

from orders import tables
from orders.customers import create_customer, issue_token, list_customers
from orders.db import make_sessions, require_migrated
from orders.errors import FieldInvalid
from server.cli.db import add_database_options, engine_from


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `customers` command group."""
    group = subparsers.add_parser(
        "customers", help="create shoppers and tokens", description=__doc__
    )
    commands = group.add_subparsers(dest="customers_command", required=True)
    add = commands.add_parser("add", help="create a customer and print an API token")
    add.add_argument("name", metavar="NAME", help="the shopper's name")
    add.add_argument("--store", default=None, help="home store id (default: none)")
    add.add_argument("--phone", default=None, help="phone number for notifications")
    add_database_options(add)
    add.set_defaults(func=run_add)
    listing = commands.add_parser("list", help="list customers")
    add_database_options(listing)
    listing.set_defaults(func=run_list)
    token = commands.add_parser("token", help="issue another API token for a customer")
    token.add_argument("customer_id", type=int, metavar="CUSTOMER_ID")
    add_database_options(token)
    token.set_defaults(func=run_token)


def run_add(args: argparse.Namespace) -> int:
    """Create the customer; print the id and the token."""
    engine = engine_from(args)
    try:
        require_migrated(engine)
        with make_sessions(engine)() as session:
            customer, token = create_customer(
                session, name=args.name, home_store_id=args.store, phone=args.phone
            )
            print(f"customer {customer.id}: {customer.name}")
            print(f"token: {token}")
    finally:
        engine.dispose()
    return 0


def run_list(args: argparse.Namespace) -> int:
    """One line per customer: id, name, home store."""
    engine = engine_from(args)
    try:
        require_migrated(engine)
        with make_sessions(engine)() as session:
            for customer in list_customers(session):
                print(f"{customer.id}\t{customer.name}\t{customer.home_store_id or '-'}")
    finally:
        engine.dispose()
    return 0


def run_token(args: argparse.Namespace) -> int:
    """Print a new token for an existing customer."""
    engine = engine_from(args)
    try:
        require_migrated(engine)
        with make_sessions(engine)() as session:
            if session.get(tables.Customer, args.customer_id) is None:
                raise FieldInvalid("customer_id", f"no customer {args.customer_id}")
            print(f"token: {issue_token(session, args.customer_id)}")
    finally:
        engine.dispose()
    return 0
