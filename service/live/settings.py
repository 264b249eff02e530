"""Settings of the live core: streams, their keepalives and limits, and the listener."""

from __future__ import annotations

from pydantic import Field

from ..runtime.settings import CoreSettings


class LiveSettings(CoreSettings):
    """How streams are fed and kept."""

    sse_retry_ms: int = Field(default=3000, ge=0, description="`retry:` sent to browsers.")
    keepalive_seconds: float = Field(default=15, gt=0, description="Comment keepalive period.")
    max_streams_per_user: int = Field(
        default=10,
        ge=1,
        description="Open streams per user per process (tabs of one browser share one, so this "
        "counts browsers); a new one past it ends the user's oldest with `event: displaced`.",
    )
    displaced_retry_ms: int = Field(
        default=600_000,
        ge=0,
        description="`retry:` sent with `event: displaced`: a client that does not know the "
        "event comes back this late (ours waits for the student instead).",
    )
    max_streams: int = Field(
        default=20_000, ge=1, description="Open streams per process; more get `unavailable`."
    )
    stream_max_age_seconds: float = Field(
        default=3600, gt=0, description="A stream ends after this; the client resumes."
    )
    stream_queue_size: int = Field(
        default=256, ge=1, description="Events buffered per stream before it is dropped."
    )
    send_timeout_seconds: float = Field(
        default=10, gt=0, description="A stream whose send blocks longer is dropped."
    )
    unlisten_delay_seconds: float = Field(
        default=5, ge=0, description="UNLISTEN a user's channel this long after the last stream."
    )
    listener_heartbeat_seconds: float = Field(
        default=5, gt=0, description="Listener connection health check period (and timeout)."
    )
    replay_page_size: int = Field(
        default=500, ge=1, le=10_000, description="Rows per query when replaying a cursor."
    )
    stream_max_age_jitter: float = Field(
        default=0.2,
        ge=0,
        lt=1,
        description="Each stream's maximum age is STREAM_MAX_AGE_SECONDS less a random share "
        "of it up to this (0.2: 48 to 60 min of 1 h), so streams opened together do not end "
        "together.",
    )
    listener_deaf_probes: int = Field(
        default=3,
        ge=1,
        description="Probe NOTIFYs in a row that committed and were not heard before the "
        "listener counts as deaf (not ready; its streams drain). A probe that could not be sent "
        "(the pool exhausted, a commit stall) counts neither way.",
    )
    deaf_drain_seconds: float = Field(
        default=30,
        ge=0,
        description="A deaf listener's open streams are ended spread over this long, each with "
        "a spread `retry:`, so their clients do not reconnect at once.",
    )
