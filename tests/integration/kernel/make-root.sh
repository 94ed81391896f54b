#!/usr/bin/env bash
# Builds an Enterprise Linux node's root as the kernel upgrade sees it: os-release, GRUB's files (BLS entries
# on EL8+, a grub.cfg with menu entries on EL7, a grubenv written by the real grub-editenv), the running
# kernel's files, an empty rpmdb made by the real rpm, and the procfs/sysfs files the agent reads (kernel
# release, boot_id, mount table, block devices, EFI variables).
#
# Usage: make-root.sh ROOT EL [variation...]
#   uefi             UEFI firmware with Secure Boot off
#   secure-boot      UEFI with Secure Boot on (SecureBoot=1, SetupMode=0)
#   secure-boot-unknown  UEFI with efivarfs mounted but no SecureBoot variable
#   md               /boot on md RAID1          lvm   /boot on an LVM logical volume
#   grub-default-0   GRUB_DEFAULT=0
set -euo pipefail

root=$1 el=$2
shift 2
mid=0a1b2c3d4e5f60718293a4b5c6d7e8f9

case $el in
  7) old=3.10.0-1160.119.1.el7.x86_64; name="CentOS Linux"; id=centos; version=7; pretty="CentOS Linux 7 (Core)" ;;
  8) old=4.18.0-553.el8_10.x86_64; name="Rocky Linux"; id=rocky; version=8.10; pretty="Rocky Linux 8.10 (Green Obsidian)" ;;
  9) old=5.14.0-427.13.1.el9_4.x86_64; name="Rocky Linux"; id=rocky; version=9.4; pretty="Rocky Linux 9.4 (Blue Onyx)" ;;
  10) old=6.12.0-55.9.1.el10_0.x86_64; name="AlmaLinux"; id=almalinux; version=10.0; pretty="AlmaLinux 10.0 (Purple Lion)" ;;
  *) echo "make-root.sh: unknown EL $el" >&2; exit 2 ;;
esac

has() { local want=$1; shift; for v in "$@"; do [[ $v == "$want" ]] && return 0; done; return 1; }

mkdir -p "$root"/{etc/default,boot/grub2,boot/loader/entries,var/lib,lib/modules/$old,proc/1,proc/sys/kernel/random,sys/kernel,sys/firmware}
cat > "$root/etc/os-release" <<OS
NAME="$name"
VERSION="$version"
ID="$id"
ID_LIKE="rhel centos fedora"
VERSION_ID="$version"
PLATFORM_ID="platform:el$el"
PRETTY_NAME="$pretty"
OS
echo "$mid" > "$root/etc/machine-id"
grub_default=saved
has grub-default-0 "$@" && grub_default=0
cat > "$root/etc/default/grub" <<GRUB
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR="\$(sed 's, release .*\$,,g' /etc/system-release)"
GRUB_DEFAULT=$grub_default
GRUB_DISABLE_SUBMENU=true
GRUB_TERMINAL_OUTPUT="console"
GRUB_CMDLINE_LINUX="crashkernel=auto rhgb quiet"
GRUB_DISABLE_RECOVERY="true"
GRUB
head -c 65536 /dev/urandom > "$root/boot/vmlinuz-$old"
head -c 4096 /dev/urandom > "$root/boot/initramfs-$old.img"
printf 'kernel/fs/xfs/xfs.ko.xz:\n' > "$root/lib/modules/$old/modules.dep"

grub-editenv "$root/boot/grub2/grubenv" create
if [[ $el == 7 ]]; then
  title="CentOS Linux ($old) 7 (Core)"
  cat > "$root/boot/grub2/grub.cfg" <<CFG
### BEGIN /etc/grub.d/00_header ###
set pager=1
if [ -s \$prefix/grubenv ]; then
  load_env
fi
if [ "\${next_entry}" ] ; then
   set default="\${next_entry}"
   set next_entry=
   save_env next_entry
   set boot_once=true
else
   set default="\${saved_entry}"
fi
### END /etc/grub.d/00_header ###
### BEGIN /etc/grub.d/10_linux ###
menuentry '$title' --class centos --class gnu-linux --class gnu --class os --unrestricted \$menuentry_id_option 'gnulinux-$old-advanced-0a1b2c3d' {
	load_video
	set gfxpayload=keep
	insmod gzio
	insmod part_msdos
	insmod xfs
	linux16 /vmlinuz-$old root=/dev/mapper/centos-root ro crashkernel=auto rhgb quiet
	initrd16 /initramfs-$old.img
}
### END /etc/grub.d/10_linux ###
CFG
  grub-editenv "$root/boot/grub2/grubenv" set "saved_entry=$title"
else
  options='root=/dev/mapper/rl-root ro crashkernel=auto resume=/dev/mapper/rl-swap rhgb quiet'
  entry_options=$options
  if [[ $el == 8 ]]; then
    # EL8 keeps the kernel arguments in grubenv's kernelopts; entries say "options $kernelopts".
    entry_options='$kernelopts'
    grub-editenv "$root/boot/grub2/grubenv" set "kernelopts=$options"
  fi
  cat > "$root/boot/loader/entries/$mid-$old.conf" <<ENTRY
title $pretty ($old)
version $old
linux /vmlinuz-$old
initrd /initramfs-$old.img \$tuned_initrd
options $entry_options
grub_users \$grub_users
grub_arg --unrestricted
grub_class rocky
ENTRY
  grub-editenv "$root/boot/grub2/grubenv" set "saved_entry=$mid-$old" boot_success=0
fi

# The running kernel and this boot.
echo "$old" > "$root/proc/sys/kernel/osrelease"
echo "node-el$el" > "$root/proc/sys/kernel/hostname"
echo "11111111-2222-4333-8444-$(printf '%012d' "$el")" > "$root/proc/sys/kernel/random/boot_id"
echo "BOOT_IMAGE=(hd0,msdos1)/vmlinuz-$old root=/dev/mapper/rl-root ro" > "$root/proc/cmdline"

# /boot's device: a plain partition unless told otherwise.
boot_dev=8:1 boot_src=/dev/sda1
mkdir -p "$root/sys/devices/pci0000:00/block/sda/sda1" "$root/sys/dev/block"
echo 1 > "$root/sys/devices/pci0000:00/block/sda/sda1/partition"
ln -s ../../devices/pci0000:00/block/sda/sda1 "$root/sys/dev/block/8:1"
if has md "$@"; then
  boot_dev=9:127 boot_src=/dev/md127
  mkdir -p "$root/sys/devices/virtual/block/md127/md"
  echo raid1 > "$root/sys/devices/virtual/block/md127/md/level"
  ln -s ../../devices/virtual/block/md127 "$root/sys/dev/block/9:127"
elif has lvm "$@"; then
  boot_dev=253:2 boot_src=/dev/mapper/rl-boot
  mkdir -p "$root/sys/devices/virtual/block/dm-2/dm"
  echo LVM-Zx3Jf0qL3R5cYv8PqX0kT3n5b6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4 > "$root/sys/devices/virtual/block/dm-2/dm/uuid"
  ln -s ../../devices/virtual/block/dm-2 "$root/sys/dev/block/253:2"
fi
cat > "$root/proc/1/mountinfo" <<MOUNTS
22 1 253:0 / / rw,relatime shared:1 - xfs /dev/mapper/rl-root rw,attr2,inode64,noquota
23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw
45 22 $boot_dev / /boot rw,relatime shared:60 - xfs $boot_src rw,attr2,inode64,noquota
MOUNTS

# Firmware: BIOS unless told otherwise.
efivars="$root/sys/firmware/efi/efivars"
efi_byte() { printf '\x06\x00\x00\x00'"$2" > "$efivars/$1"; }
if has uefi "$@" || has secure-boot "$@" || has secure-boot-unknown "$@"; then
  mkdir -p "$efivars"
  efi_byte BootCurrent-8be4df61-93ca-11d2-aa0d-00e098032b8c '\x01\x00'
  if has secure-boot "$@"; then
    efi_byte SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c '\x01'
    efi_byte SetupMode-8be4df61-93ca-11d2-aa0d-00e098032b8c '\x00'
  elif has uefi "$@"; then
    efi_byte SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c '\x00'
    efi_byte SetupMode-8be4df61-93ca-11d2-aa0d-00e098032b8c '\x00'
  fi
fi

# An empty rpmdb in EL's place (Debian's rpm keeps it under ~ unless told), opened once so that its first
# read (which rewrites sqlite's shared-memory index) happens here and not in a test's before/after digest.
home=$(mktemp -d)
echo '%_dbpath /var/lib/rpm' > "$home/.rpmmacros"
HOME=$home rpm --root "$root" --initdb
HOME=$home rpm --root "$root" -qa >/dev/null
rm -rf "$home"
