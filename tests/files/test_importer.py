"""read_bar_file: every supported way of writing bars ends as the same lake table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from barlake.bars.schema import CORE_COLUMNS
from barlake.errors import ConfigError, DataError
from barlake.files.importer import read_bar_file
from barlake.timeframes import infer_timeframe_ms

T0_S = 1_704_200_700  # 2024-01-02 13:05:00 UTC
T0_MS = T0_S * 1000
MINUTE_MS = 60_000
ROWS = [  # open, high, low, close, volume
    (42000.5, 42010.0, 41990.25, 42005.0, 12.5),
    (42005.0, 42020.0, 42001.0, 42018.75, 3.0),
    (42018.75, 42019.0, 41980.0, 41985.5, 0.0),
]


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def csv_text(
    times: list[str], sep: str = ",", header: str = "time,open,high,low,close,volume"
) -> str:
    lines = [header.replace(",", sep)]
    for stamp, row in zip(times, ROWS, strict=True):
        lines.append(sep.join([stamp, *(repr(v) for v in row)]))
    return "\n".join(lines) + "\n"


def assert_rows(table: pa.Table, first_ms: int = T0_MS, step_ms: int = MINUTE_MS) -> None:
    assert table.column_names[:6] == list(CORE_COLUMNS)
    assert table.column("timestamp_ms").to_pylist() == [first_ms + i * step_ms for i in range(3)]
    for j, name in enumerate(("open", "high", "low", "close", "volume")):
        assert table.column(name).to_pylist() == [row[j] for row in ROWS]


@pytest.mark.parametrize(
    ("label", "scale"),
    [("seconds", 1), ("milliseconds", 1_000), ("microseconds", 1_000_000), ("nanoseconds", 10**9)],
)
def test_epoch_times_in_any_unit_read_as_the_same_utc_bars(
    tmp_path: Path, label: str, scale: int
) -> None:
    times = [str((T0_S + 60 * i) * scale) for i in range(3)]
    assert_rows(read_bar_file(write(tmp_path, f"{label}.csv", csv_text(times))))


def test_fractional_epoch_seconds_round_to_the_millisecond(tmp_path: Path) -> None:
    times = [f"{T0_S + 60 * i}.25" for i in range(3)]
    table = read_bar_file(write(tmp_path, "frac.csv", csv_text(times)))
    assert table.column("timestamp_ms").to_pylist()[0] == T0_MS + 250


def test_iso_times_naive_are_utc_and_offsets_are_honoured(tmp_path: Path) -> None:
    naive = ["2024-01-02 13:05:00", "2024-01-02T13:06:00", "2024-01-02 13:07"]
    assert_rows(read_bar_file(write(tmp_path, "naive.csv", csv_text(naive))))
    aware = ["2024-01-02T13:05:00Z", "2024-01-02T14:06:00+01:00", "2024-01-02T08:07:00-05:00"]
    header = "Timestamp,O,H,L,C,Vol"
    assert_rows(read_bar_file(write(tmp_path, "aware.csv", csv_text(aware, header=header))))


def test_semicolon_csv_with_decimal_commas_reads_numbers(tmp_path: Path) -> None:
    text = (
        "Date;Open;High;Low;Close;Volume\n"
        "02.01.2024 13:05:00;1,10450;1,10470;1,10440;1,10460;125\n"
        "02.01.2024 13:06:00;1,10460;1,10480;1,10455;1,10475;98\n"
    )
    table = read_bar_file(write(tmp_path, "eu.csv", text))
    assert table.column("timestamp_ms").to_pylist() == [T0_MS, T0_MS + MINUTE_MS]
    assert table.column("open").to_pylist() == [1.1045, 1.1046]
    assert table.column("close").to_pylist() == [1.1046, 1.10475]
    assert table.column("volume").to_pylist() == [125.0, 98.0]


MT5_SAMPLE = (
    "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\r\n"
    "2024.01.02\t13:05:00\t1.09512\t1.09530\t1.09498\t1.09525\t187\t0\t2\r\n"
    "2024.01.02\t13:06:00\t1.09525\t1.09541\t1.09519\t1.09533\t143\t0\t1\r\n"
    "2024.01.02\t13:07:00\t1.09533\t1.09536\t1.09501\t1.09507\t201\t0\t2\r\n"
)


def test_mt5_export_uses_tick_volume_when_real_volume_is_all_zero(tmp_path: Path) -> None:
    table = read_bar_file(write(tmp_path, "EURUSD_M1.csv", MT5_SAMPLE))
    assert table.column_names == list(CORE_COLUMNS)  # <SPREAD> is dropped
    assert table.column("timestamp_ms").to_pylist() == [T0_MS + i * MINUTE_MS for i in range(3)]
    assert table.column("open").to_pylist() == [1.09512, 1.09525, 1.09533]
    assert table.column("low").to_pylist() == [1.09498, 1.09519, 1.09501]
    assert table.column("volume").to_pylist() == [187.0, 143.0, 201.0]


def test_mt5_export_uses_real_volume_when_the_broker_reports_it(tmp_path: Path) -> None:
    text = MT5_SAMPLE.replace("\t187\t0\t", "\t187\t5000\t")
    table = read_bar_file(write(tmp_path, "US500_M1.csv", text))
    assert table.column("volume").to_pylist() == [5000.0, 0.0, 0.0]


def test_mt5_export_in_utf16_with_server_time_zone_reads_the_same(tmp_path: Path) -> None:
    path = write(tmp_path, "EURUSD_M1.csv", MT5_SAMPLE, encoding="utf-16")
    table = read_bar_file(path, tz="Europe/Athens")  # a typical EET server clock, UTC+2 in winter
    assert table.column("timestamp_ms").to_pylist()[0] == T0_MS - 2 * 3_600_000


def test_mt5_daily_export_without_a_time_column_reads_dates(tmp_path: Path) -> None:
    text = (
        "<DATE>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\n"
        "2024.01.02\t1.10372\t1.10405\t1.09393\t1.09420\t98213\t0\t0\n"
        "2024.01.03\t1.09420\t1.09641\t1.09126\t1.09226\t97321\t0\t0\n"
    )
    table = read_bar_file(write(tmp_path, "EURUSD_D1.csv", text))
    day_ms = 86_400_000
    assert table.column("timestamp_ms").to_pylist() == [
        1_704_153_600_000,
        1_704_153_600_000 + day_ms,
    ]
    assert table.column("close").to_pylist() == [1.0942, 1.09226]
    assert infer_timeframe_ms(table.column("timestamp_ms").to_numpy()) == day_ms


def test_headerless_binance_kline_dump_keeps_trades_and_quote_volume(tmp_path: Path) -> None:
    text = (
        "1704067200000000,42283.58,42299.99,42261.02,42298.62,35.92724,1704067259999999,"
        "1519032.6,1327,23.2,981000.1,0\n"
    )
    table = read_bar_file(write(tmp_path, "BTCUSDT-1m-2024-01-01.csv", text))
    assert table.column_names == [*CORE_COLUMNS, "trades", "quote_volume"]
    assert table.to_pylist() == [
        {
            "timestamp_ms": 1_704_067_200_000,
            **{"open": 42283.58, "high": 42299.99, "low": 42261.02, "close": 42298.62},
            **{"volume": 35.92724, "trades": 1327, "quote_volume": 1519032.6},
        }
    ]
    assert table.schema.field("trades").type == pa.int64()


def test_naive_prague_times_become_utc_across_both_dst_changes(tmp_path: Path) -> None:
    local = [  # hourly bars; 02:00 is skipped in March and repeated in October
        "2024-03-31 00:00", "2024-03-31 01:00", "2024-03-31 03:00", "2024-03-31 04:00",
        "2024-10-27 01:00", "2024-10-27 02:00", "2024-10-27 02:00", "2024-10-27 03:00",
    ]  # fmt: skip
    lines = ["time,open,high,low,close,volume"]
    lines += [f"{stamp},1.0,2.0,0.5,1.5,{i}" for i, stamp in enumerate(local)]
    table = read_bar_file(write(tmp_path, "prague.csv", "\n".join(lines)), tz="Europe/Prague")
    got = pd.to_datetime(table.column("timestamp_ms").to_numpy(), unit="ms")
    assert [str(t) for t in got] == [
        "2024-03-30 23:00:00", "2024-03-31 00:00:00", "2024-03-31 01:00:00", "2024-03-31 02:00:00",
        "2024-10-26 23:00:00", "2024-10-27 00:00:00", "2024-10-27 01:00:00", "2024-10-27 02:00:00",
    ]  # fmt: skip
    assert table.column("volume").to_pylist() == [float(i) for i in range(8)]
    assert infer_timeframe_ms(table.column("timestamp_ms").to_numpy()) == 3_600_000


def test_a_time_inside_the_spring_dst_gap_is_refused_with_its_row(tmp_path: Path) -> None:
    text = "time,open,high,low,close\n2024-03-31 01:30,1,1,1,1\n2024-03-31 02:30,1,1,1,1\n"
    path = write(tmp_path, "gap.csv", text)
    with pytest.raises(DataError, match=r"'2024-03-31 02:30' at data row 2.*Europe/Prague"):
        read_bar_file(path, tz="Europe/Prague")


def lake_table() -> pa.Table:
    return pa.table(
        {
            "timestamp_ms": pa.array([T0_MS + i * MINUTE_MS for i in range(3)], pa.int64()),
            **{name: [row[j] for row in ROWS] for j, name in enumerate(CORE_COLUMNS[1:])},
            "trades": pa.array([10, 20, 30], pa.int64()),
        }
    )


def test_parquet_and_feather_round_trip_keeps_values_and_extras(tmp_path: Path) -> None:
    pq.write_table(lake_table(), tmp_path / "bars.parquet")
    feather.write_feather(lake_table(), tmp_path / "bars.feather")
    for name in ("bars.parquet", "bars.feather"):
        table = read_bar_file(tmp_path / name)
        assert table.equals(lake_table()), name


def test_parquet_with_a_tz_aware_index_and_stray_columns_is_reshaped(tmp_path: Path) -> None:
    index = pd.date_range("2024-01-02 14:05", periods=3, freq="1min", tz="Europe/Prague")
    frame = pd.DataFrame(ROWS, columns=["Open", "High", "Low", "Close", "Volume"], index=index)
    frame.index.name = "Datetime"
    frame["symbol"] = "BTCUSDT"
    frame.to_parquet(tmp_path / "yf.parquet")
    table = read_bar_file(tmp_path / "yf.parquet", tz="America/New_York")  # tz-aware: tz unused
    assert_rows(table)
    assert "symbol" not in table.column_names


def test_format_is_sniffed_from_magic_bytes_when_the_extension_lies(tmp_path: Path) -> None:
    pq.write_table(lake_table(), tmp_path / "download.csv")
    feather.write_feather(lake_table(), tmp_path / "download.bin")
    assert read_bar_file(tmp_path / "download.csv").equals(lake_table())
    assert read_bar_file(tmp_path / "download.bin").equals(lake_table())


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("junk.bin", b"\x00\x01\x02\x03binary", r"junk\.bin: unknown file format"),
        ("empty.csv", b"", r"empty\.csv: the file is empty"),
        ("broken.parquet", b"PAR1 not really", r"broken\.parquet: cannot read it as parquet"),
        (
            "notime.csv",
            b"symbol,open,high,low,close\nX,1,2,0.5,1\n",
            r"no time column found \(columns seen: symbol, open, high, low, close\)",
        ),
        (
            "badtime.csv",
            b"time,open,high,low,close\n2024-01-02 13:05,1,2,0.5,1\n2024-13-45 00:00,1,2,0.5,1\n",
            r"badtime\.csv: time has '2024-13-45 00:00' at data row 2",
        ),
        (
            "mixed.csv",
            b"ts,open,high,low,close\n1704200700,1,2,0.5,1\n1704200760000,1,2,0.5,1\n",
            r"ts has '1704200760000' at data row 2; the column holds epoch s",
        ),
        ("nolow.csv", b"time,open,high,close\n1704200700,1,2,1\n", r"no low column"),
        (
            "text.csv",
            b"time,open,high,low,close\n1704200700,1,2,0.5,1\n1704200760,1,2..5,0.5,1\n",
            r"high has '2..5' at data row 2; expected a number",
        ),
    ],
)
def test_bad_files_fail_with_one_line_naming_the_file_and_the_fix(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        read_bar_file(path)
    assert "\n" not in str(info.value)


def test_unknown_time_zone_and_missing_file_are_config_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "ok.csv", csv_text([str(T0_S + 60 * i) for i in range(3)]))
    with pytest.raises(ConfigError, match="unknown time zone 'Europe/Atlantis'"):
        read_bar_file(path, tz="Europe/Atlantis")
    with pytest.raises(ConfigError, match="no such file"):
        read_bar_file(tmp_path / "missing.csv")


def test_header_only_csv_gives_an_empty_lake_table(tmp_path: Path) -> None:
    table = read_bar_file(write(tmp_path, "empty.csv", "time,open,high,low,close,volume\n"))
    assert table.num_rows == 0
    assert table.column_names == list(CORE_COLUMNS)


def test_infer_timeframe_takes_the_most_common_gap_not_the_first() -> None:
    stamps = np.array([0, 300_000, 3_600_000, 3_660_000, 3_720_000, 3_780_000, 3_780_000])
    assert infer_timeframe_ms(stamps[::-1]) == MINUTE_MS
    assert infer_timeframe_ms(np.array([5, 5])) is None
