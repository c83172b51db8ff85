"""Entry point `barlake app` hands to `streamlit run`: one navigation over the four pages."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).parent / "views"


def main() -> None:
    """Builds the sidebar navigation; each page is a script under views/ (a folder named
    pages/ would also be auto-listed by Streamlit on a deep link)."""
    st.set_page_config(page_title="barlake", layout="wide")
    pages = [
        st.Page(PAGES / "data.py", title="Data", url_path="data", default=True),
        st.Page(PAGES / "scan.py", title="Scan", url_path="scan"),
        st.Page(PAGES / "backtest.py", title="Backtest", url_path="backtest"),
        st.Page(PAGES / "optimize.py", title="Optimize", url_path="optimize"),
    ]
    st.navigation(pages).run()


main()
