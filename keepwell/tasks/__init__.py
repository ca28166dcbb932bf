"""Tasks: the unit of the agenda — who should do what for which customer, and why now."""
