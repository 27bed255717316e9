"""``python -m desktop_app``: the same entry point as the ``oltp-olap`` command."""

from desktop_app.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
