"""Loyalty points and tiers from purchases."""
