"""Touches: every interaction with a customer (calls, e-mails, meetings, notes, gifts…)."""
