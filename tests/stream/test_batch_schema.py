"""jobs.yaml checking: every problem at once with its task and key, French keys equal to English
ones, defaults, both task layouts, relative paths, and which tasks wait for which."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from barlake.dates import to_ms
from barlake.stream.batch_schema import BatchFileError, RestTask, StreamTask, load_batch

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

REST = """
    mode: rest
    exchange: binance
    symbol: BTC/USDT
    start: 2025-02-27
    end: 2025-03-01
"""
LIVE = """
    mode: stream
    exchange: binance
    symbol: BTC/USDT
"""
ENGLISH = """
tasks:
  hist:
    mode: rest
    exchange: binance
    symbol: BTC/USD
    market: swap
    subtype: inverse
    price: index
    start: 2025-02-27
    end: 2025-03-01
    out: out/x.csv
  live:
    mode: stream
    exchange: binance
    symbol: BTC/USDT
    stream: trades
    trades_to_ohlcv: true
    duration: 90s
    out: out/live.csv
"""
FRENCH = """
tâches:
  hist:
    mode: rest
    exchange: binance
    symbole: BTC/USD
    type_marche: swap
    sous_type: inverse
    prix_ohlcv: index
    Date début: 2025-02-27
    date_fin: 2025-03-01
    sortie: out/x.csv
  live:
    mode: stream
    exchange: binance
    symbole: BTC/USDT
    stream: trades
    trades_vers_ohlcv: oui
    durée: 90
    sortie: out/live.csv
"""
BROKEN = """
defaults:
  exchange: binance
  flush: 0
tasks:
  a:
    mode: rest
    symbl: BTC/USDT
    start: 2025-03-02
    end: 2025-03-01
  b:
    mode: strem
    exchange: binanse
    symbol: BTC/USDT
  c:
    mode: stream
    symbol: 42
    timeframe: 7x
    stream: candles
    format: xlsx
    duration: soon
    market: perp
"""


def jobs(tmp_path: Path, text: str, name: str = "jobs.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, **kw: object) -> list[str]:
    with pytest.raises(BatchFileError) as caught:
        load_batch(path, **kw)  # type: ignore[arg-type]
    assert "nothing was run" in str(caught.value)
    return [str(problem) for problem in caught.value.problems]


def one(tmp_path: Path, keys: str, **kw: object) -> list[str]:
    """The problems of a file holding one task `t` with these keys."""
    return problems(jobs(tmp_path, "tasks:\n  t:\n" + keys), **kw)


def test_the_french_example_file_is_the_english_one_with_other_spellings():
    english = load_batch(EXAMPLES / "jobs.yaml")
    french = load_batch(EXAMPLES / "jobs_fr.yaml")
    assert english.tasks == french.tasks
    assert (
        english.after
        == french.after
        == {
            "btc_history": (),
            "eth_perp_mark": (),
            "majors_live": (),
            "btc_live_lake": ("btc_history",),
        }
    )
    mark = english.tasks[1]
    assert isinstance(mark, RestTask)
    assert (mark.items[0].data_symbol, mark.items[0].price) == ("ETH/USDT:USDT", "mark")
    assert (mark.items[0].source, mark.items[0].instrument) == ("binance_swap", "ETHUSDT_mark")


def test_every_french_key_means_its_english_key(tmp_path):
    english = jobs(tmp_path, ENGLISH, "en.yaml")
    french = jobs(tmp_path, FRENCH, "fr.yaml")
    assert load_batch(english).tasks == load_batch(french).tasks
    hist, live = load_batch(french).tasks
    assert isinstance(hist, RestTask) and isinstance(live, StreamTask)
    assert hist.items[0].data_symbol == "BTC/USD:BTC"  # inverse settles in the base
    assert hist.out == tmp_path / "out/x.csv"
    assert (live.config.kind, live.config.trades_to_ohlcv, live.config.duration_s) == (
        "trades",
        True,
        90.0,
    )


def test_all_problems_are_listed_at_once_each_with_its_task_and_key(tmp_path):
    path = jobs(tmp_path, BROKEN)
    found = problems(path)
    expected = [
        "defaults, key flush: 0 is not a whole number of 1 or more",
        "task 'a', key symbl: not a task key; did you mean symbol?",
        "task 'a', key end: 2025-03-01 00:00 is not after start 2025-03-02 00:00",
        "task 'a', key symbol: missing",
        "task 'b', key mode: 'strem' is not one of rest|stream; did you mean stream?",
        "task 'b', key exchange: 'binanse' is not a ccxt exchange id nor dukascopy; "
        "did you mean binance?",
        "task 'c', key symbol: 42 is not a symbol or a list",
        "task 'c', key timeframe: bad timeframe '7x'",
        "task 'c', key stream: 'candles' is not one of ohlcv|trades|ticker|orderbook; use ohlcv",
        "task 'c', key format: 'xlsx' is not one of csv|parquet|feather|sqlite|backtrader|lake",
        "task 'c', key duration: 'soon' is not a duration",
        "task 'c', key market: 'perp' is not one of spot|swap|future; use swap for perpetuals",
    ]
    for text in expected:
        assert any(problem.startswith(text) for problem in found), (text, found)
    assert len(found) == len(expected), found


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("    exchange: binance\n", "task 't', key mode: missing; use rest"),
        (REST.replace("    start: 2025-02-27\n", ""), "key start: missing; give the first day"),
        (REST.replace("    exchange: binance\n", ""), "key exchange: missing"),
        (REST + "    duration: 10\n", "key duration: is for stream tasks only"),
        (REST.replace("rest", "stream"), "key start: is for rest tasks only; remove it or set"),
        (REST + "    out: x.xlsx\n", "key out: cannot tell the format of 'x.xlsx'"),
        (REST + "    out: x.csv\n    format: parquet\n", "key out: ends in .csv but format is"),
        (REST + "    format: lake\n    out: x.csv\n", "key out: format lake writes into the lake"),
        (REST + "    format: sqlite\n", "key out: missing; format sqlite needs a file"),
        (REST + "    symbole: ETH/USDT\n", "key symbole: means symbol, as symbol does"),
        (REST + "    start: 2025-01-01\n", "appears twice in one mapping"),
        (REST + "    subtype: inverse\n", "key subtype: inverse is for swap and future markets"),
        (REST + "    price: mark\n", "key price: BTC/USDT: 'mark' prices exist only for contracts"),
        (REST.replace("2025-03-01", "not-a-date"), "key end: bad date 'not-a-date'"),
        (REST + "    symbols: [BTC/USDT, ETH/USDT]\n", "key symbols: means symbol"),
        (REST.replace("BTC/USDT", "[BTC/USDT, ETH/USDT]") + "    out: x.csv\n", "{symbol}"),
        (REST.replace("BTC/USDT", "BTCUSDT"), "'BTCUSDT' is not a ccxt unified symbol"),
        (REST + "    market: swap\n    subtype: inverse\n    symbol: BTC/USDT:USDT\n", "twice"),
        (LIVE, "key out: missing; give the file to write (or format: lake)"),
        (LIVE + "    format: lake\n    stream: ticker\n", "key format: the lake holds bars only"),
        (LIVE + "    market: future\n    format: lake\n", "key market: future is not streamed"),
        (LIVE.replace("binance", "dukascopy"), "dukascopy has no live stream"),
        (LIVE + "    out: x.csv\n    ws_url: http://x\n", "not a WebSocket address"),
        (LIVE + "    out: x.csv\n    stream: ticker\n    trades_to_ohlcv: yes\n",
         "key trades_to_ohlcv: builds bars from trades"),
        (REST + "    trades_to_ohlcv: maybe\n", "key trades_to_ohlcv: 'maybe' is not true"),
    ],
)  # fmt: skip
def test_each_kind_of_mistake_is_named_with_its_key(tmp_path, keys, expected):
    assert any(expected in problem for problem in one(tmp_path, keys)), one(tmp_path, keys)


def test_a_contract_symbol_must_agree_with_its_subtype(tmp_path):
    keys = REST + "    market: swap\n    subtype: inverse\n"
    keys = keys.replace("BTC/USDT", "BTC/USDT:USDT")
    assert one(tmp_path, keys) == [
        "task 't', key subtype: BTC/USDT:USDT settles in USDT, so it is linear, not inverse"
    ]


def test_an_unknown_task_in_tasks_is_named_with_a_suggestion_and_nothing_else_is_checked(
    tmp_path,
):
    path = jobs(tmp_path, f"tasks:\n  btc_history:\n{REST}  broken:\n    mode: nope\n")
    assert problems(path, only=["btc_histroy"]) == [
        "--tasks: no task 'btc_histroy'; did you mean btc_history?"
    ]
    assert problems(path, only=[]) == ["--tasks: names no task; the file has btc_history, broken"]
    chosen = load_batch(path, only=["btc_history"])  # the broken task is not selected
    assert [task.name for task in chosen.tasks] == ["btc_history"]


def test_a_list_of_named_tasks_equals_a_mapping_of_tasks(tmp_path):
    mapping = jobs(tmp_path, f"tasks:\n  one:\n{REST}  two:\n{REST.replace('BTC', 'ETH')}")
    text = f"tasks:\n  - name: one\n{REST}  - nom: two\n{REST.replace('BTC', 'ETH')}"
    listed = jobs(tmp_path, text, "list.yaml")
    assert load_batch(mapping).tasks == load_batch(listed).tasks
    assert problems(jobs(tmp_path, "tasks:\n  - mode: rest\n", "x.yaml")) == [
        "task #1, key name: missing; give each task a name"
    ]
    twice = jobs(tmp_path, f"tasks:\n  - name: a\n{REST}  - name: a\n{REST}", "y.yaml")
    assert problems(twice) == ["task 'a': defined twice; rename one"]


def test_defaults_are_inherited_overridden_and_unset_and_their_problems_reported_once(tmp_path):
    path = jobs(tmp_path, f"""
defaults:
  exchange: binance
  timeframe: 1h
  out: exports/{{symbol}}.csv
  duree: 30
tasks:
  inherits:
{REST.replace("    exchange: binance", "")}
  overrides:
{REST.replace("BTC", "ETH")}    timeframe: 4h
    out: ~
""")  # fmt: skip
    inherits, overrides = load_batch(path).tasks
    assert isinstance(inherits, RestTask) and isinstance(overrides, RestTask)
    assert (inherits.timeframe, inherits.out) == ("1h", tmp_path / "exports/{symbol}.csv")
    assert inherits.out_for(inherits.items[0]) == tmp_path / "exports/BTCUSDT.csv"
    assert (overrides.timeframe, overrides.out, overrides.format) == ("4h", None, "lake")
    bad = jobs(tmp_path, f"defaults:\n  timeframe: 1x\ntasks:\n  a:\n{REST}  b:\n{REST}", "b.yaml")
    assert problems(bad) == ["defaults, key timeframe: bad timeframe '1x': use a number and a "
                             "unit m, h, d or w, e.g. 1m, 5m, 4h, 1d, 1w"]  # fmt: skip


def test_paths_are_read_from_the_jobs_file_folder_and_the_lake_from_the_task_first(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    path = jobs(sub, f"tasks:\n  a:\n{REST}    out: ../x.parquet\n  b:\n{REST}    lake: lk\n")
    a, b = load_batch(path, lake=tmp_path / "cli-lake").tasks
    assert isinstance(a, RestTask) and isinstance(b, RestTask)
    assert (a.out, a.format, a.lake) == (tmp_path / "x.parquet", "parquet", tmp_path / "cli-lake")
    assert b.lake == sub / "lk"
    assert (a.start_ms, a.end_ms) == (to_ms("2025-02-27"), to_ms("2025-03-01"))


def test_tasks_writing_the_same_file_or_lake_series_wait_for_each_other_in_file_order(tmp_path):
    eth = REST.replace("BTC", "ETH")
    path = jobs(tmp_path, f"""
tasks:
  btc_csv:
{REST}    out: a.csv
  eth_csv:
{eth}    out: a.csv
  eth_lake:
{eth}    lake: other
  btc_db:
{REST}    out: b.sqlite
    table: x
  btc_db_too:
{REST.replace("BTC", "SOL")}    out: b.sqlite
    table: y
  live:
    mode: stream
    exchange: binance
    symbol: ETH/USDT
    format: lake
    lake: other
    duration: 5
""")  # fmt: skip
    assert load_batch(path).after == {
        "btc_csv": (),
        "eth_csv": ("btc_csv",),  # the same file
        "eth_lake": (),  # another lake: independent of eth_csv
        "btc_db": ("btc_csv",),  # the same lake series (default lake)
        "btc_db_too": ("btc_db",),  # the same SQLite file, another table
        "live": ("eth_lake",),  # a stream into the series eth_lake writes
    }


def test_a_task_behind_a_stream_without_duration_is_refused(tmp_path):
    path = jobs(tmp_path, f"""
tasks:
  forever:
    mode: stream
    exchange: binance
    symbol: BTC/USDT
    format: lake
  later:
{REST}""")  # fmt: skip
    assert problems(path) == [
        "task 'later': writes where stream task 'forever' writes, which has no duration, so it "
        "would never start; give 'forever' a duration or write elsewhere"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tasks: [\n", "line 2: not valid YAML"),
        ("- a\n- b\n", "file: expected `defaults:` and `tasks:` at the top"),
        ("tasks: {}\n", "file, key tasks: no tasks; add one under `tasks:`"),
        ("defaults: {}\n", "file, key tasks: missing or empty"),
        (f"task:\n  a:\n{REST}", "file, key task: not a top-level key; did you mean tasks?"),
        ("tasks:\n  a: rest\n", "task 'a': expected a mapping of keys"),
        ("tasks:\n  a,b:\n    mode: rest\n", "task 'a,b': names cannot hold commas"),
    ],
)
def test_a_file_of_the_wrong_shape_says_where(tmp_path, text, expected):
    assert any(expected in problem for problem in problems(jobs(tmp_path, text)))


def test_dukascopy_history_is_a_rest_task_with_its_code(tmp_path):
    keys = REST.replace("binance", "dukascopy").replace("BTC/USDT", "EURUSD")
    [task] = load_batch(jobs(tmp_path, f"tasks:\n  fx:\n{keys}")).tasks
    assert isinstance(task, RestTask)
    assert task.items[0].key == ("dukascopy", "EURUSD")


def test_the_jobs_files_shown_in_the_readme_are_valid(tmp_path):
    docs = [ROOT / "README.md", ROOT / "docs/readme/batch.md"]
    texts = [path.read_text(encoding="utf-8") for path in docs if path.exists()]
    blocks = [
        block
        for text in texts
        for block in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
        if "tasks:" in block and "mode:" in block
    ]
    assert blocks
    for block in blocks:
        assert load_batch(jobs(tmp_path, block)).tasks
