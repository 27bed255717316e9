"""Entry point of the frozen app (PyInstaller needs a script, not a package's __main__)."""

import multiprocessing

if __name__ == "__main__":
    # The Excel stages run in spawned worker processes (core/isolated.py); in a frozen app the child
    # is this executable again, and freeze_support() turns it into the worker before the CLI starts.
    multiprocessing.freeze_support()
    from desktop_app.cli import main

    raise SystemExit(main())
