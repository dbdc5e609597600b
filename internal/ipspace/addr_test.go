package ipspace

import (
	"net/netip"
	"testing"
)

func TestParseAddr(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Addr
		ok   bool
	}{
		{"1.2.3.4", 0x01020304, true},
		{"0.0.0.0", 0, true},
		{"255.255.255.255", 0xffffffff, true},
		{"198.137.240.91", 0xc689f05b, true},
		{"256.0.0.1", 0, false},
		{"1.2.3.", 0, false},
		{"1.2.3", 0, false},
		{"1.2.3.4.5", 0, false},
		{"01.2.3.4", 0, false},
		{"1..3.4", 0, false},
		{"1.2.3.4\x00", 0, false},
		{"", 0, false},
		{" 1.2.3.4", 0, false},
	} {
		got, err := ParseAddr(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseAddr(%q) = %v, %v; want %v, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParsePrefix(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"24.0.0.0/16", "24.0.0.0/16", true},
		{"0.0.0.0/0", "0.0.0.0/0", true},
		{"1.2.3.4/32", "1.2.3.4/32", true},
		{"24.1.0.0/8", "", false},
		{"1.2.3.4/33", "", false},
		{"1.2.3.4/-1", "", false},
		{"1.2.3.4/08", "", false},
		{"1.2.3.4", "", false},
		{"1.2.3.0/", "", false},
	} {
		got, err := ParsePrefix(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got.String() != tc.want) {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	var zero Prefix
	if zero.IsValid() || zero.Contains(0) {
		t.Error("zero Prefix must be invalid and contain nothing")
	}
	p := MustParsePrefix("24.0.0.0/16")
	if !p.Contains(MustParseAddr("24.0.255.255")) || p.Contains(MustParseAddr("24.1.0.0")) {
		t.Error("Contains wrong at the /16 edges")
	}
	if p.Size() != 65536 || p.Last() != MustParseAddr("24.0.255.255") {
		t.Errorf("Size/Last = %d/%v", p.Size(), p.Last())
	}
	if !MustParsePrefix("24.0.0.0/8").Overlaps(p) || MustParsePrefix("25.0.0.0/8").Overlaps(p) {
		t.Error("Overlaps wrong")
	}
}

var sinkAddr Addr
var sinkBytes []byte

func TestNoAllocs(t *testing.T) {
	buf := make([]byte, 0, 32)
	a := MustParseAddr("198.137.240.91")
	if n := testing.AllocsPerRun(100, func() { sinkBytes = a.AppendTo(buf[:0]) }); n != 0 {
		t.Errorf("AppendTo allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { sinkAddr, _ = ParseAddr("198.137.240.91") }); n != 0 {
		t.Errorf("ParseAddr allocates %v times", n)
	}
}

// FuzzParseAddr checks ParseAddr against net/netip and that printing and
// parsing round-trip. The seed corpus covers leading zeros, short and long
// forms, out-of-range parts and embedded NULs.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "01.2.3.4", "1.2.3.", "256.0.0.1", "1.2.3.4\x00", "0.0.0.0", "1.2.3.4.5", "::1", "1.2.3.4/8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddr(s)
		ref, rerr := netip.ParseAddr(s)
		refOK := rerr == nil && ref.Is4()
		if (err == nil) != refOK {
			t.Fatalf("ParseAddr(%q) err=%v, netip says ok=%v", s, err, refOK)
		}
		if err != nil {
			return
		}
		if b := ref.As4(); Addr(uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3])) != a {
			t.Fatalf("ParseAddr(%q) = %v, netip = %v", s, a, ref)
		}
		if back, err := ParseAddr(a.String()); err != nil || back != a {
			t.Fatalf("round trip of %v gave %v, %v", a, back, err)
		}
	})
}

func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"24.0.0.0/16", "0.0.0.0/0", "1.2.3.4/32", "24.1.0.0/8", "1.2.3.4/33", "1.2.3.4/08", "1.2.3.4/+8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrefix(s)
		ref, rerr := netip.ParsePrefix(s)
		refOK := rerr == nil && ref.Addr().Is4() && ref.Masked() == ref
		if (err == nil) != refOK {
			t.Fatalf("ParsePrefix(%q) err=%v, netip ok=%v", s, err, refOK)
		}
		if err == nil {
			if back, err := ParsePrefix(p.String()); err != nil || back != p {
				t.Fatalf("round trip of %v gave %v, %v", p, back, err)
			}
		}
	})
}
