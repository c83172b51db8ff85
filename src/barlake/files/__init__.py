"""Bar files in and out of the lake: import CSV/MT5/Parquet/Feather, export for other tools."""
