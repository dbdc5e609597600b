package shield

import (
	"net/netip"
	"testing"
	"time"
)

func addrN(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{198, byte(i >> 16), byte(i >> 8), byte(i)})
}

// TestBanTableBound floods a small table with far more distinct sources than
// it holds: its size must not change, nothing may be allocated per probe,
// and bans imposed before the flood must survive it, because unbanned
// entries are evicted first.
func TestBanTableBound(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	tab := newBanTable(1024, 3, time.Minute, time.Hour)
	if tab.capacity() != 1024 {
		t.Fatalf("capacity %d, want 1024", tab.capacity())
	}
	// 100 banned sources fill on average 100/128 slots of a bucket; a
	// bucket holding all 8 of them has probability far below 1e-9.
	const banned = 100
	for i := range banned {
		for range 3 {
			tab.probe(addrN(i), t0)
		}
	}
	if n, _ := tab.stats(); n != banned {
		t.Fatalf("%d active bans, want %d", n, banned)
	}
	const flood = 200_000
	i := banned
	allocs := testing.AllocsPerRun(flood, func() {
		tab.probe(addrN(i), t0.Add(time.Second))
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per probe, want 0", allocs)
	}
	if len(tab.buckets) != 128 {
		t.Errorf("table grew to %d buckets", len(tab.buckets))
	}
	for j := range banned {
		if !tab.banned(addrN(j), t0.Add(time.Minute)) {
			t.Fatalf("source %d lost its ban to the flood", j)
		}
	}
	_, evicted := tab.stats()
	// All but the 1024-100 free slots of new sources evicted someone; the
	// extra run is AllocsPerRun's warm-up call.
	if want := uint64(flood + 1 - (1024 - banned)); evicted != want {
		t.Errorf("%d evictions, want %d", evicted, want)
	}
}

// TestBanTableBannedFlood has every source banned at its first probe, so
// eviction must fall back to the ban that ends soonest, and the count of
// active bans must stay within the table.
func TestBanTableBannedFlood(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	tab := newBanTable(64, 1, time.Minute, time.Hour)
	for i := range 10_000 {
		if !tab.probe(addrN(i), t0.Add(time.Duration(i)*time.Millisecond)) {
			t.Fatalf("probe %d did not ban", i)
		}
	}
	if n, _ := tab.stats(); n != 64 {
		t.Errorf("%d active bans in a 64-entry table, want 64", n)
	}
	// The latest source is still banned; the first was evicted.
	now := t0.Add(20 * time.Second)
	if !tab.banned(addrN(9_999), now) || tab.banned(addrN(0), now) {
		t.Errorf("eviction kept the wrong bans")
	}
	tab.sweep(t0.Add(2 * time.Hour))
	if n, _ := tab.stats(); n != 0 {
		t.Errorf("%d active bans after they all ended, want 0", n)
	}
}

// TestBanWindow checks that probes spread wider than the window never ban.
func TestBanWindow(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	tab := newBanTable(16, 3, time.Minute, time.Hour)
	src := netip.MustParseAddr("2001:db8::7")
	for i := range 10 {
		if tab.probe(src, t0.Add(time.Duration(i)*31*time.Second)) {
			// Probes 31 s apart: two fit in a minute, three never do.
			t.Fatalf("probe %d banned with probes 31 s apart and a 3-in-1-min rule", i)
		}
	}
	if tab.banned(src, t0.Add(10*31*time.Second)) {
		t.Error("banned")
	}
	for i := range 3 {
		tab.probe(src, t0.Add(time.Hour+time.Duration(i)*time.Second))
	}
	if !tab.banned(src, t0.Add(time.Hour+5*time.Second)) {
		t.Error("three probes in 3 s did not ban")
	}
}
