package ensemble

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// gzipMagic opens every gzip stream (RFC 1952, section 2.3.1); shards are
// recognised as compressed by it, whatever their names.
var gzipMagic = []byte{0x1f, 0x8b}

// openMaybeGzip returns r's content, decompressed when it starts with the
// gzip magic.
func openMaybeGzip(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, err := br.Peek(len(gzipMagic))
	if err == nil && bytes.Equal(head, gzipMagic) {
		return gzip.NewReader(br)
	}
	return br, nil
}

// shardStream reads a shard file one member at a time, checking as
// ReadShard does, so that a merge holds one run of a shard at a time.
type shardStream struct {
	name string
	f    ShardFile // the header; Members stays empty
	want Header
	file *os.File
	dec  *json.Decoder
	k    int // members read so far
	done bool
}

// openShardStream opens the shard file name and reads its header.
func openShardStream(name string) (*shardStream, error) {
	file, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	s := &shardStream{name: name, file: file}
	if err := s.start(); err != nil {
		file.Close()
		return nil, s.wrap(err)
	}
	return s, nil
}

// wrap names the file in err, and the line when err is the JSON's.
func (s *shardStream) wrap(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if s.dec != nil && (errors.As(err, &syn) || errors.As(err, &typ) || errors.Is(err, io.ErrUnexpectedEOF)) {
		if line, ok := lineAt(s.name, s.dec.InputOffset()); ok {
			return fmt.Errorf("%s: line %d: %w", s.name, line, err)
		}
	}
	return fmt.Errorf("%s: %w", s.name, err)
}

// lineAt returns the line of byte offset off in the (decompressed)
// content of file name; errors are rare, so it reads the file again.
func lineAt(name string, off int64) (int, bool) {
	f, err := os.Open(name)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	r, err := openMaybeGzip(f)
	if err != nil {
		return 0, false
	}
	br := bufio.NewReader(io.LimitReader(r, off))
	line := 1
	for {
		b, err := br.ReadByte()
		if err != nil {
			return line, true
		}
		if b == '\n' {
			line++
		}
	}
}

func (s *shardStream) start() error {
	r, err := openMaybeGzip(s.file)
	if err != nil {
		return fmt.Errorf("not a wormlab ensemble shard: %w", err)
	}
	s.dec = json.NewDecoder(r)
	if tok, err := s.dec.Token(); err != nil || tok != json.Delim('{') {
		return fmt.Errorf("not a wormlab ensemble shard: %w", notAnObject(err))
	}
	// The header's fields come before the members; they are small.
	fields := map[string]json.RawMessage{}
	for {
		key, err := s.objectKey()
		if err != nil {
			return fmt.Errorf("not a wormlab ensemble shard: %w", err)
		}
		if key == "" { // the object ended without members
			s.done = true
			break
		}
		if key == "members" {
			if tok, err := s.dec.Token(); err != nil || tok != json.Delim('[') {
				return fmt.Errorf("members: want an array: %w", notAnObject(err))
			}
			break
		}
		var raw json.RawMessage
		if err := s.dec.Decode(&raw); err != nil {
			return fmt.Errorf("not a wormlab ensemble shard: %w", err)
		}
		fields[key] = raw
	}
	var schema string
	json.Unmarshal(fields["schema"], &schema)
	switch schema {
	case ShardSchema:
	case Schema:
		return errors.New("an ensemble, not a shard: only shards written with --shard can be merged")
	default:
		return fmt.Errorf("schema %q, this wormlab merges %q", schema, ShardSchema)
	}
	head, _ := json.Marshal(fields)
	if err := json.Unmarshal(head, &s.f); err != nil {
		return err
	}
	s.want, err = s.f.checkHeader()
	return err
}

// notAnObject describes a file that does not open with a JSON object.
func notAnObject(err error) error {
	if err == nil {
		return errors.New("not a JSON object")
	}
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// objectKey reads the next key of the object being read, or "" at its end.
func (s *shardStream) objectKey() (string, error) {
	tok, err := s.dec.Token()
	switch {
	case err == io.EOF:
		return "", io.ErrUnexpectedEOF
	case err != nil:
		return "", err
	case tok == json.Delim('}'):
		return "", nil
	}
	key, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("unexpected %v", tok)
	}
	return key, nil
}

// next reads the next member into m and reports whether there was one;
// after the last it checks the count and the end of the file.
func (s *shardStream) next(m *ShardMember) (bool, error) {
	if !s.done && s.dec.More() {
		*m = ShardMember{}
		if err := s.dec.Decode(m); err != nil {
			return false, s.wrap(err)
		}
		if err := s.f.checkMember(s.k, m, &s.want); err != nil {
			return false, s.wrap(err)
		}
		s.k++
		return true, nil
	}
	if !s.done {
		if err := s.finish(); err != nil {
			return false, s.wrap(err)
		}
		s.done = true
	}
	if held := s.f.held(); s.k != held {
		return false, s.wrap(fmt.Errorf("shard %v of %d runs holds %d runs, want %d", s.f.Shard, s.f.Runs, s.k, held))
	}
	return false, nil
}

// finish reads what follows the members: the array's end, any other
// fields, the object's end, then nothing.
func (s *shardStream) finish() error {
	if _, err := s.dec.Token(); err != nil { // ']'
		return notAnObject(err)
	}
	for {
		key, err := s.objectKey()
		if err != nil {
			return err
		}
		if key == "" {
			break
		}
		var skip json.RawMessage
		if err := s.dec.Decode(&skip); err != nil {
			return err
		}
	}
	if _, err := s.dec.Token(); err != io.EOF {
		return errors.New("data after the shard's object")
	}
	return nil
}

func (s *shardStream) Close() error { return s.file.Close() }

// MergeFiles merges the shard files named names, as Merge merges the sets
// ReadShard reads from them, with the same checks and byte for byte the
// same result, but streaming: it holds one run of one shard at a time and
// every run's figures (about a hundred bytes a run), never all runs'
// per-bin values. It reads the files several times: once for their
// headers, once for their runs' figures and each slot's range, then once
// per narrowing pass of the quantiles (rankSelector). Shards may be
// gzip-compressed. The result can be written (WriteJSON, WriteCSV) and
// summarised (Stats, Bands) but holds no per-run values (Value).
func MergeFiles(names []string) (*Set, error) {
	heads := make([]shardHead, len(names))
	for i, name := range names {
		st, err := openShardStream(name)
		if err != nil {
			return nil, err
		}
		st.Close()
		heads[i] = shardHead{&st.want, st.f.Shard}
	}
	if err := checkSplit(heads, names); err != nil {
		return nil, err
	}
	h := *heads[0].Header
	out := &Set{Header: h, Members: make([]Member, h.Runs)}
	slots := len(h.Columns) * h.Bins
	sel := newRankSelector(slots, h.Runs)
	// The first pass keeps the figures and sets the ranges.
	if err := scanShards(names, func(m *ShardMember) {
		out.Members[m.Run] = m.Member
		for c, vs := range m.Series {
			for b, v := range vs {
				sel.observeRange(c*h.Bins+b, v)
			}
		}
	}); err != nil {
		return nil, err
	}
	for sel.startPass() {
		if err := scanShards(names, func(m *ShardMember) {
			for c, vs := range m.Series {
				for b, v := range vs {
					sel.count(c*h.Bins+b, v)
				}
			}
		}); err != nil {
			return nil, err
		}
		if err := sel.endPass(); err != nil {
			return nil, fmt.Errorf("%s: %w", names[0], err)
		}
	}
	out.bands = make([]Band, h.Bins)
	for b := range out.bands {
		band := &out.bands[b]
		*band = h.bandAt(b)
		for c := range h.Columns {
			for p := range Percentiles {
				band.Q[c][p] = sel.value(c*h.Bins+b, p)
			}
		}
	}
	return out, nil
}

// scanShards calls visit with every member of every file, in file order.
func scanShards(names []string, visit func(m *ShardMember)) error {
	var m ShardMember
	for _, name := range names {
		st, err := openShardStream(name)
		if err != nil {
			return err
		}
		for {
			ok, err := st.next(&m)
			if err != nil {
				st.Close()
				return err
			}
			if !ok {
				break
			}
			visit(&m)
		}
		st.Close()
	}
	return nil
}
