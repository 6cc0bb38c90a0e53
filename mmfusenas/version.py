"""Version of MMFuseNAS."""

__version__ = '0.1.0'

# The lowest Python MMFuseNAS runs on: the floor of the tested torch 2.13
# (``Requires-Python: >=3.10``); the code may use PEP 604 unions
# (``dict | None``) and ``zip(strict=...)``, which need 3.10.
# ``setup.py`` (``python_requires``), README's support table and the
# import-time check in ``mmfusenas/__init__.py`` read it;
# tests/test_python_floor.py parses every module under this grammar.
PYTHON_MIN = (3, 10)


def parse_version_info(version_str: str) -> tuple:
    """Parse ``'1.2.3'`` (or ``'1.2.3rc1'``) into ``(1, 2, 3, 'rc1')``."""
    info = []
    for part in version_str.split('.'):
        if part.isdigit():
            info.append(int(part))
        else:
            digits = ''.join(c for c in part if c.isdigit())
            rest = part[len(digits):]
            info.extend([int(digits) if digits else 0, rest])
    return tuple(info)


version_info = parse_version_info(__version__)
