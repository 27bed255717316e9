"""The ``oltp-olap`` command: with no arguments it opens the window; subcommands run the same
core headless. Exit codes: 0 success, 1 a failure the message explains, 2 bad usage, 130 cancelled."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from desktop_app import APP_NAME, __version__
from desktop_app.core.errors import AppError, Cancelled
from desktop_app.core.progress import CancelToken

Handler = Callable[[argparse.Namespace, CancelToken], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oltp-olap",
        description=f"{APP_NAME}: move an OLTP database into DuckDB and report on it. "
                    "Run without a command to open the window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--workspace", type=Path, help="workspace folder for the window (default: your data folder)")
    parser.add_argument("--quit-after-show", action="store_true", help=argparse.SUPPRESS)  # start-up timing
    parser.add_argument("--self-test", action="store_true",
                        help="run the whole pipeline and the window in a temporary folder; exit 0 if all is well")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="headless commands")

    seed = commands.add_parser("seed", help="create the demo shop (--oltp), or load the project's CSV seeds "
                                            "(--warehouse, as dbt seed)",
                               description="With --oltp: create the built-in demo shop, a normalised e-commerce "
                                           "SQLite database (scale 1 ≈ 1,000,000 order items). With --warehouse: "
                                           "load the dbt project's CSV seeds into the warehouse, as `dbt seed`.")
    seed.add_argument("--oltp", type=Path, metavar="FILE", help="demo shop SQLite file to create")
    seed.add_argument("--scale", type=float, default=0.05, help="size; 1 ≈ 1M order items (default 0.05)")
    seed.add_argument("--seed", type=int, default=42, help="random seed: same seed, same data (default 42)")
    seed.add_argument("--force", action="store_true", help="replace FILE if it exists")
    from desktop_app import cli_models

    cli_models.add_model_options(seed, "seed")
    seed.set_defaults(handler=_seed)

    simulate = commands.add_parser("simulate", help="apply realistic shop traffic (inserts, updates, deletes)",
                                   description="New customers and orders, order status transitions, price "
                                               "changes and hard deletes, each bumping updated_at.")
    simulate.add_argument("--oltp", required=True, type=Path, metavar="FILE", help="demo shop SQLite file")
    simulate.add_argument("--orders", type=int, default=100, help="new orders to place (default 100)")
    simulate.add_argument("--updates", type=int, default=200, help="updates to make (default 200)")
    simulate.add_argument("--deletes", type=int, default=10, help="hard deletes to make (default 10)")
    simulate.add_argument("--seed", type=int, default=None, help="random seed for a reproducible run")
    simulate.set_defaults(handler=_simulate)

    inspect = commands.add_parser("inspect", help="list a source's tables, row counts, columns and keys")
    inspect.add_argument("--oltp", required=True, metavar="URL_OR_FILE", help="SQLite file or SQLAlchemy URL")
    inspect.add_argument("--json", action="store_true", help="print machine-readable JSON")
    inspect.set_defaults(handler=_inspect)

    for register in _extra_commands():
        register(commands)
    return parser


def _extra_commands() -> list[Callable[[argparse._SubParsersAction], None]]:
    """Command groups that live in their own modules (each adds its subparsers)."""
    from desktop_app import cli_excel, cli_export, cli_ingest, cli_lineage, cli_models

    return [cli_ingest.register, cli_models.register, cli_excel.register, cli_export.register,
            cli_excel.register_pipeline, cli_lineage.register]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "seed" and (args.oltp is None) == (args.warehouse is None):
        parser.error("seed needs exactly one of --oltp FILE (create the demo shop) or --warehouse FILE "
                     "(load the project's CSV seeds)")
    if args.self_test:
        from desktop_app.selftest import run_self_test

        return run_self_test()
    if args.command is None:
        from desktop_app.app import run_app

        return run_app(workspace=args.workspace, quit_after_show=args.quit_after_show)
    _log_to_file()
    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    try:
        return args.handler(args, cancel)
    except Cancelled:
        from desktop_app.console import stderr

        stderr.print("cancelled; nothing half-written was kept")
        return 130
    except AppError as error:
        from desktop_app.console import print_error

        print_error(error)
        return 1
    except Exception as error:  # the one line and the log, never a traceback
        return _unexpected(error)
    finally:
        signal.signal(signal.SIGINT, previous)


def cli_log_path() -> Path:
    from desktop_app.paths import default_workspace

    return default_workspace() / "logs" / "cli.log"


def _log_to_file() -> None:
    """Warnings and tracebacks of the headless commands go to the log file, never to the terminal
    (Python's last-resort handler would print them on stderr). The file and its folder are made only
    when something is logged: a clean run writes nothing."""
    import logging

    class LazyFileHandler(logging.FileHandler):
        def emit(self, record) -> None:
            try:
                Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
            except OSError:
                return
            super().emit(record)

    root = logging.getLogger()
    if not any(isinstance(h, logging.FileHandler) for h in root.handlers):
        handler = LazyFileHandler(cli_log_path(), delay=True, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)


def _unexpected(error: BaseException) -> int:
    """A failure the core did not put into words: one line that names it and where its details are
    (the traceback goes to the log, not the terminal); exit 1."""
    import errno
    import logging
    import traceback

    from desktop_app.console import print_error

    log_path = cli_log_path()
    where = f"details in {log_path}"
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("a", encoding="utf-8") as log:
            log.write(f"--- {' '.join(sys.argv)}\n{traceback.format_exc()}\n")
    except OSError:
        where = "the details could not be logged"
        logging.getLogger(__name__).exception("Unexpected error")
    if (isinstance(error, OSError) and error.errno == errno.ENOSPC) or "No space left on device" in str(error):
        message = "No space left on the device; nothing half-written was kept."
        hint = "Free some space and run it again."
    elif isinstance(error, OSError) and error.strerror:
        message = f"{error.strerror}: {error.filename}" if error.filename else error.strerror
        hint = f"Check the path and its permissions ({where})."
    else:
        first = str(error).splitlines()[0] if str(error) else ""
        message, hint = f"Unexpected error: {type(error).__name__}: {first}", f"This is a bug; {where}."
    print_error(AppError(message, hint))
    return 1


# -- handlers -------------------------------------------------------------------------------------
def _seed(args: argparse.Namespace, cancel: CancelToken) -> int:
    from desktop_app.console import progress_bars, stdout
    from desktop_app.core.oltp.demo_shop import create_shop

    if args.warehouse is not None:
        from desktop_app import cli_models

        return cli_models.handle(args, cancel, "seed")

    with progress_bars() as report:
        result = create_shop(args.oltp, scale=args.scale, seed=args.seed, force=args.force, report=report,
                             cancel=cancel)
    counts = ", ".join(f"{name} {count:,}" for name, count in result.row_counts.items())
    stdout.print(f"Created {result.path} (scale {result.scale}, seed {result.seed}): {counts}; "
                 f"{result.total_rows:,} rows in {result.seconds:.1f} s")
    return 0


def _simulate(args: argparse.Namespace, cancel: CancelToken) -> int:
    from desktop_app.console import progress_bars, stdout
    from desktop_app.core.oltp.simulate import simulate_activity

    with progress_bars() as report:
        result = simulate_activity(args.oltp, orders=args.orders, updates=args.updates, deletes=args.deletes,
                                   seed=args.seed, report=report, cancel=cancel)
    for kind in ("inserted", "updated", "deleted"):
        changes = {t: n for t, n in getattr(result, kind).items() if n}
        stdout.print(f"{kind:>8}: " + (", ".join(f"{t} {n:,}" for t, n in changes.items()) or "nothing"))
    stdout.print(f"clock {result.clock_start} → {result.clock_end}")
    return 0


def _inspect(args: argparse.Namespace, cancel: CancelToken) -> int:
    from desktop_app.console import line, stdout
    from desktop_app.core.oltp.inspect import inspect_source
    from desktop_app.core.oltp.source import open_source

    with open_source(args.oltp) as source:
        info = inspect_source(source, cancel=cancel)
    if args.json:
        sys.stdout.write(json.dumps(info.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return 0
    from rich.table import Table
    from rich.text import Text

    stdout.print(line((info.label, "bold"), f" ({info.dialect}), {len(info.tables)} tables"))
    for table in info.tables:
        grid = Table(title=Text(f"{table.name} — {table.row_count:,} rows"), title_justify="left", show_edge=False)
        for heading in ("column", "type", "null", "default", "key"):
            grid.add_column(heading)
        fk_of = {col: f"→ {fk.referred_table}.{fk.referred_columns[i]}"
                 for fk in table.foreign_keys for i, col in enumerate(fk.columns)}
        for col in table.columns:
            key = " ".join(filter(None, ["PK" if col.primary_key else "", fk_of.get(col.name, "")]))
            grid.add_row(*(Text(cell) for cell in (col.name, col.declared_type, "yes" if col.nullable else "no",
                                                   col.default or "", key)))
        stdout.print(grid)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
