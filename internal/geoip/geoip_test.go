package geoip

import (
	"net/netip"
	"strings"
	"testing"
)

func TestCountry(t *testing.T) {
	db, err := Open("testdata/geoip")
	if err != nil {
		t.Fatal(err)
	}
	if db.Len() != 3 {
		t.Fatalf("%d ranges, want 3", db.Len())
	}
	for _, c := range []struct{ addr, want string }{
		{"10.0.0.0", "US"}, {"10.127.255.255", "US"}, {"10.128.0.0", "CN"}, {"10.255.255.255", "CN"},
		{"11.0.0.0", ""}, {"9.255.255.255", ""}, {"192.0.2.77", "KR"}, {"192.0.3.0", ""},
		{"::ffff:10.0.0.1", "US"}, {"2001:db8::1", ""},
	} {
		if got := db.Country(netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("Country(%s) = %q, want %q", c.addr, got, c.want)
		}
	}
	var none *DB
	if got := none.Country(netip.MustParseAddr("10.0.0.1")); got != "" {
		t.Errorf("nil DB gives %q", got)
	}
}

func TestReadErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"1,2,US\n3,x,US\n", "g:2: bad range"},
		{"5,4,US\n", "g:1: bad range"},
		{"1,2\n", "g:1: want FROM,TO,CC"},
		{"1,2,USA\n", "g:1: country"},
		{"1,10,US\n5,20,CN\n", "g: ranges 1-10 and 5-20 overlap"},
		{"# only a comment\n", "g: no ranges"},
	} {
		_, err := Read(strings.NewReader(c.in), "g")
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Read(%q): error %v, want prefix %q", c.in, err, c.want)
		}
	}
}
