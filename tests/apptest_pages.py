"""Moving between the dashboard's pages in AppTest.

The pages are ``st.Page`` callables under ``st.navigation``. ``AppTest.switch_page`` only
takes page files, so a test asks for a page the way a browser does: by the page's script
hash, which Streamlit makes from its URL path (``calc_hash(url_path)``)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash


def goto(at: AppTest, key: str) -> AppTest:
    """Open the page whose URL path is ``key`` (e.g. "review") and run the script."""
    at._page_hash = calc_hash(key)
    at.run()
    assert not at.exception, at.exception
    return at


def page_titles(at: AppTest) -> list[str]:
    """The titles of the pages the last run registered with st.navigation, in order."""
    return [str(info.get("page_name")) for info in at._registered_pages.values()]


def page_paths(at: AppTest) -> list[str]:
    """The URL paths of the registered pages ("" is the default page, at "/")."""
    return [str(info.get("url_pathname", "")) for info in at._registered_pages.values()]


def signed_in(at: AppTest) -> bool:
    """Someone is signed in: the sidebar offers to sign out and the pages have titles of
    their own (before sign-in every address shows the sign-in form)."""
    return "sign_out" in [b.key for b in at.sidebar.button]
