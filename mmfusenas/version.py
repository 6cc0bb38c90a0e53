"""Version of MMFuseNAS."""

__version__ = '0.1.0'


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
