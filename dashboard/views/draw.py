"""The draw page belongs to the draw part (``dashboard/draw_page.py``, ``render(ctx)``);
admins only. Until that module exists the page says it is not available yet."""

from __future__ import annotations

import importlib
import importlib.util

import streamlit as st

from dashboard.context import Ctx


def render(ctx: Ctx) -> None:
    if not ctx.is_admin:
        st.error(ctx.t("not_allowed"))
        return
    if importlib.util.find_spec("dashboard.draw_page") is None:
        st.header(ctx.t("page_draw"))
        st.info(ctx.t("draw_not_available"))
        return
    module = importlib.import_module("dashboard.draw_page")
    module.render(ctx)
