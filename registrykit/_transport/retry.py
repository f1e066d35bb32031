"""The one retry policy: for requests in the transport and for streamed uploads.

A temporary failure (``RETRYABLE_STATUSES``: 429, 502, 503, 504; or a refused
connection) is tried again up to ``attempts`` times, waiting what the
server's Retry-After says, else an exponential backoff, and never more than
``max_wait`` seconds in total. The transport retries requests whose body can
be sent again; an upload whose body was a stream is restarted by the
transfer code from a freshly opened source, under the same policy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .._model.errors import RETRYABLE_STATUSES

__all__ = ["RETRYABLE_STATUSES", "RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    """How often, and how long in total, a temporary failure is retried."""

    attempts: int = 4
    max_wait: float = 60.0  # total seconds spent waiting across retries
    backoff: float = 0.5  # the first wait; it doubles with every attempt
    statuses: frozenset[int] = RETRYABLE_STATUSES

    def delay(self, attempt: int, retry_at: dt.datetime | None = None) -> float:
        """Seconds to wait after failed ``attempt`` (1-based): until ``retry_at``, else backoff."""
        if retry_at is None:
            return float(self.backoff * 2 ** (attempt - 1))
        return max(0.0, (retry_at - dt.datetime.now(dt.UTC)).total_seconds())

    def allows(self, attempt: int, waited: float, delay: float) -> bool:
        """Whether another try fits after ``attempt``: attempts left, total wait in bounds."""
        return attempt < self.attempts and waited + delay <= self.max_wait
