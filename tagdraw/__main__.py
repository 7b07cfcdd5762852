"""``python -m tagdraw ...``: the same as the ``tagdraw`` console script."""

from tagdraw.cli import main

raise SystemExit(main())
