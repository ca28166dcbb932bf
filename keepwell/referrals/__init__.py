"""Referral codes, who referred whom, and their rewards."""
