from .cells import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .fusion import *  # noqa: F401,F403
from .fusors import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .ops import *  # noqa: F401,F403
from .mutables import *  # noqa: F401,F403
