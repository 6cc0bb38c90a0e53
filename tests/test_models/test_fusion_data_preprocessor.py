import copy

import pytest
import torch

from mmfusenas.models.data_preprocessors import (FusionDataPreprocessor,
                                                 crop_to_shape)
from mmfusenas.models.utils.colorspace import rgb_to_ycbcr
from mmfusenas.structures import FusionDataSample


def sample(stem, h, w, color_modality='vi', modalities=('ir', 'vi')):
    return FusionDataSample(
        metainfo=dict(
            stem=stem,
            img_shape=(h, w),
            modalities=modalities,
            color_modality=color_modality))


def test_colour_to_luma_chroma_and_padding():
    torch.manual_seed(0)
    ir0 = torch.randint(0, 256, (1, 5, 7), dtype=torch.uint8)
    vi0 = torch.randint(0, 256, (3, 5, 7), dtype=torch.uint8)
    ir1 = torch.randint(0, 256, (1, 6, 4), dtype=torch.uint8)
    vi1 = torch.randint(0, 256, (1, 6, 4), dtype=torch.uint8)  # grey VIS
    data = dict(
        inputs=dict(ir=[ir0, ir1], vi=[vi0, vi1]),
        data_samples=[sample('a', 5, 7), sample('b', 6, 4, None)])
    out = FusionDataPreprocessor(pad_size_divisor=4, pad_value=0.25)(data)
    x = out['inputs']
    assert x.shape == (2, 2, 8, 8) and x.dtype == torch.float32
    ycc = rgb_to_ycbcr(vi0.float() / 255)
    torch.testing.assert_close(x[0, 0, :5, :7], ir0[0].float() / 255)
    torch.testing.assert_close(x[0, 1, :5, :7], ycc[0])
    torch.testing.assert_close(x[1, 1, :6, :4], vi1[0].float() / 255)
    # padding only at the bottom / right, with pad_value
    assert torch.all(x[0, :, 5:, :] == 0.25) and torch.all(x[0, :, :, 7:] ==
                                                          0.25)
    s0, s1 = out['data_samples']
    torch.testing.assert_close(s0.chroma, ycc[1:])
    assert 'chroma' not in s1
    assert s0.sources.shape == (2, 5, 7) and s1.sources.shape == (2, 6, 4)
    assert s0.pad_shape == (8, 8) == s1.batch_input_shape
    torch.testing.assert_close(crop_to_shape(x[0], s0.img_shape), s0.sources)


def test_append_chroma_puts_the_colour_in_the_batch():
    """The same batch with append_chroma: the luminances unchanged, then Cb,
    Cr of the colour source, 0.5 for the grey sample and in the padding;
    no chroma on the samples."""
    torch.manual_seed(0)
    def img(*shape):
        return torch.randint(0, 256, shape, dtype=torch.uint8)

    vi0 = img(3, 5, 7)
    data = dict(
        inputs=dict(ir=[img(1, 5, 7), img(1, 6, 4)], vi=[vi0, img(1, 6, 4)]),
        data_samples=[sample('a', 5, 7), sample('b', 6, 4, None)])
    plain = FusionDataPreprocessor(pad_size_divisor=4)(copy.deepcopy(data))
    out = FusionDataPreprocessor(pad_size_divisor=4, append_chroma=True)(data)
    x = out['inputs']
    assert x.shape == (2, 4, 8, 8)
    assert torch.equal(x[:, :2], plain['inputs'])
    assert torch.equal(x[0, 2:, :5, :7], rgb_to_ycbcr(vi0.float() / 255)[1:])
    assert torch.all(x[0, 2:, 5:] == 0.5) and torch.all(x[0, 2:, :, 7:] == 0.5)
    assert torch.all(x[1, 2:] == 0.5)
    assert not any('chroma' in s for s in out['data_samples'])
    with pytest.raises(ValueError, match='append_chroma and keep_rgb'):
        FusionDataPreprocessor(keep_rgb=['vi'], append_chroma=True)


def test_modality_order_follows_metainfo():
    a = torch.full((1, 2, 2), 10, dtype=torch.uint8)
    b = torch.full((1, 2, 2), 200, dtype=torch.uint8)
    data = dict(
        inputs=dict(mri=[a], pet=[b]),
        data_samples=[sample('m', 2, 2, None, ('pet', 'mri'))])
    x = FusionDataPreprocessor()(data)['inputs']
    torch.testing.assert_close(x[0, :, 0, 0], torch.tensor([200., 10.]) / 255)


def test_bad_batches_are_reported():
    pre = FusionDataPreprocessor()
    img = torch.zeros((1, 2, 2), dtype=torch.uint8)
    with pytest.raises(ValueError, match="same modalities.*'b'"):
        pre(
            dict(
                inputs=dict(ir=[img, img], vi=[img, img]),
                data_samples=[
                    sample('a', 2, 2),
                    sample('b', 2, 2, None, ('vi', 'ir'))
                ]))
    with pytest.raises(KeyError, match="'vi' missing"):
        pre(dict(inputs=dict(ir=[img]), data_samples=[sample('a', 2, 2)]))
    with pytest.raises(ValueError, match='expects 3 channels'):
        pre(
            dict(
                inputs=dict(
                    ir=[img], vi=[torch.zeros((4, 2, 2), dtype=torch.uint8)]),
                data_samples=[sample('a', 2, 2)]))
    # a (1, ...) image of another rank would be batched silently
    with pytest.raises(ValueError, match=r"sample 'a' must be \(C, H, W\)"):
        pre(dict(inputs=dict(ir=[img[None]], vi=[img[None]]),
                 data_samples=[sample('a', 2, 2)]))
    with pytest.raises(ValueError, match='pad_size_divisor'):
        FusionDataPreprocessor(pad_size_divisor=0)
