"""Every table, gathered so migrations and tests see the whole schema."""

from keepwell.accounts.models import (
    ApiToken,
    AuditEntry,
    SignInThrottle,
    TeamMember,
    WebSession,
)
from keepwell.cases.models import Case
from keepwell.customers.models import Cadence, Customer, OwnerChange, SpecialDate
from keepwell.feedback.models import (
    Feedback,
    FeedbackAction,
    FeedbackActionLink,
    SurveyInvitation,
)
from keepwell.ingest.models import ImportRun
from keepwell.loyalty.models import LoyaltyStatus, TierChange
from keepwell.orders.models import Order
from keepwell.outreach.models import CalendarFeed, Message, Resource
from keepwell.playbooks.models import JobRun, Playbook, PlaybookRun
from keepwell.promises.models import Promise, PromiseUpdate
from keepwell.referrals.models import Referral, ReferralCode, ReferralReward
from keepwell.reviews.models import AccountReview, Goal, ReviewAnswer, ReviewQuestion
from keepwell.scoring.models import Score
from keepwell.settings.models import DeskSecret, Setting
from keepwell.tables import Base
from keepwell.tasks.models import Task
from keepwell.touches.models import Touch

metadata = Base.metadata

__all__ = [
    "AccountReview",
    "ApiToken",
    "AuditEntry",
    "Cadence",
    "CalendarFeed",
    "Case",
    "Customer",
    "DeskSecret",
    "Feedback",
    "FeedbackAction",
    "FeedbackActionLink",
    "Goal",
    "ImportRun",
    "JobRun",
    "LoyaltyStatus",
    "Message",
    "Order",
    "OwnerChange",
    "Playbook",
    "PlaybookRun",
    "Promise",
    "PromiseUpdate",
    "Referral",
    "ReferralCode",
    "ReferralReward",
    "Resource",
    "ReviewAnswer",
    "ReviewQuestion",
    "Score",
    "Setting",
    "SignInThrottle",
    "SpecialDate",
    "SurveyInvitation",
    "Task",
    "TeamMember",
    "TierChange",
    "Touch",
    "WebSession",
    "metadata",
]
