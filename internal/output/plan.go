package output

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// A Plan is the set of files one command reads and writes, checked together
// before the command does any work: every output must be writable (Check),
// no two outputs may be the same file, and no output may be one of the
// inputs. A character device (/dev/null) may take any number of outputs.
type Plan struct {
	outputs []named
	inputs  []string
}

type named struct{ name, path string }

// Output adds the output path that the flag or argument name gives. An
// empty path is not added: the caller decides whether that means "no
// output" or is an error.
func (p *Plan) Output(name, path string) {
	if path != "" {
		p.outputs = append(p.outputs, named{name, path})
	}
}

// Input adds a file the command reads; "-" (standard input) and "" are
// ignored.
func (p *Plan) Input(path string) {
	if path != "" && path != Stdout {
		p.inputs = append(p.inputs, path)
	}
}

// Check returns the first problem with the plan, naming the flag or
// argument, or nil.
func (p *Plan) Check() error {
	type seen struct {
		named
		info fs.FileInfo // nil for a name not yet taken
		key  string      // the absolute path of a new name
	}
	var outs []seen
	for _, o := range p.outputs {
		if err := Check(o.path); err != nil {
			return fmt.Errorf("%s %w", o.name, err)
		}
		s := seen{named: o}
		if o.path != Stdout {
			if fi, err := os.Stat(o.path); err == nil {
				s.info = fi
			} else {
				s.key = absolute(o.path)
			}
		}
		for _, prev := range outs {
			if same(prev.path, prev.info, prev.key, s.path, s.info, s.key) {
				if o.path == Stdout {
					return fmt.Errorf("%s and %s both write to standard output; give one of them a file", prev.name, o.name)
				}
				return fmt.Errorf("%s and %s both write %s; give each its own file", prev.name, o.name, o.path)
			}
		}
		outs = append(outs, s)
	}
	for _, in := range p.inputs {
		fi, err := os.Stat(in)
		if err != nil {
			continue // the command reports an unreadable input itself
		}
		for _, o := range outs {
			if o.info != nil && os.SameFile(fi, o.info) && fi.Mode()&fs.ModeCharDevice == 0 {
				return fmt.Errorf("%s %s is also an input; writing it would destroy what is being read", o.name, o.path)
			}
		}
	}
	return nil
}

// same reports whether two outputs land in the same place.
func same(pa string, ia fs.FileInfo, ka string, pb string, ib fs.FileInfo, kb string) bool {
	switch {
	case pa == Stdout || pb == Stdout:
		return pa == pb
	case ia != nil && ib != nil:
		return os.SameFile(ia, ib) && ia.Mode()&fs.ModeCharDevice == 0
	case ia == nil && ib == nil:
		return ka == kb
	}
	return false
}

// absolute returns path made absolute with its directory's symlinks
// resolved, so that two spellings of one new name compare equal.
func absolute(path string) string {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return filepath.Join(dir, base)
}
