"""What the tests share: helpers only, no tests and no fixtures (those are in `conftest.py`).

- `server`: the app served by uvicorn on a real socket, settings for tests, an SSE client,
  committed notifications the way production makes them.
- `processes`: `vividly-notify` as a real process; `ports`: a free port on the loopback.
- `waiting`: `until`, polling a condition; `locks`: waiting until a backend is blocked on a lock.
- `mailbox`: a real SMTP server; `digest`: the email digest's settings and readers of its mail.
- `push_standin`: a Web Push service on the loopback that decrypts what it is sent.
- `listen`: LISTEN on a user's channel; `new_type`: a notification type added like a migration.
- `metrics`: one sample of `/metrics`; `browser`: Chromium and the page's tabs.
- `reachable`: `python -m tests.support.reachable URL` (the Makefile's second Postgres).
"""
