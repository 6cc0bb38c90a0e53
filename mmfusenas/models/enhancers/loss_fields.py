"""Named fields of an enhancement forward pass, read by field losses.

A loss module may declare ``inputs``, a tuple of field names; it is then
called with those fields in that order (``RUASSceneLoss`` reads
``('illumination', 'low')``). A loss without ``inputs`` is called as
``loss(pred, target)``. Used by :class:`~mmfusenas.models.ImageEnhancer`
and by the scene + task models (:class:`~mmfusenas.models.SceneDetector`,
:class:`~mmfusenas.models.SceneSegmentor`), so a RUAS loss is configured the
same way in both.
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

    Args:
        losses (Sequence[nn.Module]): losses with a ``loss_name``.
        allowed (Sequence[str]): the fields the caller provides.

    Returns:
        bool: whether some loss reads a field of :data:`NETWORK_FIELDS`
        (so the network must run with ``return_all=True``).

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
    """Run ``network`` and name its outputs.

    Args:
        network (nn.Module): the enhancement network.
        inputs (Tensor): its ``(N, 3, H, W)`` input batch.
        return_all (bool): call ``network(inputs, return_all=True)`` (a
            :class:`~mmfusenas.models.scene.RUASOutputs`) to get the
            illumination ``t_K``, the scene output ``u_K`` and the denoised
            image (None when the denoiser did not run).

    Returns:
        dict: ``pred`` (and with ``return_all`` ``illumination``,
        ``scene_output``, ``denoised``).
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
    """Evaluate one loss on the named fields.

    Args:
        loss_fn (nn.Module): the loss (see the module docstring).
        fields (dict): the available fields; ``gt`` is None on a batch
            without ground truth.

    Returns:
        Tensor | None: the loss, or None for a supervised loss (one that
        reads ``gt``) on a batch without ground truth.

    Raises:
        ValueError: the loss reads a field this forward did not produce.
    """
    keys = getattr(loss_fn, 'inputs', None)
    if keys is None:
        return loss_fn(fields['pred'], fields['target'])
    if 'gt' in keys and fields.get('gt') is None:
        return None
    missing = [k for k in keys if fields.get(k) is None]
    if missing:
        raise ValueError(
            f'{loss_fn.loss_name} reads {missing}, which this forward did '
            'not produce (the denoiser did not run / is absent)')
    return loss_fn(*(fields[k] for k in keys))
