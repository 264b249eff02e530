"""The email digest: students away from the app get what they missed, one email per period.

- `addresses`: parsing of email addresses (students' and the sender's).
- `schedule`: which notifications go into whose digest, and when (the period rule).
- `sender`: the supervised task that makes due digests and sends them from the outbox
  (`email_digests`): claims, leases, retries, recording the server's acceptance.
- `transport`: one email handed to the SMTP server (aiosmtplib), the outcome classified.
- `message`: the email itself (plain text + HTML, links, unsubscribe headers).
- `links`: signed one-click unsubscribe links; `pages`: what a browser opening one sees.

Nothing is made or sent unless SMTP_HOST is set.
"""
