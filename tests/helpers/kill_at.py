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


def _moments() -> dict:
    """``{moment: (owner, attribute, when)}``: a call of ``owner.attribute``
    reaches the moment when ``when`` holds for its arguments."""
    from mmengine.optim import OptimWrapper
    from mmengine.runner import ValLoop

    def always(*args, **kwargs) -> bool:
        return True

    def writing(file, mode='r', *args, **kwargs) -> bool:
        return str(file).endswith('last_checkpoint') and 'w' in mode

    def renamed_to(suffix: str):
        return lambda src, dst, *args, **kwargs: str(dst).endswith(suffix)

    return dict(
        step=(OptimWrapper, 'update_params', always),
        checkpoint=(os, 'replace', renamed_to('.pth')),
        image=(os, 'replace', renamed_to('.png')),
        last_checkpoint=(builtins, 'open', writing),
        rotation=(os, 'remove',
                  lambda path, *args, **kwargs: str(path).endswith('.pth')),
        val=(ValLoop, 'run_iter', always))


def main() -> None:
    moment, count = sys.argv[1], int(sys.argv[2])
    assert sys.argv[3] == '--'
    train_args = sys.argv[4:]
    moments = _moments()
    if moment not in moments:
        raise SystemExit(f'unknown moment {moment!r}')
    owner, attribute, when = moments[moment]
    original, seen = getattr(owner, attribute), [0]

    def killing(*args, **kwargs):
        if when(*args, **kwargs):
            seen[0] += 1
            if seen[0] == count:
                sys.stdout.flush()
                os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)

    setattr(owner, attribute, killing)

    sys.path.insert(0, osp.join(REPO, 'tools'))
    sys.argv = [osp.join(REPO, 'tools', 'train.py')] + train_args
    import runpy
    runpy.run_path(sys.argv[0], run_name='__main__')


if __name__ == '__main__':
    main()
