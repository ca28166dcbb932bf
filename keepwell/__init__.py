"""Keepwell: a self-hosted customer-retention desk."""

__version__ = "0.1.0"
