// Package ipspace is wormlab's model of the address space: IPv4 addresses
// and prefixes as small comparable values, the IANA table of allocated /8
// blocks, and layouts of vulnerable hosts over the space.
package ipspace

import (
	"errors"
	"fmt"
	"strconv"
)

// Addr is an IPv4 address as a big-endian uint32 (1.2.3.4 is 0x01020304).
// It is comparable and usable as a map key. The zero value is 0.0.0.0, the
// unspecified address; in scaled-down simulation spaces an Addr is an offset
// into the space instead.
type Addr uint32

// ParseAddr parses a dotted-quad IPv4 address. Each of the four parts is a
// decimal number from 0 to 255 without a sign or leading zeros (as
// net/netip does: "010.0.0.1" is refused rather than read as octal).
func ParseAddr(s string) (Addr, error) {
	var a uint32
	part, digits := uint32(0), 0
	dots := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if digits == 1 && part == 0 {
				return 0, fmt.Errorf("ipspace: address %q: leading zero", s)
			}
			part = part*10 + uint32(c-'0')
			digits++
			if part > 255 {
				return 0, fmt.Errorf("ipspace: address %q: part over 255", s)
			}
		case c == '.':
			if digits == 0 {
				return 0, fmt.Errorf("ipspace: address %q: empty part", s)
			}
			dots++
			if dots > 3 {
				return 0, fmt.Errorf("ipspace: address %q: more than four parts", s)
			}
			a = a<<8 | part
			part, digits = 0, 0
		default:
			return 0, fmt.Errorf("ipspace: address %q: unexpected character %q", s, c)
		}
	}
	if dots != 3 || digits == 0 {
		return 0, fmt.Errorf("ipspace: address %q: want four dotted parts", s)
	}
	return Addr(a<<8 | part), nil
}

// MustParseAddr is ParseAddr for constants in tests and tables; it panics on
// error.
func MustParseAddr(s string) Addr {
	a, err := ParseAddr(s)
	if err != nil {
		panic(err)
	}
	return a
}

// AppendTo appends the dotted-quad form of a to b.
func (a Addr) AppendTo(b []byte) []byte {
	for i := 3; i >= 0; i-- {
		b = strconv.AppendUint(b, uint64(a>>(8*i))&0xff, 10)
		if i > 0 {
			b = append(b, '.')
		}
	}
	return b
}

func (a Addr) String() string { return string(a.AppendTo(make([]byte, 0, 15))) }

// Prefix is an address block: an address and a prefix length from 0 to 32,
// with the host bits zero. It is comparable. The zero value is not a valid
// prefix (IsValid reports false); 0.0.0.0/0 is written explicitly.
type Prefix struct {
	addr Addr
	// bitsPlusOne is the prefix length plus one, so the zero value is invalid.
	bitsPlusOne uint8
}

// PrefixFrom returns the prefix of length bits holding a, with the host
// bits cleared. It returns the zero Prefix if bits is out of range.
func PrefixFrom(a Addr, bits int) Prefix {
	if bits < 0 || bits > 32 {
		return Prefix{}
	}
	return Prefix{a & Addr(mask(bits)), uint8(bits + 1)}
}

func mask(bits int) uint32 {
	if bits == 0 {
		return 0
	}
	return ^uint32(0) << (32 - bits)
}

var errNoSlash = errors.New("want ADDR/LEN")

// ParsePrefix parses "a.b.c.d/n". Host bits must be zero: "24.1.0.0/8" is an
// error, since a user who wrote it most likely meant something else.
func ParsePrefix(s string) (Prefix, error) {
	slash := -1
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			slash = i
			break
		}
	}
	if slash < 0 {
		return Prefix{}, fmt.Errorf("ipspace: prefix %q: %w", s, errNoSlash)
	}
	a, err := ParseAddr(s[:slash])
	if err != nil {
		return Prefix{}, fmt.Errorf("ipspace: prefix %q: %w", s, err)
	}
	n, err := strconv.Atoi(s[slash+1:])
	if err != nil || n < 0 || n > 32 || (len(s[slash+1:]) > 1 && s[slash+1] == '0') || s[slash+1] == '+' {
		return Prefix{}, fmt.Errorf("ipspace: prefix %q: length must be 0 to 32", s)
	}
	p := PrefixFrom(a, n)
	if p.addr != a {
		return Prefix{}, fmt.Errorf("ipspace: prefix %q: host bits set (did you mean %s?)", s, p)
	}
	return p, nil
}

// MustParsePrefix is ParsePrefix for constants; it panics on error.
func MustParsePrefix(s string) Prefix {
	p, err := ParsePrefix(s)
	if err != nil {
		panic(err)
	}
	return p
}

// IsValid reports whether p is a prefix rather than the zero value.
func (p Prefix) IsValid() bool { return p.bitsPlusOne != 0 }

// Addr returns the first address of p.
func (p Prefix) Addr() Addr { return p.addr }

// Bits returns the prefix length, or -1 for the zero Prefix.
func (p Prefix) Bits() int { return int(p.bitsPlusOne) - 1 }

// Size returns the number of addresses in p (2^32 for /0).
func (p Prefix) Size() uint64 { return 1 << (32 - p.Bits()) }

// Last returns the last address of p.
func (p Prefix) Last() Addr { return p.addr | Addr(^mask(p.Bits())) }

// Contains reports whether a is in p.
func (p Prefix) Contains(a Addr) bool {
	return p.IsValid() && a&Addr(mask(p.Bits())) == p.addr
}

// Overlaps reports whether p and q share an address.
func (p Prefix) Overlaps(q Prefix) bool {
	if !p.IsValid() || !q.IsValid() {
		return false
	}
	short := min(p.Bits(), q.Bits())
	m := Addr(mask(short))
	return p.addr&m == q.addr&m
}

// AppendTo appends "a.b.c.d/n" to b.
func (p Prefix) AppendTo(b []byte) []byte {
	if !p.IsValid() {
		return append(b, "invalid Prefix"...)
	}
	b = p.addr.AppendTo(b)
	b = append(b, '/')
	return strconv.AppendInt(b, int64(p.Bits()), 10)
}

func (p Prefix) String() string { return string(p.AppendTo(make([]byte, 0, 18))) }

// MarshalText implements encoding.TextMarshaler.
func (p Prefix) MarshalText() ([]byte, error) { return p.AppendTo(nil), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Prefix) UnmarshalText(b []byte) error {
	q, err := ParsePrefix(string(b))
	*p = q
	return err
}
