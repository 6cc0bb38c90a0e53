"""Checks of parsed command-line arguments shared by the tools and
benchmarks. Standard library only."""
import argparse
from typing import Iterable

__all__ = ['require_positive']


def require_positive(parser: argparse.ArgumentParser,
                     args: argparse.Namespace, names: Iterable[str]) -> None:
    """Stop with ``parser.error`` (exit 2, the option named) when one of
    the integer options ``names`` (attribute names, e.g. ``'max_pairs'``)
    was given below 1; an option left at None passes."""
    for name in names:
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got '
                         f'{value}')
