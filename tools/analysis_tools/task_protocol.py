"""The task-driven evaluation of infrared-visible fusion: one detector per
input, the same detector config and initial weights for all.

Example (the real protocol on MSRS_det; docs/user_guides/
task_driven_protocol.md gives its CPU budget)::

    python tools/analysis_tools/task_protocol.py --threads 1 \\
        --work-dir work_dirs/task_driven \\
        --results-json docs/results/task_driven_msrs_det.json

    # a toolbox-trained fusion model beside the built-in methods, and a
    # second test set (any folder in the MSRS_det layout)
    python tools/analysis_tools/task_protocol.py --threads 1 \\
        --checkpoint \\
        mine=configs/tim/fusion_ivif_tno.py:work_dirs/x/iter_10000.pth \\
        --test-pairs data/my_msrs_pairs

Inputs (``--methods``; default: all of them): ``ir`` (the infrared image
alone), ``vi`` (the visible image alone) and every fusion method of the real
fusion table (:data:`bench_fusion_real.BUILTIN_METHODS` with
``default=True``: the classical rules, SeAFusion, TarDAL, TarDAL++,
IFCNN-MAX; official weights from ``--weights-root``, converted in process by
``bench_fusion_real.resolve_methods``), plus every ``--checkpoint
NAME=CONFIG:CKPT``. A fusion method whose config, converter or weight file
is missing is reported as absent with the reason, never dropped.

Data: ``--data DIR`` in the MSRS_det layout (``DIR/{ir,vi}/<stem>.<ext>``,
``DIR/labels/{fusion,infrared,visible}/<stem>.txt`` in YOLO ``cls cx cy w
h``, ``DIR/classes.txt``), split by the stem lists ``--split-dir``/
``{train,test}.txt`` (default: the frame-block split of MSRS_det;
``val.txt`` is not used: the detector is tested after its last iteration).
Every ``--test-pairs DIR`` in the same layout is an extra test set: all of
its pairs, fused the same way, tested with every detector.

Protocol, per input:

1. **Images.** Every pair the split (and each ``--test-pairs`` folder)
   needs is fused once through the inference path of ``tools/fuse.py``
   (:func:`mmfusenas.apis.init_model`, the config's test pipeline,
   :func:`~mmfusenas.apis.inference_fusion`,
   :func:`~mmfusenas.apis.result_image`; ``bench_fusion_real.build_pairs``)
   and written as ``<work-dir>/images/<data>/<method>/<stem>.png``; ``ir`` /
   ``vi`` write the source image itself, pixel for pixel. Every source
   image is read checked (a truncated or undecodable file is refused,
   named) and hashed. The folder's ``fusion.json`` records the method
   (config, options, SHA-256 of its weights), the source folder and per
   image the SHA-256 of the source files it was made from; a re-run reuses
   the images of the same method, makes again those whose source files
   changed, and refuses the images of another method. Each image is
   written atomically.
2. **Labels.** The YOLO labels (``--labels``: ``fusion`` by default, the
   ground truth of MSRS_det) are read once per split by
   ``tools/dataset_converters/paired_to_coco.py`` (pair sizes checked, boxes
   partly outside the image clipped, empty ones dropped, classes matched by
   name to the training classes) and written as one COCO json per split,
   ``<work-dir>/labels/<set>_<labels>.json``, whose ``file_name`` is
   ``<stem>.png``. Every input trains and is scored on the same json: only
   the image folder differs. (``--joint`` models read the source pairs
   through ``<set>_<labels>_pairs.json``, the same boxes.)
3. **Detector.** ``--det-config`` (default
   ``configs/tim/retinanet_r18_msrs_det_protocol.py``: a plain MMDetection
   RetinaNet, ResNet-18 at half width, trained from scratch -- no ImageNet
   weights are available offline) on one 3-channel image (mmdet's
   ``LoadImageFromFile``: a grey image is replicated to 3 channels), with
   mmdet's ``CocoDataset`` (pairs without a box are left out of training)
   and ``CocoMetric``. ``--img-scale``, ``--batch-size``, ``--workers`` and
   ``--max-iters`` (the schedule rescaled as ``tools/train.py --max-iters``
   does) change it for all inputs alike.
4. **Initialisation.** Per seed the detector is built and initialised once
   (``set_random_seed(seed)``, ``init_weights()``) and saved as
   ``<work-dir>/init/seed_<S>.pth``; every input's training of that seed
   loads it (``load_from``, strict), and its data order and flips come from
   the same seed (``randomness.seed``). Each result records the SHA-256 of
   the run's config with the per-input entries (image folder, seed, work
   dir, initial checkpoint, run name) blanked, of the initial weights, and
   of the weights the training started from (read by a hook before the
   first iteration; a resumed training keeps that of its first start,
   stored in its checkpoints): equal for all inputs of a seed; a run whose
   config hash differs from the protocol's stops with an error.
5. **Test.** The last checkpoint is tested on the split's test set and on
   every ``--test-pairs`` set (``tools/test.py``'s path: a runner that
   loads the checkpoint and runs mmdet's ``CocoMetric``, whose detections
   are kept as ``dets_<set>.bbox.json``); bbox mAP (IoU .50:.95) and mAP50
   overall and per class are read from pycocotools' precision array of
   those detections. A class without a box in a test set has no AP
   (``null``).

Resuming: every (input, seed) is a run in ``<work-dir>/runs/<method>/
seed_<S>/`` whose ``result.json`` (written atomically after the training
and after each test set) holds what is done; a re-run skips finished runs
and test sets, tests a finished training that lacks a test set (e.g. a new
``--test-pairs``), tests again a test set whose images or labels changed,
refuses a run trained on other training data (``data_sha256``: the label
json and the SHA-256 of the source files of its input; remove the run
folder to train it again), and resumes a killed training from its last
checkpoint
(MMEngine's resume: the iteration, optimizer and schedule are restored, the
data loader skips the batches already trained; random flips after the
resume point may differ from an uninterrupted run with loader workers).
``<work-dir>/protocol.json`` pins what all runs share (the config hash, the
label files of the split, iterations, batch, input size, loader workers); a
work dir made with other settings is refused with the differences named.
Seeds, inputs and test sets may be added in later runs.

Outputs: one table per test set (per input: mAP, mAP50 and per class AP /
AP50, each mean +- population std over ``--seeds``), ``--out`` (JSON: the
protocol and the tables), ``--results-json`` (the ``docs/results`` record)
and last ``RESULT {json}`` = ``{set: {method: {'mAP': m, 'mAP_std': s,
'mAP50': .., 'mAP50_std': .., 'AP': {class: m}, 'AP_std': {..}, 'AP50':
{..}, 'AP50_std': {..}, 'seeds': [...], 'images': n, 'config_sha256': h,
'per_seed': {seed: {'mAP', 'mAP50', 'AP', 'AP50', 'init_sha256',
'config_sha256', 'start_sha256', 'train_s_per_iter'}}} | {'absent':
reason}}}``; the split's test set is ``test``, each ``--test-pairs`` set is
named after its folder. A run whose finished checkpoint was found without
its result reads ``start_sha256`` and its training seconds from that
checkpoint (``train_s_per_iter`` None when it records none).
"""
import argparse
import contextlib
import copy
import gc
import hashlib
import io
import itertools
import json
import os
import os.path as osp
import pickle
import re
import shlex
import sys
import tempfile
import time
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from terminaltables import AsciiTable

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmfusenas.apis import (inference_fusion, init_model,  # noqa: E402
                            load_config, result_image, test_pipeline_cfg)
from mmfusenas.datasets.paired_coco import (read_boxes,  # noqa: E402
                                            to_coco)
from mmfusenas.evaluation.task_records import (  # noqa: E402
    aggregate, matching_record, read_record, record_path, seed_files,
    write_record)
from mmfusenas.models.utils.module_checkpoint import \
    parse_module_init  # noqa: E402
from mmfusenas.utils.checkpoint import (  # noqa: E402
    checkpoint_state_dict, find_resumable_checkpoint, read_checkpoint)
from mmfusenas.utils.cache_keys import (  # noqa: E402
    named_files, portable_json, portable_sha256, state_sha256)
from mmfusenas.utils.cli_args import require_positive  # noqa: E402
from mmfusenas.utils.distributed import unwrap  # noqa: E402
from mmfusenas.utils.schedule import rescale_schedule  # noqa: E402
from mmfusenas.utils.fileio import (atomic_write, decode_image,  # noqa
                                    read_image, read_json, write_png)
from mmfusenas.utils.progress import end_progress, start_progress  # noqa
from mmfusenas.search.estimators.resource_estimator import \
    device_name  # noqa: E402
from mmfusenas.utils.state_dict_conversion import file_sha256  # noqa
from mmfusenas.benchmark.results_record import (  # noqa: E402
    check_record_path, git_commit, write_results_record)
from mmfusenas.benchmark.seed_runs import read_stored_run  # noqa: E402
#: the real fusion table: its methods and its fusion code are reused
from mmfusenas.benchmark import fusion_real  # noqa: E402


#: the inputs that are a source image itself
SOURCES = ('ir', 'vi')
#: the label sets of the MSRS_det layout
LABEL_SETS = ('fusion', 'infrared', 'visible')
#: the detector every input trains
DET_CONFIG = osp.join('configs', 'tim', 'retinanet_r18_msrs_det_protocol.py')
#: the split's test set in the tables
TEST = 'test'
#: placeholders of the per-run entries in the shared config
IMAGES_KEY, WORK_KEY, INIT_KEY, DATA_KEY = ('<images>', '<work-dir>',
                                            '<init>', '<data>')
_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.+-]*$')
_RUNNER_IDS = itertools.count()


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Task-driven evaluation of fusion: the same detector '
        'trained on IR, VIS and every fusion method\'s images, mAP over '
        'seeds')
    parser.add_argument(
        '--data',
        default=osp.join('..', 'shared', 'data', 'detection', 'MSRS_det'),
        help='folder in the MSRS_det layout (ir/, vi/, labels/<set>/, '
        'classes.txt; default ../shared/data/detection/MSRS_det)')
    parser.add_argument(
        '--split-dir',
        default=osp.join('configs', '_base_', 'datasets', 'splits',
                         'msrs_det'),
        help='folder of train.txt and test.txt (stems, one per line; '
        'default: the frame-block split of MSRS_det)')
    parser.add_argument(
        '--labels',
        default='fusion',
        choices=LABEL_SETS,
        help='label set used for training and testing (default fusion)')
    parser.add_argument(
        '--methods',
        nargs='+',
        metavar='NAME',
        help='only these inputs: ir, vi, built-in fusion methods, '
        '--checkpoint names (default: ir, vi, the built-ins of the fusion '
        'table but TarDAL+, and every --checkpoint)')
    parser.add_argument(
        '--checkpoint',
        nargs='+',
        type=fusion_real.checkpoint_item,
        default=[],
        metavar='NAME=CONFIG:CKPT',
        help='a trained fusion model to add as an input')
    parser.add_argument(
        '--weights-root',
        default=osp.join('..', 'shared', 'checkpoints', 'fusion_baselines'),
        help='official baseline weights (default '
        '../shared/checkpoints/fusion_baselines)')
    parser.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        default=[0, 1, 2],
        help='detector seeds (initial weights, data order, flips; default '
        '0 1 2)')
    parser.add_argument(
        '--test-pairs',
        nargs='+',
        default=[],
        metavar='DIR',
        help='extra test sets: folders in the MSRS_det layout, all pairs '
        'tested with every detector (named after the folder)')
    parser.add_argument(
        '--joint',
        nargs='+',
        type=_joint_item,
        default=[],
        metavar='NAME=CONFIG',
        help='a task-guided model trained jointly with the protocol\'s '
        'detector (a compound config with model.task_init, e.g. '
        'configs/tim/retinanet_ivif_msrs.py): per seed it starts from the '
        'same initial detector weights, trains as many detector iterations '
        'on the same split, labels, input size and batch, and is scored on '
        'the split\'s test set by the same COCO evaluation')
    parser.add_argument(
        '--det-config',
        default=DET_CONFIG,
        help=f'detector config trained for every input: mmdet CocoDataset '
        f'loaders with a Resize and a CocoMetric test evaluator (default '
        f'{DET_CONFIG})')
    parser.add_argument(
        '--max-iters',
        type=int,
        help='training iterations per run, the schedule rescaled (default: '
        'the config\'s, 2000)')
    parser.add_argument(
        '--img-scale',
        type=int,
        nargs=2,
        metavar=('W', 'H'),
        help='input size of mmdet\'s Resize (keep ratio) in training and '
        'test (default: the config\'s, 640 480)')
    parser.add_argument(
        '--batch-size',
        type=int,
        help='training batch size (default: the config\'s, 4)')
    parser.add_argument(
        '--workers',
        type=int,
        help='data loader workers (default: the config\'s, 2; part of the '
        'protocol: the random flips depend on it)')
    parser.add_argument(
        '--threads',
        type=int,
        help='torch threads (default: torch\'s choice)')
    parser.add_argument(
        '--work-dir',
        default=osp.join('work_dirs', 'task_driven'),
        help='images, labels, initial weights and runs (kept; a re-run '
        'resumes; default work_dirs/task_driven)')
    parser.add_argument(
        '--records',
        metavar='DIR',
        help='unit records of one protocol (small JSON files meant to be '
        'committed): every finished (input, seed) is written as '
        'DIR/<input>/seed_<S>.json, and a unit the work dir lacks is taken '
        'from its record, without training, when the record was made from '
        'the same config, initial weights, labels, data and input weights '
        '(else it is run again, the changed inputs named)')
    parser.add_argument('--out', help='write the protocol and tables (JSON)')
    parser.add_argument(
        '--results-json',
        help='write the docs/results record (command, commit, machine, '
        'RESULT) here')
    args = parser.parse_args(argv)
    require_positive(parser, args, ('max_iters', 'batch_size', 'threads'))
    if args.workers is not None and args.workers < 0:
        parser.error(f'--workers must be >= 0, got {args.workers}')
    if args.img_scale and min(args.img_scale) < 1:
        parser.error(f'--img-scale must be positive, got {args.img_scale}')
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f'--seeds repeats a seed: {args.seeds}')
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args


# ------------------------------------------------------------ small helpers
def _config_key(path: str) -> str:
    """A config file by its path from the last ``configs/`` on (the same
    config of another checkout is the same), else its absolute path."""
    path = osp.abspath(path)
    _, sep, tail = path.rpartition(osp.sep + 'configs' + osp.sep)
    return 'configs' + osp.sep + tail if sep else path


def _read_bytes(path: str) -> bytes:
    with open(path, 'rb') as f:
        return f.read()


def _write_json(obj: dict, path: str) -> None:
    atomic_write(json.dumps(obj, indent=1) + '\n', path)


# ------------------------------------------------------------------ data
def check_data_folder(folder: str, labels: str, what: str) -> None:
    """``folder`` holds ``ir/``, ``vi/``, ``labels/<labels>/`` and
    ``classes.txt``.

    Raises:
        FileNotFoundError: the first missing one, named.
    """
    for sub in ('ir', 'vi', osp.join('labels', labels)):
        if not osp.isdir(osp.join(folder, sub)):
            raise FileNotFoundError(
                f'{what} {folder}: folder {sub}/ not found (expected the '
                'MSRS_det layout: ir/, vi/, labels/{fusion,infrared,'
                'visible}/, classes.txt)')
    if not osp.isfile(osp.join(folder, 'classes.txt')):
        raise FileNotFoundError(f'{what} {folder}: classes.txt not found')


def read_pairs(folder: str, labels: str, split: Optional[str],
               classes: Optional[Sequence[str]]):
    """The pairs of ``folder`` (those of the split file ``split``, else
    all) with their boxes, read from the YOLO files ``labels/<labels>/`` by
    :func:`~mmfusenas.datasets.paired_coco.read_boxes` (sizes checked; classes
    matched by name to ``classes`` when given, else taken from
    ``classes.txt``; label files of other pairs ignored).

    Returns:
        tuple[list[dict], tuple[str], dict]: the samples (``stem``,
        ``file_name``, ``img_path``, ``width``, ``height``, ``instances``),
        the classes and the converter's statistics.
    """
    infos, names, stats = read_boxes(
        'yolo', osp.abspath(folder), osp.join('labels', labels),
        osp.abspath(split) if split else None, classes=classes or None,
        orphan_labels='ignore')
    return infos, tuple(names), stats


def coco_json(infos: Sequence[dict], classes: Sequence[str]) -> dict:
    """COCO ground truth of ``infos`` (:func:`read_pairs`): images named
    ``<stem>.png``, boxes as ``[x, y, w, h]``, ``category_id = label + 1``,
    ``iscrowd`` = the box's ignore flag."""
    images, anns = [], []
    for img_id, info in enumerate(infos):
        images.append(dict(id=img_id, file_name=f'{info["stem"]}.png',
                           width=int(info['width']),
                           height=int(info['height'])))
        for inst in info['instances']:
            x1, y1, x2, y2 = (float(v) for v in inst['bbox'])
            anns.append(dict(
                id=len(anns) + 1, image_id=img_id,
                category_id=int(inst['bbox_label']) + 1,
                bbox=[x1, y1, x2 - x1, y2 - y1], area=(x2 - x1) * (y2 - y1),
                iscrowd=int(inst.get('ignore_flag', 0))))
    return dict(images=images, annotations=anns,
                categories=[dict(id=i + 1, name=n)
                            for i, n in enumerate(classes)])


class DataSet:
    """One folder of pairs the protocol reads: its name (the image cache
    folder), its pairs by stem and, once :meth:`hash_sources` ran, the
    SHA-256 of every pair's source files (``sha256[stem][source]``)."""

    def __init__(self, name: str, folder: str) -> None:
        self.name = name
        self.folder = osp.abspath(folder)
        self.pairs: 'OrderedDict[str, dict]' = OrderedDict()
        self.sha256: Dict[str, Dict[str, str]] = {}

    def add(self, infos: Sequence[dict]) -> None:
        for info in infos:
            self.pairs.setdefault(info['stem'], info)

    def hash_sources(self) -> None:
        """Read every source image of the pairs, checked, and record the
        SHA-256 of its bytes.

        Raises:
            OSError: a source image is truncated or cannot be decoded
                (named).
        """
        from mmengine import fileio
        for stem, info in self.pairs.items():
            hashes = {}
            for source in SOURCES:
                path = info['img_path'][source]
                content = fileio.get(path)
                decode_image(content, path)
                hashes[source] = hashlib.sha256(content).hexdigest()
            self.sha256[stem] = hashes


def data_sha256(data: DataSet, set_info: dict, sources: Sequence[str]
                ) -> str:
    """SHA-256 of what makes one input's images and labels of a set: its
    label json and, per pair, the stem and the SHA-256 of the source files
    ``sources`` (``('ir',)``, ``('vi',)`` or both for a fusion method)."""
    rows = [[stem] + [data.sha256[stem][s] for s in sources]
            for stem in set_info['stems']]
    text = json.dumps([set_info['sha256'], rows])
    return hashlib.sha256(text.encode()).hexdigest()


def prepare_labels(args: argparse.Namespace, work_dir: str
                   ) -> Tuple[Tuple[str], Dict[str, DataSet],
                              'OrderedDict[str, dict]']:
    """Read the split and the extra test sets, write their COCO jsons.

    Returns:
        tuple: the classes, ``{data name: DataSet}`` (source files hashed)
        and ``{set: dict(data=<data name>, json=<path relative to the work
        dir>, images=n, boxes=n, sha256=<of the json>, stems=[...])}`` for
        ``train``, ``test`` and every ``--test-pairs`` set.

    Raises:
        FileNotFoundError / ValueError: missing folders or files, two sets
            of one name, unreadable labels (named).
        OSError: a truncated or undecodable source image (named).
    """
    check_data_folder(args.data, args.labels, '--data')
    data_name = osp.basename(osp.normpath(args.data))
    datas = {data_name: DataSet(data_name, args.data)}
    train, classes, train_stats = read_pairs(
        args.data, args.labels, osp.join(args.split_dir, 'train.txt'), None)
    test, _, test_stats = read_pairs(
        args.data, args.labels, osp.join(args.split_dir, 'test.txt'),
        classes)
    overlap = sorted({i['stem'] for i in train} & {i['stem'] for i in test})
    if overlap:
        raise ValueError(f'--split-dir {args.split_dir}: train.txt and '
                         f'test.txt share {len(overlap)} stem(s): '
                         f'{overlap[:10]}')
    datas[data_name].add(train + test)
    sets = OrderedDict([('train', (data_name, train, train_stats)),
                        (TEST, (data_name, test, test_stats))])
    for folder in args.test_pairs:
        check_data_folder(folder, args.labels, '--test-pairs')
        name = osp.basename(osp.normpath(folder))
        if name in sets:
            raise ValueError(f'--test-pairs {folder}: a test set is already '
                             f'named {name!r} (sets are named after their '
                             'folder; train and test are the split\'s)')
        if name in datas and datas[name].folder != osp.abspath(folder):
            raise ValueError(f'--test-pairs {folder}: another folder of '
                             f'the same name ({datas[name].folder}) is '
                             'already used')
        infos, _, stats = read_pairs(folder, args.labels, None, classes)
        datas.setdefault(name, DataSet(name, folder)).add(infos)
        sets[name] = (name, infos, stats)
    out = OrderedDict()
    for set_name, (data, infos, stats) in sets.items():
        gt = coco_json(infos, classes)
        print(f'labels of {set_name}: {len(infos)} pairs of {data}, '
              f'{stats["num_boxes"]} boxes ({len(stats["clipped"])} clipped '
              f'to the image, {len(stats["degenerate"])} empty or outside '
              f'dropped, {sum(stats["unmapped"].values())} of other classes '
              'dropped)')
        rel = osp.join('labels', f'{set_name}_{args.labels}.json')
        text = json.dumps(gt, indent=1) + '\n'
        path = osp.join(work_dir, rel)
        if not osp.isfile(path) or _read_bytes(path) != text.encode():
            atomic_write(text, path)
        if set_name in ('train', TEST):  # the source pairs, for --joint
            atomic_write(
                json.dumps(to_coco(infos, classes)) + '\n',
                path.replace('.json', '_pairs.json'))
        out[set_name] = dict(
            data=data, json=rel, images=len(infos),
            boxes=len(gt['annotations']),
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            stems=[i['stem'] for i in infos])
    for data in datas.values():
        data.hash_sources()
    return classes, datas, out


# ------------------------------------------------------------------ inputs
def plan_methods(args: argparse.Namespace, tmp: str) -> list:
    """The inputs in table order: ``'ir'``, ``'vi'``, then the fusion
    methods (``bench_fusion_real.Method``, with ``absent`` set where one
    cannot run).

    Raises:
        ValueError: an unknown, repeated or unusable name.
        FileNotFoundError: a ``--checkpoint`` file is missing.
    """
    for method in args.checkpoint:
        if method.name in SOURCES or not _NAME.match(method.name):
            raise ValueError(f'--checkpoint {method.name}: the name must '
                             'be a folder name (letters, digits, _ . + -) '
                             f'other than {SOURCES}')
    fusion_names = [m.name for m in fusion_real.BUILTIN_METHODS] + [
        m.name for m in args.checkpoint]
    wanted = None
    if args.methods:
        unknown = [n for n in args.methods
                   if n not in SOURCES and n not in fusion_names]
        if unknown:
            raise ValueError(f'--methods: unknown input(s) {unknown}; known: '
                             f'{list(SOURCES) + fusion_names}')
        if len(set(args.methods)) != len(args.methods):
            raise ValueError(f'--methods repeats a name: {args.methods}')
        wanted = [n for n in args.methods if n not in SOURCES]
    sources = [n for n in SOURCES if not args.methods or n in args.methods]
    if wanted == []:
        return sources
    ns = argparse.Namespace(checkpoint=args.checkpoint, methods=wanted,
                            weights_root=args.weights_root)
    return sources + fusion_real.resolve_methods(ns, tmp)


def method_name(method) -> str:
    return method if isinstance(method, str) else method.name


def method_identity(method, args: argparse.Namespace) -> dict:
    """What makes a method's images: the source for ``ir`` / ``vi``; for a
    fusion method its config (path, options and ``config_sha256``: the
    SHA-256 of the model and test pipeline it builds,
    :func:`fusion_config_sha256`) and the SHA-256 of the weights."""
    if isinstance(method, str):
        return dict(source=method)
    weights = None
    if method.converter is not None:
        weights = osp.join(args.weights_root, method.weights)
    elif method.checkpoint is not None:
        weights = method.checkpoint
    return dict(config=_config_key(method.config),
                cfg_options=dict(method.cfg_options),
                config_sha256=fusion_config_sha256(method.config,
                                                   method.cfg_options),
                converter=method.converter,
                weights_sha256=file_sha256(weights) if weights else None)


def fusion_config_sha256(config: str, cfg_options: Optional[dict]) -> str:
    """SHA-256 of what a fusion config makes its images with: the model and
    the test pipeline of ``config`` with ``cfg_options`` merged (as
    :func:`make_images` builds them).

    Raises:
        FileNotFoundError: ``config`` is missing.
    """
    cfg = load_config(config, cfg_options or None)
    return portable_sha256(with_named_files(dict(
        model=cfg.model.to_dict(), pipeline=test_pipeline_cfg(cfg))))


def with_named_files(plain: dict) -> dict:
    """``plain`` (a config as plain dicts) with the SHA-256 of each YAML file
    it names (a genotype, a search space) under ``named_files``, when it
    names any: an edited genotype changes the hash."""
    found = named_files(plain, suffixes=('.yaml', '.yml'))
    return dict(plain, named_files=found) if found else plain


def method_sources(method) -> Tuple[str, ...]:
    """The source images an input is made of: itself for ``ir`` / ``vi``,
    both for a fusion method."""
    return (method, ) if isinstance(method, str) else SOURCES


def make_images(method, identity: dict, data: DataSet, work_dir: str
                ) -> str:
    """Write the images of ``method`` for every pair of ``data`` that is not
    in the cache yet or whose source files changed since it was made;
    returns the folder relative to the work dir.

    The folder's ``fusion.json`` records the method and, per stem, the
    SHA-256 of the source files its image was made from (``sources``;
    updated after each image).

    Raises:
        ValueError: the cache holds another method's or another folder's
            images, or a fused image has another size than its pair.
        OSError: a source image is truncated or cannot be decoded (named).
    """
    name = method_name(method)
    rel = osp.join('images', data.name, name)
    folder = osp.join(work_dir, rel)
    manifest = dict(method=name, source=data.folder, identity=identity)
    stored = osp.join(folder, 'fusion.json')
    made: Dict[str, list] = {}
    if osp.isfile(stored):
        theirs = read_json(stored)
        made = theirs.pop('sources', {})
        if theirs != manifest:
            raise ValueError(
                f'{folder} holds images made by {theirs}, not by {manifest}; '
                'remove that folder or choose another --work-dir')
    else:
        _write_json(dict(manifest, sources=made), stored)
    want = {s: [data.sha256[s][src] for src in method_sources(method)]
            for s in data.pairs}
    missing = [s for s in data.pairs if made.get(s) != want[s]
               or not osp.isfile(osp.join(folder, f'{s}.png'))]
    if not missing:
        return rel
    changed = [s for s in missing if s in made]
    bar = start_progress(
        f'{name}: writing {len(missing)} image(s) of {data.name} to '
        f'{folder}' + (f' ({len(changed)} made before from other source '
                       f'files: {changed[:5]})' if changed else ''),
        len(missing))

    def write(img: np.ndarray, stem: str) -> None:
        write_png(img, osp.join(folder, f'{stem}.png'))
        made[stem] = want[stem]
        _write_json(dict(manifest, sources=made), stored)
        bar.update()

    if isinstance(method, str):
        for stem in missing:
            write(read_image(data.pairs[stem]['img_path'][method]), stem)
        end_progress(bar)
        return rel
    model = init_model(method.config, method.checkpoint,
                       cfg_options=method.cfg_options or None)
    dataset = fusion_real.build_pairs(
        {m: osp.join(data.folder, m) for m in SOURCES},
        test_pipeline_cfg(model.cfg), None)
    todo = set(missing)
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        stem = info['stem']
        if stem not in todo:
            continue
        with torch.no_grad():
            fused = result_image(inference_fusion(model, info))
        pair = data.pairs[stem]
        if fused.shape[:2] != (pair['height'], pair['width']):
            raise ValueError(
                f'{name}: the fused image of {stem} is {fused.shape[1]}x'
                f'{fused.shape[0]}, its pair {pair["width"]}x'
                f'{pair["height"]}')
        write(fused, stem)
        todo.discard(stem)
    end_progress(bar)
    if todo:
        raise ValueError(f'{name}: no pair of {data.folder} for the stem(s) '
                         f'{sorted(todo)[:10]}')
    del model
    return rel


# -------------------------------------------------------------- the config
def protocol_config(args: argparse.Namespace, classes: Sequence[str],
                    sets: Dict[str, dict], work_dir: str) -> Config:
    """The detector config every run shares, its per-run entries left as
    placeholders (:func:`run_config` fills them).

    Raises:
        FileNotFoundError: ``--det-config`` is missing.
        KeyError: a misspelt key of the config, or a config without the
            loaders / Resize this protocol sets.
        ValueError: its test evaluator is not one CocoMetric.
    """
    if not osp.isfile(args.det_config):
        raise FileNotFoundError(f'--det-config {args.det_config} not found')
    cfg = Config.fromfile(args.det_config)
    if args.max_iters is not None:
        rescale_schedule(cfg, max_iters=args.max_iters)
    for key in ('train_dataloader', 'test_dataloader', 'test_evaluator',
                'train_cfg'):
        if not cfg.get(key):
            raise KeyError(f'--det-config {args.det_config}: no {key}')
    evaluator = cfg.test_evaluator
    if not isinstance(evaluator, dict) or not str(evaluator.get(
            'type', '')).endswith('CocoMetric'):
        raise ValueError(f'--det-config {args.det_config}: test_evaluator '
                         f'must be one CocoMetric, got {evaluator}')
    model = cfg.model
    for head in (model.get('bbox_head'),
                 (model.get('roi_head') or {}).get('bbox_head')):
        if isinstance(head, dict) and 'num_classes' in head:
            head['num_classes'] = len(classes)
    for loader, split in (('train_dataloader', 'train'),
                          ('test_dataloader', TEST)):
        node = cfg[loader]
        if loader == 'train_dataloader' and args.batch_size:
            node.batch_size = args.batch_size
        if args.workers is not None:
            node.num_workers = args.workers
        node.persistent_workers = node.get('num_workers', 0) > 0
        dataset = node.dataset
        dataset.data_root = WORK_KEY + '/'
        dataset.ann_file = sets[split]['json']
        dataset.data_prefix = dict(img=IMAGES_KEY)
        dataset.metainfo = dict(classes=tuple(classes))
        resized = 0
        for step in dataset.pipeline:
            if str(step.get('type', '')).split('.')[-1] == 'Resize':
                if args.img_scale:
                    step['scale'] = tuple(args.img_scale)
                resized += 1
        if not resized:
            raise KeyError(f'--det-config {args.det_config}: no Resize in '
                           f'{loader}.dataset.pipeline')
    cfg.test_evaluator.ann_file = WORK_KEY + '/' + sets[TEST]['json']
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator'):
        cfg[key] = None
    cfg.work_dir = WORK_KEY
    cfg.load_from, cfg.resume = None, False
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=None,
                          deterministic=False)
    return cfg


#: runtime settings of the records' configs that the stock Runner has no
#: use for (``config_sha256``)
_HASHED_RUNTIME = dict(runner_type='ReliableRunner', load_strict=True)


def config_sha256(cfg: Config, work_dir: str) -> str:
    """SHA-256 of :func:`hashed_config`."""
    return hashlib.sha256(hashed_config(cfg, work_dir).encode()).hexdigest()


def hashed_config(cfg: Config, work_dir: str) -> str:
    """A run's config as JSON text with its per-run entries blanked (the
    image folders, a joint run's data folder, seed, work dir, initial
    checkpoints ``load_from`` and a joint model's ``model.task_init``, run
    name, detection file) and the checkout it was read from: equal for every
    run and seed of one protocol, from any checkout."""
    plain = copy.deepcopy(cfg.to_dict())
    init = (plain.get('model') or {}).get('task_init')
    if isinstance(init, dict):
        init['checkpoint'] = INIT_KEY
    elif init is not None:
        plain['model']['task_init'] = INIT_KEY
    for loader in ('train_dataloader', 'test_dataloader'):
        if plain.get(loader):
            dataset = plain[loader]['dataset']
            dataset['data_prefix'] = dict(img=IMAGES_KEY)
            # a joint run reads the pairs of --data (hashed as data_sha256)
            if not str(dataset.get('data_root')).startswith(
                    (WORK_KEY, osp.abspath(work_dir))):
                dataset['data_root'] = DATA_KEY
    plain['test_evaluator'].pop('outfile_prefix', None)
    plain['test_evaluator']['ann_file'] = ''
    plain['test_dataloader']['dataset']['ann_file'] = ''
    plain['randomness']['seed'] = None
    for key in ('work_dir', 'load_from', 'resume', 'experiment_name',
                'work_dir_lock'):
        plain.pop(key, None)
    # the load checks cannot change a run's result: hashed as the records
    # made before MMEngine's stock Runner hashed them, which stay valid
    plain.update(_HASHED_RUNTIME)
    (plain.get('default_hooks') or {}).pop('checked_load', None)
    return portable_json(with_named_files(plain), work_dir)


def _replace(node, old: str, new: str):
    """``node`` (nested dicts, lists, tuples) with ``old`` replaced by
    ``new`` in every string; other values and the container types kept."""
    if isinstance(node, str):
        return node.replace(old, new)
    if isinstance(node, dict):
        return type(node)((k, _replace(v, old, new)) for k, v in node.items())
    if isinstance(node, (list, tuple)):
        return type(node)(_replace(v, old, new) for v in node)
    return node


def _fill(cfg: Config, work_dir: str) -> Config:
    """``cfg`` with the work-dir placeholder replaced by ``work_dir``."""
    plain = _replace(copy.deepcopy(cfg.to_dict()), WORK_KEY,
                     osp.abspath(work_dir))
    return Config(plain, filename=cfg.filename)


def run_config(common: Config, work_dir: str, images: str, seed: int,
               run_dir: str, kind: str) -> Config:
    """The config of one run: ``common`` with the input's image folder
    (``images``, relative to the work dir), the seed and the run dir."""
    cfg = _fill(common, work_dir)
    for loader in ('train_dataloader', 'test_dataloader'):
        if cfg.get(loader):
            cfg[loader].dataset.data_prefix = dict(img=images + '/')
    cfg.randomness.seed = seed
    cfg.work_dir = run_dir
    cfg.experiment_name = (f'task_driven_{kind}_{next(_RUNNER_IDS)}_'
                           f'{os.getpid()}_{time.strftime("%H%M%S")}')
    return cfg


def describe(cfg: Config) -> str:
    """A line saying which detector the config builds."""
    model = cfg.model
    backbone, neck = model.get('backbone', {}), model.get('neck', {})
    head = model.get('bbox_head', {})
    parts = [str(model.get('type', '?')).split('.')[-1]]
    if backbone:
        width = backbone.get('base_channels')
        init = backbone.get('init_cfg')
        parts.append(
            f'{str(backbone.get("type")).split(".")[-1]}-'
            f'{backbone.get("depth", "")}'
            + (f' at base width {width}' if width else '')
            + (' from scratch (no pretrained weights)' if init is None
               else f' init_cfg {init}'))
    if neck:
        parts.append(f'{str(neck.get("type")).split(".")[-1]} '
                     f'{neck.get("out_channels", "")} channels')
    if head:
        parts.append(f'{str(head.get("type")).split(".")[-1]} '
                     f'({head.get("num_classes")} classes)')
    return ', '.join(parts)


# ------------------------------------------------------------- init weights
def initial_weights(common: Config, work_dir: str, seed: int
                    ) -> Tuple[str, str]:
    """The initial detector weights of ``seed``: built and initialised once
    (``set_random_seed(seed)``, ``init_weights()``), saved atomically as
    ``<work-dir>/init/seed_<S>.pth`` and read back on every later call
    (checked: :func:`~mmfusenas.utils.checkpoint.read_checkpoint`).

    Returns:
        tuple[str, str]: the file and the SHA-256 of its state dict.

    Raises:
        ValueError: the file is empty, truncated, overwritten or holds no
            state dict (named).
    """
    from mmengine.registry import MODELS, init_default_scope
    from mmengine.runner import set_random_seed

    path = osp.join(work_dir, 'init', f'seed_{seed}.pth')
    if osp.isfile(path):
        what = 'initial weights'
        try:
            state = checkpoint_state_dict(read_checkpoint(path, what), path,
                                          what)
        except (ValueError, pickle.UnpicklingError) as err:
            raise ValueError(f'{err}; remove {path} to have it made again '
                             f'(from seed {seed})') from None
        return path, state_sha256(state)
    init_default_scope(common.get('default_scope', 'mmfusenas'))
    set_random_seed(seed)
    model = MODELS.build(copy.deepcopy(common.model))
    model.init_weights()
    state = model.state_dict()
    buf = io.BytesIO()
    torch.save(dict(state_dict=state, meta=dict(seed=seed)), buf)
    atomic_write(buf.getvalue(), path)
    return path, state_sha256(state)


class TrainRecordHook(Hook):
    """Records the SHA-256 of the weights the training starts from, the
    iteration it starts at and the wall and CPU seconds of the training loop
    (data loading, steps and checkpoint saves; not the runner's set-up; CPU
    seconds of this process and its finished children, e.g. loader
    workers) and the training losses at its end (means of the last
    :data:`LOSS_WINDOW` iterations, e.g. whether ``loss_bbox`` left its
    starting plateau) and, on CUDA, the peak memory allocated in MiB
    (``max_memory_mb``: the largest peak seen before each iteration and at
    the end, as MMEngine's logger resets the peak at every logging
    interval).

    The hash is taken before the first iteration (after ``load_from``) and
    kept in every checkpoint's ``meta['start_sha256']``; a resumed training
    takes it from the checkpoint it resumes (None when that records
    none), so it stays that of the initial weights. Likewise every
    checkpoint keeps the wall and CPU seconds of the training up to it
    (``meta['train_seconds']``, ``meta['train_cpu_seconds']``), which a
    resumed training adds to its own (:attr:`before`; None when the
    checkpoint records none)."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.sha256: Optional[str] = None
        self.losses: Dict[str, float] = {}
        self.iter: Optional[int] = None
        self.seconds: Optional[float] = None
        self.cpu_seconds: Optional[float] = None
        self.max_memory_mb: Optional[int] = None
        #: wall and CPU seconds of the training before this process
        self.before: Dict[str, Optional[float]] = dict(seconds=0.0,
                                                       cpu_seconds=0.0)
        self._start = self._cpu = 0.0
        self._device = torch.device('cpu')

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.get('meta') or {}
        self.sha256 = meta.get('start_sha256')
        self.before = dict(seconds=meta.get('train_seconds'),
                           cpu_seconds=meta.get('train_cpu_seconds'))

    def before_train(self, runner) -> None:
        self.iter = int(runner.iter)
        if self.iter == 0:
            model = unwrap(runner.model)
            self.sha256 = state_sha256(model.state_dict())
            self.before = dict(seconds=0.0, cpu_seconds=0.0)
        self._device = next(unwrap(runner.model).parameters()).device
        self._start, self._cpu = time.perf_counter(), _cpu_seconds()

    def before_train_iter(self, runner, batch_idx: int,
                          data_batch=None) -> None:
        self._note_memory()

    def _note_memory(self) -> None:
        if self._device.type == 'cuda':  # an allocator counter: no sync
            peak = round(torch.cuda.max_memory_allocated(self._device) / 2**20)
            self.max_memory_mb = max(self.max_memory_mb or 0, peak)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        meta = checkpoint.setdefault('meta', {})
        meta['start_sha256'] = self.sha256
        meta['train_seconds'] = self.total(
            'seconds', time.perf_counter() - self._start)
        meta['train_cpu_seconds'] = self.total(
            'cpu_seconds', _cpu_seconds() - self._cpu)

    def total(self, key: str, part: float) -> Optional[float]:
        """``part`` seconds of this process plus those of the training
        before it (None when they are not known)."""
        before = self.before.get(key)
        return None if before is None else round(before + part, 2)

    def after_train(self, runner) -> None:
        self._note_memory()
        self.seconds = time.perf_counter() - self._start
        self.cpu_seconds = _cpu_seconds() - self._cpu
        # the training losses, mean of the last LOSS_WINDOW iterations
        self.losses = {
            key[len('train/'):]: round(float(buf.mean(LOSS_WINDOW)), 4)
            for key, buf in runner.message_hub.log_scalars.items()
            if key.startswith('train/') and 'loss' in key}


#: iterations the recorded final training losses are averaged over
LOSS_WINDOW = 50


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its waited-for
    children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


# -------------------------------------------------------------------- runs
def _checkpoint_meta(path: str) -> dict:
    """The ``meta`` of a checkpoint, read by the checked loader
    (:func:`~mmfusenas.utils.checkpoint.read_checkpoint`: weights only,
    never unpickling code).

    Raises:
        ValueError: the file is damaged (named).
        pickle.UnpicklingError: it holds pickled objects (named).
    """
    ckpt = read_checkpoint(path)
    meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
    return meta if isinstance(meta, dict) else {}


def _checkpoint_iter(path: str) -> int:
    """The iteration a checkpoint was saved at (``iter_<N>.pth``, else its
    ``meta``; see :func:`_checkpoint_meta`)."""
    match = re.match(r'iter_(\d+)\.pth$', osp.basename(path))
    if match:
        return int(match.group(1))
    return int(_checkpoint_meta(path).get('iter', 0))


def _build_runner(cfg: Config):
    from mmfusenas.engine.runner import build_runner
    return build_runner(cfg)


def train_run(common: Config, work_dir: str, images: str, seed: int,
              run_dir: str, init: str, max_iters: int) -> dict:
    """Train one (input, seed) to ``max_iters`` from the initial weights
    ``init`` (:func:`train_config`)."""
    cfg = run_config(common, work_dir, images, seed, run_dir, 'train')
    return train_config(cfg, work_dir, run_dir, init, max_iters)


def train_config(cfg: Config, work_dir: str, run_dir: str,
                 init: Optional[str], max_iters: int) -> dict:
    """Train ``cfg`` to ``max_iters`` in ``run_dir`` (resuming a killed
    training from its last checkpoint; a fresh one loads ``init``, or
    nothing when None); returns what the result records of it:
    ``config_sha256`` of the config (:func:`config_sha256`), the
    checkpoint it resumed from, ``start_sha256`` of the weights before the
    first iteration of the training, also after a resume
    (:class:`TrainRecordHook`; read from the checkpoint when a finished one
    was found, None when it records none), the loop's wall and CPU seconds
    over the whole training, resumes included (None when a checkpoint it
    resumed from records none), the seconds per iteration of this
    process's iterations, the final training losses (``final_losses``),
    the peak CUDA memory allocated in MiB (``max_memory_mb``; None on the
    CPU), the last checkpoint."""
    ckpt, _ = find_resumable_checkpoint(run_dir) if osp.isdir(run_dir) \
        else (None, [])
    done = ckpt is not None and _checkpoint_iter(ckpt) >= max_iters
    info = dict(iters=max_iters, config_sha256=config_sha256(cfg, work_dir),
                resumed_from=None, start_sha256=None, seconds=None,
                cpu_seconds=None, s_per_iter=None)
    if done:
        meta = _checkpoint_meta(ckpt)
        info.update(checkpoint=osp.relpath(ckpt, run_dir),
                    start_sha256=meta.get('start_sha256'),
                    seconds=meta.get('train_seconds'),
                    cpu_seconds=meta.get('train_cpu_seconds'))
        if info['seconds'] is not None:
            info['s_per_iter'] = round(info['seconds'] / max_iters, 4)
        return info
    if ckpt is not None:
        cfg.load_from, cfg.resume = ckpt, True
        info['resumed_from'] = osp.relpath(ckpt, run_dir)
    else:
        cfg.load_from, cfg.resume = init, False
    runner = _build_runner(cfg)
    hook = TrainRecordHook()
    runner.register_hook(hook)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    runner.train()
    runner_device = next(unwrap(runner.model).parameters()).device
    trained = max_iters - (hook.iter or 0)
    seconds = hook.seconds or 0.0
    del runner
    gc.collect()
    ckpt, _ = find_resumable_checkpoint(run_dir)
    if ckpt is None or _checkpoint_iter(ckpt) < max_iters:
        raise RuntimeError(f'{run_dir}: training ended without a checkpoint '
                           f'of iteration {max_iters}')
    info.update(device=device_name(runner_device),
                start_sha256=hook.sha256,
                seconds=hook.total('seconds', seconds),
                cpu_seconds=hook.total('cpu_seconds',
                                       hook.cpu_seconds or 0.0),
                s_per_iter=round(seconds / max(trained, 1), 4),
                final_losses=hook.losses, max_memory_mb=hook.max_memory_mb,
                checkpoint=osp.relpath(ckpt, run_dir))
    return info


def coco_scores(gt_json: str, dets_json: str, classes: Sequence[str]
                ) -> dict:
    """bbox mAP (IoU .50:.95) and mAP50, overall and per class, of the
    detections ``dets_json`` against ``gt_json`` (pycocotools, all areas,
    100 detections; a class without a ground-truth box: None)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    dets = read_json(dets_json)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_json)
    cat_ids = sorted(gt.getCatIds())
    has_gt = [bool(gt.getAnnIds(catIds=[c])) for c in cat_ids]
    if not dets:
        ap = {n: (0.0 if h else None) for n, h in zip(classes, has_gt)}
        total = 0.0 if any(has_gt) else None
        return dict(mAP=total, mAP50=total, AP=ap, AP50=dict(ap),
                    detections=0)
    with contextlib.redirect_stdout(io.StringIO()):
        ev = COCOeval(gt, gt.loadRes(dets), 'bbox')
        ev.params.catIds = cat_ids
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    precision = ev.eval['precision']  # (IoU, recall, class, area, maxDets)

    def mean(p: np.ndarray) -> Optional[float]:
        p = p[p > -1]
        return float(p.mean()) if p.size else None

    ap = {n: mean(precision[:, :, k, 0, -1]) for k, n in enumerate(classes)}
    ap50 = {n: mean(precision[0, :, k, 0, -1])
            for k, n in enumerate(classes)}
    return dict(mAP=mean(precision[:, :, :, 0, -1]),
                mAP50=mean(precision[0, :, :, 0, -1]), AP=ap, AP50=ap50,
                detections=len(dets))


def evaluate_run(common: Config, work_dir: str, images: str, seed: int,
                 run_dir: str, checkpoint: str, set_info: dict,
                 set_name: str, classes: Sequence[str]) -> dict:
    """Test a trained run on one set (``tools/test.py``'s path: a runner
    that loads the checkpoint, mmdet's CocoMetric); returns its scores."""
    cfg = run_config(common, work_dir, images, seed, run_dir, 'test')
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'param_scheduler'):
        cfg[key] = None
    gt_json = osp.join(work_dir, set_info['json'])
    prefix = osp.join(run_dir, f'dets_{set_name}')
    cfg.test_dataloader.dataset.ann_file = set_info['json']
    cfg.test_evaluator.ann_file = gt_json
    cfg.test_evaluator.outfile_prefix = prefix
    cfg.load_from, cfg.resume, cfg.work_dir_lock = checkpoint, False, False
    runner = _build_runner(cfg)
    metrics = runner.test() or {}
    del runner
    gc.collect()
    scores = coco_scores(gt_json, f'{prefix}.bbox.json', classes)
    scores['coco'] = {k: float(v) for k, v in metrics.items()
                      if isinstance(v, (int, float))}
    scores['images'] = set_info['images']
    return scores


# ------------------------------------------------------------ joint models
def _joint_item(text: str) -> Tuple[str, str]:
    """``NAME=CONFIG`` of ``--joint``."""
    name, sep, config = text.partition('=')
    if not sep or not _NAME.match(name) or not config.endswith('.py'):
        raise argparse.ArgumentTypeError(
            f'--joint takes NAME=CONFIG (a .py config), got {text!r}')
    return name, config


#: the detector keys a joint model must share with the protocol's detector
#: (its neck may differ: a searched neck is a variant of the joint model)
DETECTOR_KEYS = ('backbone', 'bbox_head', 'train_cfg', 'test_cfg')


def joint_config(config: str, args: argparse.Namespace, common: Config,
                 protocol: dict, seed: int, init: str,
                 run_dir: str) -> Config:
    """The config of one joint run: ``config`` (a compound model whose
    ``detector`` is the protocol's detector, its neck aside) on the
    protocol's data, labels,
    input size, batch and loader workers, ``model.task_init`` = the seed's
    initial detector weights (but for a neck of its own, which keeps its
    seed's initialisation), and a schedule rescaled so that the detector
    trains ``protocol['max_iters']`` iterations after the config's fusion
    warm-up (``FusionWarmupHook.warmup``, rescaled with it).

    Raises:
        FileNotFoundError: ``config`` is missing.
        ValueError: the model has no ``detector`` / ``task_init``, or its
            detector differs from the protocol's (a key of
            :data:`DETECTOR_KEYS`).
    """
    if not osp.isfile(config):
        raise FileNotFoundError(f'--joint config {config} not found')
    cfg = Config.fromfile(config)
    model = cfg.model
    if 'detector' not in model or 'task_init' not in model:
        raise ValueError(f'--joint {config}: not a compound model with a '
                         f'detector and model.task_init')
    for key in DETECTOR_KEYS:
        ours, theirs = model.detector.get(key), common.model.get(key)
        if ours != theirs:
            raise ValueError(
                f'--joint {config}: model.detector.{key} differs from the '
                f'protocol detector\'s ({args.det_config}): {ours} vs '
                f'{theirs}')
    own_neck = model.detector.get('neck') != common.model.get('neck')
    model.task_init = dict(checkpoint=init, exclude=['neck.']) \
        if own_neck else init
    for loader, split in (('train_dataloader', 'train'),
                          ('test_dataloader', TEST)):
        node = cfg[loader]
        node.num_workers = protocol['workers']
        node.persistent_workers = protocol['workers'] > 0
        dataset = node.dataset
        dataset.data_root = osp.abspath(args.data) + os.sep
        dataset.ann_file = osp.join(
            osp.abspath(args.work_dir), 'labels',
            f'{split}_{args.labels}_pairs.json')
        for step in dataset.pipeline:
            if str(step.get('type', '')).endswith('Resize'):
                step['scale'] = tuple(protocol['img_scale'])
    cfg.train_dataloader.batch_size = protocol['batch_size']
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator'):
        cfg[key] = None
    for key in ('val_interval', 'val_begin'):
        cfg.train_cfg.pop(key, None)
    total = int(cfg.train_cfg.max_iters)
    warmup = sum(int(h.get('warmup', 0)) for h in cfg.get('custom_hooks', [])
                 if str(h.get('type', '')).endswith('FusionWarmupHook'))
    rescale_schedule(cfg, max_iters=int(round(
        protocol['max_iters'] * total / (total - warmup))))
    cfg.test_evaluator = dict(type='mmdet.CocoMetric', metric='bbox')
    cfg.work_dir = run_dir
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=seed,
                          deterministic=False)
    cfg.load_from, cfg.resume = None, False
    return cfg


def fusion_init_sha256(cfg: Config) -> Optional[str]:
    """SHA-256 of the file of a joint model's ``model.fusion_init`` (None
    without one)."""
    init = parse_module_init(cfg.model.get('fusion_init'))
    return file_sha256(init['checkpoint']) if init else None


def joint_scores(runner, dets_json: str, gt_json: str,
                 classes: Sequence[str]) -> dict:
    """Scores of a joint model's test detections against the protocol's
    ground truth: its image ids (the test dataset's) mapped to the
    protocol's by pair stem and its category ids (its ``CocoMetric``'s) to
    the protocol's by class name, then :func:`coco_scores`."""
    dataset = runner.test_dataloader.dataset
    stems = {}
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        stems[info['img_id']] = info['stem']
    metric = runner.test_evaluator.metrics[0]
    categories = dict(zip(metric.cat_ids, metric.dataset_meta['classes']))
    return protocol_scores(dets_json, gt_json, classes, stems, categories)


def protocol_scores(dets_json: str, gt_json: str, classes: Sequence[str],
                    stems: Optional[Dict[int, str]],
                    categories: Dict[int, str]) -> dict:
    """:func:`coco_scores` of detections whose image and category ids are
    another data set's: ``stems`` (image id -> pair stem; None: the ids are
    the protocol's already) and ``categories`` (category id -> class name)
    map them to ``gt_json``'s; written to ``*.protocol.bbox.json``."""
    gt = read_json(gt_json)
    ids = {osp.splitext(img['file_name'])[0]: img['id']
           for img in gt['images']}
    by_name = {c['name']: c['id'] for c in gt['categories']}
    unknown = sorted(set(categories.values()) - set(by_name))
    if unknown:
        raise KeyError(f'classes {unknown} of the detections are not in the '
                       f'protocol\'s ground truth {gt_json}')
    lacking = sorted(set((stems or {}).values()) - set(ids))
    if lacking:
        raise KeyError(f'{lacking[0]}: a test pair of the joint model that '
                       f'the protocol\'s ground truth {gt_json} lacks')
    dets = read_json(dets_json)
    for det in dets:
        if stems is not None:
            det['image_id'] = ids[stems[det['image_id']]]
        det['category_id'] = by_name[categories[det['category_id']]]
    remapped = re.sub(r'\.bbox\.json$', '.protocol.bbox.json', dets_json)
    _write_json(dets, remapped)
    return coco_scores(gt_json, remapped, classes)


def joint_run(name: str, config: str, seed: int, args: argparse.Namespace,
              common: Config, work_dir: str, sets: Dict[str, dict],
              classes: Sequence[str], init: Tuple[str, str],
              protocol: dict, hashes: Dict[str, str],
              records: Optional[dict] = None) -> dict:
    """Train (or resume) and test one joint model and seed on the split's
    test set; returns its scores (as :func:`run_one`, ``records`` too).
    ``result.json`` of the run records what is done and the options it was
    run with (with ``hashes``, the :func:`data_sha256` of both sources per
    set, and the SHA-256 of ``model.fusion_init``'s file)."""
    run_dir = osp.join(work_dir, 'runs', name, f'seed_{seed}')
    path = osp.join(run_dir, 'result.json')
    cfg = joint_config(config, args, common, protocol, seed, init[0],
                       run_dir)
    max_iters = int(cfg.train_cfg.max_iters)
    options = dict(method=name, seed=seed, joint=_config_key(config),
                   config_sha256=config_sha256(cfg, work_dir),
                   init_sha256=init[1],
                   fusion_init_sha256=fusion_init_sha256(cfg),
                   train_labels_sha256=protocol['train_labels_sha256'],
                   data_sha256=hashes['train'])
    stored = from_record(read_result(path, options), records, name, seed,
                         options, path)
    stored = untestable(stored, [TEST], hashes, run_dir, name,
                        seed) or dict(
        options=options, method=name, seed=seed, init_sha256=init[1],
        train=None, tests={})
    if stored.get('train') is None:
        check_row_config(records, name, seed, options)
        print(f'{name} seed {seed}: joint training, {max_iters} iterations',
              flush=True)
        # a fresh run starts from model.task_init, not from load_from
        stored['train'] = dict(
            train_config(copy.deepcopy(cfg), work_dir, run_dir, None,
                         max_iters),
            detector_iters=protocol['max_iters'])
        _write_json(stored, path)
    if not _test_done(stored, TEST, hashes[TEST], name, seed):
        test = copy.deepcopy(cfg)
        for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                    'param_scheduler'):
            test[key] = None
        prefix = osp.join(run_dir, f'dets_{TEST}')
        test.test_evaluator.outfile_prefix = prefix
        test.load_from = osp.join(run_dir, stored['train']['checkpoint'])
        test.resume, test.work_dir_lock = False, False
        runner = _build_runner(test)
        runner.test()
        scores = joint_scores(runner, f'{prefix}.bbox.json',
                              osp.join(work_dir, sets[TEST]['json']),
                              classes)
        del runner
        gc.collect()
        scores['images'] = sets[TEST]['images']
        scores['data_sha256'] = hashes[TEST]
        stored['tests'][TEST] = scores
        _write_json(stored, path)
    t = stored['tests'][TEST]
    print(f'{name} seed {seed}: {TEST} mAP {_cell(t["mAP"], None, 1)}',
          flush=True)
    record_unit(records, name, seed, stored)
    return dict(mAP=t['mAP'], mAP50=t['mAP50'], AP=t['AP'], AP50=t['AP50'],
                init_sha256=stored['init_sha256'],
                config_sha256=stored['train']['config_sha256'],
                start_sha256=stored['train'].get('start_sha256'),
                train_s_per_iter=stored['train'].get('s_per_iter'))


def check_row_config(records: Optional[dict], name: str, seed: int,
                     options: dict) -> None:
    """Refuse to train seed ``seed`` of the joint row ``name`` when a seed
    recorded for that row was made with another config (``options``: the
    new run's).

    Raises:
        ValueError: names the row, the recorded seed and its file.
    """
    for other, path in seed_files(osp.join(records['dir'], name)
                                  ) if records else ():
        recorded = (read_record(path) or {}).get('options', {})
        if other != seed and recorded.get('config_sha256') != \
                options['config_sha256']:
            raise ValueError(
                f'{name} seed {seed}: {options["joint"]} is not the config '
                f'seed {other} was recorded with ({path}: another '
                'config_sha256); the seeds of a row share one config (move '
                'the row\'s records away to start it again)')


def record_rows(table: Dict[str, dict]) -> Dict[str, dict]:
    """The rows of a test table in the record's short form: ``{input:
    {mAP, mAP50, per_class: {class: {AP, AP50}}, seeds, sd: {mAP,
    mAP50}}}`` (absent inputs left out)."""
    rows = {}
    for name, row in table.items():
        if 'absent' in row:
            continue
        rows[name] = dict(
            mAP=row['mAP'], mAP50=row['mAP50'],
            per_class={c: dict(AP=row['AP'][c], AP50=row['AP50'][c])
                       for c in row['AP']},
            seeds=len(row['seeds']),
            sd=dict(mAP=row['mAP_std'], mAP50=row['mAP50_std']))
    return rows


def joint_goal(table: Dict[str, dict], name: str) -> dict:
    """Whether the joint model ``name`` reaches the task-guidance goal on a
    test table: its mean mAP50 at least that of the best other row (every
    input, fixed fusion method and two-step model; other joint models left
    out), by more than the larger of the two seed spreads (population std),
    over at least two seeds."""
    rows = {k: v for k, v in table.items()
            if 'absent' not in v and 'joint' not in v}
    joint = table[name]
    best = max(rows, key=lambda k: rows[k]['mAP50'] if rows[k]['mAP50']
               is not None else -1.0)
    diff = joint['mAP50'] - rows[best]['mAP50']
    spread = max(joint['mAP50_std'] or 0.0, rows[best]['mAP50_std'] or 0.0)
    seeds = min(len(joint['seeds']), len(rows[best]['seeds']))
    return dict(
        criterion=f'{name}\'s mAP50 on the test split is at least that of '
        'the best of the inputs (IR only, VIS only, every fixed fusion '
        'method and two-step model, the same detector), with the difference '
        'larger than the seed spread, over at least two seeds',
        values=dict(joint=joint['mAP50'], joint_sd=joint['mAP50_std'],
                    best=best, best_mAP50=rows[best]['mAP50'],
                    best_sd=rows[best]['mAP50_std'], difference=diff,
                    spread=spread, seeds=seeds,
                    inputs=sorted(rows)),
        reached=bool(seeds >= 2 and diff >= 0 and diff > spread))


# ------------------------------------------------------------------ tables
def _cell(mean: Optional[float], std: Optional[float], n: int) -> str:
    if mean is None:
        return '-'
    return f'{mean:.4f}' + (f' ± {std:.4f}' if n > 1 else '')


def format_table(result: dict, classes: Sequence[str],
                 sets: Dict[str, dict]) -> str:
    """One table per test set: per input mAP, mAP50 and per-class AP /
    AP50 as mean ± population std over the seeds."""
    blocks = []
    for set_name, table in result.items():
        head = ['input', 'seeds', 'mAP', 'mAP50'] + [
            f'{c} {k}' for c in classes for k in ('AP', 'AP50')]
        rows = [head]
        for name, row in table.items():
            if 'absent' in row:
                rows.append([name, '', f'absent: {row["absent"]}'] +
                            [''] * (len(head) - 3))
                continue
            n = len(row['seeds'])
            rows.append(
                [name, str(n), _cell(row['mAP'], row['mAP_std'], n),
                 _cell(row['mAP50'], row['mAP50_std'], n)] +
                [_cell(row[k][c], row[f'{k}_std'][c], n)
                 for c in classes for k in ('AP', 'AP50')])
        info = sets[set_name]
        blocks.append(AsciiTable(
            rows, title=f'{set_name} ({info["images"]} images, '
            f'{info["boxes"]} boxes; bbox AP, mean ± population std over '
            'seeds)').table)
    return '\n'.join(blocks)


# -------------------------------------------------------------------- main
def check_protocol(work_dir: str, protocol: dict) -> None:
    """Write ``<work-dir>/protocol.json``, or check that the one there
    records the same protocol.

    Raises:
        ValueError: the work dir was made with other settings (the
            differing keys named).
    """
    path = osp.join(work_dir, 'protocol.json')
    if osp.isfile(path):
        theirs = read_json(path)
        if theirs != protocol:
            keys = sorted(k for k in set(theirs) | set(protocol)
                          if theirs.get(k) != protocol.get(k))
            raise ValueError(
                f'{work_dir} holds runs of another protocol (differing: '
                + ', '.join(f'{k}: {theirs.get(k)!r} there, '
                            f'{protocol.get(k)!r} here' for k in keys) +
                '); choose another --work-dir or remove it')
        return
    _write_json(protocol, path)


def print_protocol(args: argparse.Namespace, common: Config, cfg_sha: str,
                   sets: Dict[str, dict], work_dir: str) -> None:
    """Say which detector config, initialisation, input size, budget, labels
    and split every input is trained with."""
    train = common.train_dataloader
    scale = [tuple(s['scale']) for s in train.dataset.pipeline
             if str(s.get('type')).endswith('Resize')][0]
    gt = read_json(osp.join(work_dir, sets['train']['json']))
    with_boxes = len({a['image_id'] for a in gt['annotations']})
    iters, batch = common.train_cfg.max_iters, train.batch_size
    print(f'detector: {_config_key(args.det_config)} (config sha256 '
          f'{cfg_sha[:12]}): {describe(common)}')
    print(f'initialisation: one per seed, {work_dir}/init/seed_<S>.pth, '
          'loaded by every input of the seed')
    print(f'input size: {scale[0]}x{scale[1]} (mmdet Resize, keep ratio); '
          f'budget: {iters} iterations x batch {batch} = '
          f'{iters * batch / max(with_boxes, 1):.1f} epochs of the '
          f'{with_boxes} training images with boxes '
          f'({sets["train"]["images"]} in the split); data workers '
          f'{train.get("num_workers", 0)}; seeds {list(args.seeds)}')
    print(f'labels: {args.labels}; train / test: {sets["train"]["images"]} '
          f'/ {sets[TEST]["images"]} pairs of {args.data} (split '
          f'{args.split_dir}); extra test sets: '
          f'{[s for s in sets if s not in ("train", TEST)] or "none"}',
          flush=True)


def run(args: argparse.Namespace) -> dict:
    """Run (or resume) the protocol; print and write the tables; return the
    RESULT dict."""
    from mmengine.registry import init_default_scope
    for path in (args.out, args.results_json):
        if path:
            # e.g. --out inside the work dir, made below
            os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
            check_record_path(path)
    if args.threads:
        torch.set_num_threads(args.threads)
    init_default_scope('mmfusenas')
    work_dir = osp.abspath(args.work_dir)
    with tempfile.TemporaryDirectory(prefix='task_protocol_') as tmp:
        methods = plan_methods(args, tmp)
        os.makedirs(work_dir, exist_ok=True)
        classes, datas, sets = prepare_labels(args, work_dir)
        common = protocol_config(args, classes, sets, work_dir)
        cfg_sha = config_sha256(common, work_dir)
        train = common.train_dataloader
        protocol = dict(
            det_config=_config_key(args.det_config), config_sha256=cfg_sha,
            labels=args.labels, classes=list(classes),
            train_labels_sha256=sets['train']['sha256'],
            test_labels_sha256=sets[TEST]['sha256'],
            max_iters=int(common.train_cfg.max_iters),
            batch_size=int(train.batch_size),
            img_scale=[list(s['scale']) for s in train.dataset.pipeline
                       if str(s.get('type')).endswith('Resize')][0],
            workers=int(train.get('num_workers', 0)))
        check_protocol(work_dir, protocol)
        print_protocol(args, common, cfg_sha, sets, work_dir)
        inits = {s: initial_weights(common, work_dir, s) for s in args.seeds}
        records = None if not args.records else dict(
            dir=args.records, protocol=protocol, commit=git_commit(ROOT),
            command='python tools/analysis_tools/task_protocol.py ' +
            ' '.join(shlex.quote(a) for a in args.argv))
        test_sets = [s for s in sets if s != 'train']
        result: Dict[str, dict] = OrderedDict((s, OrderedDict())
                                              for s in test_sets)
        for method in methods:
            name = method_name(method)
            if getattr(method, 'absent', None):
                print(f'{name}: absent ({method.absent})')
                for s in test_sets:
                    result[s][name] = {'absent': method.absent}
                continue
            identity = method_identity(method, args)
            folders = {d: make_images(method, identity, data, work_dir)
                       for d, data in datas.items()}
            hashes = {s: data_sha256(datas[v['data']], v,
                                     method_sources(method))
                      for s, v in sets.items()}
            per_set: Dict[str, Dict[int, dict]] = {s: {} for s in test_sets}
            for seed in args.seeds:
                scores = run_one(name, identity, seed, common, work_dir,
                                 folders, sets, classes, inits[seed],
                                 protocol, hashes, records)
                for s in test_sets:
                    per_set[s][seed] = scores[s]
            for s in test_sets:
                row = aggregate(per_set[s], classes)
                row['images'] = sets[s]['images']
                row['config_sha256'] = cfg_sha
                result[s][name] = row
        hashes = {s: data_sha256(datas[v['data']], v, SOURCES)
                  for s, v in sets.items()}
        for name, config in args.joint:
            per_seed = {seed: joint_run(name, config, seed, args, common,
                                        work_dir, sets, classes, inits[seed],
                                        protocol, hashes, records)
                        for seed in args.seeds}
            for s in test_sets:
                if s != TEST:
                    result[s][name] = {'absent': 'a joint model is tested on '
                                       'the split\'s test set only'}
                    continue
                row = aggregate(per_seed, classes)
                row['images'] = sets[s]['images']
                row['joint'] = _config_key(config)
                row['neck'] = str(Config.fromfile(config).model.detector.get(
                    'neck', {}).get('type'))
                result[s][name] = row
    print(format_table(result, classes, sets))
    doc = dict(protocol=dict(protocol, seeds=list(args.seeds),
                             data=osp.abspath(args.data),
                             split_dir=args.split_dir,
                             sets={k: {x: v[x] for x in ('images', 'boxes')}
                                   for k, v in sets.items()}),
               result=result)
    if args.joint:
        doc['goal'] = {name: joint_goal(result[TEST], name)
                       for name, _ in args.joint}
        for name, goal in doc['goal'].items():
            state = 'reached' if goal['reached'] else 'not reached'
            print(f'goal of {name}: {state} ({goal["values"]})')
    if args.out:
        atomic_write(json.dumps(doc, indent=2), args.out)
        print(f'results written to {args.out}')
    if args.results_json:
        write_results_record(
            args.results_json,
            'python tools/analysis_tools/task_protocol.py ' +
            ' '.join(shlex.quote(a) for a in args.argv),
            ROOT, result, threads=args.threads, protocol=doc['protocol'],
            rows=record_rows(result[TEST]), row_label='input',
            metrics=['mAP', 'mAP_std', 'mAP50', 'mAP50_std'],
            count='images', decimals=4, **(
                {'goal': doc['goal']} if args.joint else {}))
        print(f'results record written to {args.results_json}')
    print('RESULT ' + json.dumps(dict(result, goal=doc['goal'])
                                 if args.joint else result))
    return result


def read_result(path: str, options: dict) -> Optional[dict]:
    """The stored ``result.json`` of a run if it records ``options``; None
    when there is none.

    Raises:
        ValueError: it is damaged, or records other training data
            (``data_sha256``: the run folder named, to be removed) or other
            options.
    """
    stored = read_stored_run(path, options, missing_ok_on_mismatch=True)
    if stored is None and osp.isfile(path):
        theirs = read_json(path).get('options') or {}
        if theirs.get('data_sha256') != options['data_sha256']:
            run_dir = osp.dirname(path)
            raise ValueError(
                f'{run_dir} was trained on other training data (source '
                'images or labels of the split changed since: data sha256 '
                f'{str(theirs.get("data_sha256"))[:12]} there, '
                f'{options["data_sha256"][:12]} now); remove {run_dir} to '
                'train it again')
        read_stored_run(path, options)  # raises, naming the options
    return stored


def _test_done(stored: dict, set_name: str, data_sha: str, name: str,
               seed: int) -> bool:
    """Whether ``stored`` holds a test of ``set_name`` made on the set's
    current images and labels (``data_sha``); says so when they changed."""
    test = stored['tests'].get(set_name)
    if test is not None and test.get('data_sha256') != data_sha:
        print(f'{name} seed {seed}: the images or labels of {set_name} '
              'changed since it was tested; testing again', flush=True)
        return False
    return test is not None


def run_one(name: str, identity: dict, seed: int, common: Config,
            work_dir: str, folders: Dict[str, str], sets: Dict[str, dict],
            classes: Sequence[str], init: Tuple[str, str],
            protocol: dict, hashes: Dict[str, str],
            records: Optional[dict] = None) -> Dict[str, dict]:
    """Train (or resume) and test one (input, seed) on every test set of
    ``sets``; returns the scores per test set with the run's hashes.
    With ``records`` (``dir``, ``protocol``, ``command``, ``commit``) a run
    the work dir lacks is taken from its unit record when that was made
    with the same options (:func:`from_record`), and the finished run is
    recorded there.

    ``result.json`` of the run (written atomically after the training and
    after each test set) records what is done and the options it was run
    with (input, its image identity, seed, config and label hashes, initial
    weights, ``data_sha256`` of the training set: :func:`data_sha256`); a
    stored result of other options is refused. Each test records the
    ``data_sha256`` of its set and is made again when that changed.

    Raises:
        ValueError: the stored result records other options or training
            data.
        RuntimeError: the run's config hash differs from the protocol's.
    """
    run_dir = osp.join(work_dir, 'runs', name, f'seed_{seed}')
    path = osp.join(run_dir, 'result.json')
    cfg_sha, max_iters = protocol['config_sha256'], protocol['max_iters']
    options = dict(method=name, seed=seed, identity=identity,
                   config_sha256=cfg_sha, init_sha256=init[1],
                   train_labels_sha256=protocol['train_labels_sha256'],
                   data_sha256=hashes['train'])
    stored = from_record(read_result(path, options), records, name, seed,
                         options, path)
    stored = untestable(stored, [s for s in sets if s != 'train'], hashes,
                        run_dir, name, seed) or dict(
        options=options, method=name, seed=seed, init_sha256=init[1],
        train=None, tests={})
    if stored.get('train') is None:
        print(f'{name} seed {seed}: training {max_iters} iterations',
              flush=True)
        took = train_run(common, work_dir, folders[sets['train']['data']],
                         seed, run_dir, init[0], max_iters)
        if took['config_sha256'] != cfg_sha:
            raise RuntimeError(
                f'{name} seed {seed}: the run\'s config hash '
                f'{took["config_sha256"]} differs from the protocol\'s '
                f'{cfg_sha}')
        stored['train'] = took
        _write_json(stored, path)
        if took['seconds'] is not None:
            print(f'{name} seed {seed}: trained in {took["seconds"]:.1f} s '
                  f'({took["s_per_iter"]:.3f} s / iteration)', flush=True)
    else:
        print(f'{name} seed {seed}: training done earlier', flush=True)
    checkpoint = osp.join(run_dir, stored['train']['checkpoint'])
    out = {}
    for s in sets:
        if s == 'train':
            continue
        if not _test_done(stored, s, hashes[s], name, seed):
            stored['tests'][s] = dict(evaluate_run(
                common, work_dir, folders[sets[s]['data']], seed, run_dir,
                checkpoint, sets[s], s, classes), data_sha256=hashes[s])
            _write_json(stored, path)
        t = stored['tests'][s]
        out[s] = dict(mAP=t['mAP'], mAP50=t['mAP50'], AP=t['AP'],
                      AP50=t['AP50'], init_sha256=stored['init_sha256'],
                      config_sha256=stored['train']['config_sha256'],
                      start_sha256=stored['train'].get('start_sha256'),
                      train_s_per_iter=stored['train'].get('s_per_iter'))
    print(f'{name} seed {seed}: ' + ', '.join(
        f'{s} mAP {_cell(v["mAP"], None, 1)}' for s, v in out.items()),
        flush=True)
    record_unit(records, name, seed, stored)
    return out


def from_record(stored: Optional[dict], records: Optional[dict], name: str,
                seed: int, options: dict, path: str) -> Optional[dict]:
    """``stored`` (the work dir's run) if there is one; else the unit's
    record in ``records['dir']`` if it was made with ``options`` (written
    to ``path`` as the run's ``result.json``, without its checkpoint); else
    None (a record of other options is named with the changed keys).

    Raises:
        ValueError: the record is damaged (named).
    """
    if stored is not None or not records:
        return stored
    rec_path = record_path(records['dir'], name, seed)
    record = matching_record(rec_path, options, f'{name} seed {seed}')
    if record is None:
        return None
    stored = dict(options=record['options'], method=name, seed=seed,
                  init_sha256=options['init_sha256'], train=record['train'],
                  tests=record['tests'])
    os.makedirs(osp.dirname(path), exist_ok=True)
    _write_json(stored, path)
    print(f'{name} seed {seed}: taken from the record {rec_path} (no '
          'training)', flush=True)
    return stored


def untestable(stored: Optional[dict], test_sets: Sequence[str],
               hashes: Dict[str, str], run_dir: str, name: str,
               seed: int) -> Optional[dict]:
    """``stored``, or None when a test set still has to be tested and
    the trained checkpoint is not in ``run_dir`` (a run taken from its
    record): it is then trained again."""
    if stored is None or stored.get('train') is None:
        return stored
    # not tested, or tested on other images / labels (said once, when
    # the test loop meets it)
    todo = [s for s in test_sets if (stored['tests'].get(s) or {}).get(
        'data_sha256') != hashes[s]]
    checkpoint = stored['train'].get('checkpoint')
    if todo and not (checkpoint and osp.isfile(osp.join(run_dir,
                                                        checkpoint))):
        print(f'{name} seed {seed}: {todo} to test and the trained '
              'checkpoint is not here (a unit taken from its record); '
              'training again', flush=True)
        return None
    return stored


def record_unit(records: Optional[dict], name: str, seed: int,
                stored: dict) -> None:
    """Write the finished run ``stored`` as its unit record (when it
    changed)."""
    if records and write_record(record_path(records['dir'], name, seed),
                                stored, records['protocol'],
                                records['command'], records['commit']):
        print(f'{name} seed {seed}: recorded in '
              f'{record_path(records["dir"], name, seed)}', flush=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except (FileNotFoundError, ValueError, OSError, KeyError,
            pickle.UnpicklingError) as err:
        msg = err.args[0] if isinstance(err, KeyError) and err.args else \
            str(err)
        print(f'error: {msg}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
