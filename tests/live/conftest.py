"""Every database test of the live core runs in both channel modes."""

from tests.support.channel_modes import channel_mode

__all__ = ["channel_mode"]
