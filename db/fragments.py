"""SQL said once and used by the queries of several concerns: the columns of a notification
and the unread condition (migration 0005's `vividly_unread_v1`)."""

NOTIFICATION_COLUMNS = (
    "id, user_id, type, payload, created_at, read_at, dismissed_at, snoozed_until"
)

# The unread condition is said once, in SQL (migration 0005). The planner inlines it, here and in
# the partial index `notifications_user_unread` whose predicate it is, so queries using it keep
# using that index.
UNREAD = "vividly_unread_v1(read_at, dismissed_at)"
