// Package output opens the files a command writes, the way a careful Unix
// tool does. "-" is standard output. A regular file, or a name not yet
// taken, gets its bytes through a temporary file in the same directory that
// is renamed over it only when complete, so a reader or a crash never sees
// half of one. Anything else the name points at (a symlink, a FIFO, a
// character device such as /dev/null or a terminal) is written through and
// never replaced.
//
// Check and Plan look at the paths before a command starts its work, so
// that a missing directory fails at once, not after minutes of computing.
package output

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Stdout is the name that means standard output.
const Stdout = "-"

// kind is what a path names at the moment it is looked at.
type kind int

const (
	newFile     kind = iota // nothing yet: created as a regular file
	regularFile             // replaced by temp file and rename
	through                 // symlink, FIFO or character device: opened and written
)

// classify reports what path is and whether it may be written. The errors
// are for users: they say what the path is, not which system call failed.
func classify(path string) (kind, error) {
	if path == "" {
		return 0, errors.New("empty file name; give a path, or - for standard output")
	}
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return newFile, checkDir(path)
	case err != nil:
		return 0, fmt.Errorf("%s: %s", path, reason(err))
	}
	switch m := fi.Mode(); {
	case m.IsRegular():
		return regularFile, checkDir(path)
	case m&fs.ModeSymlink != 0:
		target, err := os.Stat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Written through, the link's target is created, as the shell's
			// > would; its directory must be there.
			return through, checkDir(resolveDir(path))
		case err != nil:
			return 0, fmt.Errorf("%s: %s", path, reason(err))
		case target.IsDir():
			return 0, fmt.Errorf("%s is a symlink to a directory; want a file", path)
		case target.Mode()&(fs.ModeSocket|fs.ModeDevice) != 0 && target.Mode()&fs.ModeCharDevice == 0:
			return 0, fmt.Errorf("%s is a symlink to a %s; want a file, a FIFO, a character device or -", path, describe(target.Mode()))
		}
		return through, writable(path)
	case m.IsDir():
		return 0, fmt.Errorf("%s is a directory; want a file", path)
	case m&fs.ModeNamedPipe != 0, m&fs.ModeCharDevice != 0:
		return through, writable(path)
	default:
		return 0, fmt.Errorf("%s is a %s; want a file, a FIFO, a character device or -", path, describe(m))
	}
}

func describe(m fs.FileMode) string {
	switch {
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0 && m&fs.ModeCharDevice == 0:
		return "block device"
	}
	return "special file"
}

// resolveDir returns the path a symlink's missing target would be created
// at, for its directory check.
func resolveDir(link string) string {
	target, err := os.Readlink(link)
	if err != nil || filepath.IsAbs(target) {
		return target
	}
	return filepath.Join(filepath.Dir(link), target)
}

// checkDir reports whether the directory that would hold path exists and
// lets a new file be made in it.
func checkDir(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: directory %s does not exist", path, dir)
	case err != nil:
		return fmt.Errorf("%s: %s", path, reason(err))
	case !fi.IsDir():
		return fmt.Errorf("%s: %s is not a directory", path, dir)
	}
	if syscall.Access(dir, 2|1) != nil { // W_OK|X_OK: create and rename in it
		return fmt.Errorf("%s: directory %s is not writable", path, dir)
	}
	return nil
}

func writable(path string) error {
	if syscall.Access(path, 2) != nil { // W_OK
		return fmt.Errorf("%s: not writable", path)
	}
	return nil
}

// reason is the system's reason for err without the operation and path a
// *fs.PathError or *os.LinkError puts in front of it.
func reason(err error) string {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err.Error()
	case errors.As(err, &le):
		return le.Err.Error()
	}
	return err.Error()
}

// Check reports whether path could be written now: "-" always; otherwise
// the name must be a regular file, a new name in a writable directory, a
// FIFO, a character device, or a symlink to one of those.
func Check(path string) error {
	if path == Stdout {
		return nil
	}
	_, err := classify(path)
	return err
}

// Write calls fill with a writer on the output path: stdout for "-", the
// thing itself for a symlink, FIFO or character device, and otherwise a
// temporary file that replaces path when fill, the sync and the close have
// all succeeded. On error a replaced file is left as it was and no
// temporary file remains. A new file gets mode 0666 less the umask; a
// replaced one keeps its mode.
func Write(path string, stdout io.Writer, fill func(w io.Writer) error) error {
	if path == Stdout {
		if stdout == nil {
			stdout = os.Stdout
		}
		return fill(stdout)
	}
	k, err := classify(path)
	if err != nil {
		return err
	}
	if k == through {
		return writeThrough(path, fill)
	}
	return replace(path, fill)
}

// writeThrough opens path, following a symlink, and writes into it; a
// symlink's missing target is created.
func writeThrough(path string, fill func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return fmt.Errorf("write %s: %s", path, reason(err))
	}
	if err := fill(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %s", path, reason(err))
	}
	return nil
}

// replace writes a temporary file next to path and renames it over path.
func replace(path string, fill func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	mode := fs.FileMode(0o666) // less the umask, by the kernel
	keep := false
	if fi, err := os.Stat(path); err == nil {
		mode, keep = fi.Mode().Perm(), true
	}
	tmp, err := createTemp(dir, filepath.Base(path), mode)
	if err != nil {
		return fmt.Errorf("write %s: %s", path, reason(err))
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = fill(tmp); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if keep {
		// The umask applied at creation; a replaced file keeps its own mode.
		if err = tmp.Chmod(mode); err != nil {
			return fmt.Errorf("write %s: %s", path, reason(err))
		}
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %s", path, reason(err))
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %s", path, reason(err))
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %s", path, reason(err))
	}
	// The rename is durable only once the directory is synced.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// createTemp creates a new file ".BASE.tmp-XXXXXXXX" in dir with perm (less
// the umask). os.CreateTemp would force 0600.
func createTemp(dir, base string, perm fs.FileMode) (*os.File, error) {
	var b [6]byte
	for range 100 {
		rand.Read(b[:])
		name := filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(b[:]))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("no free temporary name in %s", dir)
}
