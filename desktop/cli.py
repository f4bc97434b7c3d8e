"""The ``login-feed`` command: global flags, then a subcommand.

Everything a subcommand needs is built here from the configuration, so each command stays a small function.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from desktop import __version__
from desktop.config import load_config
from desktop.config_schema import Config, ConfigError
from desktop.log import setup_logging
from desktop.secrets import SecretStore, SecretsUnavailable
from desktop.simulate.scenarios import SCENARIOS

if TYPE_CHECKING:
    from desktop.auth.signin import SignInManager


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="login-feed", description="Watch your users sign up and log in, live.")
    parser.add_argument("--config", type=Path, metavar="PATH", help="configuration file (TOML)")
    parser.add_argument("--data-dir", type=Path, metavar="PATH", help="where history and state are kept")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging on stderr (-vv: debug)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--self-test", action="store_true", help="check this installation works, then exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    tail = commands.add_parser("tail", help="print the live feed on stdout, one line per event")
    tail.add_argument("--channel", help="feed channel (default: [feed] channel)")
    tail.add_argument("--format", choices=("jsonl", "text"), default="jsonl", help="output format (default jsonl)")
    tail.add_argument("--alerts-only", action="store_true",
                      help="print only the server's alerts (credential stuffing, brute force ...), one line each")
    tail.add_argument("--no-catch-up", action="store_true",
                      help="after a reconnect, do not fetch from the server what was missed (remote mode)")
    login = commands.add_parser("login", help="sign in with the device code flow (Auth0)")
    login.add_argument("--no-browser", action="store_true", help="only print the code and the URL")
    login.add_argument("--gui", action="store_true", help="sign in with the sign-in dialog instead of the terminal")
    commands.add_parser("whoami", help="who is signed in (exit 1 when nobody is)")
    commands.add_parser("logout", help="sign out: revoke the sign-in and forget it on this computer")
    export = commands.add_parser("export", help="print the stored history (oldest first) on stdout")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="output format (default jsonl)")
    export.add_argument("--since", metavar="ISO", help="only events received at or after this date or time "
                        "(2026-11-21, 2026-11-21T05:00Z; UTC unless an offset is given)")
    authserver = commands.add_parser(
        "server", aliases=["authserver"],
        help="serve channel authorization (remote mode) and the tenant log (Auth0 log stream, /events)")
    authserver.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    authserver.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    authserver.add_argument("--proxy-headers", action="store_true",
                            help="behind a reverse proxy: take the client address and scheme from X-Forwarded-For "
                                 "and X-Forwarded-Proto, from --forwarded-allow-ips only")
    authserver.add_argument("--forwarded-allow-ips", default="127.0.0.1", metavar="IPS",
                            help="comma-separated proxy addresses trusted with --proxy-headers (default 127.0.0.1)")
    authserver.add_argument("--backfill-since", type=_date, metavar="DATE",
                            help="seed the tenant log with every Auth0 event since DATE (2026-08-01, UTC) through "
                                 "[auth0_management], while serving; an interrupted backfill resumes when run again")
    simulate = commands.add_parser("simulate", help="publish realistic sample events through the Pusher HTTP API")
    simulate.add_argument("--rate", type=float, metavar="R", help="events per second (default 5; 0: no limit)")
    simulate.add_argument("--count", type=int, metavar="N", help="how many events (default: until Ctrl+C)")
    simulate.add_argument("--channel", help="channel to publish to (default: [feed] channel)")
    simulate.add_argument("--concurrency", type=int, metavar="K", help="requests in flight (default 4)")
    simulate.add_argument("--signup-ratio", type=float, metavar="P", help="share of signups (default 0.1)")
    simulate.add_argument("--seed", metavar="S", help="repeat the same sequence of sample people")
    simulate.add_argument("--source", choices=("pusher", "log-stream"), default="pusher",
                          help="pusher: v1 events through the Pusher HTTP API (default); log-stream: Auth0 "
                               "tenant-log deliveries POSTed to a login-feed server")
    simulate.add_argument("--url", help="with --source log-stream: the server's /auth0/log-stream URL")
    simulate.add_argument("--scenario", choices=SCENARIOS, default="normal",
                          help="with --source log-stream: one attack in the normal traffic (default: none)")
    simulate.add_argument("--time-step", type=float, metavar="S",
                          help="with --source log-stream: date the records S seconds apart from now, not by the "
                               "clock (e.g. 0.5 with --rate 0: ten minutes of traffic in a second)")
    simulate.add_argument("--start", type=_moment, metavar="ISO",
                          help="with --time-step: the first record's date and time (default: now)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    if args.self_test:
        from desktop.selftest import run  # noqa: PLC0415

        return run()
    if args.command is None:
        from desktop.app import run_window  # noqa: PLC0415 - Qt only when the window is wanted

        return run_window(args.config, args.data_dir)
    try:
        if args.command == "export":  # needs no configuration, only the data directory
            return _export(args)
        config = load_config(args.config, os.environ)
        if args.command == "tail":
            return _tail(args, config)
        if args.command in ("server", "authserver"):
            return _authserver(args, config)
        if args.command == "simulate":
            from desktop.simulate.command import main as simulate  # noqa: PLC0415 - keep `--help` fast

            return simulate(config, args)
        from desktop import cli_auth  # noqa: PLC0415 - keep `--help` fast

        if args.command == "login":
            if args.gui:
                return cli_auth.login_dialog(config)
            return cli_auth.login(config, open_browser=not args.no_browser)
        if args.command == "whoami":
            return cli_auth.whoami(config)
        if args.command == "logout":
            return cli_auth.logout(config)
    except ConfigError as exc:
        print(f"login-feed: {exc}", file=sys.stderr)
        return 2
    except SecretsUnavailable as exc:
        print(f"login-feed: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 2


def _tail(args: argparse.Namespace, config: Config) -> int:
    from desktop.engine import build_client, signin_for  # noqa: PLC0415 - keep `--help` fast
    from desktop.signing.names import validate_channel_name  # noqa: PLC0415
    from desktop.tail import run_tail  # noqa: PLC0415

    channel = args.channel or config.feed.channel
    try:
        validate_channel_name(channel)
    except ValueError as exc:
        print(f"login-feed: --channel: {exc}", file=sys.stderr)
        return 2
    signin = signin_for(config) if config.authorization.mode == "remote" else None
    if signin is not None and not _restore_signin(signin):
        return 1
    client = build_client(config, SecretStore(os.environ), signin=signin)
    from desktop.log import status  # noqa: PLC0415
    from desktop.tail_catchup import tail_catch_up  # noqa: PLC0415
    from desktop.util.collector import tune_for_bursts  # noqa: PLC0415

    catch_up = None if args.no_catch_up else tail_catch_up(config, channel, signin, status)
    tune_for_bursts()  # this process is tail's alone from here on (tests call run_tail in theirs)
    return run_tail(client, channel, args.format, catch_up=catch_up, alerts_only=args.alerts_only)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date such as 2026-08-01: {text[:40]!r}") from None


def _moment(text: str) -> datetime:
    """An ISO date and time; without a zone, UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date and time such as 2026-11-21T05:00:00Z: {text[:40]!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _authserver(args: argparse.Namespace, config: Config) -> int:
    from desktop.authserver.server import AuthServerSetupError, serve  # noqa: PLC0415 - keep `--help` fast

    try:
        return serve(config, args.host, args.port, data_dir=args.data_dir,
                     forwarded_allow_ips=args.forwarded_allow_ips if args.proxy_headers else None,
                     backfill_since=args.backfill_since)
    except AuthServerSetupError as exc:
        print(f"login-feed: {exc}", file=sys.stderr)
        return exc.exit_code


def _restore_signin(manager: SignInManager) -> bool:
    """Remote authorization sends the signed-in user's token: sign in from the keyring before connecting."""
    from desktop.auth.common import AuthError  # noqa: PLC0415
    from desktop.auth.session import RefreshError  # noqa: PLC0415

    try:
        session = manager.restore()
    except (RefreshError, AuthError) as exc:  # SignInFailed, ProviderUnreachable-wrapped errors, discovery
        print(f"login-feed: could not renew the sign-in ({exc}): run `login-feed login`", file=sys.stderr)
        return False
    if session is None:
        print("login-feed: remote authorization needs a sign-in: run `login-feed login` first"
              + (f" ({manager.keyring_warning})" if manager.keyring_warning else ""), file=sys.stderr)
        return False
    return True


def _export(args: argparse.Namespace) -> int:
    from desktop.history.export import run_export  # noqa: PLC0415 - keep `--help` fast

    return run_export(args.data_dir, args.format, args.since)
