"""Utilities shared by every layer; import names from their module (only
``register_all_modules`` is re-exported, so ``config`` imports no torch)."""
from .setup_env import register_all_modules

__all__ = ['register_all_modules']
