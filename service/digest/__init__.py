"""The email digest: students away from the app get what they missed, one email per period.

- `addresses`: parsing of email addresses (students' and the sender's).
- `schedule`: which notifications go into whose digest, and when (the period rule).
- `outbox`: the digests' send state in the database: claims, leases, retries.
- `message`: the email itself (plain text + HTML, links, unsubscribe headers).
- `links`: signed one-click unsubscribe links.
- `sender`: the supervised task that makes due digests and sends them over SMTP.

Nothing here runs unless SMTP_HOST is set.
"""
