"""The thin command-line layer: parses arguments, calls the stages, renders their data."""
