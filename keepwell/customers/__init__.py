"""Customers: who they are, who looks after them, what is worth remembering."""
