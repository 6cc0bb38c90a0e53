"""Keys of cached results: what made a result, not where (checkout, work
dir, object addresses)."""
import hashlib
import json
import os.path as osp
import re
from typing import Any, Callable, Dict, Optional, Sequence

from .state_dict_conversion import file_sha256

#: a path up to and including a checkout's ``configs/`` in JSON text (a
#: config's own location, ``{{fileDirname}}``)
_CHECKOUT = re.compile(r'"/[^"]*/configs/')
#: an object's address in its text (``<function f at 0x7f...>``)
_ADDRESS = re.compile(r' at 0x[0-9a-fA-F]+')


def portable_json(node: Any, work_dir: Optional[str] = None) -> str:
    """``node`` (a config as dicts and lists) as JSON text with sorted keys
    (other objects by their text, without addresses), the absolute path of
    ``work_dir`` written ``<work-dir>`` and every path into a checkout's
    ``configs/`` written from ``<repository>/configs/``."""
    text = _ADDRESS.sub('', json.dumps(node, sort_keys=True, default=str))
    if work_dir:
        text = text.replace(osp.abspath(work_dir), '<work-dir>')
    return _CHECKOUT.sub('"<repository>/configs/', text)


def portable_sha256(node: Any, work_dir: Optional[str] = None) -> str:
    """SHA-256 of :func:`portable_json`."""
    return hashlib.sha256(
        portable_json(node, work_dir).encode('utf-8')).hexdigest()


def named_files(node: Any,
                suffixes: Optional[Sequence[str]] = None,
                root: str = '',
                sha256: Callable[[str], str] = file_sha256) -> Dict[str, str]:
    """``{path: sha256}`` of the existing files named by the strings of
    ``node`` (nested dicts, lists, tuples): those ending in one of
    ``suffixes`` (None: any), a relative one read from ``root``; the paths
    as :func:`portable_json` writes them."""
    found = {}

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, (list, tuple)):
            for item in value:
                walk(item)
        elif isinstance(value, str) and value and (
                suffixes is None or value.endswith(tuple(suffixes))):
            path = osp.join(root, value)
            if osp.isfile(path):
                found[value] = sha256(path)

    walk(node)
    return json.loads(portable_json(found))


def state_sha256(state: Dict[str, Any]) -> str:
    """SHA-256 of a state dict: every entry's name and, for a tensor, its
    dtype, shape and bytes (other values by ``repr``), in name order."""
    import torch

    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name]
        digest.update(name.encode())
        if not isinstance(tensor, torch.Tensor):
            digest.update(repr(tensor).encode())
            continue
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f'{tensor.dtype}{tuple(tensor.shape)}'.encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
