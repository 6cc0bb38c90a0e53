"""Prepare what a lent GPU machine needs for the task protocol's units.

Copies the GPU kit (``../shared/device``) to ``.device_kit/`` and, to
``.device_data/``, the pairs of the MSRS_det split the protocol reads (its
train and test stems: ``ir/``, ``vi/``, every label set, ``classes.txt``)
and the official fusion weights the units name, byte for byte (the units'
``data_sha256`` equal the CPU's); both folders are listed in
``.git/info/exclude``. What travels to the machine is at most 64 MiB::

    python tools/misc/device_carry.py
    # then on the machine (carry .device_kit and .device_data):
    #   source .device_kit/gpu_stack.sh &&
    #   python tools/analysis_tools/task_units.py QUEUE --records DIR ... \\
    #     -- --data .device_data/MSRS_det --weights-root .device_data/weights
"""
import argparse
import os
import os.path as osp
import shutil
import subprocess

SHARED = osp.join('..', 'shared')
LIMIT_MB = 64.0


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--kit', default=osp.join(SHARED, 'device'),
                        help='the GPU kit (default ../shared/device)')
    parser.add_argument(
        '--data', default=osp.join(SHARED, 'data', 'detection', 'MSRS_det'),
        help='MSRS_det (default ../shared/data/detection/MSRS_det)')
    parser.add_argument(
        '--split-dir',
        default=osp.join('configs', '_base_', 'datasets', 'splits',
                         'msrs_det'),
        help="the protocol's split (train.txt, test.txt)")
    parser.add_argument(
        '--weights', nargs='*',
        default=[osp.join(SHARED, 'checkpoints', 'fusion_baselines',
                          'seafusion.pth')],
        help='official weight files (default: SeAFusion\'s)')
    parser.add_argument('--out', default='.', help='repository root')
    return parser.parse_args(argv)


def _copy(src: str, dst: str) -> None:
    os.makedirs(osp.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)


def _size_mb(folder: str) -> float:
    return sum(osp.getsize(osp.join(d, f)) for d, _, files in os.walk(folder)
               for f in files) / 2**20


def prepare(args: argparse.Namespace) -> dict:
    """Write both folders; their sizes in MiB."""
    from mmfusenas.datasets.paired_coco import read_split
    kit, data = osp.join(args.out, '.device_kit'), osp.join(
        args.out, '.device_data')
    for folder in (kit, data):
        shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(args.kit, kit)
    stems = {s for name in ('train.txt', 'test.txt')
             for s in read_split(osp.join(args.split_dir, name))}
    out = osp.join(data, 'MSRS_det')
    _copy(osp.join(args.data, 'classes.txt'), osp.join(out, 'classes.txt'))
    for root, _, files in os.walk(args.data):
        for name in files:
            if osp.splitext(name)[0] in stems:
                path = osp.join(root, name)
                _copy(path, osp.join(out, osp.relpath(path, args.data)))
    ir_dir = osp.join(out, 'ir')
    found = {osp.splitext(f)[0] for f in os.listdir(ir_dir)} \
        if osp.isdir(ir_dir) else set()
    if missing := sorted(stems - found):
        raise FileNotFoundError(f'{args.data}/ir lacks {len(missing)} stems '
                                f'of {args.split_dir}: {missing[:5]}')
    for path in args.weights:
        _copy(path, osp.join(data, 'weights', osp.basename(path)))
    sizes = {'.device_kit': _size_mb(kit), '.device_data': _size_mb(data)}
    if sum(sizes.values()) > LIMIT_MB:
        raise ValueError(f'{sizes} MiB: more than the {LIMIT_MB} MiB that '
                         'travel to the machine')
    git_dir = subprocess.run(['git', 'rev-parse', '--git-dir'], cwd=args.out,
                             capture_output=True, text=True).stdout.strip()
    if git_dir:
        exclude = osp.join(args.out, git_dir, 'info', 'exclude')
        os.makedirs(osp.dirname(exclude), exist_ok=True)
        lines = []
        if osp.isfile(exclude):
            with open(exclude, encoding='utf-8') as f:
                lines = f.read().split()
        with open(exclude, 'a', encoding='utf-8') as f:
            f.writelines(f'{p}\n' for p in ('/.device_kit/', '/.device_data/')
                         if p not in lines)
    return sizes


def main(argv=None) -> None:
    sizes = prepare(parse_args(argv))
    print(', '.join(f'{k} {v:.1f} MiB' for k, v in sizes.items()) +
          f' (with the repository at most {LIMIT_MB:.0f} MiB travel)')


if __name__ == '__main__':
    main()
