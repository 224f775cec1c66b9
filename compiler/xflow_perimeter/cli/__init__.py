"""The command line: parses arguments, calls :mod:`xflow_perimeter.api`, prints and exits."""

from xflow_perimeter.cli.main import main

__all__ = ["main"]
