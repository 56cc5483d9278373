// Package vm tests mfs with the client that matters most: the Linux
// kernel's v9fs, in a QEMU guest (the host kernel here has no 9p).
//
// The tests boot a Debian kernel (a linux-image-amd64 .deb, fetched with
// apt-get download when absent and unpacked, never installed) with an
// initramfs holding busybox, the 9P modules, a static mfs (/bin/mfs) and
// the workload in guest/, a static Go program that mounts 9P as the kernel
// command line says, checks exact syscall results, and prints TAP-like
// lines that the host turns into subtests. Each check also runs on the guest's tmpfs in the same boot, to
// prove the check itself right. Where a phase's 9P dialect cannot express
// what a check tests (symlinks in 9P2000), the check is a skipped subtest
// with the reason; on tmpfs a skip is an error. A host-side oracle (a line protocol on a
// forwarded loopback port) lets the guest compare what it sees through 9P
// with what is on the host's disk.
//
//   - TestExport: `mfs export` over TCP; part 1 of issue 6 (files, dirs,
//     renames, links, attributes, xattrs, locks between two processes, a
//     10,000-entry directory, a 64 MiB file, mmap with cache=mmap, remount)
//     and msize 512 KiB/1 MiB with the default access and access=user;
//     the legacy suite (guest/legacy.go) mounted with version=9p2000.u and
//     with version=9p2000 (uname=root), between 9P2000.L phases on the
//     same connection.
//   - TestVirtioPort: the same export through a virtio serial port relayed
//     to trans=fd, msize 1 MiB and 512 KiB, access=user and the default,
//     and a second mount on the same connection.
//   - TestNamespace: a 3-node cluster of `mfs node` processes, node 1's
//     namespace mounted with aname=home=2; the union's rules, then part 1's
//     checks on node 1's own files and on node 3's through the proxy, and
//     the legacy suite in 9P2000.u on both.
//   - TestRun: `mfs run` (issue 13), a static /bin/mfs in the initramfs
//     mounting node 1 of such a cluster over TCP, one guestfwd port per
//     run: two trees side by side with their own home and selected, a
//     child and a nested mfs run inheriting, select in one tree only,
//     no /mfs left in the guest's own namespace, --user's uid on the
//     host, exit statuses 7, 127, 126 and 125.
//
// QEMU runs under TCG with -nodefaults and user networking restricted to
// guestfwd ports on loopback. Kernels and the initramfs are cached in
// .cache (or $MFS_VM_CACHE), rebuilt when their inputs change.
//
// Without QEMU, busybox-static or a kernel .deb the tests skip with one
// line; with MFS_VM_REQUIRE=1 (CI) they fail instead. MFS_VM_SERVER=diod
// runs TestExport and TestVirtioPort against diod, as a reference that
// tells a wrong check from a wrong server (diod speaks 9P2000.L only: the
// legacy phases are left out). MFS_VM_KERNEL_DEB names a kernel
// .deb to use, MFS_VM_CACHE the cache directory, MFS_VM_BZIMAGE=1 boots the
// compressed image, MFS_VM_KVM=1 tries KVM, MFS_VM_TIMEOUT (a Go duration)
// shortens the per-boot deadline to try the timeout path. setup.sh fetches
// the kernel ahead of the test run.
package vm
