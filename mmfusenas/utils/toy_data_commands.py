"""The commands that write the toy data sets, by their folder.

One home for them: the dataset errors (:func:`mmfusenas.datasets.
paired_image_dataset.data_hint`) and the start-up data check of the tools
(:func:`mmfusenas.utils.data_folders.check_data_folders`) name the command
for a missing toy folder, and only for a toy folder.
"""
from typing import Optional

#: The toy data sets by the folder they are written to (under ``data/``):
#: the command that writes each (``{root}``: the folder as the config
#: names it), as given in the toy configs and docs/user_guides/toy_data.md.
TOY_DATA_COMMANDS = {
    'toy': 'python tools/misc/make_toy_data.py {root} --num 300 --seed 0',
    'toy_night': 'python tools/misc/make_toy_data.py {root} --num 300 '
    '--seed 0 --night-fraction 1.0 --night-darkness 4',
    'toy_multispectral': 'python tools/misc/make_toy_data.py {root} '
    '--layout multispectral --num 300 --seed 0',
    'toy_lowlight': 'python tools/misc/make_toy_lowlight.py {root}',
    'toy_exdark': 'python tools/misc/make_toy_lowlight_tasks.py {root} '
    '--task exdark',
    'toy_darkface': 'python tools/misc/make_toy_lowlight_tasks.py {root} '
    '--task darkface',
    'toy_acdc': 'python tools/misc/make_toy_lowlight_tasks.py {root} '
    '--task acdc',
    'toy_deblur': 'python tools/misc/make_toy_deblur.py {root}',
    'toy_restoration': 'python tools/misc/make_toy_deblur.py {root} '
    '--derain-dehaze',
    'toy_haze': 'python tools/misc/make_toy_restoration.py haze {root}',
    'toy_underwater': 'python tools/misc/make_toy_restoration.py underwater '
    '{root}',
    'toy_rgbd': 'python tools/misc/make_toy_rgbd.py {root}',
}


def toy_data_command(path: str) -> Optional[str]:
    """The command that writes the toy data set ``path`` lies in.

    A path lies in a toy data set when one of its folders is named like a
    key of :data:`TOY_DATA_COMMANDS` and sits directly under a ``data``
    folder (``data/toy/splits/train.txt``, ``../data/toy_lowlight/val``).

    Returns:
        str | None: the command with the toy folder as ``path`` names it;
        None for any other path (real data sets, folders of your own).
    """
    parts = str(path).replace('\\', '/').split('/')
    for i, part in enumerate(parts[1:], 1):
        if part in TOY_DATA_COMMANDS and parts[i - 1] == 'data':
            return TOY_DATA_COMMANDS[part].format(root='/'.join(parts[:i + 1]))
    return None
