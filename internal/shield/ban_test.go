package shield

import (
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
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

// TestBanTableOccupancy bans ever more sources in a 4,096-entry table, as
// `--ban-table 4096` does. Up to 90% occupancy no live ban may be lost
// (with one bucket of 8 per source, the old table lost bans from half
// occupancy on); past capacity exactly the surplus is lost, and counted;
// and bans that have ended make room before any live one goes.
func TestBanTableOccupancy(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	for seed := range 5 {
		tab := newBanTable(4096, 1, time.Minute, time.Minute)
		tab.seed = uint64(seed) // a repeatable layout
		const full = 4096 * 90 / 100
		for i := range full {
			tab.probe(addrN(seed<<20|i), t0)
		}
		if n, _ := tab.stats(); n != full || tab.lost.Load() != 0 {
			t.Fatalf("seed %d: %d of %d bans live, %d lost, at 90%% occupancy", seed, n, full, tab.lost.Load())
		}
		for i := full; i < 6000; i++ {
			tab.probe(addrN(seed<<20|i), t0)
		}
		// Nearly every slot ends up holding a live ban, and every ban
		// that does not is counted as lost.
		n, _ := tab.stats()
		if n < 4096*99/100 || n+int(tab.lost.Load()) != 6000 {
			t.Errorf("seed %d: 6,000 bans in 4,096 slots: %d live, %d lost; want at least 99%% full and the rest lost", seed, n, tab.lost.Load())
		}
		lost := tab.lost.Load()
		// A minute later all have ended: three quarters of the table in
		// new bans loses none (the ended ones make room first).
		for i := range 4096 * 3 / 4 {
			tab.probe(addrN(seed<<20|1<<19|i), t0.Add(2*time.Minute))
		}
		if tab.lost.Load() != lost {
			t.Errorf("seed %d: expired bans were not evicted first: %d live bans lost", seed, tab.lost.Load()-lost)
		}
	}
}

// TestBanIPv6Prefix checks that IPv6 sources are banned by /64 and IPv4
// ones by address.
func TestBanIPv6Prefix(t *testing.T) {
	t0 := time.Unix(1e9, 0)
	tab := newBanTable(64, 2, time.Minute, time.Hour)
	tab.probe(netip.MustParseAddr("2001:db8:1:2::1"), t0)
	tab.probe(netip.MustParseAddr("2001:db8:1:2:ffff::9"), t0)
	if !tab.banned(netip.MustParseAddr("2001:db8:1:2:abcd::"), t0) {
		t.Error("two probes from one /64 did not ban the /64")
	}
	if tab.banned(netip.MustParseAddr("2001:db8:1:3::1"), t0) {
		t.Error("the next /64 was banned too")
	}
	tab.probe(netip.MustParseAddr("192.0.2.1"), t0)
	tab.probe(netip.MustParseAddr("192.0.2.2"), t0)
	if tab.banned(netip.MustParseAddr("192.0.2.1"), t0) || tab.banned(netip.MustParseAddr("::ffff:192.0.2.2"), t0) {
		t.Error("IPv4 sources were grouped")
	}
	tab.probe(netip.MustParseAddr("::ffff:192.0.2.1"), t0)
	if !tab.banned(netip.MustParseAddr("192.0.2.1"), t0) {
		t.Error("an IPv4-mapped address is not the same source as the IPv4 one")
	}
}

// TestBanLogRateLimited bans ten sources within one second with two log
// lines a second allowed: two ban lines get through, and the next second's
// line reports the eight suppressed.
func TestBanLogRateLimited(t *testing.T) {
	clk := newFakeClock()
	var buf strings.Builder
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := New(Options{Logger: log, LogPerSecond: 2, BanAfter: 1, Clock: clk, Actions: map[string]Action{"*": NotFound}})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Wrap(&countingHandler{})
	probe := func(i int) {
		r := httptest.NewRequest("GET", codeRed2, nil)
		r.RemoteAddr = addrN(i).String() + ":4000"
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	for i := range 10 {
		probe(i)
	}
	clk.Advance(time.Second)
	probe(10)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[2], "suppressed=8") {
		t.Errorf("ban log:\n%s\nwant 2 lines, then one reporting 8 suppressed", buf.String())
	}
}
