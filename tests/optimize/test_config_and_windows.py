"""Bad input is refused with a clear message; the chronological split and walk-forward folds."""

from __future__ import annotations

import itertools

import pytest
from optimize_support import INSTRUMENT, SOURCE, TIMEFRAME

from barlake.errors import ConfigError, DataError
from barlake.optimize import OptimizeConfig
from barlake.optimize.context import mask_url, run_config
from barlake.optimize.windows import make_windows


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"strategies": ("ma_cross", "macd_magic")}, "unknown strategy 'macd_magic'"),
        ({"dd_max": 0}, "dd_max must be > 0"),
        ({"dd_max": -5.0}, "dd_max must be > 0"),
        ({"split": 1.0}, "split is the train share"),
        ({"walk_forward": 1}, "walk_forward needs at least 2 folds"),
        ({"modes": ("none", "pyramid")}, "unknown mode(s) ['pyramid']"),
        ({"max_trials": 0}, "max_trials must be a whole number >= 1"),
        ({"storage": "sqlite:///optuna.db"}, "database is locked"),
        ({"storage": "optuna.db"}, "storage must be a database URL"),
        ({"start": "2024-03-05", "end": "2024-03-01"}, "start"),
        ({"sampler": "cmaes"}, "sampler must be one of nsga2, tpe"),
    ],
)
def test_bad_settings_are_refused_with_what_to_fix(overrides, message):
    with pytest.raises(ConfigError) as caught:
        OptimizeConfig(SOURCE, INSTRUMENT, TIMEFRAME, **overrides)
    assert message in str(caught.value)


def test_strategies_and_modes_may_be_given_as_comma_text():
    config = OptimizeConfig(
        SOURCE, INSTRUMENT, "60m", strategies="ma_cross, stochastic", modes="grid"
    )  # type: ignore[arg-type]
    assert config.strategies == ("ma_cross", "stochastic")
    assert config.modes == ("grid",)
    assert config.timeframe == "1h"
    assert OptimizeConfig.from_dict(config.as_dict()) == config


def test_batch_defaults_to_the_sampler_population_and_never_exceeds_max_trials():
    assert OptimizeConfig(SOURCE, INSTRUMENT, TIMEFRAME).batch == 50
    assert OptimizeConfig(SOURCE, INSTRUMENT, TIMEFRAME, sampler="tpe").batch == 8
    assert OptimizeConfig(SOURCE, INSTRUMENT, TIMEFRAME, max_trials=12).batch == 12


def test_one_split_is_chronological_train_then_test():
    (window,) = make_windows(1000, 0.75)
    assert (window.train_start, window.train_end, window.test_end) == (0, 750, 1000)


def test_walk_forward_folds_roll_with_back_to_back_test_parts_ending_at_the_last_bar():
    windows = make_windows(1000, 0.75, folds=4)
    assert [w.fold for w in windows] == [0, 1, 2, 3]
    for w in windows:
        assert w.train_start < w.train_end == w.test_start < w.test_end
        assert (w.train_end - w.train_start) / (w.test_end - w.train_start) == pytest.approx(
            0.75, abs=0.01
        )
    for before, after in itertools.pairwise(windows):
        assert after.test_start == before.test_end  # tests are back to back
        assert after.train_start > before.train_start  # rolling, not anchored
    assert windows[-1].test_end == 1000


def test_too_few_bars_for_the_folds_is_a_data_error():
    with pytest.raises(DataError, match="too few bars"):
        make_windows(60, 0.75, folds=4)


def test_a_database_password_never_reaches_context_json_and_must_be_given_again():
    assert (
        mask_url("postgresql://bob:s3cret@db.local:5433/runs")
        == "postgresql://bob:***@db.local:5433/runs"
    )
    assert mask_url("postgresql://bob@db.local/runs") == "postgresql://bob@db.local/runs"
    context = {
        "config": OptimizeConfig(SOURCE, INSTRUMENT, TIMEFRAME).as_dict()
        | {"storage": "postgresql://bob:***@h/db"},
        "storage": {"kind": "database", "url": "postgresql://bob:***@h/db"},
    }
    with pytest.raises(ConfigError, match="pass --storage URL again"):
        run_config(context)
    assert run_config(context, "postgresql://bob:pw@h/db").storage == "postgresql://bob:pw@h/db"
