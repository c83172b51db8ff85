"""The package's public surface is explicit and sorted."""

import barlake


def test_all_is_sorted_and_every_name_exists():
    assert barlake.__all__ == sorted(barlake.__all__)
    for name in barlake.__all__:
        assert hasattr(barlake, name), name


def test_errors_share_one_root():
    for name in ("ConfigError", "DataError", "CorruptFileError", "LockedError", "SourceError"):
        assert issubclass(getattr(barlake, name), barlake.BarlakeError)
