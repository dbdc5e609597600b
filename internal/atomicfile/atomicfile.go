// Package atomicfile writes output files so that a reader never sees half of
// one. It is the older name of package output's Write, kept for the
// packages that call it.
package atomicfile

import (
	"io"

	"github.com/wormlab/wormlab/internal/output"
)

// Write calls fill with a writer on path, as output.Write does: a regular
// file is replaced through a temporary file and a rename only if fill
// succeeds; a symlink, FIFO or character device is written through, never
// replaced; "-" is standard output.
//
// Deprecated: use output.Write.
func Write(path string, fill func(w io.Writer) error) error {
	return output.Write(path, nil, fill)
}
