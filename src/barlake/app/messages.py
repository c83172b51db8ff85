"""Errors on a page: one readable box saying what went wrong and what to do, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import streamlit as st

from barlake.errors import BarlakeError, ConfigError, CorruptFileError, LockedError, SourceError

_HINTS: list[tuple[type[BaseException], str]] = [
    (CorruptFileError, "Reload this page once `barlake verify --repair` has moved the file aside."),
    (LockedError, "Another process is writing this series; wait a moment and reload."),
    (ConfigError, "Change the selection or the input and try again."),
    (SourceError, "The data source failed; check the network or the instruments row and retry."),
    (OSError, "Check that the folder exists and is readable (see `barlake app --lake/--runs`)."),
]


def hint_for(exc: BaseException) -> str:
    """What the user can do next, chosen by the error class (the class decides, not the text)."""
    for kind, hint in _HINTS:
        if isinstance(exc, kind):
            return hint
    return "Fix the input or see the terminal running `barlake app` for details."


def describe(exc: BaseException) -> str:
    """One line for the box: the error's own message, or its class name when it has none."""
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or type(exc).__name__}: {exc.filename}"
    return str(exc) or type(exc).__name__


def error_text(exc: BaseException, context: str = "") -> str:
    """The box's text: context, the message's first line, any further lines as code, the hint."""
    head = f"{context}: " if context else ""
    first, _, rest = describe(exc).partition("\n")
    detail = f"\n```\n{rest}\n```\n" if rest.strip() else ""  # keeps a caret under its column
    return f"{head}{first}\n{detail}\n{hint_for(exc)}"


def show_error(exc: BaseException, context: str = "") -> NoReturn:
    """Show `exc` as a readable st.error with a hint, then stop the page's script."""
    st.error(error_text(exc, context))
    st.stop()
    raise AssertionError("st.stop() returned")  # pragma: no cover - st.stop always raises


@contextmanager
def readable_errors(context: str = "") -> Iterator[None]:
    """`with readable_errors("Reading bars"): ...` — BarlakeError/OSError become an error box."""
    try:
        yield
    except (BarlakeError, OSError) as exc:
        show_error(exc, context)


@contextmanager
def shown_errors(context: str) -> Iterator[None]:
    """Like readable_errors, but the rest of the page still renders: one broken panel (a moved
    lake, a missing CSV) must not hide the others."""
    try:
        yield
    except (BarlakeError, OSError) as exc:
        st.error(error_text(exc, context))
