"""Darkened toy scenes in the LOL layout."""
import numpy as np
import pytest
from PIL import Image

from mmfusenas.datasets import LowLightDataset
from mmfusenas.testing.toy_data.lowlight import darken, generate_toy_lowlight


def _read(path):
    return np.asarray(Image.open(path))


def test_layout_determinism_and_darkening(tmp_path):
    a, b = tmp_path / 'a', tmp_path / 'b'
    info = generate_toy_lowlight(str(a), num_train=3, num_val=1, seed=5)
    generate_toy_lowlight(str(b), num_train=3, num_val=1, seed=5)
    assert info == dict(num_train=3, num_val=1, size=64, seed=5)
    for split, names in (('train', ['00000', '00001', '00002']),
                         ('val', ['00003'])):
        for sub in ('low', 'high'):
            files = sorted(p.stem for p in (a / split / sub).iterdir())
            assert files == names
            for n in names:
                np.testing.assert_array_equal(
                    _read(a / split / sub / f'{n}.png'),
                    _read(b / split / sub / f'{n}.png'))
    low = _read(a / 'train' / 'low' / '00000.png').astype(float)
    high = _read(a / 'train' / 'high' / '00000.png').astype(float)
    assert low.shape == high.shape == (64, 64, 3)
    assert low.mean() < 0.25 * high.mean()
    ds = LowLightDataset(data_root=str(a / 'train'))
    assert len(ds) == 3


def test_darken_model_and_errors():
    rng = np.random.default_rng(0)
    high = np.full((4, 4, 3), 255, np.uint8)
    out = darken(high, rng, gain_range=(0.5, 0.5), shot_noise=0,
                 read_noise=0)
    assert (out == 128).all()  # floor(255 * 0.5 + 0.5)
    with pytest.raises(ValueError, match='gain_range'):
        darken(high, rng, gain_range=(0.0, 0.5))
    with pytest.raises(ValueError, match='num_train'):
        generate_toy_lowlight('unused', num_train=0)
