"""Helpers the models share: colour spaces, sub-network loading, BN folding."""
