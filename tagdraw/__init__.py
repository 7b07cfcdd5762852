"""The ``tagdraw`` command line: the edge that wires scraper, warehouse, dashboard and replica
together. The packages it stands on import nothing from here (checked by ``lint-imports``)."""
