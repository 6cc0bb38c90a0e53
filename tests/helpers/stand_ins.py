"""Small helpers shared by tests: seeded stand-in checkpoints and a log
message collector."""
import logging
from typing import List, Optional, Union

import torch
from mmengine.config import Config

from mmfusenas.utils.checkpoint import read_checkpoint


def save_seeded_checkpoint(config: Union[str, Config], path: str,
                           options: Optional[dict] = None,
                           seed: int = 0) -> str:
    """Build the config's model with ``torch.manual_seed(seed)`` (and its
    ``init_weights``) and save ``{'state_dict': ...}`` to ``path``: a
    stand-in checkpoint for tool / API tests.

    Args:
        config (str | Config): config file or object (copied).
        path (str): where to save.
        options (dict, optional): overrides merged into the config.
        seed (int): Defaults to 0.

    Returns:
        str: ``path``.
    """
    from mmfusenas.registry import MODELS
    cfg = Config.fromfile(config) if isinstance(config, str) else \
        Config(config.to_dict())
    if options:
        cfg.merge_from_dict(options)
    torch.manual_seed(seed)
    model = MODELS.build(cfg.model)
    if hasattr(model, 'init_weights'):
        model.init_weights()
    torch.save({'state_dict': model.state_dict()}, path)
    return path


def save_detecting_checkpoint(config: Union[str, Config], path: str,
                              options: Optional[dict] = None,
                              seed: int = 0) -> str:
    """:func:`save_seeded_checkpoint` of a compound model with a RetinaNet
    head whose classifier bias is zeroed (prior 0.5 instead of 0.01), so
    that the untrained detector returns boxes above its test score
    threshold: a stand-in for drawing / prediction tests."""
    save_seeded_checkpoint(config, path, options, seed)
    state = read_checkpoint(path)
    key = 'detector.bbox_head.retina_cls.bias'
    if key not in state['state_dict']:
        raise KeyError(f'{key} not in the model of {config}: not a '
                       'RetinaNet compound model')
    state['state_dict'][key].zero_()
    torch.save(state, path)
    return path


class LogCapture(logging.Handler):
    """A logging handler keeping every message (``.messages``)."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class Gain(torch.nn.Module):
    """A 'scene module' with a known answer: ``g · x``."""

    def __init__(self, gain: float = 2.0) -> None:
        super().__init__()
        self.gain = torch.nn.Parameter(torch.tensor(gain))

    def forward(self, x):
        return self.gain * x


class MeanLoss(torch.nn.Module):
    """``mean(first)`` of a fusion loss call / of the field ``pred``."""

    def __init__(self, loss_name='loss_mean', inputs=None):
        super().__init__()
        self.loss_name = loss_name
        if inputs is not None:
            self.inputs = inputs

    def forward(self, pred, *args):
        return pred.mean()
