"""Outreach: e-mail through an outbox (budget, consent, quiet hours), personal touches the
desk drafts for a person to send, and each member's calendar feed."""
