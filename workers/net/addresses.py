"""Which network addresses a worker may connect to: the SSRF guard.

A feed URL is input from outside; without a guard it can make a worker fetch
``http://169.254.169.254/`` (cloud credentials) or an intranet admin page.
Every connection the HTTP client opens goes through :class:`GuardedBackend`:
the host is resolved once, each address is checked against the policy, and
the socket is opened to an address that passed, so a DNS answer that changes
between check and connect (rebinding) cannot slip past. Redirects open new
connections and so are checked at every hop.

Refused unless ``allowed_networks`` covers them: loopback, private,
link-local, unspecified, multicast, reserved and shared (CGNAT) addresses,
every other non-global address, and known cloud metadata addresses; IPv6
forms that embed an IPv4 address (mapped, 6to4, Teredo, NAT64) are judged by
that address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence

import httpcore

__all__ = ["BlockedAddress", "GuardedBackend", "NetworkPolicy", "UnresolvedHost", "parse_networks"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Metadata services of the big clouds. Most are link-local anyway; named so an allow-list entry for a
# private range (an intranet) does not open them by accident.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (classic)
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnresolvedHost(httpcore.ConnectError):
    """Raised inside the HTTP transport when a host name has no address (DNS): a ``*.dns`` failure."""


class BlockedAddress(Exception):
    """Raised inside the HTTP transport when every address of a host is refused by the policy."""

    def __init__(self, host: str, addresses: Sequence[str]) -> None:
        shown = ", ".join(addresses) or "no address"
        super().__init__(f"{host} resolves to {shown}, which is not a public address; "
                         "allow it with NEWSWORKERS_ALLOWED_NETWORKS if it is meant to be fetched")
        self.host = host
        self.addresses = list(addresses)


def parse_networks(value: str | Iterable[str]) -> list[IPNetwork]:
    """CIDR networks from a comma-separated string or a list; a bare address is a /32 or /128."""
    parts = value.split(",") if isinstance(value, str) else list(value)
    return [ipaddress.ip_network(str(p).strip(), strict=False) for p in parts if str(p).strip()]


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


class NetworkPolicy:
    """Public addresses pass; anything else only inside one of ``allowed`` networks."""

    def __init__(self, allowed: Iterable[IPNetwork] = ()) -> None:
        self.allowed = list(allowed)

    def permits(self, address: str | IPAddress) -> bool:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%")[0])
        if any(ip in network for network in self.allowed if network.version == ip.version):
            return True
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return self.permits(embedded)
        if ip in METADATA_ADDRESSES:
            return False
        return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)

    def resolve(self, host: str, port: int) -> list[str]:
        """The permitted addresses of ``host``, resolved once; raises BlockedAddress when there are none."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise UnresolvedHost(f"cannot resolve {host}: {exc}") from exc
        found = list(dict.fromkeys(str(info[4][0]) for info in infos))
        permitted = [a for a in found if self.permits(a)]
        if not permitted:
            raise BlockedAddress(host, found)
        return permitted


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's socket backend, connecting only to addresses the policy permits.

    TLS still verifies the certificate against the URL's host name: httpcore passes that name to
    ``start_tls``, not the address we connect to.
    """

    def __init__(self, policy: NetworkPolicy) -> None:
        self.policy = policy
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self.policy.resolve(host.strip("[]"), port)
        last: Exception | None = None
        for address in addresses:
            try:
                return self._backend.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                 socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None  # resolve() never returns an empty list
        raise last

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise BlockedAddress(path, ["a unix socket"])

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)
