"""tools/dataset_converters/paired_to_coco.py: hand-written YOLO / VOC /
KAIST-style folders become the exact COCO json expected; every bad input is
an error naming the file and line (or object / record); the real shared
samples convert with the counts read by hand from their files."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from helpers.paired_files import make_pairs, write_text
from helpers import load_tool

PAIRS = dict(ir='ir', vi='vi')


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/dataset_converters/paired_to_coco.py')


def convert(tool, *argv):
    """Run the tool; the one json it wrote."""
    (coco, ) = tool.main([str(a) for a in argv]).values()
    return coco


def images(*sizes):
    return [dict(id=i, file_name=f'{s}.png', width=10, height=8)
            for i, s in enumerate(sizes, 1)]


def ann(id, image_id, category_id, bbox, iscrowd=0):
    return dict(id=id, image_id=image_id, category_id=category_id,
                bbox=bbox, area=bbox[2] * bbox[3], iscrowd=iscrowd)


# ---------------------------------------------------------------- YOLO
@pytest.fixture
def yolo(tmp_path):
    root = tmp_path / 'yolo'
    make_pairs(str(root), ['a', 'b'])  # 10 x 8 images
    write_text(root / 'classes.txt', '0 person\n1 car\n')
    # exact binary fractions, so the pixels are exact
    write_text(root / 'labels' / 'a.txt', (
        '1 0.5 0.5 0.25 0.5\n'        # car [3.75, 2, 6.25, 6]
        '0  0.25 0.25 0.5 0.5 \n'     # person [0, 0, 5, 4]
        '\n'
        '0 0.875 0.5 0.5 0.25\n'      # [6.25, 3, 11.25, 5]: clipped
        '1 0.5 0.5 0 0.5\n'))         # zero width: left out
    write_text(root / 'labels' / 'b.txt', '')
    return root


def test_yolo_to_exact_coco(tool, yolo, tmp_path, capsys):
    out = tmp_path / 'out' / 'all.json'
    coco = convert(tool, 'yolo', yolo, out)
    assert coco == dict(
        images=images('a', 'b'),
        annotations=[
            ann(1, 1, 2, [3.75, 2.0, 2.5, 4.0]),
            ann(2, 1, 1, [0.0, 0.0, 5.0, 4.0]),
            ann(3, 1, 1, [6.25, 3.0, 3.75, 2.0]),
        ],
        categories=[dict(id=1, name='person'), dict(id=2, name='car')])
    with open(out) as f:
        assert json.load(f) == coco
    text = capsys.readouterr().out
    assert f'{yolo}/labels/a.txt:4: [6.25, 3.0, 11.25, 5.0] -> [6.25, 3.0, ' \
        '10, 5.0]' in text
    assert '1 box(es) empty or outside the image left out:\n  ' \
        f'{yolo}/labels/a.txt:5: [5.0, 2.0, 5.0, 6.0]' in text
    assert f'{out}: 2 images, 3 boxes (0 ignored; person 2, car 1)' in text


def test_yolo_classes_by_name_and_splits(tool, yolo, tmp_path, capsys):
    # --classes matched by name to classes.txt; the 2 car lines left out
    coco = convert(tool, 'yolo', yolo, tmp_path / 'p.json', '--classes',
                   'person')
    assert [a['category_id'] for a in coco['annotations']] == [1, 1]
    assert coco['categories'] == [dict(id=1, name='person')]
    assert "boxes of other classes left out: {'class index 1': 2}" in \
        capsys.readouterr().out
    # one json per split file, {split} named after it
    write_text(tmp_path / 'first.txt', '# a comment\nb\n')
    write_text(tmp_path / 'second.txt', 'a\nb\n')
    written = tool.main(['yolo', str(yolo), str(tmp_path / 'o_{split}.json'),
                         '--split', str(tmp_path / 'first.txt'),
                         str(tmp_path / 'second.txt')])
    assert sorted(written) == [str(tmp_path / 'o_first.json'),
                               str(tmp_path / 'o_second.json')]
    assert written[str(tmp_path / 'o_first.json')]['images'] == \
        [dict(images('b')[0], id=1)]
    assert len(written[str(tmp_path / 'o_second.json')]['annotations']) == 3
    with pytest.raises(SystemExit):
        tool.parse_args(['yolo', str(yolo), 'x.json', '--split', 'a', 'b'])


@pytest.mark.parametrize('line,message', [
    ('0 0.5 0.5 0.2 0.2\n2 0.5 0.5 0.2 0.2\n',
     'a.txt:2: class index 2 out of range [0, 2) of the classes of '),
    ('0 0.5 0.5 0.2\n', 'a.txt:1: expected 5 fields "class cx cy w h", got '
     '4'),
    ('0 0.5 x 0.2 0.2\n', "a.txt:1: non-numeric field in '0 0.5 x 0.2 "
     "0.2'"),
    ('0 0.5 0.5 0.2 0.2\n0 5 4 2 2\n', "a.txt:2: coordinates ['5', '4', '2', "
     "'2'] are not normalised to [0, 1]"),
    ('0.5 0.5 0.5 0.2 0.2\n', 'a.txt:1: class index 0.5 out of range'),
])
def test_yolo_bad_lines_name_file_and_line(tool, yolo, tmp_path, line,
                                           message):
    write_text(yolo / 'labels' / 'a.txt', line)
    with pytest.raises(ValueError) as info:
        tool.main(['yolo', str(yolo), str(tmp_path / 'x.json')])
    assert f'{yolo}/labels/{message}' in str(info.value)
    assert not osp.exists(tmp_path / 'x.json')


def test_yolo_classes_file_errors(tool, yolo, tmp_path):
    argv = ['yolo', str(yolo), str(tmp_path / 'x.json')]
    for text, message in (
            ('person\nperson\ncar\n', "classes.txt:2: class 'person' repeats "
             'line 1'),
            ('0 person\n2 car\n', 'classes.txt:2: class index 2 out of order; '
             'expected 1'),
            ('\n', 'classes.txt: lists no class')):
        write_text(yolo / 'classes.txt', text)
        with pytest.raises(ValueError, match=message):
            tool.main(argv)
    write_text(yolo / 'classes.txt', 'person\ncar\n')
    with pytest.raises(ValueError, match=r"--classes \['dog'\] are not in "):
        tool.main(argv + ['--classes', 'dog'])
    with pytest.raises(FileNotFoundError, match='--classes-file .*nope.txt'):
        tool.main(argv + ['--classes-file', 'nope.txt'])
    os.remove(yolo / 'classes.txt')
    with pytest.raises(ValueError, match='yolo needs the class names'):
        tool.main(argv)
    # without a classes file the indices refer to --classes
    coco = convert(tool, *argv, '--classes', 'p', 'q')
    assert coco['categories'][1] == dict(id=2, name='q')


def test_missing_and_orphan_labels(tool, yolo, tmp_path, capsys):
    argv = ['yolo', str(yolo), str(tmp_path / 'x.json')]
    os.remove(yolo / 'labels' / 'b.txt')
    with pytest.raises(ValueError) as info:
        tool.main(argv)
    assert str(info.value) == (
        f'{yolo}/labels (yolo): no labels for 1 pair(s) (--missing-labels '
        "empty keeps them without boxes, skip leaves them out):\n  b")
    coco = convert(tool, *argv, '--missing-labels', 'empty')
    assert [i['file_name'] for i in coco['images']] == ['a.png', 'b.png']
    assert 'pair(s) without labels' in capsys.readouterr().out
    coco = convert(tool, *argv, '--missing-labels', 'skip')
    assert [i['file_name'] for i in coco['images']] == ['a.png']
    # labels of an image that does not exist
    write_text(yolo / 'labels' / 'b.txt', '')
    write_text(yolo / 'labels' / 'zz.txt', '0 0.5 0.5 0.2 0.2\n')
    with pytest.raises(ValueError, match=r'labels of 1 stem\(s\) without '
                       r'image pair .*\n  zz'):
        tool.main(argv)
    assert len(convert(tool, *argv, '--orphan-labels', 'ignore')['images']) \
        == 2
    assert 'label(s) without image pair left unused' in \
        capsys.readouterr().out


def test_pairs_sizes_and_split_errors(tool, yolo, tmp_path):
    argv = ['yolo', str(yolo), str(tmp_path / 'x.json')]
    write_text(tmp_path / 'split.txt', 'a\nc\n')
    with pytest.raises(ValueError, match=r"split.txt: 1 stem\(s\) have no "
                       r"image pair in .*\['c'\]"):
        tool.main(argv + ['--split', str(tmp_path / 'split.txt')])
    write_text(tmp_path / 'twice.txt', 'a\na\n')
    with pytest.raises(ValueError, match=r"twice.txt: lists no stem or some "
                       r"twice: \['a'\]"):
        tool.main(argv + ['--split', str(tmp_path / 'twice.txt')])
    assert cv2.imwrite(str(yolo / 'vi' / 'b.png'), np.zeros((6, 10),
                                                            np.uint8))
    with pytest.raises(ValueError) as info:
        tool.main(argv)
    assert f"'b': ir=8x10 ({yolo}/ir/b.png), vi=6x10 ({yolo}/vi/b.png)" in \
        str(info.value)
    os.rename(yolo / 'vi' / 'b.png', yolo / 'vi' / 'b.jpg')
    with pytest.raises(ValueError, match=r"stem\(s\) lack an image of the "
                       r"same file name .*\n  'b': ir/b.png, vi/b.jpg"):
        tool.main(argv)
    os.remove(yolo / 'vi' / 'b.jpg')
    with pytest.raises(ValueError, match="'b': ir/b.png, vi/-"):
        tool.main(argv)


def test_empty_folders_are_refused_not_written(tool, tmp_path):
    """Empty ``ir/``, ``vi/`` and ``labels/`` wrote a json of 0 images."""
    root = tmp_path / 'empty'
    for sub in ('ir', 'vi', 'labels'):
        (root / sub).mkdir(parents=True)
    write_text(root / 'classes.txt', 'person\n')
    out = tmp_path / 'x.json'
    with pytest.raises(ValueError) as info:
        tool.main(['yolo', str(root), str(out)])
    assert str(info.value) == (
        f"{root}: no image in ['ir', 'vi'] (none of .png, .jpg, .jpeg, .bmp, "
        '.tif, .tiff); nothing to convert')
    assert not out.exists()
    # pairs, but none with labels, all left out
    make_pairs(str(root), ['a'])
    with pytest.raises(ValueError) as info:
        tool.main(['yolo', str(root), str(out), '--missing-labels', 'skip'])
    assert str(info.value) == (
        f'{root}/labels (yolo): none of the 1 pair(s) has labels '
        '(--missing-labels skip left them all out)')
    assert not out.exists()


def test_a_label_file_not_utf8_is_named(tool, yolo, tmp_path):
    with open(yolo / 'labels' / 'a.txt', 'wb') as f:
        f.write(b'0 0.5 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2 \xe9t\xe9\n')
    with pytest.raises(ValueError) as info:
        tool.main(['yolo', str(yolo), str(tmp_path / 'x.json')])
    assert str(info.value) == (
        f'{yolo}/labels/a.txt:2: not UTF-8 text (byte 0xe9 at offset 36: '
        'invalid continuation byte)')
    assert not osp.exists(tmp_path / 'x.json')


# ----------------------------------------------------------------- VOC
def voc_xml(objects, size=(10, 8)):
    objs = ''.join(
        f'<object><name>{n}</name><difficult>{d}</difficult><bndbox>'
        f'<xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax>'
        f'<ymax>{b[3]}</ymax></bndbox></object>' for n, d, b in objects)
    size_xml = ('' if size is None else
                f'<size><width>{size[0]}</width><height>{size[1]}</height>'
                '</size>')
    return f'<annotation>{size_xml}{objs}</annotation>'


def test_voc_to_exact_coco(tool, tmp_path, capsys):
    root = tmp_path / 'voc'
    make_pairs(str(root), ['a'])
    write_text(root / 'Annotations' / 'a.xml', voc_xml([
        ('person', 0, (2, 2, 5, 6)), ('person', 1, (3, 3, 9, 8)),
        ('dog', 0, (1, 1, 4, 4))]))
    argv = ['voc', root, tmp_path / 'x.json', '--classes', 'person']
    # minus one, as mmdet's VOCDataset; difficult -> iscrowd
    assert convert(tool, *argv) == dict(
        images=images('a'),
        annotations=[ann(1, 1, 1, [1.0, 1.0, 3.0, 4.0]),
                     ann(2, 1, 1, [2.0, 2.0, 6.0, 5.0], iscrowd=1)],
        categories=[dict(id=1, name='person')])
    assert "boxes of other classes left out: {\"name 'dog'\": 1}" in \
        capsys.readouterr().out
    kept = convert(tool, *argv, '--voc-keep-coords')
    assert [a['bbox'] for a in kept['annotations']] == [[2.0, 2.0, 3.0, 4.0],
                                                        [3.0, 3.0, 6.0, 5.0]]
    with pytest.raises(ValueError, match='voc needs --classes'):
        tool.main(['voc', str(root), str(tmp_path / 'x.json')])


@pytest.mark.parametrize('text,message', [
    ('<annotation><object></annotation>', r'a.xml: malformed VOC xml \(line '
     r'1, column 22\)'),
    ('<annotation><object><name>person</name></object></annotation>',
     r"a.xml <object> #0 \('person'\) needs <name> and <bndbox>"),
    (voc_xml([('person', 0, (1, 1, 'abc', 2))]),
     "a.xml <object> #0 <xmax>: expected a finite number, got 'abc'"),
    (voc_xml([('person', 0, (1, 1, 2, 2))], size=(12, 8)),
     r'a.xml: <size> is 12x8 but the image is 10x8'),
])
def test_voc_bad_files_name_file_and_object(tool, tmp_path, text, message):
    root = tmp_path / 'voc'
    make_pairs(str(root), ['a'])
    write_text(root / 'Annotations' / 'a.xml', text)
    with pytest.raises(ValueError, match=message):
        tool.main(['voc', str(root), str(tmp_path / 'x.json'), '--classes',
                   'person'])


# ---------------------------------------------------------- COCO (KAIST)
def kaist_json(root, annotations, **image):
    write_text(root / 'kaist.json', json.dumps(dict(
        images=[dict(dict(id=7, file_name='a.png', width=10, height=8),
                     **image)],
        annotations=annotations,
        categories=[dict(id=0, name='__ignore__'), dict(id=1, name='person'),
                    dict(id=2, name='cyclist'), dict(id=3, name='people')])))


def test_kaist_style_coco_remapped(tool, tmp_path, capsys):
    root = tmp_path / 'kaist'
    make_pairs(str(root), ['a'])
    kaist_json(root, [
        dict(id=11, image_id=7, category_id=1, bbox=[1, 1, 3, 3], ignore=0),
        dict(id=12, image_id=7, category_id=3, bbox=[2, 2, 4, 4], ignore=0),
        dict(id=13, image_id=7, category_id=1, bbox=[0, 0, 2, 2], ignore=1),
        dict(id=14, image_id=7, category_id=2, bbox=[5, 1, 2, 2]),
    ])
    argv = ['coco', root, tmp_path / 'x.json', '--labels', 'kaist.json']
    coco = convert(tool, *argv, '--classes', 'person', '--cat-map',
                   '1=person', '3=person', '--ignore-cats', '3')
    assert coco == dict(
        images=images('a'),
        annotations=[ann(1, 1, 1, [1.0, 1.0, 3.0, 3.0]),
                     ann(2, 1, 1, [2.0, 2.0, 4.0, 4.0], iscrowd=1),
                     ann(3, 1, 1, [0.0, 0.0, 2.0, 2.0], iscrowd=1)],
        categories=[dict(id=1, name='person')])
    assert "{\"category 2 ('cyclist')\": 1}" in capsys.readouterr().out
    # without --cat-map: classes by category name, else all categories
    assert convert(tool, *argv, '--classes', 'cyclist')['annotations'] == [
        ann(1, 1, 1, [5.0, 1.0, 2.0, 2.0])]
    assert [c['name'] for c in convert(tool, *argv)['categories']] == [
        '__ignore__', 'person', 'cyclist', 'people']
    for extra, message in (
            (['--cat-map', '9=person'], r"--cat-map \['9=person'\] are not"),
            (['--classes', 'dog'], "class 'dog' names 0 categories"),
            (['--classes', 'person', '--ignore-cats', '2'],
             r'--ignore-cats \[2\] map to no class')):
        with pytest.raises(ValueError, match=message):
            tool.main([str(a) for a in argv] + extra)


@pytest.mark.parametrize('annotations,image,message', [
    ([dict(id=1, image_id=5, category_id=1, bbox=[1, 1, 2, 2])], {},
     r'annotations\[0\] \(id=1\) refers to image_id 5, which is not among '
     r'its images'),
    ([dict(id=1, image_id=7, category_id=8, bbox=[1, 1, 2, 2])], {},
     r'annotations\[0\] \(id=1\) has category_id 8'),
    ([dict(id=1, image_id=7, category_id=1, bbox=[1, 1, 2])], {},
     r"annotations\[0\] \(id=1\) has bbox \[1, 1, 2\]"),
    ([], dict(width=12), r'image id=7 is 12x8 but .*/ir/a.png is 10x8'),
])
def test_coco_bad_records_name_file_and_record(tool, tmp_path, annotations,
                                               image, message):
    root = tmp_path / 'kaist'
    make_pairs(str(root), ['a'])
    kaist_json(root, annotations, **image)
    with pytest.raises(ValueError, match=f'kaist.json.* ?{message}'):
        tool.main(['coco', str(root), str(tmp_path / 'x.json'), '--labels',
                   'kaist.json'])


def test_coco_bad_categories_and_encoding_name_the_file(tool, tmp_path):
    root = tmp_path / 'kaist'
    make_pairs(str(root), ['a'])
    argv = ['coco', str(root), str(tmp_path / 'x.json'), '--labels',
            'kaist.json']
    for cats, bad in (([dict(id=1)], 0), (['person'], 0),
                      ([dict(id=1, name='a'), dict(id=1, name='b')], 1)):
        write_text(root / 'kaist.json', json.dumps(dict(
            images=[], annotations=[], categories=cats)))
        with pytest.raises(ValueError, match=rf"kaist.json' categories\[{bad}"
                           r'\] .* is no dict with a unique int id and a '
                           'string name'):
            tool.main(argv)
    (root / 'kaist.json').write_bytes(
        b'{"images": [], "annotations": [], "categories": [{"id": 1, '
        b'"name": "\xe9"}]}')
    with pytest.raises(ValueError, match=r'kaist.json: not UTF-8 text '
                       r"\('utf-8' codec can't decode byte 0xe9"):
        tool.main(argv)
    assert not osp.exists(tmp_path / 'x.json')


# ------------------------------------------------- the real shared samples
@pytest.mark.parametrize('labels,total', [('infrared', 103), ('fusion', 90),
                                          ('visible', 48)])
def test_msrs17_yolo_counts(tool, shared_data, tmp_path, labels, total):
    coco = convert(tool, 'yolo', osp.join(shared_data, 'detection/msrs17'),
                   tmp_path / 'x.json', '--labels', f'labels/{labels}')
    assert len(coco['images']) == 17 and len(coco['annotations']) == total
    assert [c['name'] for c in coco['categories']] == ['person', 'bicycle',
                                                       'car']
    assert all((i['width'], i['height']) == (640, 480)
               for i in coco['images'])


def test_msrs17_infrared_boxes_by_hand(tool, shared_data, tmp_path):
    coco = convert(tool, 'yolo', osp.join(shared_data, 'detection/msrs17'),
                   tmp_path / 'x.json', '--labels', 'labels/infrared')
    assert coco['images'][0]['file_name'] == '00001D.png'
    first = [a for a in coco['annotations'] if a['image_id'] == 1]
    # labels/infrared/00001D.txt:
    # 0 0.700781 0.460417 0.057813 0.233333
    # 0 0.343750 0.547917 0.206250 0.620833
    # 0 0.745313 0.417708 0.012500 0.039583
    # 2 0.266406 0.492708 0.201563 0.193750
    assert [a['category_id'] for a in first] == [1, 1, 1, 3]
    # x1 = (0.700781 - 0.0289065) * 640 = 429.99968, w = 0.057813 * 640
    np.testing.assert_allclose(
        first[0]['bbox'], [429.99968, 165.00024, 37.00032, 111.99984],
        atol=1e-4)


def test_llvip6_voc_boxes(tool, shared_data, tmp_path):
    coco = convert(tool, 'voc', osp.join(shared_data, 'detection/llvip6'),
                   tmp_path / 'x.json', '--classes', 'person')
    assert len(coco['images']) == 6 and len(coco['annotations']) == 13
    assert (coco['images'][0]['width'], coco['images'][0]['height']) == (
        1280, 1024)
    # 010005.xml: (849, 405, 961, 663), minus one as mmdet's VOCDataset
    assert coco['annotations'][0]['bbox'] == [848.0, 404.0, 112.0, 258.0]
    # 190003.xml object #3 touches the right border: xmax 1280 -> 1279
    (img, ) = [i for i in coco['images'] if i['file_name'] == '190003.jpg']
    boxes = [a['bbox'] for a in coco['annotations']
             if a['image_id'] == img['id']]
    assert boxes[3] == [1214.0, 498.0, 65.0, 262.0]


def test_kaist8_to_person(tool, shared_data, tmp_path):
    coco = convert(tool, 'coco', osp.join(shared_data, 'detection/kaist8'),
                   tmp_path / 'x.json', '--labels', 'annotations_test20.json',
                   '--classes', 'person', '--cat-map', '1=person', '2=person',
                   '3=person', '4=person', '--ignore-cats', '2', '3', '4')
    assert len(coco['images']) == 8 and len(coco['annotations']) == 57
    assert sum(a['iscrowd'] for a in coco['annotations']) == 6  # 'ignore'
    # set06_V001_I00459, annotation id 189: bbox [282, 209, 52, 111]
    assert coco['images'][0]['file_name'] == 'set06_V001_I00459.png'
    assert coco['annotations'][0]['bbox'] == [282.0, 209.0, 52.0, 111.0]
