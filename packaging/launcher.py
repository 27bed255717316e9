"""Entry point of the frozen app (PyInstaller needs a script, not a package's __main__)."""

from desktop_app.cli import main

raise SystemExit(main())
