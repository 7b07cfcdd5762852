"""One module per dashboard page; each exposes ``render(ctx)`` and calls only
warehouse/dashboard library functions through ``ctx.call``."""
