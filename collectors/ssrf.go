// Package collectors reads opsreview's sources on a schedule and writes what it finds through the
// store: one file per source kind.
package collectors

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// The runbook checker fetches URLs that come from alert annotations, which anyone who can write an
// alert rule controls. Without a guard it would be a way to make opsreview reach into the network
// it runs in (cloud metadata, admin ports on localhost, internal services). The guard works at
// dial time, on the address actually connected to, so DNS tricks (a public name resolving to
// 127.0.0.1, rebinding between lookup and connect) and redirects cannot get around it.

// metadataAddrs are cloud instance-metadata endpoints: refused even for allow-listed hosts, since
// no runbook lives there and they hand out credentials.
var metadataAddrs = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack, DigitalOcean…
	netip.MustParseAddr("169.254.170.2"),   // AWS ECS task metadata
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
}

// internalPrefixes are the ranges that are not the public internet.
var internalPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network", unspecified
		"10.0.0.0/8",      // RFC 1918
		"100.64.0.0/10",   // CGNAT (RFC 6598)
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local
		"172.16.0.0/12",   // RFC 1918
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"192.168.0.0/16",  // RFC 1918
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, broadcast
		"::/128",          // unspecified
		"::1/128",         // loopback
		"100::/64",        // discard
		"2001:db8::/32",   // documentation
		"fc00::/7",        // unique local (ULA)
		"fe80::/10",       // link-local
		"ff00::/8",        // multicast
		"64:ff9b:1::/48",  // local-use NAT64
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// nat64 is the well-known NAT64 prefix: its addresses carry an IPv4 address in the low 32 bits.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// addrRisk says why a may not be contacted: "metadata", "internal", or "" when it is public.
func addrRisk(a netip.Addr) string {
	a = a.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	if nat64.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	a = a.WithZone("")
	for _, m := range metadataAddrs {
		if a == m {
			return "metadata"
		}
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsMulticast() || a.IsUnspecified() || a.IsInterfaceLocalMulticast() {
		return "internal"
	}
	for _, p := range internalPrefixes {
		if p.Contains(a) {
			return "internal"
		}
	}
	return ""
}

// resolver looks up a host name's addresses (net.DefaultResolver; a fake in tests).
type resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// RefusedError says that the checker would not connect to an address.
type RefusedError struct {
	Host, Addr, Reason string
}

func (e *RefusedError) Error() string {
	if e.Reason == "metadata" {
		return fmt.Sprintf("refused: %s is a cloud metadata address", e.Addr)
	}
	if e.Host == e.Addr {
		return fmt.Sprintf("refused: %s is an internal address (add it to runbooks.allow_hosts to allow it)", e.Addr)
	}
	return fmt.Sprintf("refused: %s resolves to internal address %s (add the host to runbooks.allow_hosts to allow it)", e.Host, e.Addr)
}

// safeDialer connects only to public addresses, or to any but metadata addresses for hosts on
// the allow-list.
type safeDialer struct {
	allow    []string // lower-case host names or IPs; "*.corp.example" allows every subdomain
	resolver resolver
	timeout  time.Duration
}

// allowed reports whether host is on the allow-list.
func (d *safeDialer) allowed(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, a := range d.allow {
		a = strings.TrimSuffix(strings.ToLower(a), ".")
		if a == host {
			return true
		}
		if suffix, ok := strings.CutPrefix(a, "*"); ok && strings.HasPrefix(suffix, ".") && strings.HasSuffix(host, suffix) {
			return true
		}
	}
	return false
}

// check returns nil when the address may be contacted for host.
func (d *safeDialer) check(host string, a netip.Addr, allowed bool) error {
	switch addrRisk(a) {
	case "metadata":
		return &RefusedError{Host: host, Addr: a.String(), Reason: "metadata"}
	case "internal":
		if !allowed {
			return &RefusedError{Host: host, Addr: a.String(), Reason: "internal"}
		}
	}
	return nil
}

// DialContext resolves addr's host, refuses it unless every address it would connect to passes
// check, and connects to the first address that answers. The net.Dialer's Control checks the
// address once more just before connecting, so nothing between lookup and connect can slip
// another address in.
func (d *safeDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", addr, err)
	}
	allowed := d.allowed(host)
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else if addrs, err = d.resolver.LookupNetIP(ctx, "ip", host); err != nil {
		return nil, fmt.Errorf("looking up %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("looking up %s: no addresses", host)
	}
	// Refuse the name if any of its addresses is refused: which one a later connection would use
	// is not ours to predict.
	for _, a := range addrs {
		if err := d.check(host, a, allowed); err != nil {
			return nil, err
		}
	}
	dialer := &net.Dialer{
		Timeout: d.timeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("dialing %s: %w", address, err)
			}
			return d.check(host, ap.Addr(), allowed)
		},
	}
	var errs []error
	for _, a := range addrs {
		conn, err := dialer.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}
