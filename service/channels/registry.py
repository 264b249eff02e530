"""The delivery channels of this service, in one list.

Adding a channel: a package beside `push/` and `email/` (its settings, routes, SQL, worker and
`channel.py`), a migration adding its name to `notifications.delivered_via`'s CHECK, its
settings class in `service/settings.py`, and one line here.
"""

from __future__ import annotations

from ..notifications.deliveries import CHANNEL as STREAM
from .base import Channel
from .email.channel import CHANNEL as EMAIL
from .push.channel import CHANNEL as PUSH

CHANNELS: tuple[Channel, ...] = (PUSH, EMAIL)
# Every channel's name, the live core's stream first: what `delivered_via` may hold.
NAMES: tuple[str, ...] = (STREAM, *(channel.name for channel in CHANNELS))
