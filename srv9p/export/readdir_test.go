package export

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"mfs/internal/client"
	"mfs/internal/fcall"
	"mfs/srv9p/srv9ptest"

	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// TestReaddirLarge lists a directory of 100,000 entries while other
// entries are created and removed between the calls: every entry that
// existed before and was not touched must come exactly once.
func TestReaddirLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 files")
	}
	const n = 100_000
	a, dir := newExport(t)
	dfd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := unix.Mknodat(dfd, fmt.Sprintf("e%06d", i), unix.S_IFREG|0o644, 0); err != nil {
			t.Fatal(err)
		}
	}
	unix.Close(dfd)
	addr := srv9ptest.Serve(t, "tcp", a)
	for _, count := range []uint32{8 << 10, 1<<20 - 64} {
		t.Run(fmt.Sprint("count=", count), func(t *testing.T) {
			_, root := attachRemote(t, addr)
			_, d, err := root.Walk(nil)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if _, _, err := d.Open(p9.ReadOnly); err != nil {
				t.Fatal(err)
			}
			// Another client churns the directory meanwhile.
			_, churn := attachRemote(t, addr)
			touched := make(map[string]bool)
			seen := make(map[string]int)
			var off uint64
			for call := 0; ; call++ {
				ents, err := d.(*client.File).ReaddirBytes(off, count)
				if err != nil {
					t.Fatal(err)
				}
				if len(ents) == 0 {
					break
				}
				size := 0
				for _, e := range ents {
					seen[e.Name]++
					off = e.Offset
					size += fcall.DirentFixedSize + len(e.Name)
				}
				if size > int(count) {
					t.Fatalf("call %d returned %d bytes of entries for a budget of %d", call, size, count)
				}
				// Remove an old entry and create a new one.
				victim := fmt.Sprintf("e%06d", (call*7919)%n)
				if err := churn.UnlinkAt(victim, 0); err == nil {
					touched[victim] = true
				}
				name := fmt.Sprintf("new-%d-%d", count, call)
				if f, err := srv9ptest.Create(churn, name, p9.ReadWrite, 0o644); err == nil {
					f.Close()
				}
			}
			if len(touched) < 2 {
				t.Fatalf("the churning client removed %d entries; the test needs several calls with churn between them", len(touched))
			}
			missing, dup := 0, 0
			for i := range n {
				name := fmt.Sprintf("e%06d", i)
				if touched[name] {
					continue
				}
				switch seen[name] {
				case 0:
					missing++
				case 1:
				default:
					dup++
				}
			}
			if missing > 0 || dup > 0 || seen["."] != 1 || seen[".."] != 1 {
				t.Fatalf("%d entries missing, %d seen twice, . %d times, .. %d times", missing, dup, seen["."], seen[".."])
			}
			// Put the victims back for the next run.
			for name := range touched {
				os.WriteFile(filepath.Join(dir, name), nil, 0o644)
			}
		})
	}
}

// TestReaddirRewind checks that reading from offset 0 again sees the
// directory as it is now.
func TestReaddirRewind(t *testing.T) {
	a, dir := newExport(t)
	os.WriteFile(filepath.Join(dir, "a"), nil, 0o644)
	f, err := a.Attach()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, _, err := f.Open(p9.ReadOnly); err != nil {
		t.Fatal(err)
	}
	first, err := f.Readdir(0, 1<<16)
	if err != nil || len(first) != 3 {
		t.Fatalf("first listing: %v, %v", first, err)
	}
	os.WriteFile(filepath.Join(dir, "b"), nil, 0o644)
	if more, err := f.Readdir(first[len(first)-1].Offset, 1<<16); err != nil || len(more) != 0 {
		t.Fatalf("continuing the snapshot: %v, %v", more, err)
	}
	again, err := f.Readdir(0, 1<<16)
	if err != nil || len(again) != 4 {
		t.Fatalf("after rewind: %v, %v", again, err)
	}
	// count is a number of entries (p9.File's contract).
	if two, err := f.Readdir(0, 2); err != nil || len(two) != 2 {
		t.Fatalf("Readdir(0, 2): %v, %v", two, err)
	}
}

// TestConcurrentClients runs 16 clients at once, mixing reads, writes,
// creates, renames and readdirs (run it with -race).
func TestConcurrentClients(t *testing.T) {
	const clients, rounds = 16, 40
	a, dir := newExport(t)
	shared := filepath.Join(dir, "shared")
	if err := os.WriteFile(shared, make([]byte, clients*100), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := srv9ptest.Serve(t, "tcp", a)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := churnClient(t, addr, c, rounds); err != nil {
				errs <- fmt.Errorf("client %d: %w", c, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	b, err := os.ReadFile(shared)
	if err != nil {
		t.Fatal(err)
	}
	for c := range clients {
		want := fmt.Sprintf("%-100d", c*1000+rounds-1)
		if got := string(b[c*100 : c*100+100]); got != want {
			t.Errorf("shared region %d holds %q, want %q", c, got, want)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1+clients*rounds/2 {
		t.Errorf("%d entries at the end, want %d", len(ents), 1+clients*rounds/2)
	}
}

func churnClient(t *testing.T, addr string, c, rounds int) error {
	_, root := attachRemote(t, addr)
	_, sh, err := root.Walk([]string{"shared"})
	if err != nil {
		return err
	}
	if _, _, err := sh.Open(p9.ReadWrite); err != nil {
		return err
	}
	defer sh.Close()
	for r := range rounds {
		region := fmt.Sprintf("%-100d", c*1000+r)
		if _, err := sh.WriteAt([]byte(region), int64(c*100)); err != nil {
			return err
		}
		buf := make([]byte, 100)
		if _, err := sh.ReadAt(buf, int64(c*100)); err != nil || string(buf) != region {
			return fmt.Errorf("read back %q, %v", buf, err)
		}
		name := fmt.Sprintf("c%d-%d", c, r)
		f, err := srv9ptest.Create(root, name, p9.ReadWrite, 0o644)
		if err != nil {
			return err
		}
		if _, err := f.WriteAt([]byte(name), 0); err != nil {
			return err
		}
		f.Close()
		if err := root.RenameAt(name, root, "r"+name); err != nil {
			return err
		}
		if r%2 == 1 {
			if err := root.UnlinkAt("r"+name, 0); err != nil {
				return err
			}
		}
		_, d, err := root.Walk(nil)
		if err != nil {
			return err
		}
		if _, _, err := d.Open(p9.ReadOnly); err != nil {
			return err
		}
		seen := make(map[string]bool)
		for off := uint64(0); ; {
			ents, err := d.Readdir(off, 4096)
			if err != nil {
				return err
			}
			if len(ents) == 0 {
				break
			}
			for _, e := range ents {
				if seen[e.Name] {
					return fmt.Errorf("readdir: %q twice", e.Name)
				}
				seen[e.Name] = true
				off = e.Offset
			}
		}
		d.Close()
		if !seen["shared"] {
			return fmt.Errorf("readdir lost %q", "shared")
		}
	}
	return nil
}
