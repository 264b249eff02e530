"""SQLAlchemy models of the schema. Alembic revisions create the schema; these describe it.

A test compares these models with a migrated database, so they cannot drift apart.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

CONTENT_REQUEST_STATUSES = ("pending", "processing", "completed", "failed", "clarification_needed")
FINAL_STATUSES = ("completed", "failed", "clarification_needed")


class Base(DeclarativeBase):
    pass


class ContentRequest(Base):
    __tablename__ = "content_requests"
    __table_args__ = (
        Index(
            "content_requests_student_newest",
            "student_id",
            text("created_at DESC"),
            text("id DESC"),
        ),
        CheckConstraint("duration_seconds >= 0"),
        Index(
            "content_requests_pending",
            "fair_round",
            "created_at",
            postgresql_where=text("status = 'pending'::content_request_status"),
        ),
        Index(
            "content_requests_served_round",
            "fair_round",
            postgresql_where=text("status <> 'pending'::content_request_status"),
        ),
        Index(
            "content_requests_student_open",
            "student_id",
            "fair_round",
            postgresql_where=text(
                "status = ANY (ARRAY['pending'::content_request_status,"
                " 'processing'::content_request_status])"
            ),
        ),
        Index(
            "content_requests_processing",
            "fair_round",
            "created_at",
            postgresql_where=text("status = 'processing'::content_request_status"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        UUID, primary_key=True, server_default=text("gen_random_uuid()")
    )
    student_id: Mapped[uuid.UUID] = mapped_column(UUID)
    status: Mapped[str] = mapped_column(
        Enum(*CONTENT_REQUEST_STATUSES, name="content_request_status"),
        server_default="pending",
    )
    title: Mapped[str | None] = mapped_column(Text)
    video_url: Mapped[str | None] = mapped_column(Text)
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    error_message: Mapped[str | None] = mapped_column(Text)
    clarification_question: Mapped[str | None] = mapped_column(Text)
    notify_round: Mapped[int] = mapped_column(Integer, server_default="1")
    question: Mapped[str | None] = mapped_column(Text)
    clarification_answer: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    claimed_by: Mapped[str | None] = mapped_column(Text)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fair_round: Mapped[int] = mapped_column(BigInteger, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default="now()")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default="now()")


class NotificationType(Base):
    """The registry of types: the only list of them, with what the UI shows for each."""

    __tablename__ = "notification_types"
    __table_args__ = (
        CheckConstraint("name ~ '^[a-z][a-z0-9_]{0,62}$'"),
        CheckConstraint("label <> ''"),
    )

    name: Mapped[str] = mapped_column(Text, primary_key=True)
    description: Mapped[str] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(Text)  # None: clients show the name


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("notifications_user_newest", "user_id", text("id DESC")),
        Index(
            "notifications_user_unread",
            "user_id",
            text("id DESC"),
            postgresql_where=text("vividly_unread_v1(read_at, dismissed_at)"),
        ),
        Index(
            "notifications_one_per_round",
            "content_request_id",
            "content_request_round",
            unique=True,
        ),
        CheckConstraint("jsonb_typeof(payload) = 'object'"),
        CheckConstraint("content_request_id IS NULL OR content_request_round IS NOT NULL"),
        Index(
            "notifications_created_brin",
            "created_at",
            postgresql_using="brin",
            postgresql_with={"autosummarize": "on"},
        ),
        CheckConstraint(
            "delivered_via IN ('stream', 'push', 'email') "
            "AND (delivered_at IS NULL) = (delivered_via IS NULL)",
            name="notifications_delivered_via_check",
        ),
        # Room on each page for a row's later versions (migration 0015).
        {"postgresql_with": {"fillfactor": "85"}},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID)
    type: Mapped[str] = mapped_column(Text, ForeignKey("notification_types.name"))
    content_request_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID, ForeignKey("content_requests.id", ondelete="SET NULL")
    )
    content_request_round: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default="now()")
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_via: Mapped[str | None] = mapped_column(Text)
    seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotificationRetention(Base):
    __tablename__ = "notification_retention"
    __table_args__ = (CheckConstraint("pruned_through_id >= 0"),)

    user_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    pruned_through_id: Mapped[int] = mapped_column(BigInteger)


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    type: Mapped[str] = mapped_column(
        Text, ForeignKey("notification_types.name", ondelete="CASCADE"), primary_key=True
    )
    in_app: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default="now()")


class PushSubscription(Base):
    """A browser's push subscription (one per device and origin), owned by one user."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (
        UniqueConstraint("endpoint", name="push_subscriptions_endpoint_key"),
        CheckConstraint(
            "endpoint ~ '^https?://' AND length(endpoint) <= 2048",
            name="push_subscriptions_endpoint_check",
        ),
        CheckConstraint("p256dh ~ '^[A-Za-z0-9_-]{87}$'", name="push_subscriptions_p256dh_check"),
        CheckConstraint("auth ~ '^[A-Za-z0-9_-]{22}$'", name="push_subscriptions_auth_check"),
        Index("push_subscriptions_user", "user_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID)
    endpoint: Mapped[str] = mapped_column(Text)
    p256dh: Mapped[str] = mapped_column(Text)
    auth: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default="now()")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default="now()")


class PushDelivery(Base):
    """The push of one notification to one subscription: at most one row, so at most once."""

    __tablename__ = "push_deliveries"
    __table_args__ = (
        CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed', 'cancelled') "
            "AND (state IN ('pending', 'sending')) = (finished_at IS NULL)",
            name="push_deliveries_state_check",
        ),
        CheckConstraint("attempts >= 0", name="push_deliveries_attempts_check"),
        Index(
            "push_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("state IN ('pending', 'sending')"),
        ),
        Index("push_deliveries_subscription", "subscription_id"),
    )

    notification_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True
    )
    subscription_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("push_subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(Text, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default="now()"
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default="now()")
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


class EmailDigestPreference(Base):
    """A student's email digest: where, how often, whether, and when the next one may be made."""

    __tablename__ = "email_digest_preferences"
    __table_args__ = (
        CheckConstraint("length(address) >= 3 AND length(address) <= 320 AND address ~~ '%_@_%'"),
        CheckConstraint("period = ANY (ARRAY['hourly'::text, 'daily'::text, 'weekly'::text])"),
        Index("email_digest_preferences_due", "next_digest_at", postgresql_where=text("opted_in")),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True)
    address: Mapped[str] = mapped_column(Text)
    period: Mapped[str] = mapped_column(Text)
    opted_in: Mapped[bool] = mapped_column(Boolean)
    opted_in_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default="now()")
    next_digest_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default="now()")
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EmailConfirmationSend(Base):
    """One confirmation email sent: what the per-student and per-address limits count."""

    __tablename__ = "email_confirmation_sends"
    __table_args__ = (
        CheckConstraint("length(address_key) >= 3 AND length(address_key) <= 320"),
        Index("email_confirmation_sends_user", "user_id", "sent_at"),
        Index("email_confirmation_sends_address", "address_key", "sent_at"),
        Index("email_confirmation_sends_sent", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID)
    address_key: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default="now()")


DIGEST_OPEN = "state = ANY (ARRAY['pending'::text, 'sending'::text])"


class EmailDigest(Base):
    """The outbox: one digest, its send state, and the server's reply once it accepted it."""

    __tablename__ = "email_digests"
    __table_args__ = (
        CheckConstraint(
            "state = ANY (ARRAY['pending'::text, 'sending'::text, 'sent'::text, 'failed'::text,"
            " 'cancelled'::text])"
        ),
        CheckConstraint("attempts >= 0"),
        CheckConstraint("sent_count >= 0"),
        CheckConstraint(
            "(state = 'sent') = (sent_at IS NOT NULL AND smtp_reply IS NOT NULL)",
            name="email_digests_sent_check",
        ),
        Index("email_digests_due", "next_attempt_at", postgresql_where=text(DIGEST_OPEN)),
        Index(
            "email_digests_one_open_per_user",
            "user_id",
            unique=True,
            postgresql_where=text(DIGEST_OPEN),
        ),
        Index("email_digests_user_newest", "user_id", text("id DESC")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID)
    message_uuid: Mapped[uuid.UUID] = mapped_column(
        UUID, unique=True, server_default=text("gen_random_uuid()")
    )
    state: Mapped[str] = mapped_column(Text, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default="now()"
    )
    claimed_by: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default="now()")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    smtp_reply: Mapped[str | None] = mapped_column(Text)
    sent_count: Mapped[int | None] = mapped_column(Integer)


class EmailDigestItem(Base):
    """A notification's one digest (the primary key keeps it out of any other)."""

    __tablename__ = "email_digest_items"
    __table_args__ = (Index("email_digest_items_digest", "digest_id"),)

    notification_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True
    )
    digest_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("email_digests.id", ondelete="CASCADE")
    )
