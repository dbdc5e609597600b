package ipspace

import (
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
