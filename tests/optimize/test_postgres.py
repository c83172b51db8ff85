"""A run on a real PostgreSQL server: workers of two "machines" (two run folders, two
sessions of processes) share one study through `--storage postgresql://...`.

The server is the Debian package (`apt-get install postgresql` when it is missing and we are
root), started here in a temporary folder on a free port, and stopped afterwards."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest
import sqlalchemy as sa
from optimize_support import results, small_config, walk_5m, write_lake

from barlake.optimize import join, start
from barlake.optimize.rundir import RunDir


def postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else None


def install_postgres() -> None:
    """The Debian package, as the README's set-up says; needs root and apt."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    wait = ["-o", "DPkg::Lock::Timeout=600"]  # the browser test may be installing chromium
    install = ["apt-get", *wait, "install", "-y", "-q", "postgresql"]
    if subprocess.run(install, env=env, check=False, timeout=900).returncode != 0:
        subprocess.run(["apt-get", *wait, "update", "-q"], env=env, check=False, timeout=900)
        subprocess.run(install, env=env, check=False, timeout=900)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    bindir = postgres_bin()
    if bindir is None:
        install_postgres()
        bindir = postgres_bin()
    if bindir is None:
        pytest.fail(
            "PostgreSQL server binaries not found and `apt-get install postgresql` was not possible"
        )
    root = Path(tempfile.mkdtemp(prefix="barlake-pg-"))
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(root, "postgres", "postgres")  # initdb refuses to run as root
    data, port = root / "data", free_port()
    subprocess.run([*as_postgres, str(bindir / "initdb"), "-D", str(data), "-U", "barlake",
                    "--auth=trust", "--no-sync", "-E", "UTF8"], check=True, capture_output=True)  # fmt: skip
    server = subprocess.Popen(
        [*as_postgres, str(bindir / "postgres"), "-D", str(data), "-k", str(root), "-p", str(port),
         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
        stdout=subprocess.DEVNULL, stderr=(root / "server.log").open("w"),
    )  # fmt: skip
    try:
        yield create_database(port, server)
    finally:  # also when start-up failed: never leave a server behind
        subprocess.run(
            [*as_postgres, str(bindir / "pg_ctl"), "stop", "-D", str(data), "-m", "fast"],
            check=False,
            capture_output=True,
        )
        server.wait(timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def create_database(port: int, server: subprocess.Popen) -> str:
    """Wait for the server to accept connections, create the `optuna` database."""
    admin = sa.create_engine(
        f"postgresql://barlake@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT"
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with admin.connect() as conn:
                conn.execute(sa.text("CREATE DATABASE optuna"))
            break
        except sa.exc.OperationalError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise
            time.sleep(0.2)
    admin.dispose()
    return f"postgresql://barlake@127.0.0.1:{port}/optuna"


def config(**overrides):
    settings = {
        "strategies": ("ma_cross", "rsi_reversion", "range_breakout"),
        "max_trials": 100,
        "population": 20,
    }
    return small_config(**(settings | overrides))


def test_workers_on_two_machines_share_one_postgres_study(postgres_url, tmp_path):
    lake = write_lake(tmp_path / "lake", walk_5m(5760, seed=11))
    box = {}
    here = threading.Thread(
        target=lambda: box.update(
            out=start(config(storage=postgres_url), lake=lake, runs_dir=tmp_path / "a")
        )
    )
    here.start()
    while (
        not (found := list((tmp_path / "a").glob("*/progress.jsonl")))
        or "session_started" not in found[0].read_text()
    ):
        time.sleep(0.05)
    first_dir = found[0].parent
    elsewhere = tmp_path / "b" / first_dir.name  # the run folder copied to the other machine
    elsewhere.mkdir(parents=True)
    shutil.copy(first_dir / "context.json", elsewhere / "context.json")
    assert "barlake@127.0.0.1" in (elsewhere / "context.json").read_text()
    joined = join(elsewhere, workers=1, lake=lake.root, storage=postgres_url)
    here.join(timeout=300)
    assert {box["out"].state, joined.state} == {"complete"}

    trials = pd.read_csv(first_dir / "trials.csv")
    assert len(trials) == 300 and not trials.duplicated(["strategy", "number"]).any()
    sessions = {
        e["worker"]
        for d in (first_dir, elsewhere)
        for e in RunDir(d).events()
        if e["event"] == "trial"
    }
    assert len({w.split(":")[1] for w in sessions}) == 2, "both machines' workers recorded trials"
    study = optuna.load_study(
        study_name=f"{first_dir.name.split('_')[0]}.ma_cross", storage=postgres_url
    )
    assert len(study.trials) >= 100  # what optuna-dashboard shows, straight from the database
    with sa.create_engine(postgres_url).connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM barlake_claims")).scalar() >= 300

    reference = start(config(), lake=lake, runs_dir=tmp_path / "journal", processes=False)
    pd.testing.assert_frame_equal(results(first_dir), results(reference.run_dir))
