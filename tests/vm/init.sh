#!/bin/sh
# PID 1 of the test guest (see vm_test.go). It loads the 9P modules, brings up
# the transports the kernel command line asks for, runs the workload, prints
# the final marker and powers off. Everything the host judges comes from the
# workload's TAP lines and the marker, never from QEMU's exit status.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs -o size=256m tmp /tmp
mount -t tmpfs run /run

for m in $(cat /modules); do
	insmod /lib/modules/$m.ko || echo "MFS-VM-INIT insmod $m failed"
done

for arg in $(cat /proc/cmdline); do
	case $arg in
	mfs.net=1)
		ip link set lo up
		ip link set eth0 up
		ip addr add 10.0.2.15/24 dev eth0
		;;
	mfs.port=1)
		# trans=fd cannot use the virtio port itself (virtio_console has
		# no write_iter), so relay it through two FIFOs: the workload
		# inherits their ends as fds 3 (read) and 4 (write).
		port=
		for d in /sys/class/virtio-ports/*; do
			[ "$(cat $d/name 2>/dev/null)" = p9 ] && port=/dev/$(basename $d)
		done
		if [ -z "$port" ]; then
			echo "MFS-VM-INIT no virtio port named p9"
		else
			# A virtio port opens only once: both relays share fd 5.
			mkfifo /run/p9in /run/p9out
			exec 5<>$port
			cat <&5 >/run/p9in &
			cat /run/p9out >&5 &
			exec 3</run/p9in 4>/run/p9out 5>&-
		fi
		;;
	esac
done

/mfsguest run
echo "MFS-VM-END rc=$?"
sync
poweroff -f
