"""Entry point for ``streamlit run dashboard/app.py`` (started by ``tagdraw dashboard``).

The warehouse path comes from ``TAGDRAW_DB``; ``TAGDRAW_DASHBOARD_DEMO_MODE=1`` turns off
sign-in (only when the operator asks for it).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Streamlit runs this file as a script: make the project's packages importable.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from dashboard.shell import main  # noqa: E402

main()
