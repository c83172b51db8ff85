"""The sync: the only package that imports both sources and the lake.

plan.py     what is missing per instrument, from coverage alone (`barlake sync --plan`)
runner.py   fetch → validate → merge on worker threads, derive after
writer.py   month batches merged on a thread of their own while the next pages load
report.py   per-instrument outcome for the summary and logs
"""

from barlake.sync.plan import InstrumentPlan, Window, plan_instrument
from barlake.sync.report import InstrumentResult
from barlake.sync.runner import Progress, SyncOptions, sync

__all__ = [
    "InstrumentPlan",
    "InstrumentResult",
    "Progress",
    "SyncOptions",
    "Window",
    "plan_instrument",
    "sync",
]
