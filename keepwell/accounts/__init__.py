"""Team members (and, with the API, sign-in, tokens and the audit trail)."""
