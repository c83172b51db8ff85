"""Widgets more than one page uses: a selectbox that survives a changed lake, the series
pickers, and the stop for a lake that holds nothing yet."""

from __future__ import annotations

from typing import Any

import streamlit as st

from barlake.app.data_view import Tree, series_tree
from barlake.app.messages import readable_errors
from barlake.lake import Lake

SERIES_FIELDS = ("source", "instrument", "timeframe")


def pick(label: str, options: list[str], key: str) -> str:
    """A selectbox whose remembered value is dropped when it is no longer an option."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = options[0]
    return str(st.selectbox(label, options, key=key))


def pick_series(tree: Tree, prefix: str, columns: Any = None) -> dict[str, str]:
    """Source, instrument and timeframe selectboxes (keys `<prefix>.source`, ...) side by side,
    in three new columns or the three given."""
    left, middle, right = columns or st.columns(3)
    with left:
        source = pick("Source", list(tree), f"{prefix}.source")
    with middle:
        instrument = pick("Instrument", list(tree[source]), f"{prefix}.instrument")
    with right:
        timeframe = pick("Timeframe", tree[source][instrument], f"{prefix}.timeframe")
    return {"source": source, "instrument": instrument, "timeframe": timeframe}


def require_series(lake: Lake) -> Tree:
    """The lake's series tree; an empty lake says how to fill it and stops the page."""
    with readable_errors("Reading the lake"):
        tree = series_tree(lake)
    if not tree:
        st.warning(
            f"The lake at {lake.root} holds no series yet. Fill it with "
            f"`barlake demo --lake {lake.root}` or `barlake sync`, then reload."
        )
        st.stop()
    return tree
