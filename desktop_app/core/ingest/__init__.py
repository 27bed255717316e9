"""Ingestion: extract → load → reconcile, from any OLTP source into the warehouse's ``raw`` schema.

``plan`` picks a change-tracking strategy per table, ``extract`` streams Arrow batches (widening
dirty columns instead of failing), ``load`` writes one table per DuckDB transaction, ``reconcile``
proves the result, and ``run`` ties them together with history in ``_studio``."""
