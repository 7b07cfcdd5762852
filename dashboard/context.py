"""What every page gets: who is signed in, which campaign, which language, and ``call``,
the one way a page reaches the warehouse.

``call(fn, *args)`` runs ``fn(con, *args)`` in one short transaction through
``warehouse.db.run`` (which retries while a crawl holds the file). The call runs in a
worker thread so that, when it waits long, the page can say "database busy, retrying"
instead of freezing silently; lock waits never surface as errors.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from dashboard.i18n import t as translate
from warehouse.db import run
from warehouse.thai import format_thai_date
from warehouse.users import User, can_decide, is_admin

T = TypeVar("T")

BUSY_NOTICE_AFTER_S = 1.5
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="tagdraw-db")


def call_db(
    db_path: Path,
    fn: Callable[..., T],
    *args: Any,
    on_slow: Callable[[], Any] | None = None,
    **kwargs: Any,
) -> T:
    """``fn(con, *args, **kwargs)`` in one transaction; ``on_slow()`` is called once if it
    has not finished after BUSY_NOTICE_AFTER_S (the caller shows a notice)."""
    future = _POOL.submit(run, lambda con: fn(con, *args, **kwargs), db_path)
    try:
        return future.result(timeout=BUSY_NOTICE_AFTER_S)
    except concurrent.futures.TimeoutError:
        if on_slow is not None:
            on_slow()
        return future.result()


@dataclass
class Ctx:
    """Handed to every page's ``render(ctx)``.

    Attributes: ``db_path``; ``user`` (warehouse.users.User); ``campaign_slug`` (or None
    when there are no campaigns); ``lang`` ("th" | "en"); ``era`` ("BE" | "CE");
    ``demo_mode``. Methods: ``t(key, **values)``, ``col(name)``, ``frame(rows, columns)``,
    ``fmt_date(dt)``, ``call(fn, *args)``, ``can_decide``, ``is_admin``.
    """

    db_path: Path
    user: User
    campaign_slug: str | None
    lang: str = "th"
    era: str = "BE"
    demo_mode: bool = False
    busy_placeholder: Any = field(default=None, repr=False)

    def t(self, key: str, **values: object) -> str:
        return translate(key, self.lang, **values)

    def value(self, kind: str, raw: str | None) -> str:
        """A stored code shown in a table or line (a run's status ``ok``, its mode, its
        trigger) as its label ``<kind>_<raw>``; a code without a label is shown as stored."""
        if not raw:
            return ""
        label = self.t(f"{kind}_{raw}")
        return raw if label == f"{kind}_{raw}" else label

    def col(self, name: str) -> str:
        """A table column's or chart axis's header: the i18n label ``col_<name>``."""
        return self.t("col_" + name)

    def frame(self, rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
        """A table of ``rows`` (dicts keyed by column name) with ``columns`` in this order,
        each header shown as its label (``col``): no page shows a raw field name."""
        table = pd.DataFrame(list(rows), columns=list(columns))
        return table.rename(columns={name: self.col(name) for name in columns})

    def fmt_date(self, value: datetime | date | None, *, with_time: bool = True) -> str:
        if value is None:
            return "-"
        return format_thai_date(value, era=self.era, short=True, with_time=with_time)

    @property
    def can_decide(self) -> bool:
        return can_decide(self.user)

    @property
    def is_admin(self) -> bool:
        return is_admin(self.user)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(con, *args, **kwargs)`` against the warehouse (short transaction)."""
        placeholder = self.busy_placeholder

        def notice() -> None:
            if placeholder is not None:
                placeholder.info(self.t("db_busy"), icon="⏳")

        try:
            return call_db(self.db_path, fn, *args, on_slow=notice, **kwargs)
        finally:
            if placeholder is not None:
                placeholder.empty()
