"""Desk settings an admin can change without a restart, and the desk's own secrets."""
