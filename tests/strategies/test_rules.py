"""YAML rule strategies: conditions over indicators, external series joined as of each close."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from barlake import indicators as ta
from barlake.backtest import from_signals
from barlake.errors import ConfigError, DataError
from barlake.scan_expr import ExpressionError
from barlake.strategies import External, load_rules, rules_from_mapping


def test_rules_evaluate_indicator_conditions_bar_by_bar(hourly, tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        'name: dip\nentry: "rsi14 < 50 and close > sma50"\nexit: "rsi14 > 60 or bb_z > 2"\n'
    )
    rules = load_rules(path)
    signals = rules.signals(hourly)
    close = hourly["close"]
    rsi, sma = ta.rsi(close, 14), ta.sma(close, 50)
    z = ta.bbands(close, 20, 2.0)[3]
    np.testing.assert_array_equal(signals.entries, ((rsi < 50) & (close > sma)).to_numpy())
    np.testing.assert_array_equal(signals.exits, ((rsi > 60) | (z > 2)).to_numpy())
    assert rules.name == "dip" and signals.entries.sum() > 5
    result = from_signals(hourly, *signals[:2])
    assert result.stats["trades"] > 0


def test_short_rules_and_direction_are_read(hourly):
    rules = rules_from_mapping(
        {
            "entry": "rsi14 < 30",
            "short_entry": "rsi14 > 70",
            "short_exit": "rsi14 < 50",
            "direction": "both",
        }
    )
    signals = rules.signals(hourly)
    assert rules.direction == "both" and signals.short_entries.sum() > 0
    np.testing.assert_array_equal(
        signals.short_exits, (ta.rsi(hourly["close"], 14) < 50).to_numpy()
    )


def test_an_external_series_is_joined_as_of_each_bar_close_never_later():
    index = pd.date_range("2024-01-01", periods=4, freq="1h", tz="UTC")  # closes 01:00 … 04:00
    bars = pd.DataFrame(
        {"open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0}, index=index
    )
    stamps = pd.to_datetime(
        ["2024-01-01 00:30", "2024-01-01 02:00", "2024-01-01 02:00:01", "2024-01-01 09:00"],
        utc=True,
        format="ISO8601",
    )
    score = pd.Series([1.0, 2.0, 3.0, 9.0], index=stamps)
    rules = rules_from_mapping({"entry": "score > 0", "external": {"score": score}})
    values = rules.values(bars)["score"]
    # bar 00:00 closes 01:00 → 1.0; bar 01:00 closes 02:00 → 2.0 (stamped at the close);
    # 3.0 at 02:00:01 is first seen by the bar closing 03:00; 9.0 (09:00) by none of them.
    np.testing.assert_array_equal(values, [1.0, 2.0, 3.0, 3.0])


def test_a_value_before_the_first_stamp_is_nan_and_never_an_entry():
    ext = External(np.array([10_000], dtype=np.int64), np.array([5.0]))
    np.testing.assert_array_equal(ext.as_of(np.array([9_999, 10_000, 20_000])), [np.nan, 5.0, 5.0])


@pytest.mark.parametrize(
    ("times", "scale"),
    [("iso", None), ("s", 1), ("ms", 1_000), ("us", 1_000_000), ("ns", 1_000_000_000)],
)
def test_external_files_read_iso_or_epoch_times_of_any_unit(tmp_path, hourly, times, scale):
    stamps = hourly.index[::5] + pd.Timedelta(minutes=30)
    seconds = stamps.as_unit("s").asi8
    column = stamps.strftime("%Y-%m-%d %H:%M:%S") if times == "iso" else seconds * scale
    pd.DataFrame({"timestamp": column, "mood": np.arange(len(stamps), dtype=float)}).to_csv(
        tmp_path / "m.csv", index=False
    )
    pd.DataFrame({"timestamp": column, "mood": np.arange(len(stamps), dtype=float)}).to_parquet(
        tmp_path / "m.parquet"
    )
    for name in ("m.csv", "m.parquet"):
        rules = rules_from_mapping({"entry": "mood >= 3", "external": {"mood": name}}, tmp_path)
        values = rules.values(hourly)["mood"]
        assert (values[0], values[4], values[5], values[-1]) == (0.0, 0.0, 1.0, len(stamps) - 1)


@pytest.mark.parametrize("times", ["iso", "s"])
def test_a_blank_external_time_is_refused_not_read_as_before_every_bar(tmp_path, hourly, times):
    stamp = hourly.index[10]
    shown = f"{stamp:%Y-%m-%d %H:%M:%S}" if times == "iso" else str(stamp.value // 10**9)
    (tmp_path / "m.csv").write_text(f"timestamp,mood\n{shown},1\n,7\n")
    with pytest.raises(DataError, match="timestamp has an empty value at data row 2"):
        rules_from_mapping({"entry": "mood > 0", "external": {"mood": "m.csv"}}, tmp_path)


def test_a_rule_on_a_column_the_bars_lack_is_a_config_error_naming_it(hourly):
    rules = rules_from_mapping({"entry": "volume > 0"})
    with pytest.raises(ConfigError, match=r"missing \['volume'\]"):
        rules.signals(hourly.drop(columns=["volume"]))


@pytest.mark.parametrize(
    ("mapping", "error"),
    [
        ({"exit": "rsi14 > 70"}, ConfigError),
        ({"entry": "rsi14 <"}, ExpressionError),
        ({"entry": "rsi14 + 3"}, ExpressionError),
        ({"entry": "mystery > 1"}, ExpressionError),
        ({"entry": "close > 1", "when": "now"}, ConfigError),
        ({"entry": "close > 1", "direction": "sideways"}, ConfigError),
        ({"entry": "x > 1", "external": {"x": {"path": "missing.csv"}}}, ConfigError),
        ({"entry": "x > 1", "external": {"x": {"file": "a.csv"}}}, ConfigError),
    ],
)
def test_bad_rules_are_refused_before_any_backtest(hourly, tmp_path, mapping, error):
    with pytest.raises(error):
        rules_from_mapping(mapping, tmp_path).signals(hourly)
