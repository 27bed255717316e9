"""Qt item models: adapters over core results, never querying on the GUI thread."""
