package vm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
)

// installHint is the one line a machine without the VM prerequisites sees.
const installHint = "install qemu-system-x86 busybox-static and a linux-image-amd64 .deb to run the VM tests"

// modules are the kernel modules the guest loads, in dependency order (the
// Debian .deb ships no modules.dep, and busybox insmod does not resolve
// dependencies). The last three are only needed for the TCP transport but
// cost nothing to load always.
var modules = []string{
	"virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio_ring", "virtio",
	"virtio_pci", "virtio_console", "9pnet", "9pnet_fd", "netfs", "fscache", "9p",
	"failover", "net_failover", "virtio_net",
}

// assets are what a boot needs: a kernel image and an initramfs holding
// busybox, the 9P modules and the workload.
type assets struct {
	qemu    string
	kernel  string
	initrd  string
	version string // kernel release, e.g. 6.1.0-56-amd64
}

var (
	assetsOnce sync.Once
	assetsVal  *assets
	assetsErr  error
	assetsSkip bool // assetsErr is a missing prerequisite, not a bug
)

// needAssets prepares the assets once per test binary. A missing
// prerequisite skips the test with installHint, unless MFS_VM_REQUIRE is set
// (CI sets it, so that a broken install fails instead of skipping).
func needAssets(t *testing.T) *assets {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("VM tests run on linux/amd64 only")
	}
	assetsOnce.Do(func() { assetsVal, assetsErr, assetsSkip = prepareAssets() })
	if assetsErr != nil {
		if assetsSkip && os.Getenv("MFS_VM_REQUIRE") == "" {
			t.Skipf("%s (%v)", installHint, assetsErr)
		}
		t.Fatalf("%s: %v", installHint, assetsErr)
	}
	return assetsVal
}

// cacheDir is where kernels and initramfs images are kept between runs:
// $MFS_VM_CACHE, or .cache beside this package (git-ignored; mk nuke
// removes it).
func cacheDir() (string, error) {
	d := os.Getenv("MFS_VM_CACHE")
	if d == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		d = filepath.Join(wd, ".cache")
	}
	return d, os.MkdirAll(d, 0o755)
}

func prepareAssets() (a *assets, err error, missing bool) {
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return nil, err, true
	}
	busybox, err := findBusybox()
	if err != nil {
		return nil, err, true
	}
	dir, err := cacheDir()
	if err != nil {
		return nil, err, false
	}
	deb, err := kernelDeb(dir)
	if err != nil {
		return nil, err, true
	}
	kdir, version, err := unpackKernel(dir, deb)
	if err != nil {
		return nil, err, false
	}
	guest, err := buildGuest(dir)
	if err != nil {
		return nil, fmt.Errorf("build guest workload: %w", err), false
	}
	mfs, err := buildMFS(dir)
	if err != nil {
		return nil, fmt.Errorf("build static mfs: %w", err), false
	}
	initrd, err := buildInitramfs(dir, busybox, guest, mfs, kdir, version)
	if err != nil {
		return nil, fmt.Errorf("initramfs: %w", err), false
	}
	return &assets{qemu: qemu, kernel: kernelImage(kdir, version), initrd: initrd, version: version}, nil, false
}

// findBusybox returns a statically linked busybox (a dynamic one would need
// its libraries in the initramfs).
func findBusybox() (string, error) {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if bytes.Contains(b, []byte("/lib64/ld-linux")) || bytes.Contains(b, []byte("/lib/ld-linux")) {
			return "", fmt.Errorf("%s is dynamically linked (want busybox-static)", p)
		}
		return p, nil
	}
	return "", errors.New("no busybox")
}

// kernelDeb finds a linux-image .deb: $MFS_VM_KERNEL_DEB, one already in the
// cache or apt's archive, or one fetched with apt-get download (the version
// linux-image-amd64 depends on).
func kernelDeb(dir string) (string, error) {
	if p := os.Getenv("MFS_VM_KERNEL_DEB"); p != "" {
		return p, nil
	}
	for _, pat := range []string{
		filepath.Join(dir, "linux-image-*-amd64_*.deb"),
		"/var/cache/apt/archives/linux-image-6.*-amd64_*.deb",
	} {
		m, _ := filepath.Glob(pat)
		m = filterDebs(m)
		if len(m) > 0 {
			sort.Strings(m)
			return m[len(m)-1], nil
		}
	}
	out, err := exec.Command("apt-cache", "depends", "linux-image-amd64").Output()
	if err != nil {
		return "", fmt.Errorf("apt-cache depends linux-image-amd64: %w", err)
	}
	var pkg string
	for _, l := range strings.Split(string(out), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 && f[0] == "Depends:" && strings.HasPrefix(f[1], "linux-image-") {
			pkg = f[1]
			break
		}
	}
	if pkg == "" {
		return "", errors.New("apt-cache knows no linux-image-amd64 (run apt-get update)")
	}
	cmd := exec.Command("apt-get", "download", pkg)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("apt-get download %s: %w: %s", pkg, err, lastLine(string(out)))
	}
	m, _ := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	if len(m) == 0 {
		return "", fmt.Errorf("apt-get download %s left no .deb", pkg)
	}
	return m[0], nil
}

// filterDebs drops the cloud and rt flavours: the cloud kernel has no 9P.
func filterDebs(m []string) []string {
	var keep []string
	for _, p := range m {
		b := filepath.Base(p)
		if strings.Contains(b, "cloud") || strings.Contains(b, "-rt-") || strings.Contains(b, "-dbg") {
			continue
		}
		keep = append(keep, p)
	}
	return keep
}

// unpackKernel unpacks the .deb (dpkg-deb -x, no install) into the cache,
// once per .deb, and returns the directory and the kernel release.
func unpackKernel(dir, deb string) (string, string, error) {
	kdir := filepath.Join(dir, "kernel-"+strings.TrimSuffix(filepath.Base(deb), ".deb"))
	if _, err := os.Stat(filepath.Join(kdir, ".done")); err != nil {
		tmp := kdir + ".tmp"
		os.RemoveAll(tmp)
		if out, err := exec.Command("dpkg-deb", "-x", deb, tmp).CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("dpkg-deb -x %s: %w: %s", deb, err, lastLine(string(out)))
		}
		os.RemoveAll(kdir)
		if err := os.Rename(tmp, kdir); err != nil {
			return "", "", err
		}
		if err := os.WriteFile(filepath.Join(kdir, ".done"), nil, 0o644); err != nil {
			return "", "", err
		}
	}
	vs, _ := filepath.Glob(filepath.Join(kdir, "lib/modules/*"))
	if len(vs) != 1 {
		return "", "", fmt.Errorf("%s: want one lib/modules/<release>, have %d", deb, len(vs))
	}
	version := filepath.Base(vs[0])
	if _, err := os.Stat(filepath.Join(kdir, "boot", "vmlinuz-"+version)); err != nil {
		return "", "", fmt.Errorf("%s has no kernel image: %w", deb, err)
	}
	extractVmlinux(kdir, version)
	return kdir, version, nil
}

// extractVmlinux unpacks the uncompressed ELF kernel from the xz-compressed
// bzImage, when xz(1) is there: QEMU boots it through its PVH entry point,
// which saves the seconds an emulated CPU spends decompressing. Failing that
// the bzImage is booted as it is.
func extractVmlinux(kdir, version string) {
	out := filepath.Join(kdir, "vmlinux")
	if _, err := os.Stat(out); err == nil {
		return
	}
	xz, err := exec.LookPath("xz")
	if err != nil {
		return
	}
	bz, err := os.ReadFile(filepath.Join(kdir, "boot", "vmlinuz-"+version))
	if err != nil {
		return
	}
	i := bytes.Index(bz, []byte("\xfd7zXZ\x00"))
	if i < 0 {
		return
	}
	cmd := exec.Command(xz, "-dc", "--single-stream")
	cmd.Stdin = bytes.NewReader(bz[i:])
	elf, err := cmd.Output()
	if err != nil || !bytes.HasPrefix(elf, []byte("\x7fELF")) {
		return
	}
	tmp := out + ".tmp"
	if os.WriteFile(tmp, elf, 0o644) == nil {
		os.Rename(tmp, out)
	}
}

// kernelImage prefers the uncompressed vmlinux (see extractVmlinux).
func kernelImage(kdir, version string) string {
	if os.Getenv("MFS_VM_BZIMAGE") == "" {
		if _, err := os.Stat(filepath.Join(kdir, "vmlinux")); err == nil {
			return filepath.Join(kdir, "vmlinux")
		}
	}
	return filepath.Join(kdir, "boot", "vmlinuz-"+version)
}

// buildGuest builds the workload as a static binary (CGO_ENABLED=0).
func buildGuest(dir string) (string, error) {
	out := filepath.Join(dir, "mfsguest")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "mfs/tests/vm/guest")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: %s", err, b)
	}
	return out, nil
}

// buildMFS builds mfs as a static binary (CGO_ENABLED=0) for the guest's
// /bin/mfs, which the mfs run checks use.
func buildMFS(dir string) (string, error) {
	out := filepath.Join(dir, "mfs-static")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, "mfs/cmd/mfs")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: %s", err, b)
	}
	return out, nil
}

// buildInitramfs assembles the initramfs, or reuses the cached one built from
// the same inputs (kernel release, module list, init script, busybox, workload
// and mfs binaries).
func buildInitramfs(dir, busybox, guest, mfs, kdir, version string) (string, error) {
	initScript, err := os.ReadFile("init.sh")
	if err != nil {
		return "", err
	}
	bb, err := os.ReadFile(busybox)
	if err != nil {
		return "", err
	}
	gb, err := os.ReadFile(guest)
	if err != nil {
		return "", err
	}
	mb, err := os.ReadFile(mfs)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", version, strings.Join(modules, " "))
	for _, b := range [][]byte{initScript, bb, gb, mb} {
		fmt.Fprintf(h, "%d\n", len(b))
		h.Write(b)
	}
	sum := hex.EncodeToString(h.Sum(nil))[:16]
	file := filepath.Join(dir, "initramfs-"+sum+".cpio")
	if _, err := os.Stat(file); err == nil {
		return file, nil
	}

	modDir := filepath.Join(kdir, "lib", "modules", version)
	found := map[string]string{}
	filepath.WalkDir(modDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".ko") {
			found[strings.TrimSuffix(d.Name(), ".ko")] = p
		}
		return nil
	})
	entries := []cpioEntry{
		{name: "bin", mode: sIFDIR | 0o755},
		{name: "bin/busybox", mode: sIFREG | 0o755, data: bb},
		{name: "bin/mfs", mode: sIFREG | 0o755, data: mb},
		{name: "bin/sh", mode: sIFLNK | 0o777, data: []byte("busybox")},
		{name: "dev", mode: sIFDIR | 0o755},
		{name: "dev/console", mode: sIFCHR | 0o600, major: 5, minor: 1},
		{name: "etc", mode: sIFDIR | 0o755},
		{name: "init", mode: sIFREG | 0o755, data: initScript},
		{name: "lib", mode: sIFDIR | 0o755},
		{name: "lib/modules", mode: sIFDIR | 0o755},
		{name: "mfsguest", mode: sIFREG | 0o755, data: gb},
		{name: "mnt", mode: sIFDIR | 0o755},
		{name: "modules", mode: sIFREG | 0o644, data: []byte(strings.Join(modules, "\n") + "\n")},
		{name: "proc", mode: sIFDIR | 0o755},
		{name: "root", mode: sIFDIR | 0o700},
		{name: "run", mode: sIFDIR | 0o755},
		{name: "sys", mode: sIFDIR | 0o755},
		{name: "tmp", mode: sIFDIR | 0o1777},
	}
	for _, m := range modules {
		p, ok := found[m]
		if !ok {
			return "", fmt.Errorf("kernel %s has no module %s.ko (is it a cloud kernel?)", version, m)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		entries = append(entries, cpioEntry{name: "lib/modules/" + m + ".ko", mode: sIFREG | 0o644, data: b})
	}
	old, _ := filepath.Glob(filepath.Join(dir, "initramfs-*.cpio"))
	if err := writeCPIOFile(file, entries); err != nil {
		return "", err
	}
	for _, o := range old {
		os.Remove(o)
	}
	return file, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
