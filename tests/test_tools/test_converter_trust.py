"""What the official-checkpoint converters say before they unpickle with
``--trust``, and how they report a broken (truncated / overwritten) file.

All four converters load through
:func:`mmfusenas.utils.checkpoint.load_legacy_checkpoint`. Before it warned,
the TIM, DCNAS and HBL converters ran a crafted pickle's payload without a
word; a truncated file was called "a legacy pickle ... pass trust=True".
"""
import os
import warnings

import pytest
import torch

from helpers import load_tool
from mmfusenas.utils.checkpoint import (CorruptCheckpointError,
                                        TrustedUnpicklingWarning)

CONVERTERS = ['tim', 'dcnas', 'hbl', 'ruas']


def converter(name):
    return load_tool(
        f'tools/model_converters/{name}_official_to_mmfusenas.py')


class _Payload:
    """Unpickling it creates the folder ``marker`` (a stand-in for code)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker, ))


@pytest.mark.parametrize('name', CONVERTERS)
def test_trusted_unpickling_is_announced_every_time(tmp_path, name):
    marker = str(tmp_path / 'payload_ran')
    src = str(tmp_path / 'crafted.pt')
    torch.save({'stem.weight': torch.zeros(1), 'x': _Payload(marker)}, src)
    load_official = converter(name).load_official
    for attempt in range(2):  # every call, not only the first one
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('default')
            with pytest.raises((TypeError, ValueError),
                               match='does not hold|holds no state dict'):
                load_official(src, True)
        said = [
            str(w.message) for w in caught
            if issubclass(w.category, TrustedUnpicklingWarning)
        ]
        assert len(said) == 1, (attempt, [str(w.message) for w in caught])
        assert src in said[0]
        assert 'weights_only=False' in said[0]
        assert 'can execute code stored in the file' in said[0]
        assert os.path.isdir(marker)  # the user asked for it with --trust
        os.rmdir(marker)


def _truncate(path, keep):
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])
    return len(data)


@pytest.mark.parametrize('name', CONVERTERS)
@pytest.mark.parametrize('zip_format', [True, False])
def test_truncated_file_is_called_corrupt_not_legacy(tmp_path, name,
                                                     zip_format):
    src = str(tmp_path / 'official.pt')
    torch.save({'stem.weight': torch.randn(256)},
               src,
               _use_new_zipfile_serialization=zip_format)
    size = _truncate(src, 0.6)
    for trust in (False, True):
        with pytest.raises(CorruptCheckpointError) as info:
            converter(name).load_official(src, trust)
        msg = str(info.value)
        assert src in msg and f'{int(size * 0.6)} bytes' in msg
        assert 'truncated' in msg
        assert 'trust=True' not in msg and 'pass --trust' not in msg
    if not zip_format:  # torch reports how much is missing
        assert 'expected' in msg and 'more bytes' in msg


def test_overwritten_block_is_called_corrupt(tmp_path):
    """A block of 0xFF in the tensor data of a zip file: zip reading and
    torch.load still work, the CRC-32 torch.save stores does not match."""
    from mmfusenas.utils.checkpoint import load_legacy_checkpoint
    src = str(tmp_path / 'official.pt')
    torch.save({'w': torch.randn(1000)}, src)
    with open(src, 'r+b') as f:
        f.seek(os.path.getsize(src) // 2)
        f.write(b'\xff' * 256)
    torch.load(src, weights_only=True)  # torch does not notice
    with pytest.raises(CorruptCheckpointError,
                       match=r'data/0 .*CRC-32'):
        load_legacy_checkpoint(src)
