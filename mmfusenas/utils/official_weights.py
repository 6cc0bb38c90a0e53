"""Recognise official (unconverted) weight files by their keys, so that the
checked loader names the converter to run instead of listing the keys."""
import re
from collections import OrderedDict
from typing import Dict, Iterable, Mapping, Optional

#: name -> ``keys`` (regular expressions; a file matches when each of them
#: fullmatches at least one of its keys, a ``module.`` prefix removed),
#: ``network`` (what the file holds) and ``command`` (the converter, with
#: ``{src}`` for the file)
OFFICIAL_WEIGHT_FILES: Dict[str, dict] = OrderedDict(
    seafusion=dict(
        keys=[r'vis_rgbd1\.dense\.conv1\.conv\.weight'],
        network='SeAFusion FusionNet (Linfeng-Tang/SeAFusion)',
        command='python tools/model_converters/fusion_baselines_to_mmfusenas'
        '.py seafusion {src} checkpoints/seafusion_mmfusenas.pth'),
    tardal=dict(
        keys=[r'dense\.0\.0\.weight', r'fuse\.\d+\.0\.weight'],
        network='TarDAL Generator (JinyuanLiu-CV/TarDAL tardal.pt / '
        'tardal+.pt / tardal++.pt)',
        command='python tools/model_converters/fusion_baselines_to_mmfusenas'
        '.py tardal {src} checkpoints/tardal_mmfusenas.pth'),
    ifcnn_max=dict(
        keys=[r'conv2\.bn\.running_var', r'conv1\.weight'],
        network='IFCNN (uzeful/IFCNN IFCNN-MAX.pth)',
        command='python tools/model_converters/fusion_baselines_to_mmfusenas'
        '.py ifcnn_max {src} checkpoints/ifcnn_max_mmfusenas.pth'),
    ruas=dict(
        keys=[r'enhance_net\.iems\.\d+\.cell\..+'],
        network='RUAS (vis-opt-group/RUAS or KarelZhang/RUAS)',
        command='python tools/model_converters/ruas_official_to_mmfusenas.py'
        ' {src} checkpoints/ruas_mmfusenas.pth'),
    tim=dict(
        keys=[r'(stem\.\d+\.conv2d|cells[23]?\.\d+\.preprocess1\.op\.\d+)'
              r'\..+'],
        network='TIM Network_Fusion9 (LiuZhu-CV/TIMFusion weights_*.pt)',
        command='python tools/model_converters/tim_official_to_mmfusenas.py'
        ' MODEL --stage1 {src} [--stage2 weights_2_*.pt] '
        'checkpoints/tim_mmfusenas.pth (MODEL: ivif, light, ct, pet or '
        'spect)'),
    hbl=dict(
        keys=[r'e\.encode\..+'],
        network='HBL Network (zhudear/HBLALS_pytorch)',
        command='python tools/model_converters/hbl_official_to_mmfusenas.py'
        ' {src} checkpoints/hbl_mmfusenas.pth --genotype '
        '{{lol,mit,sihr,uie}}'),
    dcnas=dict(
        keys=[r'(dep_encoder|rgb_encoder)\..+'],
        network='DCNAS StaticModel',
        command='python tools/model_converters/dcnas_official_to_mmfusenas'
        '.py {src} checkpoints/dcnas_mmfusenas.pth --arch ARCH'),
)


def _plain_keys(keys: Iterable[str]) -> list:
    return [k[len('module.'):] if k.startswith('module.') else k
            for k in keys]


def identify_official_weights(keys: Iterable[str]) -> Optional[str]:
    """The name in :data:`OFFICIAL_WEIGHT_FILES` (e.g. ``'seafusion'``)
    whose signature the state-dict ``keys`` match, else None."""
    keys = _plain_keys(keys)
    for name, spec in OFFICIAL_WEIGHT_FILES.items():
        patterns = [re.compile(p) for p in spec['keys']]
        if all(any(p.fullmatch(k) for k in keys) for p in patterns):
            return name
    return None


def recognise_official_weights(state_dict: Mapping,
                               path: str = 'FILE') -> Optional[str]:
    """A sentence naming the official network of ``state_dict`` and the
    command that converts ``path``, or None when no signature matches."""
    name = identify_official_weights(state_dict)
    if name is None:
        return None
    spec = OFFICIAL_WEIGHT_FILES[name]
    return (f'it is an official {spec["network"]} weight file, not yet '
            'converted to this toolbox\'s keys. Convert it once with\n  '
            + spec['command'].format(src=path) +
            '\nand give the converted file instead '
            '(docs/user_guides/official_weights.md)')
