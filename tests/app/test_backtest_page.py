"""The Backtest page, driven through Streamlit's AppTest over the app's fixture lake: its numbers
are the library's numbers for the same inputs, and bad input is a readable message."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from barlake.app import backtest_view as bv
from barlake.app.data_view import series_tree
from barlake.backtest import from_signals
from barlake.lake import Lake
from barlake.strategies import get_strategy, load_rules

PAGE = Path(__file__).parents[2] / "src" / "barlake" / "app" / "views" / "backtest.py"
TIMEOUT = 60


def open_page(app_env, lake_dir: Path, tmp_path: Path) -> AppTest:
    app_env(lake_dir, tmp_path / "runs")
    return AppTest.from_file(str(PAGE), default_timeout=TIMEOUT).run()


def choose_series(at: AppTest, instrument: str = "BTCUSDT", timeframe: str = "5m") -> None:
    at.selectbox(key="bt.source").set_value("sample").run()
    at.selectbox(key="bt.instrument").set_value(instrument).run()
    at.selectbox(key="bt.timeframe").set_value(timeframe).run()


def shown_stats(at: AppTest) -> dict[str, float]:
    frame = at.dataframe[0].value
    return {str(k): float(v) for k, v in frame["value"].items()}


def assert_same_stats(page: dict[str, float], library: dict[str, float]) -> None:
    assert list(page) == list(library)
    for name, value in library.items():
        assert (math.isnan(page[name]) and math.isnan(value)) or page[name] == value, name


def test_page_backtest_equals_the_library_for_the_same_inputs(app_env, app_lake, tmp_path):
    at = open_page(app_env, app_lake, tmp_path)
    choose_series(at)
    at.selectbox(key="bt.strategy").set_value("ma_cross").run()
    at.number_input(key="bt.param.ma_cross.fast").set_value(5)
    at.number_input(key="bt.param.ma_cross.slow").set_value(20)
    at.number_input(key="bt.fees").set_value(3.0)
    at.number_input(key="bt.slip").set_value(1.0)
    at.number_input(key="bt.tp").set_value(1.5)
    at.number_input(key="bt.sl").set_value(0.5)
    at.selectbox(key="bt.mode").set_value("grid").run()
    at.number_input(key="bt.grid_step").set_value(0.5)
    at.number_input(key="bt.grid_adds").set_value(2)
    at.number_input(key="bt.size").set_value(0.3)
    at.button(key="bt.run").click().run()
    assert not at.exception and not at.error

    bars = Lake(app_lake).read("sample", "BTCUSDT", "5m")
    signals = get_strategy("ma_cross").signals(bars, fast=5, slow=20)
    expected = from_signals(
        bars, signals.entries, signals.exits, fees_bps=3.0, slippage_bps=1.0, tp_pct=1.5,
        sl_pct=0.5, mode="grid", grid_step_pct=0.5, grid_adds=2, size=0.3, timeframe="5m",
    )  # fmt: skip
    assert expected.stats["trades"] > 0
    assert_same_stats(shown_stats(at), expected.stats)
    trades = at.dataframe[1].value
    assert len(trades) == len(expected.trades)
    assert trades["pnl"].tolist() == expected.trades["pnl"].iloc[::-1].tolist()
    assert [s.value for s in at.subheader][1:] == [
        "Stats", "Price and trades", "Equity and drawdown", f"Trades ({len(expected.trades)})",
    ]  # fmt: skip
    assert len(at.get("plotly_chart")) == 2


def test_rules_yaml_from_the_text_area_backtests_like_load_rules(app_env, app_lake, tmp_path):
    text = 'name: dip\nentry: "rsi14 < 40"\nexit: "rsi14 > 60"\n'
    at = open_page(app_env, app_lake, tmp_path)
    choose_series(at, "ETHUSDT", "5m")
    at.selectbox(key="bt.strategy").set_value(bv.RULES).run()
    at.text_area(key="bt.rules").set_value(text)
    at.button(key="bt.run").click().run()
    assert not at.exception and not at.error

    path = tmp_path / "rules.yaml"
    path.write_text(text)
    rules = load_rules(path)
    bars = Lake(app_lake).read("sample", "ETHUSDT", "5m")
    signals = rules.signals(bars)
    expected = from_signals(bars, signals.entries, signals.exits, direction=rules.direction)
    assert_same_stats(shown_stats(at), expected.stats)
    assert at.subheader[0].value.endswith("· dip")


def test_bad_yaml_is_a_readable_message_not_a_traceback(app_env, app_lake, tmp_path):
    at = open_page(app_env, app_lake, tmp_path)
    at.selectbox(key="bt.strategy").set_value(bv.RULES).run()
    at.text_area(key="bt.rules").set_value('entry: "rsi14 < 30\nexit: [unclosed\n')
    at.button(key="bt.run").click().run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith("Backtest: the rules YAML does not parse at line")
    assert "Traceback" not in message and not at.dataframe


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ('exit: "rsi14 > 70"\n', "rules need an `entry:` condition"),
        ('entry: "rsi14 <"\n', "rsi14 <"),
        ('entry: "close > sma20"\nsideways: 1\n', "unknown rules key(s) ['sideways']"),
    ],
)
def test_rules_that_parse_but_make_no_sense_are_refused_readably(
    app_env, app_lake, tmp_path, rules, expected
):
    at = open_page(app_env, app_lake, tmp_path)
    at.selectbox(key="bt.strategy").set_value(bv.RULES).run()
    at.text_area(key="bt.rules").set_value(rules)
    at.button(key="bt.run").click().run()
    assert not at.exception
    assert expected in at.error[0].value


def test_a_strategy_that_never_trades_says_so(app_env, app_lake, tmp_path):
    at = open_page(app_env, app_lake, tmp_path)
    choose_series(at, "BTCUSDT", "4h")
    at.selectbox(key="bt.strategy").set_value("range_breakout").run()
    at.number_input(key="bt.param.range_breakout.n").set_value(200)
    at.button(key="bt.run").click().run()
    assert not at.exception and not at.error
    assert at.warning[0].value.startswith("No trades")
    assert shown_stats(at)["trades"] == 0


def test_an_empty_date_range_is_a_readable_message(app_env, app_lake, tmp_path):
    at = open_page(app_env, app_lake, tmp_path)
    at.text_input(key="bt.start").set_value("2030-01-01")
    at.button(key="bt.run").click().run()
    assert not at.exception
    assert "no 1m bars for sample/BTCUSDT in that range" in at.error[0].value


def test_an_empty_lake_says_what_to_do(app_env, tmp_path):
    at = open_page(app_env, tmp_path / "empty-lake", tmp_path)
    assert not at.exception
    assert "holds no bars yet" in at.info[0].value
    assert not at.button


def test_lake_series_lists_timeframes_shortest_first(app_lake):
    tree = series_tree(Lake(app_lake))
    assert tree["sample"]["BTCUSDT"] == ["1m", "5m", "1h", "4h"]
    assert list(tree["sample"]) == sorted(tree["sample"])


def test_position_options_keep_only_the_chosen_modes_parameters():
    options = bv.position_options(
        fees_bps=4.5, slippage_bps=0, tp_pct=0, sl_pct=1.0, mode="none", size=1.0,
        mode_params={"grid_adds": 3},
    )  # fmt: skip
    assert options == {
        "fees_bps": 4.5, "slippage_bps": 0.0, "tp_pct": None, "sl_pct": 1.0, "mode": "none",
        "size": 1.0,
    }  # fmt: skip
    frame = bv.stats_frame({"a": 1, "b": float("nan")})
    assert isinstance(frame, pd.DataFrame) and frame.index.tolist() == ["a", "b"]
