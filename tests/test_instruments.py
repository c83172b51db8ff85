"""instruments.csv: typed records and lake sources, every bad cell reported at once, safe merges."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barlake.dates import to_ms
from barlake.errors import ConfigError
from barlake.instruments import (
    COLUMNS,
    Instrument,
    filter_instruments,
    load_instruments,
    write_instruments,
)

HEADER = ",".join(COLUMNS)

REALISTIC = """\
# crypto from Binance (spot and USD-M perps), an FTMO index and FX from Dukascopy
instrument,backend,data_symbol,exchange,market,price,price_scale,start,base_url,archive_url,side,transport
BTCUSDT,ccxt,BTC/USDT,binance,,,,2024-01-01,,https://data.binance.vision,,
BTCUSDT,ccxt,BTC/USDT:USDT,binance,swap,mark,,,https://fapi.binance.com,,,
ETHUSDC,ccxt,ETH/USDC:USDC,hyperliquid,swap,,,2024-06-01T12:30,http://127.0.0.1:54321,,,

US500.cash,dukascopy,USA500IDXUSD,,,,1000,,,,mid,bi5
EURUSD,dukascopy,EURUSD,,,,100000,2020-01-01,,,,
USDJPY,dukascopy,USDJPY,,,,,,,,ask,
"""


def ms(text: str) -> int:
    value = to_ms(text)
    assert value is not None
    return value


def put(folder: Path, text: str, name: str = "instruments.csv", *, bom: bool = False) -> Path:
    path = folder / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def row(**cells: str) -> str:
    """One CSV line in COLUMNS order; a good ccxt spot row unless cells say otherwise."""
    base = {"instrument": "BTCUSDT", "backend": "ccxt", "data_symbol": "BTC/USDT"}
    base |= {"exchange": "binance"} | cells
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow([base.get(name, "") for name in COLUMNS])
    return out.getvalue()


# --- good files ------------------------------------------------------------------------------


def test_realistic_file_parses_to_the_expected_records_and_sources(tmp_path):
    result = load_instruments(put(tmp_path, REALISTIC))

    assert result.ok
    assert result.errors == []
    assert result.warnings == []
    assert list(result) == [
        Instrument(
            "BTCUSDT",
            "ccxt",
            "BTC/USDT",
            "binance",
            start_ms=ms("2024-01-01"),
            archive_url="https://data.binance.vision",
        ),
        Instrument(
            "BTCUSDT",
            "ccxt",
            "BTC/USDT:USDT",
            "binance",
            market="swap",
            price="mark",
            base_url="https://fapi.binance.com",
        ),
        Instrument(
            "ETHUSDC",
            "ccxt",
            "ETH/USDC:USDC",
            "hyperliquid",
            market="swap",
            start_ms=ms("2024-06-01T12:30"),
            base_url="http://127.0.0.1:54321",
        ),
        Instrument(
            "US500.cash",
            "dukascopy",
            "USA500IDXUSD",
            price_scale=1000.0,
            side="mid",
            transport="bi5",
        ),
        Instrument("EURUSD", "dukascopy", "EURUSD", price_scale=1e5, start_ms=ms("2020-01-01")),
        Instrument("USDJPY", "dukascopy", "USDJPY", side="ask"),
    ]
    assert [item.source for item in result] == [
        "binance",
        "binance_swap",
        "hyperliquid_swap",
        "dukascopy",
        "dukascopy",
        "dukascopy",
    ]
    assert [item.line for item in result] == [3, 4, 5, 7, 8, 9]
    assert result.instruments[5].price_scale is None  # left to the built-in Dukascopy table
    assert len(result) == 6


@pytest.mark.parametrize(
    ("exchange", "market", "source"),
    [
        ("binance", "spot", "binance"),
        ("binance", "swap", "binance_swap"),
        ("okx", "future", "okx_future"),
        ("hyperliquid", "swap", "hyperliquid_swap"),
    ],
)
def test_ccxt_source_is_the_exchange_id_with_the_market_unless_spot(exchange, market, source):
    symbol = "BTC/USDT" if market == "spot" else "BTC/USDT:USDT"
    cells = {"instrument": "BTC", "backend": "ccxt", "data_symbol": symbol}
    item = Instrument.from_row(cells | {"exchange": exchange, "market": market})

    assert item.source == source
    assert item.key == (source, "BTC")


def test_keywords_and_exchange_ids_are_read_in_any_case_and_urls_lose_trailing_slash(tmp_path):
    text = (
        "Instrument , BACKEND, Data Symbol ,Exchange,Market,Price,base-url\n"
        " ETHUSDT ,CCXT, ETH/USDT:USDT ,Binance,SWAP,Index,HTTPS://FAPI.Binance.com/\n"
    )
    (item,) = load_instruments(put(tmp_path, text)).instruments

    assert item == Instrument(
        "ETHUSDT",
        "ccxt",
        "ETH/USDT:USDT",
        "binance",
        market="swap",
        price="index",
        base_url="https://fapi.binance.com",
    )


def test_start_accepts_dates_and_iso_times_as_utc(tmp_path):
    starts = ["2024-01-31", "2024-01-31T12:00", "2024-01-31 12:00:30", "2024-01-31T14:00+02:00"]
    text = "instrument,backend,data_symbol,start\n" + "".join(
        f"I{n},dukascopy,EURUSD,{start}\n" for n, start in enumerate(starts)
    )
    result = load_instruments(put(tmp_path, text))

    assert [item.start_ms for item in result] == [
        1_706_659_200_000,
        1_706_659_200_000 + 12 * 3_600_000,
        1_706_659_200_000 + 12 * 3_600_000 + 30_000,
        1_706_659_200_000 + 12 * 3_600_000,
    ]


def test_price_scale_is_a_point_factor_in_any_number_spelling(tmp_path):
    text = "instrument,backend,data_symbol,price_scale\nA,dukascopy,EURUSD,1e5\n"
    text += "B,dukascopy,AUDCNH,999999.99\nC,dukascopy,BTCUSD,10\n"

    assert [item.price_scale for item in load_instruments(put(tmp_path, text))] == [
        100000.0,
        999999.99,
        10.0,
    ]


# --- bad cells -------------------------------------------------------------------------------

# fmt: off
BAD_CELLS = [
    ({"market": "perp", "data_symbol": "BTC/USDT:USDT"}, "market", "'perp' is not one of spot|swap|future; use swap for perpetuals"),
    ({"market": "futures"}, "market", "'futures' is not one of spot|swap|future; use future for dated futures"),
    ({"backend": "binance"}, "backend", "'binance' is not one of ccxt|dukascopy; use ccxt for a crypto exchange (its id goes in column exchange) or dukascopy for FX/CFDs"),
    ({"backend": "dukascopi"}, "backend", "'dukascopi' is not one of ccxt|dukascopy; did you mean dukascopy?"),
    ({"backend": ""}, "backend", "empty; use ccxt for a crypto exchange or dukascopy for FX/CFDs"),
    ({"instrument": ""}, "instrument", "empty; give the name the bars are stored under, e.g. BTCUSDT or US500.cash"),
    ({"data_symbol": ""}, "data_symbol", "empty; give the backend's symbol, e.g. BTC/USDT (ccxt) or EURUSD (dukascopy)"),
    ({"exchange": ""}, "exchange", "empty; a ccxt row needs the ccxt exchange id, e.g. binance"),
    ({"exchange": "binance_swap"}, "exchange", "'binance_swap' is not a ccxt exchange id; put the market in its own column: exchange binance, market swap"),
    ({"exchange": "binance.com"}, "exchange", "'binance.com' is not a ccxt exchange id; use the ccxt exchange id: lower-case letters and digits, e.g. binance or okx"),
    ({"data_symbol": "BTCUSDT"}, "data_symbol", "'BTCUSDT' is not a ccxt unified symbol; write BASE/QUOTE such as BTC/USDT (spot) or BTC/USDT:USDT (swap)"),
    ({"data_symbol": "BTC USDT"}, "data_symbol", "'BTC USDT' holds a space or separator; write the symbol alone, e.g. BTC/USDT"),
    ({"data_symbol": "BTC/USDT:USDT"}, "data_symbol", "'BTC/USDT:USDT' is a contract symbol but market is spot; set market to swap (or future), or use BTC/USDT for spot"),
    ({"market": "swap"}, "data_symbol", "'BTC/USDT' is a spot symbol but market is swap; use BTC/USDT:USDT (settle currency after ':') or set market to spot"),
    ({"price": "mark"}, "price", "'mark' prices exist only for contracts; set market to swap or future, or price to last"),
    ({"price": "close"}, "price", "'close' is not one of last|mark|index; use last for traded prices"),
    ({"start": "31/01/2024"}, "start", "'31/01/2024' is not a date; use YYYY-MM-DD (UTC midnight) or an ISO date-time such as 2024-01-31T12:00"),
    ({"start": "2024-02-30"}, "start", "'2024-02-30' is not a real date; use YYYY-MM-DD (UTC midnight) or an ISO date-time such as 2024-01-31T12:00"),
    ({"start": "2999-01-01"}, "start", "'2999-01-01' is in the future; use a past date or leave it blank"),
    ({"start": "9999-01-01"}, "start", "'9999-01-01' is in the future; use a past date or leave it blank"),
    ({"base_url": "api.binance.com/api/v3"}, "base_url", "'api.binance.com/api/v3' has no scheme; write https://api.binance.com"),
    ({"base_url": "127.0.0.1:54321"}, "base_url", "'127.0.0.1:54321' has no scheme; write http://127.0.0.1:54321"),
    ({"base_url": "https://api.binance.com/api/v3"}, "base_url", "'https://api.binance.com/api/v3' has a path; give scheme + host + port only: https://api.binance.com"),
    ({"base_url": "ftp://mirror.example"}, "base_url", "'ftp://mirror.example' is not an http(s) address; e.g. https://api.binance.com or http://127.0.0.1:54321"),
    ({"base_url": "http://127.0.0.1:99999"}, "base_url", "'http://127.0.0.1:99999' has a bad port; use a number from 1 to 65535, e.g. https://api.binance.com or http://127.0.0.1:54321"),
    ({"base_url": "https://key:secret@api.binance.com"}, "base_url", "'https://key:secret@api.binance.com' holds credentials; keep secrets in the environment or .env"),
    ({"archive_url": "https://data.binance.vision/data/spot"}, "archive_url", "'https://data.binance.vision/data/spot' has a path; give scheme + host + port only: https://data.binance.vision"),
    ({"price_scale": "100000"}, "price_scale", "'100000' is for dukascopy rows only; leave it blank"),
    ({"side": "ask"}, "side", "'ask' is for dukascopy rows only; leave it blank"),
    ({"transport": "bi5"}, "transport", "'bi5' is for dukascopy rows only; leave it blank"),
]
DUKASCOPY = {"instrument": "EURUSD", "backend": "dukascopy", "data_symbol": "EURUSD", "exchange": ""}
BAD_DUKASCOPY_CELLS = [
    ({"exchange": "dukascopy"}, "exchange", "'dukascopy' is for ccxt rows only; leave it blank"),
    ({"market": "spot"}, "market", "'spot' is for ccxt rows only; leave it blank"),
    ({"archive_url": "https://x.org"}, "archive_url", "'https://x.org' is for ccxt rows only; leave it blank"),
    ({"data_symbol": "EUR/USD"}, "data_symbol", "'EUR/USD' is not a Dukascopy code (capitals and digits); write it without separators: EURUSD"),
    ({"price_scale": "5"}, "price_scale", "'5' is not a price factor; that looks like a number of decimals; use 100000 for 5, or leave it blank for the built-in table"),
    ({"price_scale": "0.001"}, "price_scale", "'0.001' is not a price factor; that looks like the point size; use its inverse, 1000, or leave it blank for the built-in table"),
    ({"price_scale": "-1000"}, "price_scale", "'-1000' is not a price factor; use the point factor, e.g. 100000 for EURUSD or 1000 for USDJPY, or leave it blank for the built-in table"),
    ({"price_scale": "1e5x"}, "price_scale", "'1e5x' is not a price factor; use the point factor, e.g. 100000 for EURUSD or 1000 for USDJPY, or leave it blank for the built-in table"),
    ({"price_scale": "inf"}, "price_scale", "'inf' is not a price factor; use the point factor, e.g. 100000 for EURUSD or 1000 for USDJPY, or leave it blank for the built-in table"),
    ({"side": "buy"}, "side", "'buy' is not one of bid|ask|mid; use ask"),
    ({"side": "average"}, "side", "'average' is not one of bid|ask|mid; use bid (the default), ask, or mid for (bid+ask)/2"),
    ({"transport": "http"}, "transport", "'http' is not one of json|bi5; use json (the default, the current API) or bi5 (the legacy datafeed)"),
]
# fmt: on


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    BAD_CELLS + [(DUKASCOPY | cells, column, message) for cells, column, message in BAD_DUKASCOPY_CELLS],
)  # fmt: skip
def test_each_kind_of_bad_cell_is_reported_with_line_column_value_and_fix(
    tmp_path, cells, column, message
):
    good = row(instrument="ETHUSDT", data_symbol="ETH/USDT")
    path = put(tmp_path, f"{HEADER}\n{good}\n{row(**cells)}\n")
    result = load_instruments(path)

    assert result.errors == [f"{path}:3: column {column}: {message}"]
    assert not result.ok
    assert [item.instrument for item in result] == ["ETHUSDT"]


def test_a_bad_instrument_name_is_refused_with_a_safe_suggestion(tmp_path):
    path = put(tmp_path, f"{HEADER}\n{row(instrument='US 500/cash')}\n")
    (error,) = load_instruments(path).errors

    assert error.startswith(f"{path}:2: column instrument: bad instrument name 'US 500/cash'")
    assert error.endswith("; e.g. 'US_500_cash'")


def test_message_reads_as_in_the_docs_when_the_path_is_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = [HEADER] + [row(instrument=f"I{n}") for n in range(2, 7)]
    lines.append(row(market="perp", data_symbol="BTC/USDT:USDT"))
    put(tmp_path, "\n".join(lines) + "\n")

    result = load_instruments(Path("instruments.csv"))

    assert result.errors == [
        "instruments.csv:7: column market: 'perp' is not one of spot|swap|future; "
        "use swap for perpetuals"
    ]


def test_every_bad_row_and_every_bad_cell_is_reported_at_once_and_good_rows_survive(tmp_path):
    text = "\n".join(
        [
            HEADER,
            row(instrument="A"),
            row(instrument="B", market="perp", price="close", start="yesterday"),
            "# a comment between rows",
            row(instrument="C", backend="cctx"),
            "",
            row(instrument="D", data_symbol="ETH/USDT"),
            row(instrument="E", exchange="Binance Futures", base_url="api.x.com"),
        ]
    )
    path = put(tmp_path, text + "\n")
    result = load_instruments(path)

    assert [error.split(": ", 2)[:2] for error in result.errors] == [
        [f"{path}:3", "column market"],
        [f"{path}:3", "column price"],
        [f"{path}:3", "column start"],
        [f"{path}:5", "column backend"],
        [f"{path}:8", "column exchange"],
        [f"{path}:8", "column base_url"],
    ]
    assert "'cctx' is not one of ccxt|dukascopy; did you mean ccxt?" in result.errors[3]
    assert [(item.instrument, item.line) for item in result] == [("A", 2), ("D", 7)]


def test_broken_csv_rows_are_reported_and_other_rows_survive(tmp_path):
    text = f'{HEADER}\nA,ccxt,"BTC/USDT,binance\n{row(instrument="B")},surplus\n{row(instrument="C")}\n'
    path = put(tmp_path, text)
    result = load_instruments(path)

    assert result.errors == [
        f"{path}:2: not valid CSV (unexpected end of data); put cells holding ',' in quotes",
        f"{path}:3: 13 cells but the header names 12 columns; "
        "put cells holding ',' in quotes or add the column to the header",
    ]
    assert [item.instrument for item in result] == ["C"]


def test_short_rows_and_trailing_empty_cells_mean_defaults(tmp_path):
    text = "instrument,backend,data_symbol,exchange,market,side\nA,ccxt,BTC/USDT,binance\n"
    text += "B,dukascopy,EURUSD,,,,,\n"
    result = load_instruments(put(tmp_path, text))

    assert result.errors == []
    assert list(result) == [
        Instrument("A", "ccxt", "BTC/USDT", "binance"),
        Instrument("B", "dukascopy", "EURUSD"),
    ]


# --- duplicates ------------------------------------------------------------------------------


def test_duplicate_source_and_instrument_is_an_error_on_the_later_line(tmp_path):
    text = f"{HEADER}\n{row()}\n{row(instrument='ETHUSDT', data_symbol='ETH/USDT')}\n"
    text += f"{row(data_symbol='BTC/FDUSD')}\n"
    path = put(tmp_path, text)
    result = load_instruments(path)

    assert result.errors == [
        f"{path}:4: column instrument: 'BTCUSDT' on binance is already defined on line 2; "
        "remove one of the rows or give this one another name"
    ]
    assert [(item.instrument, item.data_symbol) for item in result] == [
        ("BTCUSDT", "BTC/USDT"),
        ("ETHUSDT", "ETH/USDT"),
    ]


def test_same_name_on_spot_swap_and_dukascopy_is_not_a_duplicate(tmp_path):
    text = f"{HEADER}\n{row(instrument='BTCUSD')}\n"
    text += f"{row(instrument='BTCUSD', market='swap', data_symbol='BTC/USDT:USDT')}\n"
    text += f"{row(**DUKASCOPY | {'instrument': 'BTCUSD', 'data_symbol': 'BTCUSD'})}\n"
    result = load_instruments(put(tmp_path, text))

    assert result.errors == []
    assert [item.key for item in result] == [
        ("binance", "BTCUSD"),
        ("binance_swap", "BTCUSD"),
        ("dukascopy", "BTCUSD"),
    ]


def test_names_that_differ_only_in_case_collide_as_duplicates(tmp_path):
    path = put(tmp_path, f"{HEADER}\n{row()}\n{row(instrument='btcusdt')}\n")
    result = load_instruments(path)

    assert result.errors == [
        f"{path}:3: column instrument: 'btcusdt' on binance is already defined on line 2 as "
        "'BTCUSDT'; remove one of the rows or give this one another name"
    ]


def test_a_duplicate_of_a_bad_row_is_still_reported(tmp_path):
    path = put(tmp_path, f"{HEADER}\n{row(start='soon')}\n{row()}\n")
    result = load_instruments(path)

    assert [error.split(": ", 2)[:2] for error in result.errors] == [
        [f"{path}:2", "column start"],
        [f"{path}:3", "column instrument"],
    ]
    assert list(result) == []


# --- file shape ------------------------------------------------------------------------------


def test_bom_crlf_comments_and_blank_lines_keep_true_line_numbers(tmp_path):
    lines = ["# instruments for the nightly sync", "", HEADER, row(), "   ", "# EURUSD next"]
    lines += [",".join(["EURUSD", "dukascopy", "EURUSD"]), row(instrument="X", market="perp")]
    path = put(tmp_path, "\r\n".join(lines) + "\r\n", bom=True)
    result = load_instruments(path)

    assert [(item.instrument, item.line) for item in result] == [("BTCUSDT", 4), ("EURUSD", 7)]
    assert [error.split(": ", 1)[0] for error in result.errors] == [f"{path}:8"]
    assert result.instruments[1].data_symbol == "EURUSD"  # no stray \r in the last cell


def test_semicolon_separated_file_from_a_spreadsheet_is_read(tmp_path):
    text = "instrument;backend;data_symbol;price_scale\r\nEURUSD;dukascopy;EURUSD;100000\r\n"

    assert list(load_instruments(put(tmp_path, text))) == [
        Instrument("EURUSD", "dukascopy", "EURUSD", price_scale=100000.0)
    ]


def test_unknown_column_is_a_warning_not_an_error(tmp_path):
    text = "# header on line 2\ninstrument,backend,data_symbol,exchnage,notes\n"
    text += "EURUSD,dukascopy,EURUSD,,my note\n"
    path = put(tmp_path, text)
    result = load_instruments(path)

    assert result.ok
    assert len(result) == 1
    assert result.warnings[0] == (
        f"{path}:2: column exchnage is not known and is ignored; did you mean exchange?"
    )
    assert result.warnings[1].startswith(f"{path}:2: column notes is not known and is ignored")


def test_missing_required_column_is_one_config_error_naming_file_and_columns(tmp_path):
    path = put(tmp_path, "instrument,exchange,symbol\nBTCUSDT,binance,BTC/USDT\n")

    with pytest.raises(ConfigError) as caught:
        load_instruments(path)

    assert str(caught.value) == (
        f"{path}: missing column backend, data_symbol (columns present: instrument, exchange, "
        "symbol); the first line must name the columns, e.g. "
        "instrument,backend,data_symbol,exchange,market,price_scale"
    )


def test_a_column_named_twice_is_refused(tmp_path):
    path = put(tmp_path, "instrument,backend,data_symbol,Market,market\nA,ccxt,B/C,x,,\n")

    with pytest.raises(ConfigError, match="column market appears twice in the header"):
        load_instruments(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such instruments file; create it with the header"),
        (b"", "is empty; write the header"),
        (b"\xef\xbb\xbf\r\n# only a comment\r\n\r\n", "is empty; write the header"),
        (HEADER.encode() + b"\n", "has a header but no instrument rows"),
        (
            b"instrument,backend,data_symbol\nEURUSD,dukascopy,EUR\xe0USD\n",
            ":2: not UTF-8 text; save the file as CSV UTF-8",
        ),
    ],
)
def test_missing_empty_or_unreadable_file_is_a_config_error_that_says_what_to_do(
    tmp_path, content, expected
):
    path = tmp_path / "instruments.csv"
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(ConfigError, match=r"^" + str(path)) as caught:
        load_instruments(path)

    assert expected in str(caught.value)


# --- records in code -------------------------------------------------------------------------


def test_from_row_lists_every_problem_in_one_config_error():
    with pytest.raises(ConfigError) as caught:
        Instrument.from_row({"instrument": "X", "backend": "ccxt", "data_symbol": "XUSDT"})

    assert str(caught.value) == (
        "instrument 'X': column data_symbol: 'XUSDT' is not a ccxt unified symbol; write "
        "BASE/QUOTE such as X/USDT (spot) or X/USDT:USDT (swap); column exchange: empty; "
        "a ccxt row needs the ccxt exchange id, e.g. binance"
    )


@pytest.mark.parametrize(
    "item",
    [
        Instrument("BTCUSDT", "ccxt", "BTC/USDT", "binance"),
        Instrument("BTC", "ccxt", "BTC/USDC:USDC", "hyperliquid", market="swap", price="mark"),
        Instrument("E", "dukascopy", "EURUSD", price_scale=1e5, start_ms=1_706_659_200_000),
        Instrument("A", "dukascopy", "AUDCNH", price_scale=999999.99, side="mid", transport="bi5"),
        Instrument("S", "ccxt", "ETH/USDT", "okx", start_ms=1_706_702_430_500),
        Instrument("T", "ccxt", "ETH/USDT", "okx", start_ms=1_706_702_430_000),
        Instrument("U", "ccxt", "ETH/USDT", "okx", base_url="http://127.0.0.1:8080"),
    ],
)
def test_to_row_holds_only_non_default_cells_and_reads_back_equal(item):
    cells = item.to_row()

    assert Instrument.from_row(cells) == item
    assert "side" not in cells or item.side != "bid"
    assert "market" not in cells or item.market != "spot"


# --- filter ----------------------------------------------------------------------------------


def test_only_keeps_one_backend_and_filter_searches_instrument_names(tmp_path):
    items = load_instruments(put(tmp_path, REALISTIC)).instruments

    assert [i.instrument for i in filter_instruments(items, "dukascopy", None)] == [
        "US500.cash",
        "EURUSD",
        "USDJPY",
    ]
    assert [i.key for i in filter_instruments(items, "ccxt", "^BTC")] == [
        ("binance", "BTCUSDT"),
        ("binance_swap", "BTCUSDT"),
    ]
    assert [i.instrument for i in filter_instruments(items, None, "^(EUR|USD|GBP|JPY)")] == [
        "EURUSD",
        "USDJPY",
    ]
    assert filter_instruments(items, None, None) == items
    assert filter_instruments(items, "DUKASCOPY", "cash$") == [items[3]]


def test_bad_filter_regex_or_only_value_is_a_config_error():
    with pytest.raises(ConfigError, match=r"bad --filter regex '\^\(EUR': missing \)"):
        filter_instruments([], None, "^(EUR")
    with pytest.raises(ConfigError, match="bad --only 'binance': use ccxt or dukascopy"):
        filter_instruments([], "binance", None)


# --- write and merge -------------------------------------------------------------------------

USER_FILE = """\
# my book; keep this comment
exchange,instrument,backend,data_symbol,market,notes,start
binance,BTCUSDT,ccxt,BTC/USDT,,core position,2021-01-01
,EURUSD,dukascopy,EURUSD,,fx,
binance,SOLUSDT,ccxt,SOLUSDT,,a bad row stays as it is,
"""


def test_merge_updates_its_rows_in_place_and_keeps_foreign_rows_comments_and_columns(tmp_path):
    path = put(tmp_path, USER_FILE)
    new = [
        Instrument("BTCUSDT", "ccxt", "BTC/USDT", "binance", base_url="https://api1.binance.com"),
        Instrument("ETHUSDT", "ccxt", "ETH/USDT", "binance"),
    ]

    result = write_instruments(path, new)

    assert (result.added, result.updated, result.kept) == (1, 1, 2)
    assert path.read_text().splitlines() == [
        "# my book; keep this comment",
        "exchange,instrument,backend,data_symbol,market,notes,start,base_url",
        "binance,BTCUSDT,ccxt,BTC/USDT,,core position,2021-01-01,https://api1.binance.com",
        ",EURUSD,dukascopy,EURUSD,,fx,",
        "binance,SOLUSDT,ccxt,SOLUSDT,,a bad row stays as it is,",
        "binance,ETHUSDT,ccxt,ETH/USDT,,,,",
    ]
    loaded = load_instruments(path)
    assert [item.key for item in loaded] == [
        ("binance", "BTCUSDT"),
        ("dukascopy", "EURUSD"),
        ("binance", "ETHUSDT"),
    ]
    assert loaded.instruments[0].start_ms == ms("2021-01-01")  # the user's cell survived


def test_merge_matches_rows_by_source_so_a_swap_row_does_not_replace_spot(tmp_path):
    path = put(tmp_path, "instrument,backend,data_symbol,exchange\nBTCUSDT,ccxt,BTC/USDT,binance\n")
    swap = Instrument("BTCUSDT", "ccxt", "BTC/USDT:USDT", "binance", market="swap")

    write_instruments(path, [swap])

    assert [item.key for item in load_instruments(path)] == [
        ("binance", "BTCUSDT"),
        ("binance_swap", "BTCUSDT"),
    ]


def test_merge_keeps_the_users_bom_crlf_and_semicolons(tmp_path):
    path = put(tmp_path, "instrument;backend;data_symbol\r\nEURUSD;dukascopy;EURUSD\r\n", bom=True)

    write_instruments(
        path, [{"instrument": "GBPUSD", "backend": "dukascopy", "data_symbol": "GBPUSD"}]
    )

    assert path.read_bytes() == (
        b"\xef\xbb\xbfinstrument;backend;data_symbol\r\nEURUSD;dukascopy;EURUSD\r\n"
        b"GBPUSD;dukascopy;GBPUSD\r\n"
    )


def test_write_to_a_new_file_reads_back_the_same_records(tmp_path):
    path = tmp_path / "sub" / "instruments.csv"
    items = load_instruments(put(tmp_path, REALISTIC)).instruments

    result = write_instruments(path, items)

    assert (result.added, result.updated, result.kept) == (6, 0, 0)
    assert path.read_text().splitlines()[0] == (
        "instrument,backend,data_symbol,exchange,market,price,price_scale,start,base_url,"
        "archive_url,side,transport"
    )
    assert load_instruments(path).instruments == items


def test_write_without_merge_replaces_the_file_with_exactly_the_rows(tmp_path):
    path = put(tmp_path, USER_FILE)

    write_instruments(path, [Instrument("EURUSD", "dukascopy", "EURUSD")], merge=False)

    assert path.read_text() == "instrument,backend,data_symbol\nEURUSD,dukascopy,EURUSD\n"


def test_write_replaces_the_file_whole_and_leaves_no_temp_file(tmp_path):
    path = put(tmp_path, USER_FILE)
    before = path.stat().st_ino

    write_instruments(path, [Instrument("ETHUSDT", "ccxt", "ETH/USDT", "binance")])

    assert path.stat().st_ino != before  # a new file swapped in, not the old one rewritten
    assert sorted(p.name for p in tmp_path.iterdir()) == ["instruments.csv"]


def test_a_bad_row_or_a_writer_that_fails_midway_leaves_the_file_untouched(tmp_path):
    path = put(tmp_path, USER_FILE)

    def rows_then_crash():
        yield Instrument("ETHUSDT", "ccxt", "ETH/USDT", "binance")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_instruments(path, rows_then_crash())
    with pytest.raises(ConfigError, match="column market: 'perp' is not one of"):
        write_instruments(path, [{"instrument": "X", "backend": "ccxt", "market": "perp"}])

    assert path.read_text() == USER_FILE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["instruments.csv"]


def test_merge_into_a_file_without_the_required_columns_is_refused(tmp_path):
    path = put(tmp_path, "name,exchange\nBTCUSDT,binance\n")

    with pytest.raises(ConfigError, match="missing column instrument, backend, data_symbol"):
        write_instruments(path, [Instrument("ETHUSDT", "ccxt", "ETH/USDT", "binance")])

    assert path.read_text() == "name,exchange\nBTCUSDT,binance\n"


NAMES = st.text("ABCXYZabc019._-", min_size=1, max_size=8).filter(lambda n: set(n) != {"."})
CCXT = st.builds(
    lambda name, exchange, market, price, start: Instrument(
        name,
        "ccxt",
        "BTC/USDT" if market == "spot" else "BTC/USDT:USDT",
        exchange,
        market=market,
        price="last" if market == "spot" else price,
        start_ms=start,
    ),
    NAMES,
    st.sampled_from(["binance", "okx", "hyperliquid"]),
    st.sampled_from(["spot", "swap", "future"]),
    st.sampled_from(["last", "mark", "index"]),
    st.none() | st.integers(0, 1_700_000_000).map(lambda s: s * 1000),
)
DUKA = st.builds(
    lambda name, scale, side, transport: Instrument(
        name, "dukascopy", "EURUSD", price_scale=scale, side=side, transport=transport
    ),
    NAMES,
    st.none() | st.sampled_from([10.0, 1000.0, 1e5, 999999.99]),
    st.sampled_from(["bid", "ask", "mid"]),
    st.sampled_from(["json", "bi5"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(CCXT | DUKA, max_size=8, unique_by=lambda i: (i.source, i.instrument.casefold())))
def test_any_set_of_records_written_then_loaded_comes_back_equal(items):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "instruments.csv"
        path.write_text(f"{HEADER}\n{row(instrument='KEEP')}\n")

        write_instruments(path, items)
        loaded = load_instruments(path)

    keep = Instrument("KEEP", "ccxt", "BTC/USDT", "binance")  # NAMES cannot spell it
    assert loaded.errors == []
    assert loaded.instruments == [keep, *items]
