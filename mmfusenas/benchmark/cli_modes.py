"""Run one of several modes of a command-line script, chosen by ``--mode``.

A benchmark that measures several related things (e.g.
``benchmarks/bench_inference.py``: latency of the official networks, their
cost at the paper's size, RUAS cost and quality) keeps one entry point per
mode, each with its own options. :func:`run_mode` picks the mode from
``--mode NAME`` (anywhere in the arguments; the first mode is the default)
and calls its entry point with the remaining arguments, so ``--help`` shows
the chosen mode's options.

Standard library only: tools and benchmarks alike may use it.
"""
import inspect
import sys
from typing import Any, Callable, List, Mapping, Optional, Sequence


def split_mode(argv: Sequence[str], modes: Sequence[str]) -> tuple:
    """``(mode, rest)``: the value of ``--mode NAME`` / ``--mode=NAME`` in
    ``argv`` (default: the first of ``modes``) and the other arguments.

    Raises:
        SystemExit: ``--mode`` without a value, or a name not in ``modes``
            (the message lists them).
    """
    argv = list(argv)
    mode = modes[0]
    rest: List[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == '--mode':
            if i + 1 >= len(argv):
                raise SystemExit(f'--mode needs a value, one of {list(modes)}')
            mode = argv[i + 1]
            i += 2
            continue
        if arg.startswith('--mode='):
            mode = arg.split('=', 1)[1]
        else:
            rest.append(arg)
        i += 1
    if mode not in modes:
        raise SystemExit(f'--mode {mode!r}: not one of {list(modes)}')
    return mode, rest


def run_mode(modes: Mapping[str, Callable[..., Any]],
             argv: Optional[Sequence[str]] = None) -> Any:
    """Call the entry point of the mode ``argv`` selects; return its value.

    Args:
        modes: ``{name: main}``, the default mode first. A ``main`` taking an
            argument gets the remaining arguments as a list; one without
            reads ``sys.argv``, which is set to the script name and them
            for the call (and restored after).
        argv: the arguments (default: ``sys.argv[1:]``).
    """
    names = list(modes)
    argv = sys.argv[1:] if argv is None else list(argv)
    mode, rest = split_mode(argv, names)
    if '-h' in rest or '--help' in rest:
        print(f'modes (--mode NAME): {", ".join(names)} (default '
              f'{names[0]}); options of mode {mode!r}:')
    main = modes[mode]
    if inspect.signature(main).parameters:
        return main(rest)
    saved = sys.argv
    sys.argv = [saved[0] if saved else mode] + rest
    try:
        return main()
    finally:
        sys.argv = saved


__all__ = ['split_mode', 'run_mode']
