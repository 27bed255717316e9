"""The Excel road: raw export (stage 1) → intermediate (stage 2) → final report (stage 3), and the
reconciliation of the report's figures with the model marts ("two roads, one truth")."""
