"""A dbt-compatible model runner: discover → parse → graph → compile → materialize → test.

It builds a dbt-style project (``sql/``) inside the DuckDB warehouse with dbt's semantics (see
``docs/models.md``): relation naming, config precedence, view/table/incremental/
ephemeral materializations, seeds, generic and singular tests, node selection, and
``target/manifest.json`` / ``run_results.json`` in dbt's shape."""
