"""The DCNAS search space as data: genotype keys, the official ``arch``
encoding and the published architecture (:data:`EXAMPLE_ARCH`).

Keys: ``rgb_encoder.{s}.{b}`` / ``dep_encoder.{s}.{b}`` and
``decoder.{i}.{b}`` name mobile blocks, ``fusion.{i}`` a fusion op.
"""
from typing import Any, Dict, List, Mapping, Sequence

from mmfusenas.models.ops import (FUSION_OP_NAMES, GUIDE_FREE_FUSION_OPS,
                                  MB_OP_NAMES)

ARCH_FIELDS = ('rgb_encoder', 'dep_encoder', 'rec_decoder', 'fuse_op')


def dcnas_keys(num_stages: int = 4, num_blocks: int = 4) -> List[str]:
    """Genotype keys in the official flat order."""
    keys = []
    for prefix in ('rgb_encoder', 'dep_encoder', 'decoder'):
        keys += [
            f'{prefix}.{s}.{b}' for s in range(num_stages)
            for b in range(num_blocks)
        ]
    return keys + [f'fusion.{i}' for i in range(num_stages)]


def dcnas_space(num_stages: int = 4,
                num_blocks: int = 4) -> Dict[str, tuple]:
    """``{key: candidate names}`` of the DCNAS space."""
    return {
        k: (FUSION_OP_NAMES if k.startswith('fusion') else MB_OP_NAMES)
        for k in dcnas_keys(num_stages, num_blocks)
    }


def _codes(value: Any, n: int, what: str) -> List[int]:
    if not isinstance(value, (list, tuple)) or len(value) != n:
        raise ValueError(f'arch {what} must be a list of {n} ints, got '
                         f'{value!r}')
    return [int(v) for v in value]


def arch_to_choices(arch: Mapping[str, Any]) -> Dict[str, str]:
    """Official ``arch`` dict (integer codes) -> genotype choices (ValueError
    naming a bad field).
    """
    missing = [f for f in ARCH_FIELDS if f not in arch]
    if missing:
        raise ValueError(f'arch dict lacks {missing}; expected fields '
                         f'{list(ARCH_FIELDS)}')
    fuse = _codes(arch['fuse_op'], len(arch['fuse_op']), 'fuse_op')
    num_stages = len(fuse)
    if not arch['rgb_encoder'] or not isinstance(arch['rgb_encoder'][0],
                                                  (list, tuple)):
        raise ValueError('arch rgb_encoder must be a list of per-stage '
                         'lists of ints')
    num_blocks = len(arch['rgb_encoder'][0])
    choices: Dict[str, str] = {}
    for field, prefix in (('rgb_encoder', 'rgb_encoder'),
                          ('dep_encoder', 'dep_encoder'),
                          ('rec_decoder', 'decoder')):
        stages = arch[field]
        if len(stages) != num_stages:
            raise ValueError(f'arch {field} has {len(stages)} stages, '
                             f'fuse_op has {num_stages}')
        for s, codes in enumerate(stages):
            for b, code in enumerate(
                    _codes(codes, num_blocks, f'{field}[{s}]')):
                if not 0 <= code < len(MB_OP_NAMES):
                    raise ValueError(f'arch {field}[{s}][{b}] = {code} is '
                                     f'not in 0..{len(MB_OP_NAMES) - 1}')
                choices[f'{prefix}.{s}.{b}'] = MB_OP_NAMES[code]
    for i, code in enumerate(fuse):
        if not 0 <= code < len(FUSION_OP_NAMES):
            raise ValueError(f'arch fuse_op[{i}] = {code} is not in '
                             f'0..{len(FUSION_OP_NAMES) - 1}')
        choices[f'fusion.{i}'] = FUSION_OP_NAMES[code]
    return choices


def choices_to_arch(choices: Mapping[str, str]) -> Dict[str, list]:
    """Genotype choices -> official ``arch`` dict (integer codes)."""
    num_stages = sum(1 for k in choices if k.startswith('fusion.'))
    num_blocks = sum(1 for k in choices if k.startswith('rgb_encoder.0.'))
    arch = {}
    for field, prefix in (('rgb_encoder', 'rgb_encoder'),
                          ('dep_encoder', 'dep_encoder'),
                          ('rec_decoder', 'decoder')):
        arch[field] = [[
            MB_OP_NAMES.index(choices[f'{prefix}.{s}.{b}'])
            for b in range(num_blocks)
        ] for s in range(num_stages)]
    arch['fuse_op'] = [
        FUSION_OP_NAMES.index(choices[f'fusion.{i}'])
        for i in range(num_stages)
    ]
    return arch


def infer_depth(choices: Mapping[str, str]) -> Dict[str, int]:
    """``{'num_stages', 'num_blocks'}`` of a full set of choices."""
    return dict(
        num_stages=sum(1 for k in choices if k.startswith('fusion.')),
        num_blocks=sum(1 for k in choices if k.startswith('rgb_encoder.0.')))


def num_pruned_rgb_stages(fusion_ops: Sequence[str]) -> int:
    """Leading fusion ops (deepest first) that ignore the guidance: that
    many deepest RGB encoder stages are pruned (official ``StaticModel``)."""
    n = 0
    for op in fusion_ops:
        if op not in GUIDE_FREE_FUSION_OPS:
            break
        n += 1
    return n


def canonical_choices(choices: Mapping[str, str]) -> Dict[str, str]:
    """One representative of equivalent paths: blocks of RGB stages that no
    fusion op reads are set to ``skip``.
    """
    out = dict(choices)
    depth = infer_depth(out)
    fusion = [out[f'fusion.{i}'] for i in range(depth['num_stages'])]
    kept = depth['num_stages'] - num_pruned_rgb_stages(fusion)
    for s in range(kept, depth['num_stages']):
        for b in range(depth['num_blocks']):
            out[f'rgb_encoder.{s}.{b}'] = 'skip'
    return out


#: the official ``get_fix_architecture`` example (B=2, S=4): 544,981
#: parameters at C=16 and 144,415 at C=8 as a ``StaticModel``
EXAMPLE_ARCH = dict(
    rgb_encoder=[[0, 3], [0, 2], [6, 3], [0, 4]],
    dep_encoder=[[1, 3], [4, 2], [6, 6], [2, 0]],
    rec_decoder=[[6, 1], [1, 4], [1, 4], [6, 4]],
    fuse_op=[6, 6, 3, 6])
