"""Install MMFuseNAS (``pip install -e .``).

torch and mmcv are deliberately not installed through ``install_requires``:
an unpinned ``torch`` would let pip pull a multi-GB CUDA build, and mmcv with
compiled ops must be built against the torch already present. ``tools/install.sh``
installs them in the right order; see README.md.
"""
import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_version_file() -> dict:
    """The names ``mmfusenas/version.py`` defines (without importing the
    package, whose dependencies may not be installed yet)."""
    scope: dict = {}
    with open(osp.join(HERE, 'mmfusenas', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope


def get_version() -> str:
    return read_version_file()['__version__']


def python_requires() -> str:
    """``'>=3.10'``: the floor ``mmfusenas.version.PYTHON_MIN``."""
    return '>=' + '.'.join(map(str, read_version_file()['PYTHON_MIN']))


# the Python releases the classifiers name: the floor up to the tested 3.11
PYTHON_CLASSIFIERS = ['3.10', '3.11']


def parse_requirements(fname: str) -> list:
    """Read a requirements file, following ``-r`` includes."""
    reqs = []
    with open(osp.join(HERE, fname)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            if line.startswith('-r '):
                reqs += parse_requirements(
                    osp.join(osp.dirname(fname), line[3:].strip()))
            else:
                reqs.append(line)
    return reqs


def without(reqs: list, *names: str) -> list:
    return [r for r in reqs if not any(r.startswith(n) for n in names)]


if __name__ == '__main__':
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        long_description = f.read()
    setup(
        name='mmfusenas',
        version=get_version(),
        description='OpenMMLab-style toolbox for task-guided, '
        'architecture-searched multi-modality image fusion, low-light '
        'enhancement and guided super-resolution',
        long_description=long_description,
        long_description_content_type='text/markdown',
        packages=find_packages(exclude=('configs', 'tools', 'tests',
                                        'benchmarks', 'docs', 'projects')),
        include_package_data=True,
        # configs ship as mmfusenas/.mim/configs (a link to configs/ in a
        # checkout; wheels get copies), for `_base_ = 'mmfusenas::tim/x.py'`
        # imports; the genotype files the configs rebuild their searched
        # parts from (configs/*/genotypes/*.yaml) ship with them, and so do
        # the mim model index and its metafiles (MMEngine reads the index
        # to resolve 'mmfusenas::' names)
        package_data={
            'mmfusenas': [
                '.mim/configs/**/*.py', '.mim/configs/**/*.yaml',
                '.mim/configs/**/*.yml', '.mim/model-index.yml'
            ]
        },
        python_requires=python_requires(),
        classifiers=[
            'Development Status :: 3 - Alpha',
            'License :: OSI Approved :: Apache Software License',
            'Operating System :: OS Independent',
            'Programming Language :: Python :: 3',
            'Programming Language :: Python :: 3 :: Only',
        ] + [f'Programming Language :: Python :: {v}'
             for v in PYTHON_CLASSIFIERS] + [
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
            'Topic :: Scientific/Engineering :: Image Processing',
        ],
        license='Apache License 2.0',
        license_files=['LICENSE'],
        install_requires=without(
            parse_requirements('requirements/runtime.txt'), 'mmcv'),
        extras_require={
            'tests': parse_requirements('requirements/tests.txt'),
            'optional': parse_requirements('requirements/optional.txt'),
        },
        zip_safe=False)
