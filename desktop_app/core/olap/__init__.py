"""The DuckDB warehouse: owns the file, hands out one cursor per thread, keeps the metadata schema."""
