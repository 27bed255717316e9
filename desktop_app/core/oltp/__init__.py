"""The OLTP side: open a source (a SQLite file or any SQLAlchemy URL), inspect its schema,
stream rows for previews, and generate or exercise the built-in demo shop."""
