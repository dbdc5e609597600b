// Package loadgen floods a server on this machine with worm probes and
// legitimate requests at once, to measure what a shield saves: the probes
// arrive as Code Red II sends them, each on a new connection, while
// keep-alive clients time ordinary requests. It refuses any target outside
// the loopback range, and every run is bounded in duration and in count.
package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Bounds on a run, whatever the configuration asks.
const (
	MaxDuration  = 10 * time.Minute
	MaxRequests  = 10_000_000
	MaxProbeRate = 100_000 // probes a second

	DefaultDuration     = 10 * time.Second
	DefaultRequests     = 2_000_000
	DefaultLegitRate    = 200
	DefaultLegitConns   = 8
	DefaultProbeWorkers = 64
	DefaultProbeTimeout = time.Second
)

// Config is one load run.
type Config struct {
	// Target is the base URL of the server under test; its host must be a
	// loopback address (127.0.0.0/8, ::1) or "localhost".
	Target   string
	Duration time.Duration // wall-clock bound (default DefaultDuration, at most MaxDuration)
	Requests int64         // bound on probes plus legitimate requests (default DefaultRequests, at most MaxRequests)

	// ProbeRate is the Code Red II probes a second, each on a new
	// connection; 0 sends none. ProbeWorkers connections are in flight at
	// most (default DefaultProbeWorkers); when all are busy a due probe is
	// skipped and counted, so the achieved rate is reported, not assumed.
	// A probe waits ProbeTimeout (default DefaultProbeTimeout) for the
	// server to answer or close; past it the connection counts as held.
	ProbeRate    float64
	ProbeWorkers int
	ProbeTimeout time.Duration

	// LegitRate is legitimate GETs a second for LegitPath (default "/"),
	// spread over LegitConns keep-alive connections (defaults
	// DefaultLegitRate, DefaultLegitConns). Latency is measured from when
	// each request was due, not when it was sent, so a stalled server
	// shows up in the percentiles instead of slowing the schedule.
	LegitRate  float64
	LegitConns int
	LegitPath  string

	// UpstreamStats, if set, is the stats URL of an Upstream (on loopback
	// too); the run reports what it received.
	UpstreamStats string
}

// Result is what a run saw.
type Result struct {
	Elapsed time.Duration
	// BudgetSpent reports whether the run ended because Config.Requests
	// were all sent, rather than at Config.Duration or on cancellation.
	BudgetSpent bool
	Legit       LegitResult
	Probes      ProbeResult
	// Upstream is what the upstream received during the run (nil without
	// Config.UpstreamStats).
	Upstream *UpstreamStats
	// CPU is this process's user+system CPU time during the run, which
	// includes an in-process upstream if there is one.
	CPU time.Duration
}

// LegitResult summarises the legitimate requests.
type LegitResult struct {
	Sent, OK, Failed int64 // OK: status 200
	Latency          Percentiles
}

// Percentiles of a latency sample (nearest rank).
type Percentiles struct {
	P50, P90, P99, P999, Max time.Duration
}

// ProbeResult summarises the probes.
type ProbeResult struct {
	Due       int64   // probes the schedule asked for
	Sent      int64   // connected and written
	Skipped   int64   // due while every worker was busy
	ConnFail  int64   // could not connect
	Closed    int64   // the server closed or reset without a response
	Responded int64   // the server sent a response (see Status)
	Held      int64   // no answer and no close within ProbeTimeout
	Rate      float64 // probes sent a second
	Status    map[int]int64
}

// CheckLoopback returns an error unless target is an http URL whose host is
// a loopback address or "localhost".
func CheckLoopback(target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("target %q: %w", target, err)
	}
	if u.Scheme != "http" {
		return fmt.Errorf("target %q: want an http:// URL", target)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return fmt.Errorf("target %q: host must be a loopback IP address or localhost, not a name", target)
	}
	if !a.Unmap().IsLoopback() {
		return fmt.Errorf("target %q: %s is not a loopback address (127.0.0.0/8 or ::1); loadgen floods only this machine", target, a)
	}
	return nil
}

// dialAttempts counts connections the loadgen tried to open, loopback or
// not, so tests can see that a refusal came before any attempt.
var dialAttempts atomic.Int64

// loopbackDialer refuses, at connect time, any address outside loopback:
// a second line of defence should a redirect or a name lead elsewhere.
var loopbackDialer = &net.Dialer{
	Timeout: 2 * time.Second,
	Control: func(network, address string, _ syscall.RawConn) error {
		dialAttempts.Add(1)
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			return fmt.Errorf("loadgen: refusing to connect to %s: not loopback", address)
		}
		return nil
	},
}

// CodeRedIIRequest returns the bytes one Code Red II probe sends: the request
// line of docs/DESIGN.md §6, the worm's two headers, and a body of the
// length it announces. The worm's body is its code; this one is zero bytes
// of the same length, so the server reads as much but runs nothing.
func CodeRedIIRequest() []byte {
	const shell = "%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u6858%ucbd3%u7801%u9090%u9090%u8190%u00c3%u0003%u8b00%u531b%u53ff%u0078%u0000%u00=a"
	const bodyLen = 3379
	var b bytes.Buffer
	b.WriteString("GET /default.ida?" + strings.Repeat("X", 224) + shell + " HTTP/1.0\r\n")
	b.WriteString("Content-type: text/xml\r\n")
	fmt.Fprintf(&b, "Content-length: %d \r\n\r\n", bodyLen) // the worm's trailing space
	b.Write(make([]byte, bodyLen))
	return b.Bytes()
}

// Validate fills in defaults and returns an error if c is out of bounds or
// its target is not on loopback. Run calls it.
func (c *Config) Validate() error {
	if err := CheckLoopback(c.Target); err != nil {
		return err
	}
	if c.UpstreamStats != "" {
		if err := CheckLoopback(c.UpstreamStats); err != nil {
			return fmt.Errorf("upstream stats: %w", err)
		}
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Requests == 0 {
		c.Requests = DefaultRequests
	}
	if c.LegitConns == 0 {
		c.LegitConns = DefaultLegitConns
	}
	if c.ProbeWorkers == 0 {
		c.ProbeWorkers = DefaultProbeWorkers
	}
	if c.ProbeTimeout == 0 {
		c.ProbeTimeout = DefaultProbeTimeout
	}
	if c.LegitPath == "" {
		c.LegitPath = "/"
	}
	switch {
	case c.Duration < 0 || c.Duration > MaxDuration:
		return fmt.Errorf("duration %v: want up to %v", c.Duration, MaxDuration)
	case c.Requests < 0 || c.Requests > MaxRequests:
		return fmt.Errorf("requests %d: want up to %d", c.Requests, MaxRequests)
	case c.ProbeRate < 0 || c.ProbeRate > MaxProbeRate:
		return fmt.Errorf("probe rate %v: want 0 to %d a second", c.ProbeRate, MaxProbeRate)
	case c.LegitRate < 0 || c.LegitRate > MaxProbeRate:
		return fmt.Errorf("legit rate %v: want 0 to %d a second", c.LegitRate, MaxProbeRate)
	case c.LegitConns < 0 || c.ProbeWorkers < 0 || c.ProbeTimeout < 0:
		return errors.New("negative connection count or timeout")
	case c.LegitRate == 0 && c.ProbeRate == 0:
		return errors.New("nothing to send: both rates are 0")
	case !strings.HasPrefix(c.LegitPath, "/"):
		return fmt.Errorf("legit path %q must start with /", c.LegitPath)
	}
	return nil
}

// Run sends the load described by c until its duration passes, its request
// budget is spent or ctx is cancelled, whichever comes first.
func Run(ctx context.Context, c Config) (Result, error) {
	if err := c.Validate(); err != nil {
		return Result{}, err
	}
	u, _ := url.Parse(c.Target)
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	if u.Hostname() == "localhost" {
		addr = net.JoinHostPort("127.0.0.1", u.Port())
	}
	var before *UpstreamStats
	if c.UpstreamStats != "" {
		s, err := FetchStats(ctx, c.UpstreamStats)
		if err != nil {
			return Result{}, err
		}
		before = &s
	}
	ctx, cancel := context.WithTimeout(ctx, c.Duration)
	defer cancel()
	var budget atomic.Int64
	budget.Store(c.Requests)
	take := func() bool { return budget.Add(-1) >= 0 }

	cpu0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	var legit legitRun
	var probes probeRun
	if c.LegitRate > 0 {
		legit.start(ctx, &wg, c, "http://"+addr+c.LegitPath, take)
	}
	if c.ProbeRate > 0 {
		probes.start(ctx, &wg, c, addr, take)
	}
	wg.Wait()
	res := Result{Elapsed: time.Since(start), CPU: cpuTime() - cpu0, BudgetSpent: ctx.Err() == nil}
	res.Legit = legit.result()
	res.Probes = probes.result(res.Elapsed)
	if before != nil {
		// The upstream may still be finishing requests the run sent; give
		// it a moment so they are counted.
		time.Sleep(100 * time.Millisecond)
		after, err := FetchStats(context.Background(), c.UpstreamStats)
		if err != nil {
			return res, err
		}
		d := after.Sub(*before)
		res.Upstream = &d
	}
	return res, nil
}

// legitRun times keep-alive legitimate requests.
type legitRun struct {
	mu      sync.Mutex
	lat     []time.Duration
	ok, bad atomic.Int64
}

func (l *legitRun) start(ctx context.Context, wg *sync.WaitGroup, c Config, target string, take func() bool) {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         loopbackDialer.DialContext,
		MaxIdleConnsPerHost: c.LegitConns,
		MaxConnsPerHost:     c.LegitConns,
		DisableCompression:  true,
	}
	client := &http.Client{
		Transport: tr,
		Timeout:   10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // never follow a server elsewhere
		},
	}
	interval := time.Duration(float64(time.Second) * float64(c.LegitConns) / c.LegitRate)
	for w := range c.LegitConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer tr.CloseIdleConnections()
			// Stagger the connections' schedules across one interval.
			due := time.Now().Add(interval * time.Duration(w) / time.Duration(c.LegitConns))
			for {
				if d := time.Until(due); d > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(d):
					}
				}
				if dl, ok := ctx.Deadline(); ok && !due.Before(dl) || ctx.Err() != nil || !take() {
					return // the deadline itself, as for probes
				}
				// A request started before the end of the run finishes
				// (bounded by the client's timeout), so what the client
				// counts and what the upstream received agree.
				ok := l.one(context.WithoutCancel(ctx), client, target)
				lat := time.Since(due)
				l.mu.Lock()
				l.lat = append(l.lat, lat)
				l.mu.Unlock()
				if ok {
					l.ok.Add(1)
				} else {
					l.bad.Add(1)
				}
				due = due.Add(interval)
			}
		}()
	}
}

func (l *legitRun) one(ctx context.Context, client *http.Client, target string) bool {
	req, err := http.NewRequestWithContext(ctx, "GET", target, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return err == nil && resp.StatusCode == http.StatusOK
}

func (l *legitRun) result() LegitResult {
	l.mu.Lock()
	defer l.mu.Unlock()
	return LegitResult{
		Sent: int64(len(l.lat)), OK: l.ok.Load(), Failed: l.bad.Load(),
		Latency: percentiles(l.lat),
	}
}

// percentiles returns nearest-rank percentiles of lat, sorting it.
func percentiles(lat []time.Duration) Percentiles {
	if len(lat) == 0 {
		return Percentiles{}
	}
	slices.Sort(lat)
	at := func(q float64) time.Duration {
		i := int(q*float64(len(lat))+0.999999999) - 1 // nearest rank: ceil(q n)
		return lat[max(0, min(i, len(lat)-1))]
	}
	return Percentiles{P50: at(0.50), P90: at(0.90), P99: at(0.99), P999: at(0.999), Max: lat[len(lat)-1]}
}

// probeRun sends Code Red II probes, each on a new connection.
type probeRun struct {
	due, sent, skipped, connFail, closed, responded, held atomic.Int64
	mu                                                    sync.Mutex
	status                                                map[int]int64
}

func (p *probeRun) start(ctx context.Context, wg *sync.WaitGroup, c Config, addr string, take func() bool) {
	p.status = map[int]int64{}
	req := CodeRedIIRequest()
	jobs := make(chan struct{}, c.ProbeWorkers)
	for range c.ProbeWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 512)
			for range jobs {
				p.one(addr, req, buf, c.ProbeTimeout)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(jobs)
		start := time.Now()
		for i := int64(0); ; i++ {
			// Probe i is due at start + i/rate; sleeping to each due time
			// and sending every probe already due keeps the average rate
			// exact even when a sleep overshoots.
			due := start.Add(time.Duration(float64(i) / c.ProbeRate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
			// The run's deadline, not ctx.Err(), ends the schedule: the
			// context learns of its deadline from a timer, which a busy
			// machine runs late, while a schedule behind time would go
			// on counting probes due after the end.
			if dl, ok := ctx.Deadline(); ok && !due.Before(dl) {
				return
			}
			if ctx.Err() != nil || !take() {
				return
			}
			p.due.Add(1)
			select {
			case jobs <- struct{}{}:
			default:
				p.skipped.Add(1)
			}
		}
	}()
}

func (p *probeRun) one(addr string, req, buf []byte, timeout time.Duration) {
	conn, err := loopbackDialer.Dial("tcp", addr)
	if err != nil {
		p.connFail.Add(1)
		return
	}
	// Close with a reset, as the server-side drop does: at thousands of
	// connections a second, TIME_WAIT on this side would use up the
	// ephemeral ports in seconds.
	defer func() {
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	}()
	p.sent.Add(1)
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write(req); err != nil {
		if isTimeout(err) {
			p.held.Add(1)
		} else {
			p.closed.Add(1) // reset while sending: dropped
		}
		return
	}
	n, err := io.ReadAtLeast(conn, buf, 12) // "HTTP/1.x NNN"
	switch {
	case n >= 12 && bytes.HasPrefix(buf, []byte("HTTP/1.")):
		p.responded.Add(1)
		code := 0
		fmt.Sscanf(string(buf[9:12]), "%d", &code)
		p.mu.Lock()
		p.status[code]++
		p.mu.Unlock()
	case isTimeout(err):
		p.held.Add(1)
	default:
		p.closed.Add(1)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (p *probeRun) result(elapsed time.Duration) ProbeResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := ProbeResult{
		Due: p.due.Load(), Sent: p.sent.Load(), Skipped: p.skipped.Load(), ConnFail: p.connFail.Load(),
		Closed: p.closed.Load(), Responded: p.responded.Load(), Held: p.held.Load(),
		Status: map[int]int64{},
	}
	for k, v := range p.status {
		r.Status[k] = v
	}
	if elapsed > 0 {
		r.Rate = float64(r.Sent) / elapsed.Seconds()
	}
	return r
}

// FetchStats reads an Upstream's counters from its stats URL.
func FetchStats(ctx context.Context, statsURL string) (UpstreamStats, error) {
	if err := CheckLoopback(statsURL); err != nil {
		return UpstreamStats{}, err
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DialContext: loopbackDialer.DialContext}, Timeout: 5 * time.Second}
	req, err := http.NewRequestWithContext(ctx, "GET", statsURL, nil)
	if err != nil {
		return UpstreamStats{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return UpstreamStats{}, fmt.Errorf("upstream stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return UpstreamStats{}, fmt.Errorf("upstream stats %s: %s", statsURL, resp.Status)
	}
	var s UpstreamStats
	if err := json.NewDecoder(bufio.NewReader(resp.Body)).Decode(&s); err != nil {
		return UpstreamStats{}, fmt.Errorf("upstream stats %s: %w", statsURL, err)
	}
	return s, nil
}
