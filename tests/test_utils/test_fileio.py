"""mmfusenas.utils.fileio (and mmfusenas.benchmark.seed_runs: stored
benchmark runs read back by their options)."""
import json
import re

import pytest

from mmfusenas.benchmark.seed_runs import read_stored_run
from helpers.damaged_files import JPEG_DAMAGE, write_damaged_jpeg


def test_read_stored_run_reuses_refuses_or_skips(tmp_path):
    path = tmp_path / 'run.json'
    assert read_stored_run(path, {'iters': 2}) is None  # not run yet
    run = {'options': {'iters': 2, 'dirs': ['a']}, 'rmse': 1.5}
    path.write_text(json.dumps(run))
    assert read_stored_run(path, {'iters': 2, 'dirs': ['a']}) == run
    with pytest.raises(ValueError, match=r"run.json was run with other "
                       r"options \(\{'iters': 2, 'dirs': \['a'\]\}\) than "
                       r"these \(\{'iters': 3\}\)"):
        read_stored_run(path, {'iters': 3})
    # when only reporting, a run made otherwise is left out
    assert read_stored_run(path, {'iters': 3},
                           missing_ok_on_mismatch=True) is None
    (tmp_path / 'other.json').write_text(json.dumps({'args': {'w': 4}}))
    assert read_stored_run(tmp_path / 'other.json', {'w': 4},
                           key='args') == {'args': {'w': 4}}


def test_out_of_space_names_the_file_and_leaves_the_old_one(
        tmp_path, monkeypatch):
    """A full disk while saving gave only ``OSError: [Errno 28] No space
    left on device``: the message now names the file and what is left."""
    import errno
    import os

    from mmfusenas.utils.fileio import atomic_write
    path = tmp_path / 'iter_2.pth'
    path.write_bytes(b'old')
    real_fsync = os.fsync

    def full_disk(fd):
        real_fsync(fd)
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', full_disk)
    with pytest.raises(OSError) as info:
        atomic_write(b'x' * 10, str(path))
    assert info.value.errno == errno.ENOSPC
    assert str(info.value) == (
        f'[Errno 28] No space left on device while writing {path} (10 '
        f'bytes): free space on the device of {tmp_path} (or write '
        'elsewhere, e.g. --work-dir / --out); nothing was written, the file '
        f"there before, if any, is unchanged: '{path}'")
    assert path.read_bytes() == b'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_2.pth']


@pytest.mark.parametrize('code', ['EROFS', 'EACCES'])
def test_read_only_disk_names_the_file_and_leaves_the_old_one(
        tmp_path, monkeypatch, code):
    """A read-only file system (or folder) while saving: the error names
    the file and the folder, and the old file stays as it was."""
    import errno
    import os

    from mmfusenas.utils.fileio import atomic_write
    path = tmp_path / 'iter_2.pth'
    path.write_bytes(b'old')
    real_open = os.open

    def read_only(file, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise OSError(getattr(errno, code), os.strerror(
                getattr(errno, code)), file)
        return real_open(file, flags, *args, **kwargs)

    monkeypatch.setattr(os, 'open', read_only)
    with pytest.raises(OSError) as info:
        atomic_write(b'x' * 10, str(path))
    assert info.value.errno == getattr(errno, code)
    assert f'while writing {path}: {tmp_path} is not writable' in str(
        info.value)
    assert 'the file there before, if any, is unchanged' in str(info.value)
    monkeypatch.undo()
    assert path.read_bytes() == b'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_2.pth']


def _noise(shape, seed=0):
    import numpy as np
    return np.random.default_rng(seed).integers(0, 256, shape, np.uint8)


@pytest.mark.parametrize('ext', ['.jpg', '.png', '.bmp'])
def test_read_image_decodes_whole_files_and_refuses_truncated_ones(
        tmp_path, ext):
    """A whole file decodes as ``cv2.imread``; the same file cut short is
    refused with its name."""
    import cv2
    import numpy as np
    from mmfusenas.utils.fileio import read_image
    path = str(tmp_path / f'00341D{ext}')
    cv2.imwrite(path, _noise((64, 80, 3)))
    whole = read_image(path)
    assert np.array_equal(whole, cv2.imread(path, cv2.IMREAD_UNCHANGED))
    assert np.array_equal(read_image(path, 'grayscale'),
                          cv2.imread(path, cv2.IMREAD_GRAYSCALE))
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    # OpenCV fills a cut JPEG with grey; it refuses the other formats
    assert (cv2.imread(path, cv2.IMREAD_UNCHANGED) is not None) == (
        ext == '.jpg')
    with pytest.raises(OSError, match=re.escape(f'image {path!r}')):
        read_image(path)


def test_read_image_keeps_bytes_after_the_end_marker_and_names_bad_files(
        tmp_path):
    import cv2
    import numpy as np
    from mmfusenas.utils.fileio import decode_image, read_image
    path = str(tmp_path / 'a.jpg')
    cv2.imwrite(path, _noise((16, 16)))
    data = open(path, 'rb').read()
    img = decode_image(data + b'\x00' * 7, path)  # padding after FFD9
    assert np.array_equal(img, cv2.imread(path, cv2.IMREAD_UNCHANGED))
    with pytest.raises(OSError, match="cannot decode image 'x.png'"):
        decode_image(b'not an image', 'x.png')
    with pytest.raises(OSError, match="cannot decode image 'e.png'"):
        decode_image(b'', 'e.png')
    with pytest.raises(FileNotFoundError, match="nope.png' does not exist"):
        read_image(str(tmp_path / 'nope.png'))


@pytest.mark.parametrize('how', JPEG_DAMAGE)
@pytest.mark.parametrize('modality', ['ir', 'vi'])
def test_read_image_refuses_a_corrupt_jpeg_that_keeps_its_end_marker(
        shared_data, tmp_path, capfd, how, modality):
    """OpenCV decoded these mostly grey with only libjpeg's message on
    stderr, naming no file; they are now refused with the file named."""
    from mmfusenas.utils.fileio import read_image
    path = write_damaged_jpeg(
        tmp_path / f'{modality}.jpg', how,
        source=f'{shared_data}/fusion/RoadScene/{modality}/FLIR_00211.jpg')
    capfd.readouterr()
    for flag in ['unchanged', 'grayscale', 'color']:
        with pytest.raises(OSError) as info:
            read_image(path, flag)
        assert str(info.value) == (
            f"image {path!r} is corrupt (libjpeg: Corrupt JPEG data: "
            'premature end of data segment; OpenCV would decode the damaged '
            'part grey)')
    assert capfd.readouterr().err == ''  # libjpeg's line is not printed


def test_read_image_decodes_an_intact_jpeg_as_opencv(shared_data, capfd):
    import cv2
    import numpy as np
    from mmfusenas.utils.fileio import decode_image
    for modality in ['ir', 'vi']:
        path = f'{shared_data}/fusion/RoadScene/{modality}/FLIR_00211.jpg'
        with open(path, 'rb') as f:
            data = f.read()
        buf = np.frombuffer(data, np.uint8)
        for flag, code in [('unchanged', -1), ('grayscale', 0),
                           ('color', 1)]:
            img = decode_image(data, path, flag)
            assert img.dtype == np.uint8 and img.shape[:2] == (301, 496)
            assert np.array_equal(img, cv2.imdecode(buf, code))
    assert capfd.readouterr().err == ''


def test_jpeg_decoding_passes_other_stderr_output_on(monkeypatch, capfd):
    """Only libjpeg's lines on damaged data are caught from stderr."""
    import os

    import cv2
    from mmfusenas.utils.fileio import decode_image
    real = cv2.imdecode

    def noisy(buf, flag):
        os.write(2, b'some other message\n')
        return real(buf, flag)

    monkeypatch.setattr(cv2, 'imdecode', noisy)
    data = cv2.imencode('.jpg', _noise((8, 8)))[1].tobytes()
    assert decode_image(data, 'a.jpg').shape == (8, 8)
    assert capfd.readouterr().err == 'some other message\n'


def test_read_image_names_a_png_whose_header_claims_100000_squared(
        tmp_path):
    """A PNG header claiming 100000 x 100000 pixels gave a raw cv2.error
    naming no file."""
    import struct
    import zlib

    from mmfusenas.utils.fileio import read_image

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data +
                struct.pack('>I', zlib.crc32(kind + data)))

    path = str(tmp_path / 'huge.png')
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack(
            '>IIBBBBB', 100000, 100000, 8, 0, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(b'\0' * 101)) + chunk(b'IEND', b''))
    with pytest.raises(OSError) as info:
        read_image(path)
    assert str(info.value) == (
        f"cannot decode image {path!r} (its header claims 100000 x 100000 "
        'pixels: a damaged header or an image too large; OpenCV: pixels <= '
        'CV_IO_MAX_IMAGE_PIXELS)')


def test_read_json_names_a_damaged_file(tmp_path):
    from mmfusenas.utils.fileio import read_json
    good = tmp_path / 'ok.json'
    good.write_text('{"a": [1, 2]}')
    assert read_json(str(good)) == {'a': [1, 2]}
    for text in ['', '{"a": [1,', 'NaN garbage']:
        bad = tmp_path / 'result.json'
        bad.write_text(text)
        with pytest.raises(ValueError,
                           match=f'{bad} is damaged \\(not valid JSON'):
            read_json(str(bad))
