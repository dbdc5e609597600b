package output

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func text(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func TestReplaceOnlyOnSuccess(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	if err := Write(path, nil, text("first")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, nil, func(w io.Writer) error {
		io.WriteString(w, "half")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "first" {
		t.Errorf("after a failed write the file holds %q, want %q", got, "first")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary file left behind: %v", entries)
	}
}

func TestFailureLeavesNoFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.json")
	Write(path, nil, func(io.Writer) error { return errors.New("no") })
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat after a failed write: %v, want not-exist", err)
	}
}

func TestStdout(t *testing.T) {
	var buf bytes.Buffer
	if err := Write("-", &buf, text("to stdout")); err != nil || buf.String() != "to stdout" {
		t.Errorf("Write(-) = %v, wrote %q", err, buf.String())
	}
}

// TestUmask checks that a new file gets 0666 less the umask, not the 0600
// of os.CreateTemp, and that a replaced file keeps its own mode.
func TestUmask(t *testing.T) {
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "new.csv")
	if err := Write(path, nil, text("x")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("new file mode %v, want -rw-r----- (0666 less umask 027)", fi.Mode().Perm())
	}
	os.Chmod(path, 0o604)
	if err := Write(path, nil, text("y")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o604 {
		t.Errorf("replaced file mode %v, want its own -rw----r--", fi.Mode().Perm())
	}
}

// TestNeverReplacesSpecialFiles writes through a symlink, a FIFO and a
// character device and checks that each is still what it was.
func TestNeverReplacesSpecialFiles(t *testing.T) {
	dir := t.TempDir()

	t.Run("symlink", func(t *testing.T) {
		target := filepath.Join(dir, "target.csv")
		os.WriteFile(target, []byte("old"), 0o644)
		link := filepath.Join(dir, "link.csv")
		if err := os.Symlink("target.csv", link); err != nil {
			t.Fatal(err)
		}
		if err := Write(link, nil, text("new")); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Lstat(link); fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("the symlink was replaced by a %v", fi.Mode())
		}
		if got, _ := os.ReadFile(target); string(got) != "new" {
			t.Errorf("the link's target holds %q, want %q", got, "new")
		}
	})

	t.Run("dangling symlink", func(t *testing.T) {
		link := filepath.Join(dir, "dangling.csv")
		os.Symlink("made.csv", link)
		if err := Write(link, nil, text("made")); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Lstat(link); fi.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("the symlink was replaced by a %v", fi.Mode())
		}
		if got, _ := os.ReadFile(filepath.Join(dir, "made.csv")); string(got) != "made" {
			t.Errorf("the link's new target holds %q", got)
		}
	})

	t.Run("fifo", func(t *testing.T) {
		fifo := filepath.Join(dir, "pipe")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		got := make(chan string)
		go func() {
			f, err := os.Open(fifo)
			if err != nil {
				got <- err.Error()
				return
			}
			b, _ := io.ReadAll(f)
			f.Close()
			got <- string(b)
		}()
		if err := Write(fifo, nil, text("through the pipe")); err != nil {
			t.Fatal(err)
		}
		select {
		case s := <-got:
			if s != "through the pipe" {
				t.Errorf("the reader got %q", s)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the FIFO's reader got nothing in 10 s: the FIFO was not written")
		}
		if fi, _ := os.Lstat(fifo); fi.Mode()&fs.ModeNamedPipe == 0 {
			t.Errorf("the FIFO was replaced by a %v", fi.Mode())
		}
	})

	t.Run("char device", func(t *testing.T) {
		// A private /dev/null (1,3) in the temp dir, so the test needs no
		// system device; only root may make one.
		null := filepath.Join(dir, "null")
		if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
			t.Skipf("cannot make a character device here (%v): the device case is untested", err)
		}
		if err := Write(null, nil, text("gone")); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Lstat(null); fi.Mode()&fs.ModeCharDevice == 0 {
			t.Errorf("the device was replaced by a %v", fi.Mode())
		}
	})
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	sock := filepath.Join(dir, "sock")
	syscall.Mknod(sock, syscall.S_IFSOCK|0o600, 0)
	for _, c := range []struct{ path, want string }{
		{"-", ""},
		{filepath.Join(dir, "new.csv"), ""},
		{file, ""},
		{"", "empty file name; give a path, or - for standard output"},
		{filepath.Join(dir, "nodir", "e.json"), filepath.Join(dir, "nodir", "e.json") + ": directory " + filepath.Join(dir, "nodir") + " does not exist"},
		{filepath.Join(file, "e.json"), filepath.Join(file, "e.json") + ": " + file + " is not a directory"},
		{dir, dir + " is a directory; want a file"},
	} {
		err := Check(c.path)
		if got := errString(err); got != c.want {
			t.Errorf("Check(%q) = %q, want %q", c.path, got, c.want)
		}
	}
	if _, err := os.Lstat(sock); err == nil {
		if got, want := errString(Check(sock)), sock+" is a socket; want a file, a FIFO, a character device or -"; got != want {
			t.Errorf("Check(socket) = %q, want %q", got, want)
		}
	}
}

func TestPlan(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "d.json")
	os.WriteFile(in, []byte("{}"), 0o644)
	link := filepath.Join(dir, "link.json")
	os.Symlink("d.json", link)
	newA := filepath.Join(dir, "a.csv")
	for _, c := range []struct {
		name    string
		outputs [][2]string
		inputs  []string
		want    string
	}{
		{"distinct", [][2]string{{"--csv", newA}, {"--json", in}}, nil, ""},
		{"two stdouts", [][2]string{{"--csv", "-"}, {"--json", "-"}}, nil, "--csv and --json both write to standard output; give one of them a file"},
		{"same new file", [][2]string{{"--csv", newA}, {"--json", filepath.Join(dir, ".", "a.csv")}}, nil, "--csv and --json both write " + filepath.Join(dir, "a.csv") + "; give each its own file"},
		{"output is input", [][2]string{{"-o", in}}, []string{in}, "-o " + in + " is also an input; writing it would destroy what is being read"},
		{"output is input through a link", [][2]string{{"-o", link}}, []string{in}, "-o " + link + " is also an input; writing it would destroy what is being read"},
		{"missing dir", [][2]string{{"--json", filepath.Join(dir, "nodir", "e.json")}}, nil, "--json " + filepath.Join(dir, "nodir", "e.json") + ": directory " + filepath.Join(dir, "nodir") + " does not exist"},
	} {
		var p Plan
		for _, o := range c.outputs {
			p.Output(o[0], o[1])
		}
		for _, i := range c.inputs {
			p.Input(i)
		}
		if got := errString(p.Check()); got != c.want {
			t.Errorf("%s: Check() = %q, want %q", c.name, got, c.want)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return strings.TrimSpace(err.Error())
}
