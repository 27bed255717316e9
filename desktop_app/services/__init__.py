"""The bridge from Qt to the core: jobs on worker threads that report through signals.

Only QtCore lives here (an import-linter contract forbids QtWidgets and ``ui``)."""
