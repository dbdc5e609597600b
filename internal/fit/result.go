package fit

import (
	"bufio"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/wormlab/wormlab/internal/series"
)

// Interval is an estimate with its 95% interval (Result.Intervals says
// which kind). Lo and
// Hi are ±Inf when the data do not bound the parameter on that side, and
// NaN when no interval was computed.
type Interval struct {
	Est, Lo, Hi float64
}

// Param is one named parameter of a fitted model.
type Param struct {
	Name  string // as in the model's equations, e.g. "K"
	Unit  string // e.g. "per hour"
	Value Interval
	Fixed bool // set by the user, not fitted
}

// Result is a fitted model.
type Result struct {
	Model  string // "logistic" or "two-factor"
	Params []Param

	// Plateau is the number of distinct sources the observer would see by
	// the end of the outbreak: the fitted saturation level of the
	// cumulative source count.
	Plateau Interval
	// Coverage is the share of infected hosts the observer sees, as given
	// by the user; 1 when none was given, in which case Population equals
	// Plateau and estimates only what this observer can see.
	Coverage float64
	// Population is Plateau/Coverage: the estimate of the global number of
	// hosts infected by the end of the outbreak. Coverage is taken as
	// known, so its interval is Plateau's scaled.
	Population    Interval
	CoverageGiven bool

	// PeakHour is the time of the peak of new infections, in hours since
	// Start; its Lo and Hi are NaN when the model gives no interval for it.
	PeakHour Interval
	Start    time.Time

	LogLik float64 // maximised Poisson log-likelihood, without the y! terms

	// Intervals says what the 95% intervals account for, in a phrase for
	// the reader.
	Intervals string

	// curve returns the fitted cumulative sources seen by the observer at
	// the given hours, and the new infections per hour (global).
	curve func(hours []float64) (cum, rate []float64, err error)
}

// ProfileIntervals is what the closed-form models' intervals mean. They
// treat the new sources of each bin as Poisson around a smooth curve, so
// they hold the observer's counting noise but not the outbreak's own
// randomness: on simulated outbreak paths (observe's
// TestFitCoversKOnTelescopeSeries) the logistic's 95% interval for K
// covers the truth about 91 times in 100, not 95.
const ProfileIntervals = "profile likelihood; the series' counting noise only, not the outbreak's own randomness (K's covers the truth about 91% of the time on simulated outbreaks; --model sim includes it)"

// PeakUTC returns the peak time as a wall-clock time.
func (r Result) PeakUTC() time.Time { return r.Start.Add(hours(r.PeakHour.Est)) }

func hours(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

// WriteCurve writes the fitted curve next to the observations as CSV: one
// row per bin of the series and, for a forecast, one row per bin of the
// same width for forecast more hours. Columns: minute (and second, for bins
// shorter than a minute) and utc are the bin's start as in the series; observed_sources is the cumulative count seen by
// the bin's end (empty beyond the data), fitted_sources the model's, and
// global_infected the model's divided by the coverage; new_per_hour is the
// model's new infections per hour (global) at the bin's end.
func (r Result) WriteCurve(w io.Writer, o Obs, forecast float64) error {
	ends := append([]float64(nil), o.Ends...)
	if forecast > 0 {
		last := ends[len(ends)-1]
		n := int(math.Ceil(forecast/o.Width - 1e-9))
		for i := 1; i <= n; i++ {
			ends = append(ends, last+float64(float64(i)*o.Width))
		}
	}
	cum, rate, err := r.curve(ends)
	if err != nil {
		return err
	}
	obs := o.Cumulative()
	// Bin starts as the series has them: whole minutes, and the seconds
	// past them when bins are shorter than a minute.
	starts := make([]series.Point, len(ends))
	subMinute := false
	for i, e := range ends {
		starts[i] = series.PointAt(hours(e - o.Width).Round(time.Millisecond))
		subMinute = subMinute || starts[i].Second != 0
	}
	bw := bufio.NewWriter(w)
	if subMinute {
		bw.WriteString("minute,second,utc,observed_sources,fitted_sources,global_infected,new_per_hour\n")
	} else {
		bw.WriteString("minute,utc,observed_sources,fitted_sources,global_infected,new_per_hour\n")
	}
	var b []byte
	for i, p := range starts {
		b = b[:0]
		b = strconv.AppendInt(b, p.Minute, 10)
		b = append(b, ',')
		if subMinute {
			b = strconv.AppendFloat(b, p.Second, 'f', -1, 64)
			b = append(b, ',')
		}
		b = o.Start.Add(p.Offset()).UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, ',')
		if i < len(obs) {
			b = strconv.AppendFloat(b, obs[i], 'f', -1, 64)
		}
		for _, v := range []float64{cum[i], cum[i] / r.Coverage, rate[i]} {
			b = append(b, ',')
			b = strconv.AppendFloat(b, v, 'f', 3, 64)
		}
		b = append(b, '\n')
		bw.Write(b)
	}
	return bw.Flush()
}

// At returns the fitted cumulative sources seen by the observer at hour h
// since Start.
func (r Result) At(h float64) (float64, error) {
	cum, _, err := r.curve([]float64{h})
	if err != nil {
		return 0, err
	}
	return cum[0], nil
}
