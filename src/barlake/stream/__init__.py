"""Live streaming: ccxt.pro watchers with reconnect and REST backfill, trades→bars, sinks and
the YAML batch runner."""
