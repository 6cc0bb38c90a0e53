"""Run ``tools/train.py`` and SIGKILL the process at a named moment.

``python tests/helpers/kill_at.py MOMENT N -- <train.py arguments>`` kills
the run the ``N``-th time (1-based) it reaches ``MOMENT``:

- ``step``: before an optimizer update;
- ``checkpoint``: a checkpoint is fully written to its temporary file but
  not yet renamed into place;
- ``last_checkpoint``: ``last_checkpoint`` is opened for writing, after the
  checkpoint it names was saved;
- ``rotation``: an old checkpoint is about to be removed
  (``max_keep_ckpts``);
- ``val``: a validation batch is about to run;
- ``image``: a fused validation image is about to be renamed into place.

Nothing is caught: the process dies as under ``kill -9``.
"""
import builtins
import os
import os.path as osp
import signal
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def main() -> None:
    moment, count = sys.argv[1], int(sys.argv[2])
    assert sys.argv[3] == '--'
    train_args = sys.argv[4:]
    seen = [0]

    def reached() -> None:
        seen[0] += 1
        if seen[0] == count:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    if moment == 'step':
        from mmengine.optim import OptimWrapper
        update = OptimWrapper.update_params

        def update_params(self, *args, **kwargs):
            reached()
            return update(self, *args, **kwargs)

        OptimWrapper.update_params = update_params
    elif moment in ('checkpoint', 'image'):
        replace, suffix = os.replace, ('.pth'
                                       if moment == 'checkpoint' else '.png')

        def killing_replace(src, dst, *args, **kwargs):
            if str(dst).endswith(suffix):
                reached()
            return replace(src, dst, *args, **kwargs)

        os.replace = killing_replace
    elif moment == 'last_checkpoint':
        opener = builtins.open

        def killing_open(file, mode='r', *args, **kwargs):
            if str(file).endswith('last_checkpoint') and 'w' in mode:
                reached()
            return opener(file, mode, *args, **kwargs)

        builtins.open = killing_open
    elif moment == 'rotation':
        remove = os.remove

        def killing_remove(path, *args, **kwargs):
            if str(path).endswith('.pth'):
                reached()
            return remove(path, *args, **kwargs)

        os.remove = killing_remove
    elif moment == 'val':
        from mmengine.runner import ValLoop
        run_iter = ValLoop.run_iter

        def killing_run_iter(self, *args, **kwargs):
            reached()
            return run_iter(self, *args, **kwargs)

        ValLoop.run_iter = killing_run_iter
    else:
        raise SystemExit(f'unknown moment {moment!r}')

    sys.path.insert(0, osp.join(REPO, 'tools'))
    sys.argv = [osp.join(REPO, 'tools', 'train.py')] + train_args
    import runpy
    runpy.run_path(sys.argv[0], run_name='__main__')


if __name__ == '__main__':
    main()
