package detect

import (
	"bytes"
	"context"
	"os"
	"testing"
)

// FuzzRun feeds arbitrary bytes through the whole pipeline (format
// telling, decompression, parsing, matching, aggregation) and checks that
// it never panics, that its counts are consistent, and that the summary
// holds no control character.
func FuzzRun(f *testing.F) {
	if b, err := os.ReadFile("testdata/handmade/input.log"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("#Fields: time c-ip cs-uri-stem\n10:00:00 10.0.0.1 /default.ida\n#Fields: date\n2001-07-19\n"))
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00")) // a gzip header and nothing more
	f.Add([]byte("GET /scripts/root.exe\r\n\r\n\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, _ := Run(context.Background(), []string{"-"}, Config{Stdin: bytes.NewReader(data), MaxLine: 256})
		if rep == nil {
			t.Fatal("no report")
		}
		tot := rep.Totals
		if tot.Requests+tot.Unparsable > tot.Lines || tot.Probes > tot.Requests {
			t.Fatalf("inconsistent totals %+v", tot)
		}
		var sum int64
		for _, s := range rep.Signatures {
			sum += s.Probes
		}
		if sum != tot.Probes {
			t.Fatalf("signatures sum to %d probes, total says %d", sum, tot.Probes)
		}
		sum = 0
		for _, f := range rep.Families {
			sum += f.Probes
		}
		if sum != tot.Probes {
			t.Fatalf("families sum to %d probes, total says %d", sum, tot.Probes)
		}
		// Nothing from the input reaches a terminal unescaped.
		var text bytes.Buffer
		rep.WriteText(&text)
		for _, c := range text.Bytes() {
			if c < 0x20 && c != '\n' {
				t.Fatalf("control byte %#x in the summary", c)
			}
		}
	})
}
