package ipspace

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestClustered(t *testing.T) {
	slash8s, _ := AllocatedBy(time.Date(2001, 8, 4, 0, 0, 0, 0, time.UTC))
	rng := rand.New(rand.NewPCG(1, 1))
	hosts, err := Clustered(369000, slash8s, 1, 1, 0.25, rng)
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 369000 || !slices.IsSorted(hosts) {
		t.Fatalf("%d hosts, sorted %v", len(hosts), slices.IsSorted(hosts))
	}
	per8 := map[Addr]int{}
	per16 := map[Addr]int{}
	for _, h := range hosts {
		if !HostAddress(h) {
			t.Fatalf("host on %v", h)
		}
		per8[h>>24]++
		per16[h>>16]++
	}
	top8 := 0
	for _, c := range per8 {
		top8 = max(top8, c)
	}
	// The busiest /8 has weight 1/H(124) = 0.185 of the total (H the
	// harmonic number); its count is binomial, sd about 240. 0.17..0.20
	// is a loose bound around the law, not a tuned one.
	if share := float64(top8) / 369000; share < 0.17 || share > 0.20 {
		t.Errorf("busiest /8 holds %.3f of hosts, want about 0.185", share)
	}
	// 64 occupied /16s per /8: at most 124*64 /16s hold hosts.
	if len(per16) > 124*64 {
		t.Errorf("%d /16s hold hosts, want at most %d", len(per16), 124*64)
	}
	if len(per16) < 124*64*9/10 {
		t.Errorf("only %d /16s hold hosts", len(per16))
	}
}

func TestReadLayout(t *testing.T) {
	src := "prefix,hosts\n# a comment\n24.0.0.0/16,1200\n\n61.1.2.0/24, 10\r\n"
	lines, err := ReadLayout(strings.NewReader(src), "l.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].Hosts != 1200 || lines[1].Prefix != MustParsePrefix("61.1.2.0/24") || lines[1].Line != 5 {
		t.Fatalf("got %+v", lines)
	}
	hosts, err := FromLayout(lines, rand.New(rand.NewPCG(1, 2)))
	if err != nil || len(hosts) != 1210 {
		t.Fatalf("FromLayout: %d hosts, %v", len(hosts), err)
	}
	in24 := 0
	for _, h := range hosts {
		if MustParsePrefix("61.1.2.0/24").Contains(h) {
			in24++
		}
	}
	if in24 != 10 {
		t.Errorf("%d hosts in 61.1.2.0/24, want 10", in24)
	}
}

func TestReadLayoutErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"24.0.0.0/16,1200\n24.0.0.0/8,5\n", "l.csv:2: prefix 24.0.0.0/8 overlaps 24.0.0.0/16 of line 1"},
		{"24.0.0.0/33,1\n", "l.csv:1: prefix \"24.0.0.0/33\": length must be 0 to 32"},
		{"24.1.0.0/8,1\n", "l.csv:1: prefix \"24.1.0.0/8\": host bits set (did you mean 24.0.0.0/8?)"},
		{"0.0.0.0/0,1\n", "l.csv:1: prefix 0.0.0.0/0: want /8 to /32"},
		{"24.0.0.0/24,200\n", "l.csv:1: 200 hosts in 24.0.0.0/24: at most 127 (half its host addresses)"},
		{"24.0.0.0/24\n", "l.csv:1: \"24.0.0.0/24\": want prefix,hosts"},
		{"24.0.0.0/24,many\n", "l.csv:1: hosts \"many\": want a whole number >= 0"},
		{"\x00\x01\x02,\xff\n", "l.csv:1: prefix \"\\x00\\x01\\x02\": want ADDR/LEN"},
		{"# nothing\n", "l.csv:1: no prefix,hosts lines"},
		{strings.Repeat("9", 5000) + "\n", "l.csv:1: line longer than 4096 bytes"},
	} {
		_, err := ReadLayout(strings.NewReader(tc.src), "l.csv")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("ReadLayout(%q):\n got  %v\n want %s", clip(tc.src), err, tc.want)
		}
	}
}

func FuzzReadLayout(f *testing.F) {
	for _, s := range []string{"prefix,hosts\n24.0.0.0/16,1200\n", "24.0.0.0/24,5\r\n25.0.0.0/8,0\n", "1.2.3.4/32,0\n", "x,y\n", "\x00,\x00", "24.0.0.0/16,-1\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		lines, err := ReadLayout(strings.NewReader(src), "f.csv")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.csv:") {
				t.Fatalf("error without file and line: %v", err)
			}
			return
		}
		total := 0
		for _, l := range lines {
			total += l.Hosts
		}
		if total > 100000 {
			return
		}
		hosts, err := FromLayout(lines, rand.New(rand.NewPCG(1, 1)))
		if err != nil || len(hosts) != total {
			t.Fatalf("valid layout failed to place: %d of %d, %v", len(hosts), total, err)
		}
	})
}

func TestSortAddrs(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	// Masks leave some of the sort's 11-bit digits equal in every
	// address, which it skips: an odd number of moves (one for 0x7ff and
	// 0x3ff800) must still end in a.
	for _, mask := range []uint32{0xffffffff, 0x0000ffff, 0x00ffffff, 0xff00ff00, 0x000007ff, 0x003ff800} {
		for _, n := range []int{0, 5, 5000, 100000} {
			a := make([]Addr, n)
			for i := range a {
				a[i] = Addr(0x0a000000 | rng.Uint32()&mask)
			}
			want := slices.Clone(a)
			slices.Sort(want)
			sortAddrs(a)
			if !slices.Equal(a, want) {
				t.Fatalf("n=%d, mask %#x: not sorted like slices.Sort", n, mask)
			}
		}
	}
}
