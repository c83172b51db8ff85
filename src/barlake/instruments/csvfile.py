"""instruments.csv on disk: read every row with its line number; write or merge rows atomically."""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from barlake.errors import ConfigError
from barlake.instruments.cells import (
    COLUMNS,
    EXAMPLE_HEADER,
    REQUIRED,
    BadCell,
    Problems,
    column_name,
    normalise,
    parse_cells,
    row_key,
)
from barlake.instruments.record import Instrument, InstrumentSet
from barlake.lake.atomic import write_bytes_atomic

_BOM = b"\xef\xbb\xbf"

Key = tuple[str, str]


@dataclass
class _Text:
    """A decoded file as physical lines (line n is lines[n - 1]) plus how to write it back."""

    lines: list[str]
    bom: bool = False
    newline: str = "\n"

    def content(self) -> list[tuple[int, str]]:
        """(line number, text) of the lines that are neither blank nor `#` comments."""
        return [
            (number, text)
            for number, text in enumerate(self.lines, 1)
            if text.strip() and not text.lstrip().startswith("#")
        ]

    def encode(self) -> bytes:
        body = "".join(line + self.newline for line in self.lines).encode("utf-8")
        return _BOM + body if self.bom else body


def _read_text(path: Path) -> _Text:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such instruments file; create it with the header {EXAMPLE_HEADER} "
            "and one row per instrument, or run `barlake universe EXCHANGE --out FILE`"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the instruments file ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text; save the file as CSV UTF-8") from None
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    return _Text(lines, raw.startswith(_BOM), newline)


def _delimiter(header: str) -> str:
    """Comma, or the `;` / tab a spreadsheet in another locale saved the file with."""
    return next((sign for sign in (",", ";", "\t") if sign in header), ",")


def _split(text: str, delimiter: str) -> list[str]:
    reader = csv.reader([text], delimiter=delimiter, strict=True, skipinitialspace=True)
    return [cell.strip() for cell in next(reader)]


def _join(cells: list[str], delimiter: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(cells)
    return out.getvalue()


def _header(path: Path, text: str, delimiter: str) -> list[str]:
    names = [column_name(name) for name in _split(text, delimiter)]
    twice = sorted({name for name in names if name and names.count(name) > 1})
    if twice:
        raise ConfigError(
            f"{path}: column {', '.join(twice)} appears twice in the header; keep one"
        )
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        present = ", ".join(name for name in names if name) or "none"
        raise ConfigError(
            f"{path}: missing column {', '.join(missing)} (columns present: {present}); "
            f"the first line must name the columns, e.g. {EXAMPLE_HEADER}"
        )
    return names


def _unknown_columns(where: str, names: list[str]) -> list[str]:
    notes = []
    for name in names:
        if name and name not in COLUMNS:
            close = difflib.get_close_matches(name, COLUMNS, n=1)
            hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(COLUMNS)}"
            notes.append(f"{where}: column {name} is not known and is ignored; {hint}")
    return notes


def _row_cells(text: str, delimiter: str, names: list[str]) -> dict[str, str]:
    """Cells by column; a short row is padded with blanks. BadCell when the row is broken."""
    try:
        cells = _split(text, delimiter)
    except csv.Error as exc:
        raise BadCell(f"not valid CSV ({exc}); put cells holding {delimiter!r} in quotes") from None
    if any(cells[len(names) :]):
        raise BadCell(
            f"{len(cells)} cells but the header names {len(names)} columns; "
            f"put cells holding {delimiter!r} in quotes or add the column to the header"
        )
    return {name: value for name, value in zip(names, cells, strict=False) if name}


def load_instruments(path: Path) -> InstrumentSet:
    """Read and check instruments.csv: good rows in `.instruments`, every bad cell in `.errors`
    as `file:line: column C: what is wrong; the fix` (line as in the file, header included)."""
    path = Path(path)
    content = _read_text(path).content()
    if len(content) < 2:
        what = "has a header but no instrument rows" if content else "is empty"
        raise ConfigError(
            f"{path} {what}; write the header {EXAMPLE_HEADER} and one row per instrument, "
            "e.g. BTCUSDT,ccxt,BTC/USDT,binance,,"
        )
    (head_line, head), rows = content[0], content[1:]
    delimiter = _delimiter(head)
    names = _header(path, head, delimiter)
    result = InstrumentSet(path, warnings=_unknown_columns(f"{path}:{head_line}", names))
    seen: dict[Key, tuple[int, str]] = {}
    for line, row in rows:
        try:
            cells = _row_cells(row, delimiter, names)
        except BadCell as bad:
            result.errors.append(f"{path}:{line}: {bad}")
            continue
        values, problems = parse_cells(cells)
        problems += _duplicate(row_key(cells), line, seen)
        result.errors.extend(f"{path}:{line}: column {col}: {msg}" for col, msg in problems)
        if values is not None and not problems:
            result.instruments.append(Instrument(line=line, **values))  # type: ignore[arg-type]
    return result


def _fold(key: Key) -> Key:
    """Names equal but for case would share one folder on macOS/Windows disks."""
    return key[0], key[1].casefold()


def _duplicate(key: Key | None, line: int, seen: dict[Key, tuple[int, str]]) -> Problems:
    if key is None:
        return []
    if _fold(key) not in seen:
        seen[_fold(key)] = (line, key[1])
        return []
    first, name = seen[_fold(key)]
    where = f"on line {first}" + ("" if name == key[1] else f" as {name!r}")
    fix = "remove one of the rows or give this one another name"
    return [("instrument", f"{key[1]!r} on {key[0]} is already defined {where}; {fix}")]


@dataclass(frozen=True)
class MergeResult:
    """What write_instruments did: rows appended, rows updated in place, other rows kept."""

    path: Path
    added: int
    updated: int
    kept: int


def write_instruments(
    path: Path, rows: Iterable[Instrument | Mapping[str, str]], merge: bool = True
) -> MergeResult:
    """Write rows to instruments.csv atomically (temp file + os.replace).

    With `merge` and an existing file, a row whose (source, instrument) is already there is
    updated in place (cells the new row leaves out keep the file's value), new rows are
    appended, and everything else — other rows, bad rows, comments, column order, BOM, line
    ends — is kept. Without `merge` the file is replaced by exactly `rows`.
    """
    path = Path(path)
    new = _new_rows(rows)
    if merge and path.exists():
        text = _read_text(path)
        added, updated, kept = _merge(path, text, new)
    else:
        text = _Text([])
        added, updated, kept = _append(text, new, _fresh_names(new), ","), 0, 0
    write_bytes_atomic(path, text.encode())
    return MergeResult(path, added, updated, kept)


def _new_rows(rows: Iterable[Instrument | Mapping[str, str]]) -> dict[Key, dict[str, str]]:
    """Checked cells by folded key; a later row with the same key replaces an earlier one."""
    out: dict[Key, dict[str, str]] = {}
    for row in rows:
        record = row if isinstance(row, Instrument) else Instrument.from_row(row)
        cells = record.to_row() if isinstance(row, Instrument) else normalise(row)
        out[_fold(record.key)] = cells
    return out


def _fresh_names(new: dict[Key, dict[str, str]]) -> list[str]:
    used = {name for cells in new.values() for name, value in cells.items() if value}
    extra = [name for cells in new.values() for name in cells if name in used - set(COLUMNS)]
    known = [name for name in COLUMNS if name in REQUIRED or name in used]
    return known + list(dict.fromkeys(extra))


def _append(text: _Text, new: dict[Key, dict[str, str]], names: list[str], delimiter: str) -> int:
    if not text.content():
        text.lines.append(_join(names, delimiter))
    for cells in new.values():
        text.lines.append(_join([cells.get(name, "") for name in names], delimiter))
    return len(new)


def _merge(path: Path, text: _Text, new: dict[Key, dict[str, str]]) -> tuple[int, int, int]:
    content = text.content()
    if not content:
        return _append(text, new, _fresh_names(new), ","), 0, 0
    (head_line, head), rows = content[0], content[1:]
    delimiter = _delimiter(head)
    names = _header(path, head, delimiter)
    extra = [name for name in _fresh_names(new) if name not in names]
    if extra:
        text.lines[head_line - 1] = _join([*_split(head, delimiter), *extra], delimiter)
        names += extra
    pending, updated = dict(new), 0
    for line, row in rows:
        try:
            key = row_key(_row_cells(row, delimiter, names))
        except BadCell:
            continue
        update = pending.pop(_fold(key), None) if key else None
        if update is not None:
            cells = _split(row, delimiter)
            cells += [""] * (len(names) - len(cells))
            for name, value in update.items():
                if name in names:  # a blank cell for a column the file lacks adds nothing
                    cells[names.index(name)] = value
            text.lines[line - 1] = _join(cells, delimiter)
            updated += 1
    added = _append(text, pending, names, delimiter)
    return added, updated, len(rows) - updated
