"""The `contiflow` command: `serve` runs the web app here (the engine's CLI must not import
web); every other command is the engine's (engine.cli.main)."""

from __future__ import annotations

import argparse
import logging
import sys

from engine.cli.main import main as engine_main


def _serve_parser() -> argparse.ArgumentParser:
    from engine.config import load_config

    config = load_config()
    parser = argparse.ArgumentParser(prog="contiflow serve",
                                     description="web app (inbox, incidents, API) and timer scheduler")
    parser.add_argument("--host", default=config.host, help=f"address to listen on (default {config.host})")
    parser.add_argument("--port", type=int, default=config.port, help=f"port (default {config.port})")
    parser.add_argument("--demo", action="store_true",
                        help="demo set-up: demo people (password 'demo'), bundled runbooks, one incident; "
                             "notifications are logged, not sent")
    parser.add_argument("--threads", type=int, default=8, help="request threads (default 8)")
    return parser


def serve(argv: list[str]) -> int:
    args = _serve_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from waitress import serve as waitress_serve

    from engine.api import Engine
    from engine.errors import EngineError
    from web import demo
    from web.app import create_app

    try:
        engine = Engine(senders=demo.demo_senders() if args.demo else None)
        if args.demo:
            for line in demo.seed(engine):
                print(f"contiflow demo: {line}", file=sys.stderr)
        app = create_app(engine)
    except (EngineError, ValueError) as exc:
        print(f"contiflow serve: {exc}", file=sys.stderr)
        return 1
    print(f"contiflow: serving on http://{args.host}:{args.port}/ (Ctrl-C stops)"
          + (" — demo logins: alice/demo, admin/demo, …" if args.demo else ""), file=sys.stderr)
    try:
        waitress_serve(app, host=args.host, port=args.port, threads=args.threads, ident="contiflow")
    except KeyboardInterrupt:
        pass
    finally:
        timers = app.extensions.get("contiflow.timers")
        if timers is not None:
            timers.stop()
        engine.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "serve":
        return serve(argv[1:])
    return engine_main(argv)


if __name__ == "__main__":
    sys.exit(main())
