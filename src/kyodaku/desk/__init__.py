"""The rights holders' desk: accounts and roles, claims with evidence and deadlines,
inquiries answered from the scan records, notifications.  :class:`DeskService` is the
one entry point (the web service, the API and the CLI call it)."""

from kyodaku.desk.auth import Actor, Forbidden
from kyodaku.desk.lifecycle import DeadlinePolicy, InvalidTransition
from kyodaku.desk.service import DeskService

__all__ = ["Actor", "DeadlinePolicy", "DeskService", "Forbidden", "InvalidTransition"]
