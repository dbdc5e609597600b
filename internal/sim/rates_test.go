package sim

// Independent checks of the rates both engines share (clock.go and the
// life-cycle and calendar code each engine repeats). The engine-agreement
// tests cannot see a fault here, since it moves both engines together, so
// each test below compares a run with a law written down from the model's
// definition (the package comment and Config's fields), computed by the
// test itself without calling the code under test.
//
// Tolerances come from the sample size: every check is a z-score against
// a variance the law gives, compared with a normal quantile at a stated
// level, Bonferroni-corrected over the checks a test makes. Each test also
// logs the smallest relative rate error it detects with 80% power.

import (
	"math"
	"sort"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/wormlab/wormlab/internal/worm"
)

// alphaFamily is the chance, per test, that correct code fails it: each
// test splits it over its checks (Bonferroni).
const alphaFamily = 0.001

// zPower is the normal quantile for 80% power: a bias of (zc + zPower)
// standard errors is caught 80% of the time by a two-sided check at zc.
const zPower = 0.8416

// zLimit returns the two-sided normal critical value for one of k checks
// sharing the level alpha.
func zLimit(alpha float64, k int) float64 {
	return distuv.UnitNormal.Quantile(1 - alpha/(2*float64(k)))
}

// engines are the two engines, each run over the same checks.
var engines = []struct {
	name string
	run  func(*Config, uint64) (*Result, error)
}{{"event", RunEvent}, {"probe", RunProbe}}

// idle returns n susceptible hosts in a 2^16 space with scan rate 0 and no
// initial infection: nothing spreads, so only the life cycle moves hosts.
func idle(t *testing.T, n int, dur, step time.Duration) *Config {
	c := scaled(t, 16, n, 0, dur, step, worm.Uniform{})
	c.Initial = nil
	return c
}

// binomialRows checks, at every row, that the count got(row) summed over
// runs matches R runs of Binomial(n, p(t)), and returns the largest |z|.
// The sum over R independent runs has mean R n p and variance
// R n p (1 - p); a row where p is 0 or 1 must match exactly.
func binomialRows(t *testing.T, label string, rows [][]Row, n int, zc float64,
	got func(Row) int64, p func(sec float64) float64) float64 {
	t.Helper()
	runs := float64(len(rows))
	worst := 0.0
	for m := range rows[0] {
		sec := rows[0][m].At.Sub(rows[0][0].At).Seconds()
		q := p(sec)
		var sum float64
		for _, r := range rows {
			sum += float64(got(r[m]))
		}
		mean, sd := runs*float64(n)*q, math.Sqrt(runs*float64(n)*q*(1-q))
		if sd < 1e-9 {
			if math.Abs(sum-mean) > 0.5 {
				t.Errorf("%s at %.0f s: %.0f, want exactly %.0f", label, sec, sum, mean)
			}
			continue
		}
		z := (sum - mean) / sd
		worst = max(worst, math.Abs(z))
		if math.Abs(z) > zc {
			t.Errorf("%s at %.0f s: %.0f over %d runs, law %.1f +- %.1f (z = %.1f, limit %.2f)",
				label, sec, sum, len(rows), mean, sd, z, zc)
		}
	}
	return worst
}

// TestPatchingIsADeathProcess: with nothing spreading, every susceptible
// host is patched at the rate PatchRate + the schedule's rate in force,
// independently of the others, so the susceptible count at t is
// Binomial(N, exp(-Lambda(t))), Lambda the integrated per-host rate. The
// schedule here switches on at 400 s and off at 700 s.
//
// Law checked at each of 101 rows, in 100 runs per engine; also the
// variance at 1,000 s against the binomial's (chi-square, 99 degrees of
// freedom), which a fault that patches hosts together would double.
func TestPatchingIsADeathProcess(t *testing.T) {
	heavy(t)
	const n, runs = 5000, 100
	const p, s = 1e-3, 2e-3 // per second
	c := idle(t, n, 1000*time.Second, 10*time.Second)
	c.Life.PatchRate = p
	c.Life.PatchSchedule = []RateStep{{From: t0.Add(400 * time.Second), PerSecond: s}, {From: t0.Add(700 * time.Second), PerSecond: 0}}
	lambda := func(sec float64) float64 { return p*sec + s*max(0, min(sec, 700)-400) }
	surv := func(sec float64) float64 { return math.Exp(-lambda(sec)) }
	zc := zLimit(alphaFamily, 2*101)
	for _, e := range engines {
		var rows [][]Row
		var last []float64
		for seed := range runs {
			r, err := e.run(c, uint64(seed))
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, r.Rows)
			last = append(last, float64(r.Rows[100].Susceptible))
		}
		worst := binomialRows(t, e.name+" susceptible", rows, n, zc, func(r Row) int64 { return r.Susceptible }, surv)
		binomialRows(t, e.name+" patched", rows, n, zc, func(r Row) int64 { return r.Patched }, func(sec float64) float64 { return 1 - surv(sec) })
		// The mean at 1,000 s moves by -N q Lambda per unit of relative
		// error in every patch rate (q = exp(-Lambda)).
		q := surv(1000)
		bias := (zc + zPower) * math.Sqrt(n*q*(1-q)/runs) / (n * q * lambda(1000))
		t.Logf("%s: largest |z| %.2f (limit %.2f); detects a %.1f%% error in the patch rates at 1,000 s", e.name, worst, zc, 100*bias)
		// s^2 / sigma^2 is chi-square with R-1 degrees of freedom.
		var m, ss float64
		for _, x := range last {
			m += x / runs
		}
		for _, x := range last {
			ss += (x - m) * (x - m)
		}
		x2 := ss / (n * q * (1 - q))
		chi := distuv.ChiSquared{K: runs - 1}
		if lo, hi := chi.Quantile(alphaFamily/2), chi.Quantile(1-alphaFamily/2); x2 < lo || x2 > hi {
			t.Errorf("%s: variance of the susceptible count at 1,000 s is %.2f times the binomial's (chi-square %.1f outside [%.1f, %.1f])",
				e.name, x2/(runs-1), x2, lo, hi)
		}
	}
}

// TestInfectedHostsLeaveByLaw: every host starts infected with scan rate
// 0. Clean-up (gamma, to Removed) and reboots (rho, to Susceptible) race
// as independent exponentials; a rebooted host is then patched at rate p.
// Each host's state at t is an independent draw from
//
//	infected    e^{-ct}, c = gamma + rho
//	removed     gamma/c (1 - e^{-ct})
//	patched     rho [ (1 - e^{-ct})/c - e^{-pt} (1 - e^{-(c-p)t})/(c-p) ]
//	susceptible the rest,
//
// so each count is binomial; checked at every row in 40 runs per engine.
// gamma and rho differ by a factor 2 so that swapping their outcomes shows.
func TestInfectedHostsLeaveByLaw(t *testing.T) {
	heavy(t)
	const n, runs = 5000, 40
	const gamma, rho, p = 1e-3, 2e-3, 1.5e-3
	c := idle(t, n, 1000*time.Second, 20*time.Second)
	c.Initial = make([]int32, n)
	for i := range c.Initial {
		c.Initial[i] = int32(i)
	}
	c.Life = Life{CleanupRate: gamma, RebootRate: rho, PatchRate: p}
	const cc = gamma + rho
	law := map[string]func(float64) float64{
		"infected": func(t float64) float64 { return math.Exp(-cc * t) },
		"removed":  func(t float64) float64 { return gamma / cc * (1 - math.Exp(-cc*t)) },
		"patched": func(t float64) float64 {
			return rho * ((1-math.Exp(-cc*t))/cc - math.Exp(-p*t)*(1-math.Exp(-(cc-p)*t))/(cc-p))
		},
	}
	law["susceptible"] = func(t float64) float64 { return 1 - law["infected"](t) - law["removed"](t) - law["patched"](t) }
	count := map[string]func(Row) int64{
		"infected": func(r Row) int64 { return r.Infected }, "removed": func(r Row) int64 { return r.Removed },
		"patched": func(r Row) int64 { return r.Patched }, "susceptible": func(r Row) int64 { return r.Susceptible },
	}
	zc := zLimit(alphaFamily, 4*51)
	for _, e := range engines {
		var rows [][]Row
		for seed := range runs {
			r, err := e.run(c, uint64(seed))
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, r.Rows)
		}
		worst := 0.0
		for _, st := range []string{"infected", "removed", "patched", "susceptible"} {
			worst = max(worst, binomialRows(t, e.name+" "+st, rows, n, zc, count[st], law[st]))
		}
		// A relative error d in gamma moves the removed share at 1,000 s by
		// about d gamma/c (1 - e^{-ct}) rho/c + d gamma t e^{-ct} gamma/c.
		q := law["removed"](1000)
		sens := gamma / cc * ((1-math.Exp(-cc*1000))*rho/cc + 1000*math.Exp(-cc*1000)*gamma)
		t.Logf("%s: largest |z| %.2f (limit %.2f); detects a %.1f%% error in the clean-up rate", e.name, worst, zc,
			100*(zc+zPower)*math.Sqrt(q*(1-q)/(n*runs))/sens)
	}
}

// TestLifetimesExact: every host starts infected, scan rate 0, each with
// its own lifetime (not on the grid). A copy's host must leave at exactly
// its infection time plus its lifetime, so the infected count at row m is
// the number of lifetimes >= t_m, with no tolerance, in both engines and
// for both states a host can go to afterwards.
func TestLifetimesExact(t *testing.T) {
	const n = 400
	for _, after := range []State{Removed, Susceptible} {
		c := idle(t, n, 1000*time.Second, 10*time.Second)
		c.Initial = make([]int32, n)
		c.Lifetime = make([]float64, n)
		for i := range n {
			c.Initial[i] = int32(i)
			c.Lifetime[i] = 3 + 2.37*float64(i)
		}
		c.AfterLifetime = after
		for _, e := range engines {
			r, err := e.run(c, 1)
			if err != nil {
				t.Fatal(err)
			}
			for m, row := range r.Rows {
				tm := float64(m) * 10
				want := int64(0)
				for _, l := range c.Lifetime {
					if l >= tm {
						want++
					}
				}
				left := row.Removed
				if after == Susceptible {
					left = row.Susceptible
				}
				if row.Infected != want || left != n-want {
					t.Fatalf("%s, after %v: at %.0f s %d infected and %d left, want %d and %d",
						e.name, after, tm, row.Infected, left, want, n-want)
				}
			}
		}
	}
}

// calendarProbes returns the expected probes per row when every host is
// infected from the start and scans at rate r while its own clock (UTC
// plus its offset) reads a Code Red I spreading day (1-19 of the month),
// written out here rather than taken from worm.CodeRedI. Nobody can be
// infected, so every probe misses and the probe count of a row is Poisson
// with this mean.
func calendarProbes(c *Config, r float64) []float64 {
	step := c.Step.Seconds()
	nrow := int(c.Duration/c.Step) + 1
	want := make([]float64, nrow)
	for h := range c.Hosts {
		off := 0.0
		if c.ClockOffset != nil {
			off = c.ClockOffset[h]
		}
		// Spreading intervals in run seconds: walk the day boundaries.
		clock0 := c.Start.Add(secondsToDuration(off))
		day0 := time.Date(clock0.Year(), clock0.Month(), clock0.Day(), 0, 0, 0, 0, time.UTC)
		for d := day0; d.Before(clock0.Add(c.Duration + 24*time.Hour)); d = d.AddDate(0, 0, 1) {
			if d.Day() > 19 {
				continue
			}
			a := d.Sub(clock0).Seconds()
			b := a + 24*3600
			for m := 1; m < nrow; m++ {
				lo, hi := max(a, float64(m-1)*step), min(b, float64(m)*step)
				if hi > lo {
					want[m] += r * (hi - lo)
				}
			}
		}
	}
	return want
}

// TestCalendarBoundaries: the shared calendar and per-host calendars
// (clocks off by up to 3 hours either way) stop and start exactly the
// expected hosts at exactly their midnights. Every host is infected and
// scans at rate r, so a row's probe count is Poisson with the mean
// calendarProbes gives; rows with mean 0 must be exactly 0. Each engine,
// each mode, two windows: 19-20 July (spread to flood) and 31 July to
// 1 August (dormant to spread). The run's total is checked too, where a
// boundary off by one row for every host is clearest.
func TestCalendarBoundaries(t *testing.T) {
	heavy(t)
	const n, r = 200, 0.5
	for _, start := range []time.Time{time.Date(2001, 7, 19, 22, 0, 0, 0, time.UTC), time.Date(2001, 7, 31, 22, 0, 0, 0, time.UTC)} {
		for _, perHost := range []bool{false, true} {
			c := scaled(t, 16, n, r, 4*time.Hour, time.Minute, worm.Uniform{})
			c.Start, c.Calendar = start, worm.CodeRedI{}
			c.Initial = make([]int32, n)
			for i := range n {
				c.Initial[i] = int32(i)
			}
			if perHost {
				c.ClockOffset = make([]float64, n)
				for i := range n {
					c.ClockOffset[i] = -3*3600 + 6*3600*float64(i)/n + 17.3
				}
			}
			want := calendarProbes(c, r)
			zc := zLimit(alphaFamily, 2*(len(want)+1))
			for _, e := range engines {
				res, err := e.run(c, 5)
				if err != nil {
					t.Fatal(err)
				}
				var got, total float64
				worst := 0.0
				for m, row := range res.Rows {
					got += float64(row.Probes)
					total += want[m]
					if want[m] == 0 {
						if row.Probes != 0 {
							t.Errorf("%s %v per-host %v: %d probes in the row at %v, where no host spreads", e.name, start, perHost, row.Probes, row.At)
						}
						continue
					}
					z := (float64(row.Probes) - want[m]) / math.Sqrt(want[m])
					worst = max(worst, math.Abs(z))
					if math.Abs(z) > zc {
						t.Errorf("%s %v per-host %v: row at %v has %d probes, law %.0f (z = %.1f, limit %.2f)",
							e.name, start, perHost, row.At, row.Probes, want[m], z, zc)
					}
				}
				z := (got - total) / math.Sqrt(total)
				if math.Abs(z) > zc {
					t.Errorf("%s %v per-host %v: %.0f probes in all, law %.0f (z = %.1f)", e.name, start, perHost, got, total, z)
				}
				// One row (60 s) late for every host moves the total by n r 60.
				t.Logf("%s %v per-host %v: largest |z| %.2f; total z %.2f; a boundary one row late for all hosts would give z = %.0f",
					e.name, start.Format("Jan 2"), perHost, worst, z, n*r*60/math.Sqrt(total))
			}
		}
	}
}

// TestWakeDelays: copies that slept through 31 July wake at their own
// midnight plus a delay uniform on [0, WakeDelayMax]. Every host starts
// infected (clocks off by up to an hour); the event engine's observer
// sees each copy start spreading, so the delays are checked one by one
// (none outside [0, max]; Kolmogorov-Smirnov against the uniform law).
// The probe engine is checked by its total probes: a host with midnight m
// scans r (T - m - D) in expectation, D the delay, so over the hosts the
// total has mean r sum(T - m - max/2) and variance mean + r^2 n max^2/12
// (Poisson noise plus the delays' spread).
func TestWakeDelays(t *testing.T) {
	heavy(t)
	const n, r, maxDelay = 500, 0.05, 2 * 3600.0
	c := scaled(t, 16, n, r, 5*time.Hour, time.Minute, worm.Uniform{})
	c.Start, c.Calendar = time.Date(2001, 7, 31, 22, 0, 0, 0, time.UTC), worm.CodeRedI{}
	c.WakeDelayMax = maxDelay
	c.Initial = make([]int32, n)
	c.ClockOffset = make([]float64, n)
	midnight := make([]float64, n) // run seconds at which host h's clock reads 1 August 00:00
	for i := range n {
		c.Initial[i] = int32(i)
		c.ClockOffset[i] = -1800 + 3600*float64(i)/n
		midnight[i] = 2*3600 - c.ClockOffset[i]
	}
	end := c.Duration.Seconds()

	rec := &spreadRecorder{}
	ce := *c
	ce.Observers = []Observer{rec}
	if _, err := RunEvent(&ce, 3); err != nil {
		t.Fatal(err)
	}
	var u []float64
	for _, ev := range rec.on {
		d := ev.t - midnight[ev.h]
		if d < 0 || d > maxDelay {
			t.Fatalf("event: host %d woke %.0f s after its midnight, want 0 to %.0f", ev.h, d, maxDelay)
		}
		u = append(u, d/maxDelay)
	}
	if len(u) != n {
		t.Fatalf("event: %d copies woke, want %d", len(u), n)
	}
	d, crit := ksUniform(u), ksCritical(alphaFamily, n)
	if d > crit {
		t.Errorf("event: wake delays not uniform: KS D = %.4f > %.4f", d, crit)
	}
	t.Logf("event: KS D = %.4f (limit %.4f at alpha %g)", d, crit, alphaFamily)

	var mean float64
	for _, m := range midnight {
		mean += r * (end - m - maxDelay/2)
	}
	sd := math.Sqrt(mean + r*r*n*maxDelay*maxDelay/12)
	const runs = 10
	var sum float64
	for seed := range runs {
		res, err := RunProbe(c, uint64(seed))
		if err != nil {
			t.Fatal(err)
		}
		for m, row := range res.Rows {
			if row.Probes > 0 && float64(m)*60 <= midnight[n-1] {
				t.Fatalf("probe: %d probes at %v, before any host's midnight", row.Probes, row.At)
			}
			sum += float64(row.Probes)
		}
	}
	zc := zLimit(alphaFamily, 1)
	z := (sum - runs*mean) / (sd * math.Sqrt(runs))
	if math.Abs(z) > zc {
		t.Errorf("probe: %.0f probes in %d runs, law %.0f +- %.0f (z = %.1f)", sum, runs, runs*mean, sd*math.Sqrt(runs), z)
	}
	// A relative error d in the delay moves the mean by r n d max/2.
	t.Logf("probe: z = %.2f; detects a %.1f%% error in the delay", z, 100*(zc+zPower)*sd*math.Sqrt(runs)/(runs*r*n*maxDelay/2))
}

type spreadEvent struct {
	t float64
	h int32
}

// spreadRecorder keeps the times copies start spreading after the run
// began.
type spreadRecorder struct {
	started bool
	on      []spreadEvent
}

func (s *spreadRecorder) Spreading(t float64, h int32, on bool) {
	if on && s.started {
		s.on = append(s.on, spreadEvent{t, h})
	}
}
func (s *spreadRecorder) Changed(float64, int32, State, State) {}
func (s *spreadRecorder) Advance(Stretch)                      { s.started = true }

// ksUniform returns the Kolmogorov-Smirnov distance of xs from U(0, 1).
func ksUniform(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	d := 0.0
	for i, x := range s {
		n := float64(len(s))
		d = max(d, float64(i+1)/n-x, x-float64(i)/n)
	}
	return d
}

// ksCritical is the asymptotic one-sample KS critical value at level
// alpha: sqrt(-ln(alpha/2)/2) / sqrt(n).
func ksCritical(alpha float64, n int) float64 {
	return math.Sqrt(-math.Log(alpha/2)/2) / math.Sqrt(float64(n))
}

// The compensator checks. For a counting process N with intensity
// lambda(t), M = N - integral of lambda is a martingale, and so is
// sum over events of w(t_i) - integral of w lambda for any weight w known
// just before each instant; its variance is the expected integral of
// w^2 lambda. Over many runs the sum is normal: a z-score with a known
// variance. The test recomputes every intensity from the model's
// definition along the run's own path (the state changes the event
// engine's observer reports, or the infection list), so a fault in a
// shared rate shows as a drift: a relative error d in a component whose
// weight is its share of the intensity moves z by d sqrt(V), V the
// integral of w^2 lambda (the component's Fisher information).

// component is one term of an intensity, tested by its own weight.
type component struct {
	name string
	proc int // which process: see the proc* constants
	// weight returns the component's weight at the state; the test sums
	// it over the process's events and integrates weight*intensity.
	weight func(st *pathState) float64
	// scale converts 1/sqrt(V) into the relative rate error detected.
	scale float64
}

const (
	procInfect = iota
	procPatch
	procClean
	procReboot
	numProc
)

// pathState is the run's state between events, as the test tracks it.
type pathState struct {
	t                       float64
	n                       [numStates]float64
	scan                    float64 // summed scan rate of infected hosts
	sched                   float64 // the patch schedule's rate now
	c                       *Config
	infectedOnly, cleanOnly bool
}

// intensity returns the total rate of each process at st, from the model.
func (st *pathState) intensity(p int) float64 {
	c, l := st.c, &st.c.Life
	switch p {
	case procInfect:
		f := 1.0
		if l.CongestionEta > 0 {
			f = math.Pow(1-st.n[Infected]/float64(len(c.Hosts)), l.CongestionEta)
		}
		return f * st.scan * st.n[Susceptible] / (math.Exp2(float64(c.SpaceBits)) - 1)
	case procPatch:
		return st.n[Susceptible] * (l.PatchRate + l.PatchAware*(st.n[Infected]+st.n[Removed]) + st.sched)
	case procClean:
		return l.CleanupRate * st.n[Infected]
	default:
		return l.RebootRate * st.n[Infected]
	}
}

// schedAt is the schedule's per-host rate at run second t, from the steps.
func schedAt(c *Config, t float64) float64 {
	rate := 0.0
	for _, s := range c.Life.PatchSchedule {
		if s.From.Sub(c.Start).Seconds() <= t {
			rate = s.PerSecond
		}
	}
	return rate
}

// lifeComponents are the components of the life cycle on a uniform worm.
func lifeComponents(c *Config) []component {
	l := &c.Life
	share := func(part func(st *pathState) float64) func(st *pathState) float64 {
		return func(st *pathState) float64 {
			tot := l.PatchRate + l.PatchAware*(st.n[Infected]+st.n[Removed]) + st.sched
			if tot == 0 {
				return 0
			}
			return part(st) / tot
		}
	}
	one := func(*pathState) float64 { return 1 }
	comps := []component{{name: "infection rate", proc: procInfect, weight: one, scale: 1}}
	if l.CongestionEta > 0 {
		// d log(lambda)/d eta = log(1 - I/N); an error d in eta moves z by
		// eta d sqrt(V).
		comps = append(comps, component{"congestion exponent", procInfect, func(st *pathState) float64 {
			return math.Log(1 - st.n[Infected]/float64(len(c.Hosts)))
		}, 1 / l.CongestionEta})
	}
	if l.PatchRate > 0 {
		comps = append(comps, component{"constant patching", procPatch, share(func(*pathState) float64 { return l.PatchRate }), 1})
	}
	if l.PatchAware > 0 {
		comps = append(comps, component{"awareness patching", procPatch, share(func(st *pathState) float64 {
			return l.PatchAware * (st.n[Infected] + st.n[Removed])
		}), 1})
	}
	if len(l.PatchSchedule) > 0 {
		comps = append(comps, component{"scheduled patching", procPatch, share(func(st *pathState) float64 { return st.sched }), 1})
	}
	if l.CleanupRate > 0 {
		comps = append(comps, component{"clean-up", procClean, one, 1})
	}
	if l.RebootRate > 0 {
		comps = append(comps, component{"reboot", procReboot, one, 1})
	}
	return comps
}

// change is one state change of a run.
type change struct {
	t        float64
	h        int32
	from, to State
}

// pathRecorder keeps a run's state changes after its start (the event
// engine reports the initial infections too, before its first stretch).
type pathRecorder struct {
	started bool
	changes []change
}

func (p *pathRecorder) Spreading(float64, int32, bool) {}
func (p *pathRecorder) Changed(t float64, h int32, from, to State) {
	if p.started {
		p.changes = append(p.changes, change{t, h, from, to})
	}
}
func (p *pathRecorder) Advance(Stretch) { p.started = true }

// martingale accumulates, per component and window, the weighted event
// sum, the integrated weighted intensity and its variance.
type martingale struct {
	comps   []component
	windows int
	sum     [][]float64 // [component][window]
	comp    [][]float64
	vari    [][]float64
}

func newMartingale(comps []component, windows int) *martingale {
	m := &martingale{comps: comps, windows: windows}
	for range comps {
		m.sum = append(m.sum, make([]float64, windows))
		m.comp = append(m.comp, make([]float64, windows))
		m.vari = append(m.vari, make([]float64, windows))
	}
	return m
}

// add walks one run's path: the initial state of c, then changes in time
// order, up to the run's end. Only a uniform worm under worm.Always with
// no lifetimes: every infected host scans.
func (m *martingale) add(c *Config, changes []change) {
	st := &pathState{c: c}
	state := make([]State, len(c.Hosts))
	st.n[Susceptible] = float64(len(c.Hosts))
	move := func(h int32, to State) {
		from := state[h]
		st.n[from]--
		st.n[to]++
		state[h] = to
		if from == Infected {
			st.scan -= c.Rates[h]
		}
		if to == Infected {
			st.scan += c.Rates[h]
		}
	}
	for _, h := range c.InitialPatched {
		move(h, Patched)
	}
	for _, h := range c.InitialRemoved {
		move(h, Removed)
	}
	for _, h := range c.Initial {
		move(h, Infected)
	}
	end := c.Duration.Seconds()
	width := end / float64(m.windows)
	// cuts: where the integrand may change without an event.
	var cuts []float64
	for _, s := range c.Life.PatchSchedule {
		cuts = append(cuts, s.From.Sub(c.Start).Seconds())
	}
	for w := 1; w <= m.windows; w++ {
		cuts = append(cuts, float64(w)*width)
	}
	sort.Float64s(cuts)
	integrate := func(a, b float64) {
		for a < b {
			next := b
			for _, x := range cuts {
				if x > a && x < next {
					next = x
				}
			}
			st.sched = schedAt(c, a)
			w := min(int(a/width), m.windows-1)
			for k, cp := range m.comps {
				lam := st.intensity(cp.proc)
				if lam == 0 {
					continue
				}
				wt := cp.weight(st)
				m.comp[k][w] += wt * lam * (next - a)
				m.vari[k][w] += wt * wt * lam * (next - a)
			}
			a = next
		}
	}
	t := 0.0
	for _, ch := range changes {
		integrate(t, ch.t)
		t = ch.t
		st.sched = schedAt(c, t)
		proc := -1
		switch {
		case ch.from == Susceptible && ch.to == Infected:
			proc = procInfect
		case ch.from == Susceptible && ch.to == Patched:
			proc = procPatch
		case ch.from == Infected && ch.to == Removed:
			proc = procClean
		case ch.from == Infected && ch.to == Susceptible:
			proc = procReboot
		}
		w := min(int(t/width), m.windows-1)
		for k, cp := range m.comps {
			if cp.proc == proc {
				m.sum[k][w] += cp.weight(st)
			}
		}
		move(ch.h, ch.to)
	}
	integrate(t, end)
}

// check fails t for any component whose z-score, over the whole run or a
// window, passes the Bonferroni limit, and logs each component's z and
// the smallest relative error it detects.
func (m *martingale) check(t *testing.T, label string) {
	t.Helper()
	zc := zLimit(alphaFamily, len(m.comps)*(m.windows+1))
	for k, cp := range m.comps {
		var s, cm, v float64
		worst := 0.0
		for w := range m.windows {
			s += m.sum[k][w]
			cm += m.comp[k][w]
			v += m.vari[k][w]
			if m.vari[k][w] > 0 {
				z := (m.sum[k][w] - m.comp[k][w]) / math.Sqrt(m.vari[k][w])
				worst = max(worst, math.Abs(z))
				if math.Abs(z) > zc {
					t.Errorf("%s, %s, window %d: z = %.1f (limit %.2f): observed %.1f, law %.1f",
						label, cp.name, w+1, z, zc, m.sum[k][w], m.comp[k][w])
				}
			}
		}
		if v == 0 {
			t.Errorf("%s, %s: never active", label, cp.name)
			continue
		}
		z := (s - cm) / math.Sqrt(v)
		if math.Abs(z) > zc {
			t.Errorf("%s, %s: z = %.1f over the run (limit %.2f): observed %.1f, law %.1f", label, cp.name, z, zc, s, cm)
		}
		t.Logf("%s, %s: z = %+.2f (windows: largest |z| %.2f, limit %.2f); detects a %.2f%% error",
			label, cp.name, z, worst, zc, 100*cp.scale*(zc+zPower)/math.Sqrt(v))
	}
}

// lifeCycleScenario is a uniform worm with every life-cycle process and
// congestion on: patching at a constant rate, by awareness and by a
// schedule; clean-up; reboots that make hosts susceptible again, so that
// hosts are reinfected; congestion with eta = 2.
func lifeCycleScenario(t *testing.T) *Config {
	c := scaled(t, 16, 4000, 0.5, 1500*time.Second, 10*time.Second, worm.Uniform{})
	c.Initial = []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	c.Life = Life{
		PatchRate:     4e-4,
		PatchAware:    4e-7,
		PatchSchedule: []RateStep{{From: t0.Add(400 * time.Second), PerSecond: 1e-3}, {From: t0.Add(1100 * time.Second), PerSecond: 2e-4}},
		CleanupRate:   2e-3,
		RebootRate:    4e-3,
		CongestionEta: 2,
	}
	return c
}

// TestEventEngineRatesByCompensator checks every process of the life
// cycle and the infection rate with congestion and reinfection in the
// event engine, along its own paths, against the model's intensities.
func TestEventEngineRatesByCompensator(t *testing.T) {
	runs := sized(t, 10, 80, 400)
	c := lifeCycleScenario(t)
	m := newMartingale(lifeComponents(c), 10)
	for seed := range runs {
		rec := &pathRecorder{}
		cr := *c
		cr.Observers = []Observer{rec}
		if _, err := RunEvent(&cr, uint64(seed)); err != nil {
			t.Fatal(err)
		}
		m.add(c, rec.changes)
	}
	m.check(t, "event")
}

// TestInfectionRateByCompensator checks the infection rate with
// congestion in both engines: with no life cycle the path is the list of
// infections, which the probe engine reports too.
func TestInfectionRateByCompensator(t *testing.T) {
	runs := sized(t, 3, 30, 120)
	c := scaled(t, 16, 2000, 1, 600*time.Second, 10*time.Second, worm.Uniform{})
	c.Initial = []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	c.Life.CongestionEta = 2
	for _, e := range engines {
		m := newMartingale(lifeComponents(c), 10)
		for seed := range runs {
			r, err := e.run(c, uint64(seed))
			if err != nil {
				t.Fatal(err)
			}
			var changes []change
			for _, inf := range r.Infections {
				changes = append(changes, change{inf.T, inf.Host, Susceptible, Infected})
			}
			m.add(c, changes)
		}
		m.check(t, e.name)
	}
}
