package ipspace

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The IANA IPv4 address space registry, one row per /8, as published at
// https://www.iana.org/assignments/ipv4-address-space (copied from
// shared/data so that wormlab never reads outside its own tree at run time).
//
//go:embed iana-ipv4-address-space.csv
var ianaCSV string

// Slash8 is one row of the IANA registry.
type Slash8 struct {
	Block       uint8     // the first octet
	Designation string    // who holds it
	Date        time.Time // first day of the month the registry gives
	Status      string    // ALLOCATED, LEGACY or RESERVED
}

var (
	ianaOnce  sync.Once
	ianaTable []Slash8
	ianaErr   error
)

// IANA returns the embedded registry, 256 rows in block order.
func IANA() ([]Slash8, error) {
	ianaOnce.Do(func() { ianaTable, ianaErr = parseIANA(ianaCSV) })
	return ianaTable, ianaErr
}

func parseIANA(src string) ([]Slash8, error) {
	r := csv.NewReader(strings.NewReader(src))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("ipspace: IANA table: %w", err)
	}
	var out []Slash8
	for i, rec := range recs[1:] {
		if len(rec) < 6 {
			return nil, fmt.Errorf("ipspace: IANA table row %d: %d fields", i+2, len(rec))
		}
		n, err := strconv.Atoi(strings.TrimSuffix(rec[0], "/8"))
		if err != nil || n < 0 || n > 255 || n != len(out) {
			return nil, fmt.Errorf("ipspace: IANA table row %d: prefix %q out of order", i+2, rec[0])
		}
		d, err := time.Parse("2006-01", rec[2])
		if err != nil {
			return nil, fmt.Errorf("ipspace: IANA table row %d: date %q", i+2, rec[2])
		}
		out = append(out, Slash8{uint8(n), rec[1], d, strings.TrimSpace(rec[5])})
	}
	if len(out) != 256 {
		return nil, fmt.Errorf("ipspace: IANA table has %d rows, want 256", len(out))
	}
	return out, nil
}

// Reserved reports whether the /8 starting with octet b can hold no
// reachable host: 0/8 (this network), 10/8 (private), 127/8 (loopback),
// 224/4 (multicast) and 240/4 (future use).
func Reserved(b uint8) bool {
	return b == 0 || b == 10 || b == 127 || b >= 224
}

// AllocatedBy returns the /8 blocks that the registry lists as ALLOCATED
// or LEGACY with a date no later than the month of t, leaving out the
// reserved blocks. The registry dates some legacy blocks only roughly (it
// gives the month a block was first recorded); this rule takes the date
// as written, so a block dated in the month of t counts as allocated.
func AllocatedBy(t time.Time) ([]Prefix, error) {
	tab, err := IANA()
	if err != nil {
		return nil, err
	}
	month := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	var out []Prefix
	for _, row := range tab {
		if Reserved(row.Block) || row.Status == "RESERVED" || row.Date.After(month) {
			continue
		}
		out = append(out, PrefixFrom(Addr(row.Block)<<24, 8))
	}
	return out, nil
}
