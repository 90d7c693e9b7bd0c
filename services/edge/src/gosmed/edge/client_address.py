"""The caller's network address behind reverse proxies (for identity's login limits).

`X-Forwarded-For` is believed only from configured proxies (`GOSMED_EDGE_TRUSTED_PROXIES`):
starting at the socket peer, each hop that is a trusted proxy hands over to the address it
forwarded for (the header's entries are read right to left, the one appended last first); the
first address that is not a trusted proxy is the client. With no trusted proxies (the default)
the socket peer is the client and the header is ignored, so nobody picks their own address.
"""

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

IpAddress = IPv4Address | IPv6Address
IpNetwork = IPv4Network | IPv6Network

UNKNOWN = "unknown"


def parse_hop(text: str) -> IpAddress | None:
    """An address of a forwarded hop: `198.51.100.7`, `198.51.100.7:4711`, `[2001:db8::1]:443`
    or `2001:db8::1`; None for anything else (`unknown`, obfuscated ids, garbage)."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IpAddress, proxies: Sequence[IpNetwork]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], proxies: Sequence[IpNetwork]
) -> str:
    """The client's address given the socket peer, the `X-Forwarded-For` header values (all of
    them, in order) and the trusted proxy ranges."""
    address = parse_hop(peer) if peer else None
    if address is None:
        return peer or UNKNOWN
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    while hops and _trusted(address, proxies):
        forwarded = parse_hop(hops.pop())
        if forwarded is None:
            break  # a hop we cannot read: the last trustworthy address is the best we know
        address = forwarded
    return str(address)
