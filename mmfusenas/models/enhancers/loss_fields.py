"""Named fields of an enhancement forward pass, read by field losses.

A loss that declares ``inputs`` (field names) is called with those fields;
otherwise as ``loss(pred, target)``.
"""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn

#: fields a loss may read through its ``inputs`` attribute
LOSS_FIELDS = ('pred', 'target', 'low', 'gt', 'illumination', 'scene_output',
               'denoised')
#: the fields that need ``network(y, return_all=True)``
NETWORK_FIELDS = ('illumination', 'scene_output', 'denoised')

Fields = Dict[str, Optional[torch.Tensor]]


def check_loss_fields(losses: Sequence[nn.Module],
                      allowed: Sequence[str] = LOSS_FIELDS) -> bool:
    """Check the ``inputs`` of every loss.

    Returns:
        bool: whether some loss reads a field of :data:`NETWORK_FIELDS`.

    Raises:
        ValueError: a loss reads an unknown field.
    """
    for loss in losses:
        bad = set(getattr(loss, 'inputs', ())) - set(allowed)
        if bad:
            raise ValueError(f'{loss.loss_name} reads unknown fields '
                             f'{sorted(bad)}; known: {tuple(allowed)}')
    return any(
        set(getattr(loss, 'inputs', ())) & set(NETWORK_FIELDS)
        for loss in losses)


def network_fields(network: nn.Module, inputs: torch.Tensor,
                   return_all: bool) -> Fields:
    """Run ``network``: ``pred`` and, with ``return_all``, ``illumination``,
    ``scene_output`` and ``denoised``.
    """
    if not return_all:
        return dict(pred=network(inputs))
    out = network(inputs, return_all=True)
    num_stages = len(out.t_list)
    return dict(
        pred=out.pred,
        illumination=out.t_list[-1],
        scene_output=out.u_list[num_stages - 1],
        denoised=(out.u_list[-1] if len(out.u_list) > num_stages else None))


def call_field_loss(loss_fn: nn.Module,
                    fields: Fields) -> Optional[torch.Tensor]:
    """Evaluate one loss on the fields it reads (``loss_fn.inputs``; without
    it ``pred`` and ``target``): enhancement, registration and chain stages.

    Returns:
        Tensor | None: the loss, or None for a loss reading ``gt`` on a batch
        without ground truth.

    Raises:
        ValueError: the loss reads a field this forward or batch does not
            have.
    """
    keys = getattr(loss_fn, 'inputs', None) or ('pred', 'target')
    if 'gt' in keys and fields.get('gt') is None:
        return None
    missing = [k for k in keys if fields.get(k) is None]
    if missing:
        raise ValueError(
            f'{loss_fn.loss_name} reads {missing}, which this forward and '
            'batch do not have (e.g. the denoiser did not run, or no '
            'RandomElasticAffineWarp in the pipeline gave gt_flow)')
    return loss_fn(*(fields[k] for k in keys))
