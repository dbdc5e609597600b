package ensemble

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/wormlab/wormlab/internal/scenario"
	"github.com/wormlab/wormlab/internal/version"
)

// ReadShard reads a shard file written by WriteShard; name is used in
// errors. It checks the file against itself: the scenario parses and gives
// the recorded grid, and the runs are exactly those of the shard, each with
// every column at every grid instant.
func ReadShard(r io.Reader, name string) (*Set, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var probe struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%s: not a wormlab ensemble shard: %w", name, jsonError(data, err))
	}
	switch probe.Schema {
	case ShardSchema:
	case Schema:
		return nil, fmt.Errorf("%s: an ensemble, not a shard: only shards written with --shard can be merged", name)
	default:
		return nil, fmt.Errorf("%s: schema %q, this wormlab merges %q", name, probe.Schema, ShardSchema)
	}
	var f ShardFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, jsonError(data, err))
	}
	s, err := f.set()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// jsonError adds the line to a JSON decoding error that has an offset.
func jsonError(data []byte, err error) error {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	return fmt.Errorf("line %d: %w", 1+bytes.Count(data[:off], []byte("\n")), err)
}

// set checks f and returns it as a Set.
func (f *ShardFile) set() (*Set, error) {
	want, err := f.checkHeader()
	if err != nil {
		return nil, err
	}
	// Everything is checked against what the file holds before the set is
	// allocated, so a file claiming many runs or bins allocates no more
	// than its own size suggests.
	if held := f.held(); len(f.Members) != held {
		return nil, fmt.Errorf("shard %v of %d runs holds %d runs, want %d", f.Shard, f.Runs, len(f.Members), held)
	}
	for k := range f.Members {
		if err := f.checkMember(k, &f.Members[k], &want); err != nil {
			return nil, err
		}
	}
	s := newSet(want, f.Shard, f.Shard.Members(f.Runs))
	for k, m := range f.Members {
		for c, vs := range m.Series {
			copy(s.values[c][k*s.Bins:], vs)
		}
		s.Members[k] = m.Member
	}
	return s, nil
}

// held is how many runs f's shard must hold.
func (f *ShardFile) held() int { return (f.Runs - f.Shard.Index + f.Shard.Count - 1) / f.Shard.Count }

// checkHeader checks everything in f but its members and returns the
// header of its ensemble.
func (f *ShardFile) checkHeader() (Header, error) {
	if f.Engine != "event" && f.Engine != "probe" {
		return Header{}, fmt.Errorf("engine %q: want event or probe", f.Engine)
	}
	if f.Shard.Count < 1 {
		return Header{}, fmt.Errorf("shard %d/%d: want at least one shard", f.Shard.Index, f.Shard.Count)
	}
	if err := checkCounts(f.BaseSeed, f.Runs, f.Shard); err != nil {
		return Header{}, err
	}
	// The scenario is taken from its TOML, the source every run was built
	// from, so a merge writes it exactly as an unsharded run does.
	sc, err := scenario.Parse([]byte(f.ScenarioTOML), "scenario_toml")
	if err != nil {
		return Header{}, err
	}
	want := headerOf(sc, f.Engine, f.BaseSeed, f.Runs)
	switch {
	case !f.Start.Equal(want.Start) || f.StepSeconds != want.StepSeconds || f.Bins != want.Bins:
		return Header{}, fmt.Errorf("grid of %d bins of %vs from %v does not match the scenario's (%d of %vs from %v)",
			f.Bins, f.StepSeconds, f.Start, want.Bins, want.StepSeconds, want.Start)
	case f.Version == "" || f.Commit == "":
		return Header{}, errors.New("no version or commit: not written by wormlab")
	}
	if !slices.Equal(f.Columns, want.Columns) {
		return Header{}, fmt.Errorf("columns %v, want %v for its scenario and engine", f.Columns, want.Columns)
	}
	want.Version, want.Commit = f.Version, f.Commit
	return want, nil
}

// checkMember checks that m, the k-th member of f, is the run it must be
// with every column at every grid instant of want.
func (f *ShardFile) checkMember(k int, m *ShardMember, want *Header) error {
	j := f.Shard.Index + k*f.Shard.Count
	seed := f.BaseSeed + uint64(j)
	switch {
	case m.Run != j || m.Seed != seed:
		return fmt.Errorf("member %d is run %d with seed %d, want run %d with seed %d (shard %v)",
			k, m.Run, m.Seed, j, seed, f.Shard)
	case len(m.Series) != len(want.Columns):
		return fmt.Errorf("run %d: %d series, want %d", m.Run, len(m.Series), len(want.Columns))
	}
	for c, vs := range m.Series {
		if len(vs) != want.Bins {
			return fmt.Errorf("run %d: %s has %d values, want %d", m.Run, want.Columns[c], len(vs), want.Bins)
		}
	}
	return nil
}

// Merge puts shards of one ensemble back together: the result is the set
// the unsharded run would have made, so its outputs are byte for byte the
// same. names[i] names shards[i] in errors. Merge refuses shards of
// different ensembles or builds, shards of another release than its own,
// the same shard twice, and a missing one.
func Merge(shards []*Set, names []string) (*Set, error) {
	heads := make([]shardHead, len(shards))
	for i, s := range shards {
		heads[i] = shardHead{&s.Header, s.Shard}
	}
	if err := checkSplit(heads, names); err != nil {
		return nil, err
	}
	first := shards[0]
	all := make([]int, first.Runs)
	for j := range all {
		all[j] = j
	}
	out := newSet(first.Header, Shard{}, all)
	for _, s := range shards {
		for k, m := range s.Members {
			out.Members[m.Run] = m
			for c := range out.values {
				copy(out.values[c][m.Run*out.Bins:(m.Run+1)*out.Bins], s.values[c][k*s.Bins:(k+1)*s.Bins])
			}
		}
	}
	return out, nil
}

// sameEnsemble returns an error saying how b's ensemble differs from a's,
// which comes from the file aName.
func sameEnsemble(a, b *Header, aName string) error {
	switch {
	case a.Version != b.Version || a.Commit != b.Commit:
		return fmt.Errorf("made by wormlab %s (commit %s) but %s by wormlab %s (commit %s): merge only shards of one build",
			b.Version, b.Commit, aName, a.Version, a.Commit)
	case a.ScenarioTOML != b.ScenarioTOML:
		return fmt.Errorf("scenario %q is not the scenario of %s (%q, compared as TOML text)", b.Scenario.Name, aName, a.Scenario.Name)
	case a.Engine != b.Engine:
		return fmt.Errorf("%s engine but %s used the %s engine", b.Engine, aName, a.Engine)
	case a.BaseSeed != b.BaseSeed || a.Runs != b.Runs:
		return fmt.Errorf("%d runs from seed %d but %s has %d runs from seed %d", b.Runs, b.BaseSeed, aName, a.Runs, a.BaseSeed)
	}
	return nil
}

// shardHead is what identifies a shard: its ensemble and its part.
type shardHead struct {
	*Header
	Shard Shard
}

// checkSplit reports the first reason the shards named names cannot be
// merged: different ensembles or builds, another release than this one,
// the same shard twice, or a missing one.
func checkSplit(heads []shardHead, names []string) error {
	if len(heads) == 0 {
		return errors.New("no shards to merge")
	}
	first, n := heads[0], heads[0].Shard.count()
	byIndex := make([]int, n) // 1 + position in shards
	for i, s := range heads {
		if err := sameEnsemble(first.Header, s.Header, names[0]); err != nil {
			return fmt.Errorf("%s: %w", names[i], err)
		}
		if c := s.Shard.count(); c != n {
			return fmt.Errorf("%s: shard %v of a split in %d, but %s is shard %v of a split in %d",
				names[i], s.Shard, c, names[0], first.Shard, n)
		}
		if prev := byIndex[s.Shard.Index]; prev != 0 {
			return fmt.Errorf("%s: shard %v again: %s holds the same runs", names[i], s.Shard, names[prev-1])
		}
		byIndex[s.Shard.Index] = i + 1
	}
	// The merged file is written by this build but carries the shards'
	// version, so the two must be one release.
	if first.Version != version.Version {
		return fmt.Errorf("%s: made by wormlab %s, but this is wormlab %s: merge with the release that ran the shards",
			names[0], first.Version, version.Version)
	}
	var missing []string
	for idx, pos := range byIndex {
		if pos == 0 {
			missing = append(missing, strconv.Itoa(idx)+"/"+strconv.Itoa(n))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("shard %s missing: a merge needs all %d shards of %s", strings.Join(missing, ", "), n, names[0])
	}
	return nil
}
