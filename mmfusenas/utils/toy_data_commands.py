"""The commands that write the toy data sets, named by the dataset errors
and the tools' start-up check for a missing toy folder."""
from typing import Optional

#: ``{folder under data/: arguments of python tools/misc/make_toy_*.py}``
#: (``{root}``: the folder as named)
TOY_DATA_COMMANDS = {
    'toy': 'make_toy_data.py {root} --num 300 --seed 0',
    'toy_night': 'make_toy_data.py {root} --num 300 --seed 0 '
    '--night-fraction 1.0 --night-darkness 4',
    'toy_multispectral': 'make_toy_data.py {root} --layout multispectral '
    '--num 300 --seed 0',
    'toy_lowlight': 'make_toy_lowlight.py {root}',
    'toy_exdark': 'make_toy_lowlight_tasks.py {root} --task exdark',
    'toy_darkface': 'make_toy_lowlight_tasks.py {root} --task darkface',
    'toy_acdc': 'make_toy_lowlight_tasks.py {root} --task acdc',
    'toy_deblur': 'make_toy_deblur.py {root}',
    'toy_restoration': 'make_toy_deblur.py {root} --derain-dehaze',
    'toy_haze': 'make_toy_restoration.py haze {root}',
    'toy_underwater': 'make_toy_restoration.py underwater {root}',
    'toy_rgbd': 'make_toy_rgbd.py {root}',
}


def toy_data_command(path: str) -> Optional[str]:
    """The command that writes the toy data set ``path`` lies in (a folder
    of :data:`TOY_DATA_COMMANDS` directly under a ``data`` folder)."""
    parts = str(path).replace('\\', '/').split('/')
    for i, part in enumerate(parts[1:], 1):
        if part in TOY_DATA_COMMANDS and parts[i - 1] == 'data':
            return 'python tools/misc/' + TOY_DATA_COMMANDS[part].format(
                root='/'.join(parts[:i + 1]))
    return None
