"""The web application: the JSON API under /api/ (and, later, the pages)."""
