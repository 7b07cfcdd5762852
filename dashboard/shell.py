"""The app shell: page setup, sign-in, sidebar (language, era, campaign) and the pages.

Each page has its own address (``st.navigation``): ``/`` overview, ``/review``,
``/duplicates``, ``/audit``, ``/crawls``, ``/draw``, ``/users``; the browser's back button
moves between them. Nothing is shown before sign-in except the sign-in form."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from dashboard import queries
from dashboard.context import Ctx, call_db
from dashboard.i18n import t
from dashboard.textview import inert
from warehouse import signin, users
from warehouse.db import resolve_db_path
from warehouse.errors import DatabaseBusy, TagdrawError
from warehouse.settings import get_settings
from warehouse.users import User

DEMO_USER = User(
    username="demo-mode",
    display_name="Demo",
    role="admin",
    disabled=False,
    created_at=None,
    updated_at=None,
    last_login_at=None,
)
# How often a signed-in session re-reads its account (a disabled user is signed out).
RECHECK_USER_S = 30.0


@dataclass(frozen=True)
class PageSpec:
    """One page: its key is its URL path and its i18n title ``page_<key>``."""

    key: str
    render: Callable[[Ctx], None]
    admin_only: bool = False
    # False: the page works without any campaign (the others show the "no campaigns" notice).
    needs_campaign: bool = True


def all_pages() -> list[PageSpec]:
    from dashboard.views import audit, crawls, draw, duplicates, overview, review, users_admin
    from dashboard.views.campaigns import render as render_campaigns

    return [
        PageSpec("overview", overview.render),
        PageSpec("review", review.render),
        PageSpec("duplicates", duplicates.render),
        PageSpec("audit", audit.render, needs_campaign=False),
        PageSpec("crawls", crawls.render),
        PageSpec("draw", draw.render, admin_only=True),
        PageSpec("users", users_admin.render, admin_only=True, needs_campaign=False),
        PageSpec("campaigns", render_campaigns, admin_only=True, needs_campaign=False),
    ]


DEFAULT_PAGE = "overview"  # at "/"


def pages_for(user: User) -> list[PageSpec]:
    """The pages ``user`` may open: a page that is not listed has no address for them."""
    if not users.can_view(user):
        return []
    return [p for p in all_pages() if users.is_admin(user) or not p.admin_only]


def demo_mode_requested() -> bool:
    return os.environ.get("TAGDRAW_DASHBOARD_DEMO_MODE", "").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def db_path_from_env() -> Path:
    # Read the environment on every run (not the cached settings): tests and the
    # ``dashboard`` command pass the path this way.
    value = os.environ.get("TAGDRAW_DB")
    return Path(value) if value else resolve_db_path(None)


def _oidc_configured() -> bool:
    """OIDC via st.login only when .streamlit/secrets.toml has an [auth] section."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _sidebar_preferences() -> tuple[str, str]:
    lang = st.session_state.setdefault("lang", "th")
    st.session_state.setdefault("era", "BE")
    with st.sidebar:
        st.radio(
            t("language", lang),
            options=["th", "en"],
            format_func=lambda v: "ไทย" if v == "th" else "English",
            key="lang",
            horizontal=True,
        )
        lang = st.session_state["lang"]
        st.radio(
            t("era", lang),
            options=["BE", "CE"],
            format_func=lambda v: t("era_be" if v == "BE" else "era_ce", lang),
            key="era",
            horizontal=True,
        )
    return st.session_state["lang"], st.session_state["era"]


def client_address() -> str:
    """Who is signing in, for the per-client throttle: the connection's IP address as
    Streamlit gives it (``st.context.ip_address``: the TCP peer, or the address a reverse
    proxy on this host names in X-Forwarded-For; raw headers are not read, anyone can send
    them). Streamlit reports no address for loopback connections: they are one client."""
    try:
        address = st.context.ip_address
    except Exception:  # no client context (e.g. outside a browser session)
        address = None
    # (AppTest's stand-in runtime answers with a non-string.)
    return address if isinstance(address, str) and address else "local"


def _sign_in_form(db_path: Path, lang: str) -> None:
    st.title(t("sign_in_title", lang))
    with st.form("sign_in_form"):
        username = st.text_input(t("username", lang), key="sign_in_username")
        password = st.text_input(t("password", lang), type="password", key="sign_in_password")
        submitted = st.form_submit_button(t("sign_in", lang), type="primary")
    if submitted:
        outcome = call_db(db_path, signin.sign_in, username, password, client=client_address())
        user = outcome.user
        if user is None and outcome.checked:
            st.error(t("bad_login", lang))
        elif user is None:
            wait = outcome.retry_after_s
            if wait >= 120:
                st.error(t("sign_in_wait_min", lang, minutes=-(-wait // 60)))
            else:
                st.error(t("sign_in_wait_s", lang, seconds=wait))
        else:
            st.session_state["user"] = user.username
            st.session_state["user_checked_at"] = time.monotonic()
            st.rerun()
    if _oidc_configured():
        st.divider()
        if not get_settings().oidc_domains:
            st.warning(t("oidc_no_domains", lang))
        elif st.button(t("sign_in_oidc", lang), key="oidc_login"):
            st.login()


def _current_user(db_path: Path, lang: str) -> User | None:
    """The signed-in account (re-read every RECHECK_USER_S), or None."""
    if _oidc_configured() and "user" not in st.session_state:
        try:
            logged_in = bool(st.user.is_logged_in)
        except Exception:
            logged_in = False
        if logged_in:
            email = str(st.user.get("email") or "")
            domains = get_settings().oidc_domains
            user = None
            # A refused identity is looked up (and audited) once, not on every rerun.
            if domains and st.session_state.get("oidc_refused") != email:
                user = call_db(
                    db_path,
                    users.user_for_oidc,
                    email,
                    allowed_domains=domains,
                    email_verified=st.user.get("email_verified"),
                    trust_unverified=get_settings().oidc_trust_unverified,
                )
            if user is None:
                st.session_state["oidc_refused"] = email
                st.error(t("no_account_oidc" if domains else "oidc_no_domains", lang))
                st.button(t("sign_out", lang), on_click=_oidc_sign_out)
                st.stop()
            st.session_state["user"] = user.username
    username = st.session_state.get("user")
    if not username:
        return None
    cached: User | None = st.session_state.get("user_obj")
    checked = st.session_state.get("user_checked_at", 0.0)
    if cached is None or cached.username != username or time.monotonic() - checked > RECHECK_USER_S:
        cached = call_db(db_path, users.get_user, username)
        st.session_state["user_obj"] = cached
        st.session_state["user_checked_at"] = time.monotonic()
    if cached is None or cached.disabled:
        _sign_out()
        return None
    return cached


def _sign_out() -> None:
    for key in ("user", "user_obj", "user_checked_at"):
        st.session_state.pop(key, None)


def _oidc_sign_out() -> None:
    st.session_state.pop("oidc_refused", None)
    st.logout()


def _sign_out_clicked() -> None:
    _sign_out()
    if _oidc_configured():
        with contextlib.suppress(Exception):
            st.logout()


def _sign_in_pages(db_path: Path, lang: str) -> list[StreamlitPage]:
    """Before sign-in every page's address shows the sign-in form (the navigation hidden),
    so that a link such as /review?post=N keeps its address and query, and opens that
    page once the form is sent."""

    def sign_in() -> None:
        _sign_in_form(db_path, lang)

    return [
        st.Page(
            sign_in,
            title=t("sign_in", lang),
            url_path=spec.key,
            default=spec.key == DEFAULT_PAGE,
        )
        for spec in all_pages()
    ]


def _campaign_picker(slugs: list[str], lang: str) -> str | None:
    """The sidebar's campaign, kept in the address as ``?campaign=slug`` (a link opens it)."""
    if not slugs:
        return None
    linked = st.query_params.get("campaign")
    if linked is not None and linked not in slugs:
        st.warning(t("unknown_campaign", lang, campaign=linked))
    if st.session_state.get("campaign") not in slugs:
        st.session_state.pop("campaign", None)
    if linked in slugs and st.session_state.get("campaign_linked") != linked:
        st.session_state["campaign"] = linked
    slug = st.selectbox(t("campaign", lang), options=slugs, key="campaign")
    st.session_state["campaign_linked"] = slug
    if linked != slug:
        st.query_params["campaign"] = slug
    return slug


def _page_runner(spec: PageSpec, ctx: Ctx) -> Callable[[], None]:
    def render() -> None:
        if spec.needs_campaign and ctx.campaign_slug is None:
            st.info(ctx.t("no_campaigns"))
            return
        try:
            spec.render(ctx)
        except DatabaseBusy:
            st.error(ctx.t("db_gave_up"))
        except TagdrawError as exc:
            st.error(str(exc))

    return render


def main() -> None:
    st.set_page_config(page_title="tagdraw", page_icon="🎁", layout="wide")
    db_path = db_path_from_env()
    demo = demo_mode_requested()
    lang, era = _sidebar_preferences()

    user = DEMO_USER if demo else _current_user(db_path, lang)
    if user is None:
        st.navigation(_sign_in_pages(db_path, lang), position="hidden").run()
        return

    if demo:
        st.warning(t("demo_banner", lang), icon="⚠️")
    busy = st.empty()

    try:
        slugs = call_db(db_path, queries.campaign_slugs)
    except DatabaseBusy:
        st.error(t("db_gave_up", lang))
        st.stop()
    with st.sidebar:
        # The display name is admin-typed text: shown as text, never as markdown.
        st.text(f"{t('signed_in_as', lang)}: {inert(user.label)} · {t('role_' + user.role, lang)}")
        if not demo:
            st.button(t("sign_out", lang), key="sign_out", on_click=_sign_out_clicked)
        slug = _campaign_picker(slugs, lang)
    ctx = Ctx(
        db_path=db_path,
        user=user,
        campaign_slug=slug,
        lang=lang,
        era=era,
        demo_mode=demo,
        busy_placeholder=busy,
    )
    pages = [
        st.Page(
            _page_runner(spec, ctx),
            title=t("page_" + spec.key, lang),
            url_path=spec.key,
            default=spec.key == DEFAULT_PAGE,
        )
        for spec in pages_for(user)
    ]
    st.navigation(pages, position="sidebar").run()
