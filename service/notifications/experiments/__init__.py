"""A/B tests of a notification type's copy: the templates an admin may write (`templates.py`),
the experiments and their per-variant numbers (`store.py`, `sql.py`), and the statistics that
say whether one variant is ahead (`proportions.py`). Which variant a student gets, and the copy
it puts into each notification, is decided in the database as the notification is inserted
(migration 0019)."""
