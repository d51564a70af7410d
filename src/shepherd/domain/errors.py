"""The one error vocabulary: what adapters raise and services and the job runner act on.

How a job ends follows from the type: `RetryLater` (and `RateLimited`) waits exactly the given
time, `Transient` backs off, `PermanentFailure` is dead at once; see `services/jobs.py`.
"""

from shepherd.domain.jobs import PermanentFailure, RetryLater, Transient


class RateLimited(RetryLater, Transient):
    """A destination said slow down (HTTP 429, Slack's `ratelimited`): wait `retry_after` seconds.

    It is a `RetryLater` (and a `Transient`), so a job that meets it waits exactly that long
    without any code of its own; a caller that can do better (skip, batch) may still catch it.
    """

    def __init__(self, retry_after: float, *, destination: str, message: str = "") -> None:
        super().__init__(retry_after, message or f"{destination} rate limit; retry after {retry_after:g}s")
        self.retry_after = retry_after
        self.destination = destination


class DuplicateKey(Exception):
    """A unique key (e.g. an idempotency key) is already taken."""


class ChangeSourceError(Exception):
    """A git problem a person can act on (missing sha, unknown repository)."""


class ChangeSourceUnavailable(ChangeSourceError, Transient):
    """The remote could not be reached or git timed out: worth another try later."""


class NotifierError(Exception):
    """Base of what a notifier raises; `code` is the platform's error string."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


class NotifierRateLimited(RateLimited, NotifierError):
    def __init__(self, retry_after: float) -> None:
        RateLimited.__init__(self, retry_after, destination="Slack")
        self.code = "ratelimited"


class NotifierUnavailable(NotifierError, Transient):
    """5xx, timeouts, connection trouble: retry later. `maybe_sent`: a post may have landed."""

    def __init__(self, code: str, message: str = "", *, maybe_sent: bool = False) -> None:
        super().__init__(code, message)
        self.maybe_sent = maybe_sent


class NotifierRejected(NotifierError):
    """A permanent refusal (invalid_auth, channel_not_found, …): retrying cannot help."""


class PagerError(Exception):
    """Base of what a pager raises. Messages never carry the routing key (a credential)."""


class PagerRejected(PagerError, PermanentFailure):
    """Sending it again cannot help: an invalid event (HTTP 400) or a wrong setup (URL, auth).

    `errors` is the paging service's own list of what is wrong with the event.
    """

    def __init__(self, message: str, errors: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.errors = errors


class PagerRateLimited(RateLimited, PagerError):
    """HTTP 429 from the paging service: wait `retry_after` seconds."""

    def __init__(self, retry_after: float, message: str = "") -> None:
        RateLimited.__init__(self, retry_after, destination="PagerDuty", message=message)


class PagerUnavailable(PagerError, Transient):
    """5xx, timeouts, connection trouble: retry later.

    Resending is safe: the dedup key makes a repeated trigger join the incident it opened.
    """
