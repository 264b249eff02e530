// One thread per content request: a failure, its retry's question and the ready video are one
// item of the panel with its history. Notifications without a `payload.content_id` are threads
// of their own.

const isUnread = (n) => !n.read_at && !n.dismissed_at;

/**
 * `items`: notifications newest first (the NotificationList's order). Returns the threads in the
 * order of their newest notification: `{key, head, items, history, unread}`, where `head` is
 * the newest (what the row shows), `history` the earlier ones newest first, and `unread`
 * whether any of them is unread.
 */
export function threadsOf(items) {
  const threads = new Map();
  for (const n of items) {
    const contentId = n.payload && n.payload.content_id;
    const key = contentId ? `request:${contentId}` : `notification:${n.id}`;
    if (!threads.has(key)) threads.set(key, []);
    threads.get(key).push(n);
  }
  return [...threads].map(([key, members]) => ({
    key,
    head: members[0],
    items: members,
    history: members.slice(1),
    unread: members.some(isUnread),
  }));
}

export { isUnread };
