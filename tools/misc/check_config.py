"""Check a config before training: ``python tools/misc/check_config.py
CONFIG [--cfg-options ...]``.

Opt-in lint of what MMEngine would report only when it builds the part, or
not at all: top-level keys close to a runner key (``trian_cfg``), keys the
loops, hooks, schedulers and ``optim_wrapper`` do not take, and ``type``
names that no registry holds, each with its closest names. Training does
not run these checks (``tools/train.py`` checks the command line only).
"""
import argparse

from mmfusenas.utils.config import (add_runner_args, check_config_keys,
                                    check_config_types, load_runner_config)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Check a MMFuseNAS config')
    parser.add_argument('config', help='config file path')
    add_runner_args(parser)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_runner_config(args)
    check_config_keys(cfg, tuple(
        k[:-len('.type')] for k in args.cfg_options or {}
        if k.endswith('.type')))
    check_config_types(cfg)
    print(f'{args.config}: keys and types check out')


if __name__ == '__main__':
    main()
