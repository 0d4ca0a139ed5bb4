"""``contiflow db …``: the schema version of the database and its migrations (Alembic).

These commands never build an ``Engine`` (which would upgrade the schema on start): ``db
current`` reports the database as it is.  Running ``db upgrade`` while workers or web
processes start is safe: they wait for the migration lock.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from engine.cli.output import emit_json, fail
from engine.config import load_config
from engine.store import migrate

Add = Callable[[str, str], argparse.ArgumentParser]


def register(add: Add) -> None:
    p = add("db", "database schema: upgrade, current, downgrade, history")
    p.add_argument("action", choices=["upgrade", "current", "downgrade", "history"])
    p.add_argument("target", nargs="?", metavar="REVISION", help="downgrade: the revision to go back to")
    p.add_argument("--revision", help="upgrade: stop at this revision (default head)")
    p.set_defaults(run_without_engine=db)


def db(args: argparse.Namespace) -> int:
    try:
        return ACTIONS[args.action](args)
    except ValueError as exc:
        return fail(str(exc), 2)
    except SQLAlchemyError as exc:
        return fail(f"database: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _url() -> str:
    return load_config().database_url


def _upgrade(args: argparse.Namespace) -> int:
    revision = args.revision or args.target or "head"
    result = migrate.upgrade(_url(), revision)
    result["head"] = migrate.head()
    if args.json:
        emit_json(result)
    elif result["from"] == result["to"]:
        print(f"database already at {result['to']}" + (" (head)" if result["to"] == result["head"] else ""))
    elif result["from"] is None:
        print(f"database created at {result['to']}")
    else:
        print(f"database upgraded from {result['from']} to {result['to']}")
    return 0


def _current(args: argparse.Namespace) -> int:
    info = migrate.current(_url())
    if args.json:
        emit_json(info)
        return 0 if info["state"] != "unknown" else 1
    pending = ", ".join(info["pending"])
    print({
        "current": f"{info['revision']} (head)",
        "behind": f"{info['revision']} (behind head {info['head']}; pending: {pending}; "
                  f"run `contiflow db upgrade`)",
        "empty": "empty database (created at the first start, or by `contiflow db upgrade`)",
        "unversioned": f"contiflow 0.1.0 schema, unversioned (run `contiflow db upgrade`; pending: {pending})",
        "unknown": f"{info['revision']} (unknown to this version, whose head is {info['head']}: "
                   f"made by a newer contiflow?)",
    }[info["state"]])
    return 0 if info["state"] != "unknown" else 1


def _downgrade(args: argparse.Namespace) -> int:
    if not args.target:
        raise ValueError("db downgrade needs the revision to go back to (see `contiflow db history`; "
                         "`base` drops every table)")
    result = migrate.downgrade(_url(), args.target)
    if args.json:
        emit_json(result)
    else:
        print(f"database downgraded from {result['from']} to {result['to'] or 'base (no tables)'}")
    return 0


def _history(args: argparse.Namespace) -> int:
    revisions = migrate.history()
    if args.json:
        emit_json(revisions)
    else:
        for r in revisions:
            message = r["message"] if len(r["message"]) <= 80 else r["message"][:79] + "…"
            print(f"{r['revision']:<24} {message}" + ("  (head)" if r["head"] else ""))
    return 0


ACTIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "upgrade": _upgrade, "current": _current, "downgrade": _downgrade, "history": _history,
}

#: nothing runs through an Engine here; see ``run_without_engine`` in register()
HANDLERS: dict[str, Callable[[Any, Any], int]] = {}
