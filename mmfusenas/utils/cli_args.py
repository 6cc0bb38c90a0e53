"""Checks of parsed command-line arguments (tools and benchmarks)."""
import argparse
from typing import Iterable


def require_positive(parser: argparse.ArgumentParser,
                     args: argparse.Namespace, names: Iterable[str]) -> None:
    """``parser.error`` (exit 2, naming the option) when one of the integer
    options ``names`` (e.g. ``'max_pairs'``) was given below 1."""
    for name in names:
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got '
                         f'{value}')
