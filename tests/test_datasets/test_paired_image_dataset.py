"""Tests of PairedImageDataset on the real shared images and on bad inputs."""
import logging
import os
import os.path as osp
import re

import cv2
import numpy as np
import pytest
from mmengine.logging import MMLogger

from mmfusenas.datasets import PairedImageDataset, detect_layout
from mmfusenas.registry import DATASETS

LOAD = [dict(type='LoadPairedImages')]

# root, explicit data_prefix, #pairs, first / last stem, channels per
# modality, colour modality, (H, W) of every pair or None when sizes vary
REAL_LAYOUTS = [
    ('fusion/TNO', dict(ir='ir', vi='vi'), 25, '01', '25', (1, 1), None,
     None),
    ('fusion/RoadScene', dict(ir='ir', vi='vi'), 50, 'FLIR_00211',
     'FLIR_video_02829', (1, 3), 'vi', None),
    ('fusion/MRI_CT', dict(mri='MRI', ct='CT'), 21, '11', '31', (1, 1), None,
     (256, 256)),
    ('fusion/MRI_PET', dict(mri='MRI', pet='PET'), 42, '11', '52', (1, 3),
     'pet', (256, 256)),
    ('fusion/MRI_SPECT', dict(mri='MRI', spect='SPECT'), 73, '11', '83',
     (1, 3), 'spect', (256, 256)),
    ('detection/msrs17', dict(ir='ir', vi='vi'), 17, '00001D', '01023N',
     (1, 3), 'vi', (480, 640)),
    ('detection/kaist8', dict(ir='ir', vi='vi'), 8, 'set06_V001_I00459',
     'set11_V000_I01279', (1, 3), 'vi', (512, 640)),
    ('detection/llvip6', dict(ir='ir', vi='vi'), 6, '010005', '190005',
     (1, 3), 'vi', (1024, 1280)),
]


def folder_stems(folder):
    return sorted(osp.splitext(f)[0] for f in os.listdir(folder))


def write(path, arr):
    os.makedirs(osp.dirname(path), exist_ok=True)
    assert cv2.imwrite(str(path), arr)
    return str(path)


def gray(h=8, w=10, value=7):
    return np.full((h, w), value, np.uint8)


def make_pairs(root, stems, mods=('ir', 'vi'), ext=('.png', '.png'), h=8,
               w=10):
    for stem in stems:
        for mod, e in zip(mods, ext):
            write(osp.join(root, mod, stem + e), gray(h, w))


class LogCollector(logging.Handler):

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def mm_log():
    logger = MMLogger.get_current_instance()
    handler = LogCollector()
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


# ---------------------------------------------------------------------------
# real shared images
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    'root,prefix,num,first,last,channels,color,shape', REAL_LAYOUTS,
    ids=[layout[0] for layout in REAL_LAYOUTS])
def test_real_layouts(shared_data, root, prefix, num, first, last, channels,
                      color, shape):
    data_root = osp.join(shared_data, root)
    ds = PairedImageDataset(
        data_root=data_root, data_prefix=prefix, pipeline=LOAD)
    mods = tuple(prefix)
    assert len(ds) == num
    assert ds.metainfo['modalities'] == mods
    stems = [ds.get_data_info(i)['stem'] for i in range(len(ds))]
    # sorted by stem, and exactly the files of both folders
    assert stems == sorted(stems)
    for mod, folder in prefix.items():
        assert folder_stems(osp.join(data_root, folder)) == stems
    assert (stems[0], stems[-1]) == (first, last)
    info = ds.get_data_info(0)
    assert info['modalities'] == mods
    assert info['sample_idx'] == 0
    assert set(info['img_path']) == set(mods)
    for mod, folder in prefix.items():
        assert osp.dirname(info['img_path'][mod]) == osp.join(
            data_root, folder)

    # auto-detection finds the same layout and the same list
    auto = PairedImageDataset(data_root=data_root)
    assert auto.metainfo['modalities'] == mods
    assert [auto.get_data_info(i) for i in range(num)] == \
        [ds.get_data_info(i) for i in range(num)]

    for i in range(num):
        out = ds[i]
        assert out['modalities'] == mods
        assert out['color_modality'] == color
        raw = {m: cv2.imread(p, cv2.IMREAD_UNCHANGED)
               for m, p in out['img_path'].items()}
        hw = raw[mods[0]].shape[:2]
        if shape is not None:
            assert hw == shape
        assert out['img_shape'] == out['ori_shape'] == hw
        for mod, c in zip(mods, channels):
            img = out[mod]
            assert img.dtype == np.uint8 and img.flags.c_contiguous
            assert img.shape == hw + (c, )
            src = raw[mod]
            if c == 3:  # colour: RGB order, values untouched
                np.testing.assert_array_equal(img, src[..., ::-1])
            elif src.ndim == 2:  # 1-channel file: untouched
                np.testing.assert_array_equal(img[..., 0], src)
            else:  # gray stored as 3 channels: BT.601 luma (== channel)
                np.testing.assert_array_equal(
                    img[..., 0], cv2.cvtColor(src, cv2.COLOR_BGR2GRAY))


def test_real_gray_in_three_channels_is_the_channel(shared_data):
    # TNO and the medical MRI store gray as 3 identical channels; the loaded
    # gray image is exactly that channel
    ds = PairedImageDataset(
        data_root=osp.join(shared_data, 'fusion/TNO'), pipeline=LOAD)
    out = ds[0]
    raw = cv2.imread(out['img_path']['ir'], cv2.IMREAD_UNCHANGED)
    assert raw.shape == (576, 768, 3)
    np.testing.assert_array_equal(out['ir'][..., 0], raw[..., 1])


def test_real_roadscene_sizes(shared_data):
    ds = PairedImageDataset(
        data_root=osp.join(shared_data, 'fusion/RoadScene'),
        pipeline=LOAD,
        check_sizes=True)
    out = ds[0]
    assert out['stem'] == 'FLIR_00211'
    assert out['ir'].shape == (301, 496, 1)
    assert out['vi'].shape == (301, 496, 3)


@pytest.mark.parametrize('root', [layout[0] for layout in REAL_LAYOUTS])
def test_real_check_sizes_accepts_registered_pairs(shared_data, root):
    data_root = osp.join(shared_data, root)
    lazy = PairedImageDataset(data_root=data_root)
    checked = PairedImageDataset(data_root=data_root, check_sizes=True)
    assert len(checked) == len(lazy)
    assert checked.get_data_info(len(lazy) - 1) == \
        lazy.get_data_info(len(lazy) - 1)


def test_msrs_layout_infrared_visible(shared_data, tmp_path):
    # MSRS names its folders Infrared / Visible; link the real MSRS images
    src = osp.join(shared_data, 'detection/msrs17')
    stems = folder_stems(osp.join(src, 'ir'))
    for new, old in (('Infrared', 'ir'), ('Visible', 'vi')):
        os.makedirs(tmp_path / new)
        for stem in stems:
            os.symlink(
                osp.join(src, old, stem + '.png'),
                tmp_path / new / (stem + '.png'))
    assert detect_layout(str(tmp_path)) == dict(ir='Infrared', vi='Visible')
    ds = PairedImageDataset(data_root=str(tmp_path), pipeline=LOAD)
    assert ds.metainfo['modalities'] == ('ir', 'vi')
    assert len(ds) == 17
    out = ds[3]
    assert out['stem'] == stems[3] == '00005N'
    assert out['img_path'] == dict(
        ir=osp.join(str(tmp_path), 'Infrared', '00005N.png'),
        vi=osp.join(str(tmp_path), 'Visible', '00005N.png'))
    assert out['ir'].shape == (480, 640, 1)
    assert out['vi'].shape == (480, 640, 3)
    assert out['color_modality'] == 'vi'


def test_real_modality_order_follows_data_prefix(shared_data):
    ds = PairedImageDataset(
        data_root=osp.join(shared_data, 'fusion/MRI_PET'),
        data_prefix=dict(pet='PET', mri='MRI'),
        pipeline=LOAD)
    assert ds.metainfo['modalities'] == ('pet', 'mri')
    out = ds[0]
    assert out['modalities'] == ('pet', 'mri')
    assert list(out['img_path']) == ['pet', 'mri']
    assert out['color_modality'] == 'pet'


def test_build_from_registry_and_config_dict(shared_data):
    ds = DATASETS.build(
        dict(
            type='PairedImageDataset',
            data_root=osp.join(shared_data, 'fusion/MRI_CT'),
            data_prefix=dict(mri='MRI', ct='CT'),
            indices=3,
            serialize_data=False,
            pipeline=LOAD))
    assert isinstance(ds, PairedImageDataset)
    assert len(ds) == 3
    assert [ds[i]['stem'] for i in range(3)] == ['11', '12', '13']


# ---------------------------------------------------------------------------
# layouts, split files and options on small written datasets
# ---------------------------------------------------------------------------
def test_pairs_by_stem_with_different_extensions(tmp_path):
    write(tmp_path / 'ir' / 'a.jpg', gray())
    write(tmp_path / 'vi' / 'a.png', gray())
    write(tmp_path / 'ir' / 'b.BMP', gray())
    write(tmp_path / 'vi' / 'b.tif', gray())
    ds = PairedImageDataset(data_root=str(tmp_path), pipeline=LOAD)
    assert ds.get_data_info(0) == dict(
        img_path=dict(
            ir=osp.join(str(tmp_path), 'ir', 'a.jpg'),
            vi=osp.join(str(tmp_path), 'vi', 'a.png')),
        stem='a',
        modalities=('ir', 'vi'),
        sample_idx=0)
    assert ds.get_data_info(1)['img_path']['ir'].endswith('b.BMP')
    assert ds[1]['ir'].shape == (8, 10, 1)


def test_sorted_by_stem_and_non_images_ignored(tmp_path):
    make_pairs(tmp_path, ['c2', 'b', 'c10', 'a'])
    (tmp_path / 'ir' / 'notes.txt').write_text('not an image')
    (tmp_path / 'vi' / 'Thumbs.db').write_text('x')
    write(tmp_path / 'ir' / '.hidden.png', gray())  # e.g. macOS ._ files
    os.makedirs(tmp_path / 'vi' / 'sub.png')  # a folder is not an image
    ds = PairedImageDataset(data_root=str(tmp_path))
    assert [ds.get_data_info(i)['stem'] for i in range(len(ds))] == \
        ['a', 'b', 'c10', 'c2']


def test_img_suffixes_option(tmp_path):
    make_pairs(tmp_path, ['a'], ext=('.png', '.png'))
    make_pairs(tmp_path, ['b'], ext=('.jpg', '.jpg'))
    ds = PairedImageDataset(data_root=str(tmp_path), img_suffixes=('.PNG', ))
    assert len(ds) == 1 and ds.get_data_info(0)['stem'] == 'a'
    with pytest.raises(ValueError, match="starting with '.'"):
        PairedImageDataset(data_root=str(tmp_path), img_suffixes=('png', ))


def test_three_modalities_and_absolute_prefix(tmp_path):
    make_pairs(tmp_path, ['x', 'y'], mods=('a', 'b', 'c'),
               ext=('.png', ) * 3)
    ds = PairedImageDataset(
        data_prefix=dict(
            c=str(tmp_path / 'c'), a=str(tmp_path / 'a'),
            b=str(tmp_path / 'b')),
        pipeline=LOAD)
    assert ds.metainfo['modalities'] == ('c', 'a', 'b')
    out = ds[1]
    assert out['stem'] == 'y'
    assert [out[m].shape for m in 'abc'] == [(8, 10, 1)] * 3


def test_split_file(tmp_path):
    make_pairs(tmp_path, ['01', '02', '03', '04'])
    (tmp_path / 'splits').mkdir()
    (tmp_path / 'splits' / 'val.txt').write_text(
        '# validation split\n\n  04  \n02\n#03\n')
    ds = PairedImageDataset(
        data_root=str(tmp_path), ann_file='splits/val.txt')
    assert ds.ann_file == osp.join(str(tmp_path), 'splits/val.txt')
    assert [ds.get_data_info(i)['stem'] for i in range(len(ds))] == \
        ['02', '04']


def test_split_file_errors(tmp_path):
    make_pairs(tmp_path, ['01', '02'])
    write(tmp_path / 'ir' / '03.png', gray())  # 03 has no visible image
    split = tmp_path / 'split.txt'

    split.write_text('01\n05\n')
    with pytest.raises(ValueError, match=r"(?s)no file in any.*\n  '05'"):
        PairedImageDataset(data_root=str(tmp_path), ann_file='split.txt')

    split.write_text('01\n03\n')
    with pytest.raises(ValueError) as err:
        PairedImageDataset(data_root=str(tmp_path), ann_file='split.txt')
    assert "'03': missing in vi" in str(err.value)
    ds = PairedImageDataset(
        data_root=str(tmp_path), ann_file='split.txt', on_unpaired='skip')
    assert len(ds) == 1 and ds.get_data_info(0)['stem'] == '01'

    split.write_text('01\n02\n01\n')
    with pytest.raises(ValueError, match=r"(?s)more than once.*'01'"):
        PairedImageDataset(data_root=str(tmp_path), ann_file='split.txt')

    split.write_text('# nothing\n\n')
    with pytest.raises(ValueError, match='lists no stem'):
        PairedImageDataset(data_root=str(tmp_path), ann_file='split.txt')

    with pytest.raises(FileNotFoundError, match='missing.txt'):
        PairedImageDataset(data_root=str(tmp_path), ann_file='missing.txt')


def test_split_file_not_utf8_is_an_error_naming_it(tmp_path):
    make_pairs(tmp_path, ['01'])
    split = tmp_path / 'split.txt'
    split.write_bytes(b'01\n\xff\xfe\n')
    with pytest.raises(ValueError, match=re.escape(str(split)) + '.*UTF-8'):
        PairedImageDataset(data_root=str(tmp_path), ann_file='split.txt')


def test_auto_detect_layouts(tmp_path):
    for folders, expected in (
        (('ir', 'vi'), dict(ir='ir', vi='vi')),
        (('Infrared', 'Visible', 'labels'), dict(ir='Infrared',
                                                 vi='Visible')),
        (('MRI', 'CT'), dict(mri='MRI', ct='CT')),
        (('MRI', 'PET'), dict(mri='MRI', pet='PET')),
        (('MRI', 'SPECT'), dict(mri='MRI', spect='SPECT')),
    ):
        root = tmp_path / '_'.join(folders)
        for folder in folders:
            os.makedirs(root / folder)
        detected = detect_layout(str(root))
        assert list(detected.items()) == list(expected.items())


def test_auto_detect_errors(tmp_path):
    for folder in ('ir', 'vi', 'MRI', 'CT', 'masks'):
        os.makedirs(tmp_path / 'several' / folder)
    with pytest.raises(ValueError) as err:
        PairedImageDataset(data_root=str(tmp_path / 'several'))
    msg = str(err.value)
    assert 'several known layouts ({ir,vi}, {MRI,CT})' in msg
    assert "['CT', 'MRI', 'ir', 'masks', 'vi']" in msg

    for folder in ('MRI', 'PET', 'SPECT'):
        os.makedirs(tmp_path / 'medical' / folder)
    with pytest.raises(ValueError, match=r'\{MRI,PET\}, \{MRI,SPECT\}'):
        PairedImageDataset(data_root=str(tmp_path / 'medical'))

    for folder in ('infrared', 'rgb'):
        os.makedirs(tmp_path / 'none' / folder)
    with pytest.raises(ValueError) as err:
        PairedImageDataset(data_root=str(tmp_path / 'none'), data_prefix={})
    assert 'none of the known layouts' in str(err.value)
    assert "['infrared', 'rgb']" in str(err.value)

    with pytest.raises(FileNotFoundError, match='not a folder'):
        PairedImageDataset(data_root=str(tmp_path / 'absent'))


def test_metainfo_and_lazy_init(tmp_path):
    make_pairs(tmp_path, ['a'])
    write(tmp_path / 'ir' / 'b.png', gray())
    # lazy: nothing is indexed yet, the modalities are already known
    ds = PairedImageDataset(data_root=str(tmp_path), lazy_init=True)
    assert ds.metainfo == dict(modalities=('ir', 'vi'))
    with pytest.raises(ValueError, match="'b': missing in vi"):
        ds.full_init()
    ds = PairedImageDataset(
        data_root=str(tmp_path),
        metainfo=dict(modalities=('ir', 'vi'), name='toy'),
        on_unpaired='skip')
    assert ds.metainfo == dict(modalities=('ir', 'vi'), name='toy')
    with pytest.raises(ValueError, match='disagree'):
        PairedImageDataset(
            data_root=str(tmp_path),
            metainfo=dict(modalities=('vi', 'ir')),
            on_unpaired='skip')


def test_invalid_arguments(tmp_path):
    make_pairs(tmp_path, ['a'])
    with pytest.raises(ValueError, match="on_unpaired must be 'error'"):
        PairedImageDataset(data_root=str(tmp_path), on_unpaired='drop')
    with pytest.raises(ValueError, match="'img_path'"):
        PairedImageDataset(
            data_root=str(tmp_path), data_prefix=dict(img_path='ir',
                                                      vi='vi'))
    with pytest.raises(ValueError, match="'ir-1'"):
        PairedImageDataset(
            data_root=str(tmp_path), data_prefix={'ir-1': 'ir', 'vi': 'vi'})


# ---------------------------------------------------------------------------
# bad inputs
# ---------------------------------------------------------------------------
def test_missing_partner_is_an_error_naming_it(tmp_path):
    make_pairs(tmp_path, ['a', 'c'])
    write(tmp_path / 'ir' / 'b.png', gray())
    write(tmp_path / 'vi' / 'd.jpg', gray())
    with pytest.raises(ValueError) as err:
        PairedImageDataset(data_root=str(tmp_path))
    msg = str(err.value)
    assert '2 stem(s) do not have a file in every modality folder' in msg
    assert (f"'b': missing in vi ({tmp_path / 'vi'}); present: "
            f"ir={tmp_path / 'ir' / 'b.png'}") in msg
    assert (f"'d': missing in ir ({tmp_path / 'ir'}); present: "
            f"vi={tmp_path / 'vi' / 'd.jpg'}") in msg
    assert "on_unpaired='skip'" in msg


def test_skip_unpaired_logs_a_warning(tmp_path, mm_log):
    make_pairs(tmp_path, ['a', 'c'])
    write(tmp_path / 'ir' / 'b.png', gray())
    ds = PairedImageDataset(data_root=str(tmp_path), on_unpaired='skip')
    assert [ds.get_data_info(i)['stem'] for i in range(len(ds))] == \
        ['a', 'c']
    warnings = [r for r in mm_log.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert 'drops 1 unpaired stem(s)' in warnings[0].getMessage()
    assert "'b': missing in vi" in warnings[0].getMessage()


def test_skip_leaving_nothing_is_an_error(tmp_path):
    write(tmp_path / 'ir' / 'a.png', gray())
    write(tmp_path / 'vi' / 'b.png', gray())
    with pytest.raises(ValueError, match='no complete pair left'):
        PairedImageDataset(data_root=str(tmp_path), on_unpaired='skip')


def test_empty_or_missing_folder(tmp_path):
    make_pairs(tmp_path, ['a'], mods=('ir', ), ext=('.png', ))
    os.makedirs(tmp_path / 'vi')
    (tmp_path / 'vi' / 'readme.txt').write_text('empty')
    with pytest.raises(ValueError) as err:
        PairedImageDataset(data_root=str(tmp_path))
    assert f"modality 'vi' ({str(tmp_path / 'vi')!r}) holds no image" in \
        str(err.value)
    with pytest.raises(FileNotFoundError) as err:
        PairedImageDataset(
            data_root=str(tmp_path), data_prefix=dict(ir='ir', vi='VIS'))
    assert f"{str(tmp_path / 'VIS')!r}) does not exist" in str(err.value)
    # and says where data goes; the toy generator only for toy folders
    assert 'docs/user_guides/datasets.md' in str(err.value)
    assert 'make_toy' not in str(err.value)


def test_the_toy_data_command_is_given_for_toy_folders_only(tmp_path):
    """A missing real data set used to get make_toy_data.py, which cannot
    write it; the command is given for the folders of the toy generators,
    each with its own generator."""
    from mmfusenas.datasets.paired_image_dataset import (data_hint,
                                                         toy_data_command)
    toy = tmp_path / 'data' / 'toy'
    with pytest.raises(FileNotFoundError) as err:
        PairedImageDataset(data_root=str(toy))
    assert str(err.value).endswith(
        'See docs/user_guides/datasets.md for the folder layouts (real data '
        'goes under data/<name>/). This is toy data; write it with `python '
        f'tools/misc/make_toy_data.py {toy} --num 300 --seed 0`.')
    with pytest.raises(FileNotFoundError) as err:
        PairedImageDataset(data_root=str(tmp_path / 'data' / 'M3FD'))
    assert str(err.value).endswith('(real data goes under data/<name>/).')
    assert toy_data_command('data/toy_lowlight/val/') == \
        'python tools/misc/make_toy_lowlight.py data/toy_lowlight'
    assert toy_data_command('data/toy_exdark/Annotations') == \
        'python tools/misc/make_toy_lowlight_tasks.py data/toy_exdark ' \
        '--task exdark'
    assert toy_data_command('data/toys/ir') is None
    assert toy_data_command('toy/ir') is None  # not under a data folder
    assert data_hint('data/MSRS/ir') == data_hint('data/M3FD')


def test_duplicate_stem_in_a_folder(tmp_path):
    make_pairs(tmp_path, ['a', 'b'])
    write(tmp_path / 'vi' / 'a.jpg', gray())
    with pytest.raises(ValueError) as err:
        PairedImageDataset(data_root=str(tmp_path))
    msg = str(err.value)
    assert "occur more than once in the folder of modality 'vi'" in msg
    assert (f"stem 'a': {tmp_path / 'vi' / 'a.jpg'}, "
            f"{tmp_path / 'vi' / 'a.png'}") in msg


def test_size_mismatch_at_build_with_check_sizes(tmp_path):
    make_pairs(tmp_path, ['a', 'c'])
    write(tmp_path / 'ir' / 'b.png', gray(8, 10))
    write(tmp_path / 'vi' / 'b.png', gray(9, 10))
    with pytest.raises(ValueError) as err:
        PairedImageDataset(data_root=str(tmp_path), check_sizes=True)
    msg = str(err.value)
    assert '1 sample(s) have modalities of different sizes (HxW)' in msg
    # HxW, as LoadPairedImages reports the same pair at load time (below);
    # this check said WxH (10x8)
    assert (f"'b': ir=8x10 ({tmp_path / 'ir' / 'b.png'}), vi=9x10 "
            f"({tmp_path / 'vi' / 'b.png'})") in msg


def test_size_mismatch_lazily_at_load(tmp_path):
    write(tmp_path / 'ir' / 'b.png', gray(8, 10))
    write(tmp_path / 'vi' / 'b.png', gray(9, 10))
    ds = PairedImageDataset(data_root=str(tmp_path), pipeline=LOAD)
    assert len(ds) == 1  # default check_sizes=False builds
    with pytest.raises(ValueError) as err:
        ds[0]
    msg = str(err.value)
    assert (f"{str(tmp_path / 'ir' / 'b.png')!r} (ir) is 8x10 (HxW) but "
            f"{str(tmp_path / 'vi' / 'b.png')!r} (vi) is 9x10") in msg


def test_unreadable_file(tmp_path):
    make_pairs(tmp_path, ['a'])
    bad = tmp_path / 'vi' / 'b.png'
    bad.write_bytes(b'this is not a PNG')
    write(tmp_path / 'ir' / 'b.png', gray())
    with pytest.raises(ValueError) as err:
        PairedImageDataset(data_root=str(tmp_path), check_sizes=True)
    assert 'could not be identified as images' in str(err.value)
    assert f'{bad} (UnidentifiedImageError)' in str(err.value)
    ds = PairedImageDataset(data_root=str(tmp_path), pipeline=LOAD)
    assert ds[0]['stem'] == 'a'
    with pytest.raises(OSError, match=f'cannot decode image {str(bad)!r}'):
        ds[1]


def test_wrong_channel_count_and_bit_depth(tmp_path):
    write(tmp_path / 'ir' / 'a.png', gray())
    write(tmp_path / 'vi' / 'a.png', np.zeros((8, 10, 4), np.uint8))
    write(tmp_path / 'ir' / 'b.png', np.zeros((8, 10), np.uint16))
    write(tmp_path / 'vi' / 'b.png', gray())
    ds = PairedImageDataset(
        data_root=str(tmp_path), pipeline=LOAD, check_sizes=True)
    with pytest.raises(ValueError) as err:
        ds[0]
    assert (f"{str(tmp_path / 'vi' / 'a.png')!r} (modality 'vi') has 4 "
            'channels') in str(err.value)
    with pytest.raises(ValueError) as err:
        ds[1]
    assert (f"{str(tmp_path / 'ir' / 'b.png')!r} (modality 'ir') has pixel "
            'type uint16 (16-bit); only 8-bit') in str(err.value)
