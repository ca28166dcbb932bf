"""Promises: what we said we would do for a customer, by when, and whether we did."""
