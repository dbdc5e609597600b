package geoip

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"

	"github.com/oschwald/maxminddb-golang/v2"
)

// Countries maps an address to a two-letter country code, or "" when it
// does not know.
type Countries interface {
	Country(a netip.Addr) string
}

var (
	_ Countries = (*DB)(nil)
	_ Countries = (*MMDB)(nil)
)

// mmdbMarker opens the metadata section of every MaxMind DB file
// (MaxMind DB File Format Specification 2.0, "Database Metadata").
var mmdbMarker = []byte("\xab\xcd\xefMaxMind.com")

// OpenAny opens a range file in either format, told by its content: a
// MaxMind DB (.mmdb, e.g. GeoLite2-Country or DB-IP's country lite) if it
// holds the metadata marker, the tor-geoipdb text format otherwise.
func OpenAny(path string) (Countries, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if bytes.LastIndex(data, mmdbMarker) >= 0 {
		return OpenMMDB(data, path)
	}
	return Read(bytes.NewReader(data), path)
}

// MMDB looks countries up in a MaxMind DB.
type MMDB struct {
	r *maxminddb.Reader
}

// OpenMMDB returns a lookup over the MaxMind DB in data; name is used in
// errors.
func OpenMMDB(data []byte, name string) (*MMDB, error) {
	r, err := maxminddb.OpenBytes(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &MMDB{r}, nil
}

// mmdbCountry is the part of a GeoIP2/GeoLite2 country or city record we
// read; registered_country stands in when country is missing (anycast and
// satellite ranges).
type mmdbCountry struct {
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	RegisteredCountry struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"registered_country"`
}

// Country returns the ISO code of a's record, or "".
func (m *MMDB) Country(a netip.Addr) string {
	if m == nil || !a.IsValid() {
		return ""
	}
	var rec mmdbCountry
	if err := m.r.Lookup(a.Unmap()).Decode(&rec); err != nil {
		return ""
	}
	if rec.Country.ISOCode != "" {
		return rec.Country.ISOCode
	}
	return rec.RegisteredCountry.ISOCode
}
