package ipspace

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestIANATable(t *testing.T) {
	tab, err := IANA()
	if err != nil {
		t.Fatal(err)
	}
	if tab[3].Status != "LEGACY" || tab[3].Date != time.Date(1994, 5, 1, 0, 0, 0, 0, time.UTC) {
		t.Errorf("3/8 = %+v, want LEGACY 1994-05", tab[3])
	}
	if tab[10].Status != "RESERVED" {
		t.Errorf("10/8 status %q", tab[10].Status)
	}
}

func TestAllocatedBy(t *testing.T) {
	mid2001, err := AllocatedBy(time.Date(2001, 7, 19, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	has := map[uint8]bool{}
	for _, p := range mid2001 {
		has[uint8(p.Addr()>>24)] = true
	}
	// 24/8, 61/8, 80/8 and 198/8 (the flood target's block)
	// were allocated by July 2001; 1/8 (2010), 41/8 (2005) and 10/8 not.
	// 200/8 is dated 2002-11 (LACNIC) though parts were in use earlier: the
	// rule takes the registry date as written.
	for _, b := range []uint8{3, 24, 61, 80, 128, 198} {
		if !has[b] {
			t.Errorf("%d/8 missing from blocks allocated by July 2001", b)
		}
	}
	for _, b := range []uint8{0, 1, 10, 41, 127, 224} {
		if has[b] {
			t.Errorf("%d/8 should not be allocated by July 2001", b)
		}
	}
	now, _ := AllocatedBy(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	// Every /8 but the 35 reserved ones (0, 10, 127 and 224-255) is allocated today.
	if len(now) != 256-35 {
		t.Errorf("allocated today: %d blocks, want %d", len(now), 256-35)
	}
	if len(mid2001) >= len(now) || len(mid2001) < 100 {
		t.Errorf("allocated by July 2001: %d blocks", len(mid2001))
	}
	t.Logf("allocated by July 2001: %d /8s", len(mid2001))
}

func TestPlaceUniform(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	blocks := []Prefix{MustParsePrefix("24.0.0.0/8"), MustParsePrefix("61.0.0.0/8")}
	hosts, err := PlaceUniform(100000, blocks, rng)
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 100000 || !slices.IsSorted(hosts) {
		t.Fatalf("got %d hosts, sorted=%v", len(hosts), slices.IsSorted(hosts))
	}
	in24 := 0
	for i, h := range hosts {
		if i > 0 && h == hosts[i-1] {
			t.Fatal("repeated host")
		}
		if !blocks[0].Contains(h) && !blocks[1].Contains(h) {
			t.Fatalf("host %v outside the blocks", h)
		}
		if blocks[0].Contains(h) {
			in24++
		}
	}
	// Equal blocks: the count in 24/8 is binomial(1e5, 1/2), sd 158; 5 sd.
	if d := in24 - 50000; d < -790 || d > 790 {
		t.Errorf("%d hosts in 24/8, want 50000 +- 790", in24)
	}
	// A full block is all of it.
	all, err := PlaceUniform(256, []Prefix{MustParsePrefix("10.0.0.0/24")}, rng)
	if err != nil || len(all) != 256 || all[0] != MustParseAddr("10.0.0.0") || all[255] != MustParseAddr("10.0.0.255") {
		t.Errorf("full /24: %v, %v", len(all), err)
	}
	if _, err := PlaceUniform(257, []Prefix{MustParsePrefix("10.0.0.0/24")}, rng); err == nil {
		t.Error("257 hosts in a /24 must fail")
	}
}
