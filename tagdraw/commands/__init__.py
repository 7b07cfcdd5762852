"""One module per command group; each has ``register(subparsers)`` and only parses
arguments, calls the library and prints."""
