"""Orders: what each customer bought, when, for how much."""
