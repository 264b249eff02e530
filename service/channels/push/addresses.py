"""Which IP addresses a push may be sent to: the one rule for subscribe time and send time.

Guarantees: `allowed` is False for every address that is not global, and also for the forms
Python 3.11's `is_global` calls global although they reach a private network:
- IPv6 forms that carry an IPv4 address (IPv4-mapped `::ffff:0:0/96`, IPv4-compatible `::/96`,
  SIIT `::ffff:0:0:0/96`, NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4 `2002::/16`, Teredo
  `2001::/32`): decided by the IPv4 address they carry (Teredo: refused outright);
- site-local `fec0::/10` (deprecated, still routed inside some networks).
Loopback (127.0.0.0/8, ::1) only with `allow_loopback` (PUSH_ALLOW_LOOPBACK, tests): ::1 as an
address `localhost` resolves to at send time; a subscription never names it as a literal
(`subscriptions.check_endpoint` refuses `[::1]` whatever the setting).
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")
TEREDO = ipaddress.IPv6Network("2001::/32")
SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
COMPATIBLE = ipaddress.IPv6Network("::/96")
MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
LOW_32 = 0xFFFFFFFF


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition form carries, if `address` is one."""
    if address in SIX_TO_FOUR:
        return address.sixtofour
    if address in MAPPED or address in TRANSLATED or address in COMPATIBLE:
        return ipaddress.IPv4Address(int(address) & LOW_32)
    if any(address in network for network in NAT64):
        return ipaddress.IPv4Address(int(address) & LOW_32)
    return None


def allowed(address: IPAddress, *, allow_loopback: bool) -> bool:
    """Whether a push may be sent to `address`."""
    if address.is_loopback:
        return allow_loopback
    if isinstance(address, ipaddress.IPv6Address):
        if address in SITE_LOCAL or address in TEREDO:
            return False
        carried = embedded_ipv4(address)
        if carried is not None:
            return carried.is_global  # never loopback: a mapped 127.0.0.1 is not a test setup
    return address.is_global


def allowed_text(text: str, *, allow_loopback: bool) -> bool:
    """`allowed` for an address as a resolver or a URL gives it (a zone `%eth0` is ignored)."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return allowed(address, allow_loopback=allow_loopback)
