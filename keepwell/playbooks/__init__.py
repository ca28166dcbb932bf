"""Playbooks: declarative follow-up rules (trigger, condition, action) run every day."""
