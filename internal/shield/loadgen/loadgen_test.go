package loadgen

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wormlab/wormlab/internal/shield"
)

func TestCheckLoopback(t *testing.T) {
	for _, ok := range []string{
		"http://127.0.0.1:8080", "http://127.0.0.1", "http://127.9.9.9/x", "http://[::1]:80/", "http://localhost:8080",
		"http://[::ffff:127.0.0.1]:80",
	} {
		if err := CheckLoopback(ok); err != nil {
			t.Errorf("CheckLoopback(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{
		"http://10.0.0.1:8080", "http://192.168.1.1/", "http://172.16.0.1", "http://8.8.8.8", "http://198.137.240.91/",
		"http://0.0.0.0:8080", "http://[::]:80", "http://[2001:db8::1]/", "http://[fe80::1%25lo]/",
		"http://example.com", "http://localhost.example.com", "http://127.0.0.1.nip.io/",
		"https://127.0.0.1", "127.0.0.1:8080", "", "http://[::ffff:10.0.0.1]/",
	} {
		if err := CheckLoopback(bad); err == nil {
			t.Errorf("CheckLoopback(%q) accepted a non-loopback target", bad)
		}
	}
}

// TestRefusesNonLoopback checks both lines of defence: Run refuses before
// sending anything, and the dialer refuses before connecting.
func TestRefusesNonLoopback(t *testing.T) {
	for _, target := range []string{"http://10.1.2.3:80", "http://192.0.2.1:8080"} {
		before := dialAttempts.Load()
		_, err := Run(context.Background(), Config{Target: target, ProbeRate: 1000, Duration: time.Second})
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("Run(%s) = %v, want a refusal naming loopback", target, err)
		}
		if n := dialAttempts.Load() - before; n != 0 {
			t.Errorf("Run(%s) tried %d connections before refusing: it must not try first", target, n)
		}
	}
	if _, err := Run(context.Background(), Config{Target: "http://127.0.0.1:1", LegitRate: 1, UpstreamStats: "http://10.0.0.1/s"}); err == nil {
		t.Error("a non-loopback stats URL was accepted")
	}
	c, err := loopbackDialer.Dial("tcp", "192.0.2.1:80")
	if err == nil {
		c.Close()
		t.Fatal("dialer connected to 192.0.2.1")
	}
	if !strings.Contains(err.Error(), "not loopback") {
		t.Errorf("dialer error %v, want a refusal", err)
	}
}

func TestBounds(t *testing.T) {
	for _, c := range []Config{
		{Target: "http://127.0.0.1:1", ProbeRate: 10, Duration: MaxDuration + time.Second},
		{Target: "http://127.0.0.1:1", ProbeRate: 10, Requests: MaxRequests + 1},
		{Target: "http://127.0.0.1:1", ProbeRate: MaxProbeRate + 1},
		{Target: "http://127.0.0.1:1"},
	} {
		if _, err := Run(context.Background(), c); err == nil {
			t.Errorf("Run(%+v) accepted", c)
		}
	}
}

// TestRunThroughShield runs a small flood through a shield and straight at
// the upstream. Through the shield the upstream must get every legitimate
// request and no probe; without it, every probe.
func TestRunThroughShield(t *testing.T) {
	up := NewUpstream(0)
	upSrv := httptest.NewServer(up)
	defer upSrv.Close()
	u, _ := shield.ParseUpstream(upSrv.URL)
	proxy, err := shield.NewProxy(u, shield.ProxyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(shield.Middleware(proxy, shield.Options{}))
	defer front.Close()

	for _, c := range []struct {
		name, target string
		shielded     bool
	}{{"shield", front.URL, true}, {"plain", upSrv.URL, false}} {
		t.Run(c.name, func(t *testing.T) {
			res, err := Run(context.Background(), Config{
				Target: c.target, Duration: time.Second,
				ProbeRate: 300, ProbeWorkers: 32,
				LegitRate: 100, LegitConns: 2,
				UpstreamStats: upSrv.URL + StatsPath,
			})
			if err != nil {
				t.Fatal(err)
			}
			p, l, us := res.Probes, res.Legit, res.Upstream
			t.Logf("%+v %+v %+v", p, l, us)
			// 300/s for 1 s: probe i is due at i/300 s, so i = 0..300 fall
			// within the run (301 when the last one, due at the deadline,
			// wins the race with it). A machine busy with other work may
			// stall the schedule or the workers (skipped probes), so only
			// half is demanded; every due probe is either sent or skipped.
			if p.Due < 150 || p.Due > 301 || p.Sent+p.Skipped != p.Due || p.Sent < 150 || p.ConnFail != 0 {
				t.Errorf("probes %+v: want 150..301 due, at least 150 sent, none failed", p)
			}
			if l.Sent < 80 || l.Failed != 0 || l.OK != l.Sent {
				t.Errorf("legit %+v: want about 100 sent, all OK", l)
			}
			if us.Legit != l.OK {
				t.Errorf("upstream got %d legit requests, the client %d OK", us.Legit, l.OK)
			}
			if c.shielded {
				if us.Probes != 0 || p.Closed != p.Sent {
					t.Errorf("through the shield: upstream got %d probes; %d of %d probes closed; want 0 and all", us.Probes, p.Closed, p.Sent)
				}
			} else if us.Probes != p.Sent || p.Status[404] != p.Sent {
				t.Errorf("plain: upstream got %d probes and answered %d with 404, of %d sent", us.Probes, p.Status[404], p.Sent)
			}
		})
	}
}

// TestRequestBudget checks that the count bound holds even when the rates
// would send far more.
func TestRequestBudget(t *testing.T) {
	up := httptest.NewServer(NewUpstream(0))
	defer up.Close()
	// At these rates the 40 requests are due within 40 ms; the run must
	// end because they are spent, not at its one-minute Duration (which
	// only a broken budget would reach).
	res, err := Run(context.Background(), Config{Target: up.URL, Duration: time.Minute, Requests: 40, ProbeRate: 1000, LegitRate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Probes.Due + res.Legit.Sent; n != 40 {
		t.Errorf("%d requests due, want the budget of 40", n)
	}
	if !res.BudgetSpent {
		t.Errorf("run ended after %v without spending its budget", res.Elapsed)
	}
}

func TestPercentiles(t *testing.T) {
	lat := make([]time.Duration, 1000)
	for i := range lat {
		lat[i] = time.Duration(1000-i) * time.Microsecond // 1..1000 µs, reversed
	}
	p := percentiles(lat)
	want := Percentiles{500 * time.Microsecond, 900 * time.Microsecond, 990 * time.Microsecond, 999 * time.Microsecond, 1000 * time.Microsecond}
	if p != want {
		t.Errorf("got %+v, want %+v", p, want)
	}
}
