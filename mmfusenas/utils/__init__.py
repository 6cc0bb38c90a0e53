"""Utilities shared by every layer. Import each name from its module
(``mmfusenas.utils.checkpoint``, ``.fileio``, ...): this package re-exports
only ``register_all_modules``, so importing one light module (``config``,
``fileio``) imports no torch."""
from .setup_env import register_all_modules

__all__ = ['register_all_modules']
