"""Agreed goals and periodic account reviews."""
