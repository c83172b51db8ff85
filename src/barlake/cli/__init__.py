"""The `barlake` command line: parses arguments and calls one library function per command."""
