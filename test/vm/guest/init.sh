#!/bin/busybox sh
# PID 1 of a test VM (test/vm/harness/qemu.ts boots it; the initramfs holds this file, a static
# busybox and the modules the root needs).
#
# Stage 1, from the initramfs under busybox: the host's / (9p, read-only) with a tmpfs over it
# becomes the root. Stage 2, in that root under the host's dash: a pure cgroup v2 machine
# (the kernel runs with cgroup_no_v1=all) with tmpfs where the engine writes; then it runs
# /mnt/io/run (written by the harness), keeps its status in /mnt/io/status, and powers off.
# Stage 2 must not run under busybox sh: its applets re-exec through /proc/self/exe, which before
# /proc is mounted resolves over 9p to the host's /proc, and so to the qemu binary.
# Nothing here enables cgroup controllers: delegating them is the engine's job, under test.
if [ "$1" != stage2 ]; then
  /bin/busybox --install -s /bin
  export PATH=/bin
  mkdir -p /proc /sys /dev /lower /upper /newroot
  mount -t proc proc /proc && mount -t sysfs sysfs /sys && mount -t devtmpfs devtmpfs /dev
  for m in $(cat /modules/order); do
    insmod "/modules/$m" || { echo "vm-init: insmod $m failed"; exec sh; }
  done
  mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=512000 root /lower || { echo "vm-init: no 9p root"; exec sh; }
  mount -t tmpfs -o size=1g,mode=755 tmpfs /upper && mkdir /upper/u /upper/w
  mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot || { echo "vm-init: no overlay root"; exec sh; }
  cp /init /newroot/.vm-init
  umount /proc /sys /dev
  exec switch_root /newroot /bin/sh /.vm-init stage2
fi

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /mnt/io
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 io /mnt/io || { echo "vm-init: no io share"; echo o > /proc/sysrq-trigger; }
# The host paths the suite needs (the checkout, the kernel's modules) may sit under a folder that
# gets a tmpfs below (a CI clone lives in /tmp): each is held by a bind mount and put back on top.
n=0
while IFS= read -r p; do
  n=$((n+1)); mkdir -p "/.carry/$n" && mount --bind "$p" "/.carry/$n"
done < /mnt/io/carry
for d in /run /tmp /var/tmp /var/lib/tscompose; do mkdir -p $d && mount -t tmpfs -o mode=755 tmpfs $d; done
chmod 1777 /tmp /var/tmp
mkdir -p /run/lock
n=0
while IFS= read -r p; do
  n=$((n+1)); [ -n "$(ls -A "$p" 2>/dev/null)" ] && continue
  mkdir -p "$p" && mount --bind "/.carry/$n" "$p" || echo "vm-init: cannot carry $p"
done < /mnt/io/carry
# The guest kernel's modules (veth, bridge, netfilter...) from the unpacked package, for modprobe.
kver=$(uname -r)
mkdir -p "/lib/modules/$kver"
mount --bind "$(cat /mnt/io/modules)/lib/modules/$kver" "/lib/modules/$kver"
ip link set lo up
hostname tsc-vm
echo "vm-init: ready kernel=$kver uptime=$(cut -d' ' -f1 /proc/uptime)"
cd /
/bin/sh /mnt/io/run </dev/null
echo "$?" > /mnt/io/status
echo "vm-init: done uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
echo o > /proc/sysrq-trigger
