from tests.outreach.smtp import smtp_server
from tests.web.conftest import shop, web  # the web tests' demo shop and signed-in admin

__all__ = ["shop", "smtp_server", "web"]
