"""The hand-off to BI tools: the project's relations exported as Parquet, CSV, Tableau extracts
(.hyper with a .tds beside each) or one portable DuckDB file, each written to a temporary name and
renamed (``export``); what each column is for a BI tool (``fields``); the Tableau pieces (``tableau``)."""
