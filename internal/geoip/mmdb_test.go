package geoip

import (
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

// writeMMDB builds a small IPv4 MaxMind DB by the MaxMind DB File Format
// Specification 2.0: a binary search tree of 24-bit records over the
// address bits, 16 zero bytes, a data section of country maps, and the
// metadata map after its marker. It is enough to test the reader against a
// file no network download is needed for.
func writeMMDB(t *testing.T, entries map[string]string) []byte {
	t.Helper()
	type node struct{ rec [2]int } // >= 0: node index; -1: empty; <= -2: data entry -(rec+2)
	nodes := []node{{[2]int{-1, -1}}}
	var data []byte
	for cidr, cc := range entries {
		p := netip.MustParsePrefix(cidr)
		off := len(data)
		data = append(data, mapOf(1)...)
		data = append(data, str("country")...)
		data = append(data, mapOf(1)...)
		data = append(data, str("iso_code")...)
		data = append(data, str(cc)...)
		a := p.Addr().As4()
		v := binary.BigEndian.Uint32(a[:])
		n := 0
		for bit := 0; bit < p.Bits(); bit++ {
			b := int(v >> (31 - bit) & 1)
			if bit == p.Bits()-1 {
				nodes[n].rec[b] = -(off + 2)
				break
			}
			if nodes[n].rec[b] < 0 {
				nodes = append(nodes, node{[2]int{-1, -1}})
				nodes[n].rec[b] = len(nodes) - 1
			}
			n = nodes[n].rec[b]
		}
	}
	count := len(nodes)
	var out []byte
	for _, nd := range nodes {
		for _, r := range nd.rec {
			val := r
			switch {
			case r == -1:
				val = count
			case r <= -2:
				val = count + 16 + (-r - 2)
			}
			out = append(out, byte(val>>16), byte(val>>8), byte(val))
		}
	}
	out = append(out, make([]byte, 16)...)
	out = append(out, data...)
	out = append(out, mmdbMarker...)
	out = append(out, mapOf(6)...)
	out = append(out, str("node_count")...)
	out = append(out, 0xc4, byte(count>>24), byte(count>>16), byte(count>>8), byte(count))
	out = append(out, str("record_size")...)
	out = append(out, 0xa1, 24)
	out = append(out, str("ip_version")...)
	out = append(out, 0xa1, 4)
	out = append(out, str("database_type")...)
	out = append(out, str("wormlab-test-country")...)
	out = append(out, str("binary_format_major_version")...)
	out = append(out, 0xa1, 2)
	out = append(out, str("binary_format_minor_version")...)
	out = append(out, 0xa0)
	return out
}

func str(s string) []byte { return append([]byte{0x40 | byte(len(s))}, s...) }
func mapOf(n int) []byte  { return []byte{0xe0 | byte(n)} }

func TestMMDB(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "test.mmdb")
	if err := os.WriteFile(path, writeMMDB(t, map[string]string{"10.0.0.0/9": "US", "10.128.0.0/9": "CN", "192.0.2.0/24": "KR"}), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := OpenAny(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := db.(*MMDB); !ok {
		t.Fatalf("OpenAny gave %T, want *MMDB", db)
	}
	for _, c := range []struct{ addr, want string }{
		{"10.0.0.0", "US"}, {"10.127.255.255", "US"}, {"10.128.0.0", "CN"}, {"11.0.0.0", ""},
		{"192.0.2.77", "KR"}, {"192.0.3.0", ""}, {"::ffff:10.0.0.1", "US"},
	} {
		if got := db.Country(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("Country(%s) = %q, want %q", c.addr, got, c.want)
		}
	}
	// The same ranges as the tor-format testdata give the same answers.
	tor, err := OpenAny("testdata/geoip")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tor.(*DB); !ok {
		t.Fatalf("OpenAny on the tor file gave %T", tor)
	}
	for _, a := range []string{"10.1.2.3", "10.200.0.1", "192.0.2.1", "8.8.8.8"} {
		ad := netip.MustParseAddr(a)
		if db.Country(ad) != tor.Country(ad) {
			t.Errorf("%s: mmdb says %q, tor file %q", a, db.Country(ad), tor.Country(ad))
		}
	}
	bad := filepath.Join(dir, "bad.mmdb")
	os.WriteFile(bad, append([]byte("junk"), mmdbMarker...), 0o644)
	if _, err := OpenAny(bad); err == nil {
		t.Error("a broken mmdb opened")
	}
}
