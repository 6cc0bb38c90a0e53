"""The commands that write the toy data sets, by their folder, named by the
dataset errors and the tools' start-up data check for a missing toy
folder."""
from typing import Optional

#: ``{folder under data/: command}`` (``{root}``: the folder as named)
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
    """The command that writes the toy data set ``path`` lies in (a folder
    named like a key of :data:`TOY_DATA_COMMANDS` directly under a ``data``
    folder), else None."""
    parts = str(path).replace('\\', '/').split('/')
    for i, part in enumerate(parts[1:], 1):
        if part in TOY_DATA_COMMANDS and parts[i - 1] == 'data':
            return TOY_DATA_COMMANDS[part].format(root='/'.join(parts[:i + 1]))
    return None
