"""The Dukascopy instruments barlake knows without help: point factor, JSON code, calendar.

`factor` is the point factor (`price = points / factor`, dukascopy-node's `decimalFactor =
10 / pipValue`), per instrument: JPY pairs, gold and indices use 1000, gas and copper
10000, the crypto CFDs 10 — "JPY ⇒ 1000 else 100000" is only right for FX pairs. Values
and first minute-candle days come from dukascopy-node's instrument metadata (the bi5-era
copy at a567c90^ and the JSON-era copy at fa7f150 agree on every factor listed here).
`calendar` says when an empty answer may be trusted (see dukascopy_calendar.py).

A row for an instrument not listed here must give `price_scale`; `scale_problem` says so
and how to find it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class DukaInstrument:
    code: str  # the bi5 datafeed name, e.g. USA500IDXUSD
    json_code: str  # the JSON API name, e.g. USA500.IDX-USD
    factor: int  # price = points / factor
    calendar: str  # "fx" | "cfd" | "crypto"
    first_day: str  # first UTC day with minute candles

    @property
    def first_ms(self) -> int:
        return int(datetime.fromisoformat(self.first_day).replace(tzinfo=UTC).timestamp() * 1000)


_FX = {
    "EURUSD": ("EUR-USD", 100000, "2003-05-04"), "GBPUSD": ("GBP-USD", 100000, "2003-05-04"),
    "AUDUSD": ("AUD-USD", 100000, "2003-08-03"), "NZDUSD": ("NZD-USD", 100000, "2003-08-03"),
    "USDCAD": ("USD-CAD", 100000, "2003-08-03"), "USDCHF": ("USD-CHF", 100000, "2003-05-04"),
    "USDJPY": ("USD-JPY", 1000, "2003-05-04"), "EURGBP": ("EUR-GBP", 100000, "2003-08-03"),
    "EURCHF": ("EUR-CHF", 100000, "2003-08-03"), "EURAUD": ("EUR-AUD", 100000, "2005-10-07"),
    "EURCAD": ("EUR-CAD", 100000, "2004-10-25"), "EURNZD": ("EUR-NZD", 100000, "2006-01-02"),
    "EURJPY": ("EUR-JPY", 1000, "2003-08-03"), "GBPJPY": ("GBP-JPY", 1000, "2003-08-03"),
    "AUDJPY": ("AUD-JPY", 1000, "2003-11-30"), "CHFJPY": ("CHF-JPY", 1000, "2003-08-03"),
    "CADJPY": ("CAD-JPY", 1000, "2004-10-25"), "NZDJPY": ("NZD-JPY", 1000, "2006-01-02"),
    "GBPCHF": ("GBP-CHF", 100000, "2003-08-03"), "GBPAUD": ("GBP-AUD", 100000, "2006-03-22"),
    "GBPCAD": ("GBP-CAD", 100000, "2006-01-02"), "GBPNZD": ("GBP-NZD", 100000, "2006-01-02"),
    "AUDCAD": ("AUD-CAD", 100000, "2006-01-03"), "AUDCHF": ("AUD-CHF", 100000, "2006-03-01"),
    "AUDNZD": ("AUD-NZD", 100000, "2006-12-12"), "CADCHF": ("CAD-CHF", 100000, "2006-01-02"),
    "NZDCAD": ("NZD-CAD", 100000, "2006-01-02"), "NZDCHF": ("NZD-CHF", 100000, "2006-01-02"),
    "USDSEK": ("USD-SEK", 100000, "2003-08-04"), "USDNOK": ("USD-NOK", 100000, "2003-08-04"),
    "USDDKK": ("USD-DKK", 100000, "2003-08-04"), "USDSGD": ("USD-SGD", 100000, "2004-11-16"),
    "USDHKD": ("USD-HKD", 100000, "2007-03-13"), "USDMXN": ("USD-MXN", 100000, "2007-03-13"),
    "USDZAR": ("USD-ZAR", 100000, "2003-08-03"), "USDTRY": ("USD-TRY", 100000, "2007-03-13"),
    "USDPLN": ("USD-PLN", 100000, "2007-03-13"), "USDHUF": ("USD-HUF", 1000, "2007-03-13"),
    "USDCNH": ("USD-CNH", 100000, "2012-06-27"), "EURSEK": ("EUR-SEK", 100000, "2004-10-27"),
    "EURNOK": ("EUR-NOK", 100000, "2004-10-25"), "EURPLN": ("EUR-PLN", 100000, "2007-03-14"),
    "EURTRY": ("EUR-TRY", 100000, "2007-03-13"), "EURHUF": ("EUR-HUF", 1000, "2007-03-14"),
    "XAUUSD": ("XAU-USD", 1000, "2003-05-05"), "XAGUSD": ("XAG-USD", 1000, "2003-05-04"),
}  # fmt: skip
_CFD = {
    "XPTCMDUSD": ("XPT.CMD-USD", 1000, "2021-11-01"),
    "XPDCMDUSD": ("XPD.CMD-USD", 1000, "2021-07-04"),
    "USA500IDXUSD": ("USA500.IDX-USD", 1000, "2012-01-16"),
    "USATECHIDXUSD": ("USATECH.IDX-USD", 1000, "2013-01-01"),
    "USA30IDXUSD": ("USA30.IDX-USD", 1000, "2013-09-30"),
    "USSC2000IDXUSD": ("USSC2000.IDX-USD", 1000, "2018-08-08"),
    "DEUIDXEUR": ("DEU.IDX-EUR", 1000, "2013-09-30"),
    "GBRIDXGBP": ("GBR.IDX-GBP", 1000, "2013-01-01"),
    "FRAIDXEUR": ("FRA.IDX-EUR", 1000, "2013-01-01"),
    "JPNIDXJPY": ("JPN.IDX-JPY", 1000, "2013-01-01"),
    "EUSIDXEUR": ("EUS.IDX-EUR", 1000, "2014-06-02"),
    "AUSIDXAUD": ("AUS.IDX-AUD", 1000, "2014-06-01"),
    "HKGIDXHKD": ("HKG.IDX-HKD", 1000, "2013-06-03"),
    "CHEIDXCHF": ("CHE.IDX-CHF", 1000, "2013-01-01"),
    "ESPIDXEUR": ("ESP.IDX-EUR", 1000, "2014-06-02"),
    "NLDIDXEUR": ("NLD.IDX-EUR", 1000, "2017-12-01"),
    "DOLLARIDXUSD": ("DOLLAR.IDX-USD", 1000, "2017-12-01"),
    "LIGHTCMDUSD": ("LIGHT.CMD-USD", 1000, "2013-01-01"),
    "BRENTCMDUSD": ("BRENT.CMD-USD", 1000, "2010-12-02"),
    "GASCMDUSD": ("GAS.CMD-USD", 10000, "2012-09-02"),
    "COPPERCMDUSD": ("COPPER.CMD-USD", 10000, "2012-03-02"),
}
_CRYPTO = {
    "BTCUSD": ("BTC-USD", 10, "2017-05-07"),
    "ETHUSD": ("ETH-USD", 10, "2017-12-11"),
    "LTCUSD": ("LTC-USD", 10, "2018-09-03"),
}
TABLE: dict[str, DukaInstrument] = {
    code: DukaInstrument(code, json_code, factor, calendar, first)
    for calendar, rows in (("fx", _FX), ("cfd", _CFD), ("crypto", _CRYPTO))
    for code, (json_code, factor, first) in rows.items()
}
_SUFFIXES = re.compile(
    r"^(?P<base>.+?)(?P<kind>IDX|CMD|US|HK|JP|DE|GB|FR|CH|ES|IT|NL)(?P<quote>[A-Z]{3})$"
)


def lookup(code: str) -> DukaInstrument | None:
    return TABLE.get(code.upper())


def guess_json_code(code: str) -> str:
    """The JSON API name of a code not in the table: EURSGD → EUR-SGD, USA500IDXUSD →
    USA500.IDX-USD, AAPLUSUSD → AAPL.US-USD (dukascopy-node's `code` field spells them)."""
    upper = code.upper()
    if re.fullmatch(r"[A-Z]{6}", upper):
        return f"{upper[:3]}-{upper[3:]}"
    match = _SUFFIXES.match(upper)
    if match:
        return f"{match['base']}.{match['kind']}-{match['quote']}"
    return f"{upper[:-3]}-{upper[-3:]}"


def unknown_scale(code: str) -> str:
    """Why a row without price_scale is refused, and how to find the factor."""
    return (
        f"{code} is not in barlake's Dukascopy table, so price_scale is needed: the point "
        "factor 10 / pip value (100000 for EURUSD, 1000 for USDJPY or XAUUSD, 10 for BTCUSD); "
        "dukascopy-node's instrument list shows it as decimalFactor, and Dukascopy's own "
        "instrument page gives the pip value"
    )


def scale_problem(code: str, known: DukaInstrument | None, scaled: bool) -> str | None:
    """Why a row for `code` cannot be priced — not in the table (`known` is its `lookup`)
    and no price_scale given (`scaled`) — or None when it can."""
    return None if known is not None or scaled else unknown_scale(code)
