"""Errors raised across layers."""

from shepherd.domain.jobs import PermanentFailure, Transient


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


class NotifierRateLimited(NotifierError):
    def __init__(self, retry_after: float) -> None:
        super().__init__("ratelimited", f"rate limited; retry after {retry_after:g}s")
        self.retry_after = retry_after


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


class PagerRateLimited(PagerError, Transient):
    """HTTP 429: wait `retry_after` seconds.

    Like NotifierRateLimited, a caller turns it into RetryLater(retry_after); left alone it is
    still a Transient, retried with backoff.
    """

    def __init__(self, retry_after: float, message: str = "") -> None:
        super().__init__(message or f"rate limited; retry after {retry_after:g}s")
        self.retry_after = retry_after


class PagerUnavailable(PagerError, Transient):
    """5xx, timeouts, connection trouble: retry later.

    Resending is safe: the dedup key makes a repeated trigger join the incident it opened.
    """
