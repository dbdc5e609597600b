package ensemble

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// File is an ensemble file (schema wormlab.ensemble/v1) as written by
// WriteJSON and read by ReadFile and by package report. Its published
// form is docs/schema/ensemble.v1.schema.json; see docs/DESIGN.md §5.
type File struct {
	Schema string `json:"schema"`
	Header
	QuantileMethod string `json:"quantile_method"`
	// Percentiles name the quantiles of every [3] array of the file.
	Percentiles [len(Percentiles)]int `json:"percentiles"`
	Summary     Stats                 `json:"summary"`
	Bands       []BandRow             `json:"bands"`
	Members     []Member              `json:"members"`
}

// Quantiles are one quantity's Percentiles over the runs.
type Quantiles = [len(Percentiles)]int64

// BandRow is one grid instant of the bands: for each column of the
// ensemble, its Percentiles over the runs. The telescope's columns are
// present exactly when the ensemble's Columns name them.
type BandRow struct {
	Minute              float64    `json:"minute"`
	UTC                 time.Time  `json:"utc"`
	Susceptible         Quantiles  `json:"susceptible"`
	Infected            Quantiles  `json:"infected"`
	Patched             Quantiles  `json:"patched"`
	Removed             Quantiles  `json:"removed"`
	NewInfections       Quantiles  `json:"new_infections"`
	Probes              Quantiles  `json:"probes"`
	TelescopeProbes     *Quantiles `json:"telescope_probes,omitempty"`
	TelescopeSources    *Quantiles `json:"telescope_sources,omitempty"`
	TelescopeNewSources *Quantiles `json:"telescope_new_sources,omitempty"`
	TelescopeSeen       *Quantiles `json:"telescope_seen,omitempty"`
}

// column returns where r keeps the named column, allocating a telescope
// column when alloc is set; nil for a column r lacks or does not know.
func (r *BandRow) column(name string, alloc bool) *Quantiles {
	opt := func(q **Quantiles) *Quantiles {
		if *q == nil && alloc {
			*q = new(Quantiles)
		}
		return *q
	}
	switch name {
	case "susceptible":
		return &r.Susceptible
	case "infected":
		return &r.Infected
	case "patched":
		return &r.Patched
	case "removed":
		return &r.Removed
	case "new_infections":
		return &r.NewInfections
	case "probes":
		return &r.Probes
	case "telescope_probes":
		return opt(&r.TelescopeProbes)
	case "telescope_sources":
		return opt(&r.TelescopeSources)
	case "telescope_new_sources":
		return opt(&r.TelescopeNewSources)
	case "telescope_seen":
		return opt(&r.TelescopeSeen)
	}
	return nil
}

// Column returns the named column's quantiles at r, and whether r has it.
func (r *BandRow) Column(name string) (Quantiles, bool) {
	if q := r.column(name, false); q != nil {
		return *q, true
	}
	return Quantiles{}, false
}

// File returns s as an ensemble file. s must be complete.
func (s *Set) File() (*File, error) {
	if !s.Complete() {
		return nil, errIncomplete
	}
	f := &File{
		Schema:         Schema,
		Header:         s.Header,
		QuantileMethod: QuantileMethod,
		Percentiles:    Percentiles,
		Summary:        s.Stats(),
		Members:        s.Members,
	}
	for _, b := range s.Bands() {
		row := BandRow{Minute: b.Minute, UTC: b.UTC}
		for c, name := range s.Columns {
			q := row.column(name, true)
			if q == nil {
				return nil, fmt.Errorf("ensemble: column %q has no place in the file", name)
			}
			*q = b.Q[c]
		}
		f.Bands = append(f.Bands, row)
	}
	return f, nil
}

// WriteJSON writes f: small fields indented as usual, and the bands and
// members one compact element a line, so that a thousand runs stay
// readable and a few megabytes at most.
func (f *File) WriteJSON(w io.Writer) error {
	o := newObjectWriter(w)
	o.field("schema", f.Schema)
	o.header(&f.Header)
	o.field("quantile_method", f.QuantileMethod)
	o.field("percentiles", f.Percentiles)
	o.field("columns", f.Columns)
	o.field("summary", f.Summary)
	o.lines("bands", len(f.Bands), func(i int) any { return &f.Bands[i] })
	o.lines("members", len(f.Members), func(i int) any { return &f.Members[i] })
	return o.close()
}

// ReadFile reads an ensemble file; name is used in errors. It refuses
// other schemas, and bands that do not match the file's columns.
func ReadFile(r io.Reader, name string) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, jsonError(data, err))
	}
	if f.Schema != Schema {
		return nil, fmt.Errorf("%s: schema %q, this wormlab reads %q", name, f.Schema, Schema)
	}
	if err := f.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &f, nil
}

// Check reports the first way f contradicts itself: columns other than an
// ensemble's, bands lacking a column or holding one not listed, quantiles
// out of order, or times that do not increase.
func (f *File) Check() error {
	want := Columns
	if len(f.Columns) > len(Columns) {
		want = append(slices.Clip(Columns), TelescopeColumns...)
	}
	if !slices.Equal(f.Columns, want) {
		return fmt.Errorf("columns %v: want %v, or those and %v", f.Columns, Columns, TelescopeColumns)
	}
	if len(f.Bands) == 0 {
		return errors.New("no quantile bands")
	}
	for i := range f.Bands {
		row := &f.Bands[i]
		if i > 0 && !row.UTC.After(f.Bands[i-1].UTC) {
			return fmt.Errorf("bands row %d: utc %s does not follow the row before", i, row.UTC.Format(time.RFC3339))
		}
		for _, name := range TelescopeColumns {
			if _, ok := row.Column(name); ok != (len(want) > len(Columns)) {
				return fmt.Errorf("bands row %d: column %s present where the columns say otherwise", i, name)
			}
		}
		for _, name := range want {
			q, _ := row.Column(name)
			if !slices.IsSorted(q[:]) {
				return fmt.Errorf("bands row %d: %s quantiles %v are not in increasing order", i, name, q)
			}
		}
	}
	return nil
}
