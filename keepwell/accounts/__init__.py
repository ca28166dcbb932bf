"""Team members, sign-in, API tokens, browser sessions and the audit trail."""

# The audit trail records changes through a session hook: importing anything of this
# package (every service does, for TeamMember) registers it.
from keepwell.accounts import audit as audit
