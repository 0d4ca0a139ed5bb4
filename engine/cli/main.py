"""``contiflow`` entry point: parse arguments, call the Engine, print, exit non-zero on failure."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from engine.cli import analysis_commands, commands, db_commands, drill_commands
from engine.cli.output import fail
from engine.errors import EngineError


def _json_object(text: str | None, what: str) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"{what}: malformed JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"{what}: must be a JSON object, like '{{\"x\": 1}}'")
    return value


#: command groups that live in their own modules: each has register(add) and HANDLERS
EXTENSIONS = [analysis_commands, drill_commands, db_commands]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contiflow", description="BPMN engine with executable runbooks")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
        return p

    p = add("import", "import BPMN/DMN files or folders (one all-or-nothing deployment)")
    p.add_argument("paths", nargs="+")
    p.add_argument("--each", action="store_true", help="import every file as its own deployment")
    p = add("definitions", "list process definitions (latest versions)")
    p.add_argument("--all-versions", action="store_true")
    p = add("instances", "list instances")
    p.add_argument("--status", choices=["running", "completed", "incident", "cancelled"])
    p.add_argument("--key")
    p = add("show", "an instance: status, timeline, open tasks, incidents")
    p.add_argument("instance_id")
    p = add("start", "start an instance of a definition; prints the instance id")
    p.add_argument("key")
    p.add_argument("--data")
    p.add_argument("--business-key")
    p.add_argument("--speed", type=float, help="accelerated clock for this instance (600 = 10 min/s)")
    p = add("tasks", "ready human tasks")
    p.add_argument("--instance")
    p.add_argument("--role")
    p = add("complete", "complete a human task")
    p.add_argument("task_id")
    p.add_argument("--data")
    p.add_argument("--as", dest="actor")
    p = add("cancel", "cancel a running instance")
    p.add_argument("instance_id")
    p.add_argument("--as", dest="actor")
    p = add("retry", "retry an instance in incident, after fixing its data")
    p.add_argument("instance_id")
    p.add_argument("--data")
    p.add_argument("--as", dest="actor")
    p = add("alert", "declare incidents from an Alertmanager webhook payload (file or - for stdin)")
    p.add_argument("payload")
    p = add("people", "the people directory: users and roles (primary/backup)")
    p.add_argument("--load", metavar="FILE", help="load users and roles from a YAML file")
    p.add_argument("--hash-password", action="store_true",
                   help="read a password on stdin, print its hash for a password_hash entry")
    p = add("worker", "fire due timers and background work")
    p.add_argument("--once", action="store_true", help="do all work due now, then exit")
    p.add_argument("--interval", type=float, default=30.0,
                   help="seconds between safety sweeps (timers are woken exactly; default 30)")
    for module in EXTENSIONS:
        module.register(add)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        for field in ("data",):
            if hasattr(args, field):
                setattr(args, field, _json_object(getattr(args, field), f"--{field}"))
    except argparse.ArgumentTypeError as exc:
        return fail(str(exc), 2)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return commands.dispatch(args)
    except EngineError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
