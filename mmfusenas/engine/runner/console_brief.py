"""A short first screen for training runs.

MMEngine's runner logs the whole environment, the whole config (hundreds of
lines) and the order of every hook to the console and the log file before
the first iteration. :class:`ConsoleBrief` keeps those records in the log
file only and shows a pointer to it on the console; :func:`run_summary`
says in a few lines what is trained on what. MMEngine 0.10's
``CheckpointHook.before_train`` always builds a deprecated ``FileClient``
(whatever ``backend_args`` says), which logs two deprecation warnings per
run that no config can avoid: :class:`ConsoleBrief` drops exactly those two
messages.
"""
import logging
from typing import Any

from mmengine.model import is_model_wrapper

#: records shown in the log file only (message prefixes)
FILE_ONLY_PREFIXES = ('Config:\n', 'Hooks will be executed in the following',
                      '\n' + '-' * 60 + '\nSystem environment:')
#: MMEngine's own deprecation notes raised inside its CheckpointHook
DROPPED_PREFIXES = ('"FileClient" will be deprecated in future',
                    '"HardDiskBackend" is the alias of "LocalBackend"')


class ConsoleBrief(logging.Filter):
    """Filter of a console handler: the long set-up records go to the log
    file only, the unavoidable deprecation notes nowhere."""

    def __init__(self, file_only: bool = True) -> None:
        super().__init__()
        self.file_only = file_only

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith(DROPPED_PREFIXES):
            return False
        return not (self.file_only and message.startswith(FILE_ONLY_PREFIXES))


def install_console_brief(logger: logging.Logger) -> None:
    """Install :class:`ConsoleBrief` on ``logger``'s console handlers (the
    set-up records stay in its file handlers) and drop the deprecation
    notes from its file handlers too. Idempotent."""
    for handler in logger.handlers:
        if any(isinstance(f, ConsoleBrief) for f in handler.filters):
            continue
        is_file = isinstance(handler, logging.FileHandler)
        handler.addFilter(ConsoleBrief(file_only=not is_file))


def _dataset_line(name: str, dataset: Any) -> str:
    cfg = getattr(dataset, 'cfg', None)
    kind = type(dataset).__name__
    root = getattr(dataset, 'data_root', None)
    if root is None and isinstance(cfg, dict):
        root = cfg.get('data_root')
    try:
        size = f'{len(dataset)} samples'
    except TypeError:
        size = 'size unknown'
    return f'{name}: {kind} at {root!s} ({size})'


def run_summary(runner: Any) -> str:
    """The first-screen summary of a training run: the model and its size,
    the config, the training data set, the schedule and the work dir.

    Args:
        runner (Runner): The runner (its train loop is built if needed).

    Returns:
        str: a few lines.
    """
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    loop, train_cfg = runner.train_loop, runner.cfg.get('train_cfg') or {}
    unit = 'iterations' if 'max_iters' in train_cfg else 'epochs'
    key = 'max_iters' if 'max_iters' in train_cfg else 'max_epochs'
    length = f'{getattr(loop, key, train_cfg.get(key, "?"))} {unit}'
    params = sum(p.numel() for p in model.parameters())
    lines = [f'training {type(model).__name__} ({params / 1e6:.3f} M '
             f'parameters) from {runner.cfg.filename or "(config dict)"} '
             f'for {length}']
    loader = getattr(loop, 'dataloader', None)
    if loader is not None:
        lines.append('  ' + _dataset_line('train', loader.dataset))
    lines.append(f'  work dir: {runner.work_dir} (full config, environment '
                 'and hook order: the log file there)')
    return '\n'.join(lines)
