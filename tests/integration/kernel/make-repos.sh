#!/usr/bin/env bash
# Builds the kernel-upgrade tests' package repositories with real tools: a throwaway GnuPG home with two
# signing keys, fake ELRepo-style kernel-ml packages built by rpmbuild, signed by rpmsign, indexed by
# createrepo_c. Usage: make-repos.sh OUT_DIR. Writes OUT_DIR/done last, so a half-built directory is never
# taken for a finished one.
#
# The packages have the names, versions, dist tags and file layout of ELRepo's (kernel-ml meta package,
# kernel-ml-core with vmlinuz and the config, kernel-ml-modules with modules.dep; EL7: one kernel-ml whose
# %post adds a GRUB menu entry the way new-kernel-pkg does) but carry no kernel: vmlinuz is random bytes.
# Unlike the real ones they also ship the files kernel-install and dracut would create at %posttrans
# (initramfs, BLS entry), so they need no scriptlet interpreter in an empty install root.
set -euo pipefail

out=$1
rm -rf "$out"
mkdir -p "$out"/{gnupg,keys,rpmbuild,repos/good,repos/unsigned,repos/other,repos/nobtf,home}
chmod 700 "$out/gnupg"
export GNUPGHOME="$out/gnupg"
# Debian's rpm keeps its database under ~ unless told otherwise; nothing here may touch the real home.
export HOME="$out/home"
echo '%_dbpath /var/lib/rpm' > "$HOME/.rpmmacros"

# The machine id of every fixture root: real BLS entries are named <machine-id>-<kernel release>.conf.
machine_id=0a1b2c3d4e5f60718293a4b5c6d7e8f9

make_key() { # name email
  gpg --batch --quiet --gen-key <<KEY
%no-protection
Key-Type: RSA
Key-Length: 2048
Key-Usage: sign
Name-Real: meshlink test $1
Name-Email: $2
Expire-Date: 0
%commit
KEY
  gpg --batch --armor --export "$2" > "$out/keys/$1.asc"
  gpg --batch --with-colons --fingerprint "$2" | awk -F: '$1 == "fpr" { print $10; exit }' > "$out/keys/$1.fpr"
}
make_key trusted trusted@example.invalid
make_key other other@example.invalid

# kconfig BTF_LINE: the options Cilium needs, as ELRepo's kernel-ml 7.x sets them.
kconfig() {
  cat <<CONFIG
#
# Automatically generated file; DO NOT EDIT.
# Linux/x86 $1 Kernel Configuration
#
CONFIG_MODULES=y
CONFIG_BPF=y
CONFIG_BPF_SYSCALL=y
CONFIG_BPF_JIT=y
CONFIG_HAVE_EBPF_JIT=y
CONFIG_NET_CLS_BPF=m
CONFIG_NET_SCH_INGRESS=m
CONFIG_NET_CLS_ACT=y
CONFIG_CRYPTO_SHA1=y
CONFIG_CRYPTO_USER_API_HASH=y
CONFIG_CGROUPS=y
CONFIG_CGROUP_BPF=y
CONFIG_PERF_EVENTS=y
CONFIG_SCHEDSTATS=y
CONFIG_VXLAN=m
CONFIG_GENEVE=m
CONFIG_FIB_RULES=y
CONFIG_WIREGUARD=m
CONFIG_PANIC_TIMEOUT=0
$2
CONFIG_HZ=1000
CONFIG_LOCALVERSION=""
CONFIG
}

# build EL VERSION BTF(yes|no) [SIZE_KIB]: kernel-ml packages for one EL release.
build() {
  local el=$1 version=$2 btf=$3 size=${4:-256}
  local release="1.el${el}.elrepo" arch=x86_64
  local kver="${version}-${release}.${arch}"
  local src="$out/rpmbuild/src-el$el-$version-$btf"
  mkdir -p "$src"
  head -c $((size * 1024)) /dev/urandom > "$src/vmlinuz"
  head -c 4096 /dev/urandom > "$src/initramfs.img"
  local btf_line='CONFIG_DEBUG_INFO_BTF=y'
  [[ $btf == yes ]] || btf_line='# CONFIG_DEBUG_INFO_BTF is not set'
  kconfig "$version" "$btf_line" > "$src/config"
  printf 'kernel/net/sched/cls_bpf.ko.xz:\nkernel/net/sched/sch_ingress.ko.xz:\n' > "$src/modules.dep"
  cat > "$src/entry.conf" <<ENTRY
title Enterprise Linux ($kver) $el
version $kver
linux /vmlinuz-$kver
initrd /initramfs-$kver.img
options root=/dev/mapper/el-root ro crashkernel=auto
grub_users \$grub_users
grub_arg --unrestricted
grub_class kernel
ENTRY
  local spec="$src/kernel-ml.spec"
  if [[ $el == 7 ]]; then
    cat > "$spec" <<SPEC
Name: kernel-ml
Version: $version
Release: $release
Summary: meshlink test stand-in for ELRepo's kernel-ml
License: GPLv2
BuildArch: $arch
Provides: installonlypkg(kernel)
%global debug_package %{nil}
%global __os_install_post %{nil}
%global _binary_payload w0.ufdio
%description
Not a kernel: the files of one, for package-manager tests.
%install
install -D -m 0755 $src/vmlinuz %{buildroot}/boot/vmlinuz-$kver
install -D -m 0600 $src/initramfs.img %{buildroot}/boot/initramfs-$kver.img
install -D -m 0644 $src/config %{buildroot}/boot/config-$kver
install -D -m 0644 $src/modules.dep %{buildroot}/lib/modules/$kver/modules.dep
%files
/boot/vmlinuz-$kver
/boot/initramfs-$kver.img
/boot/config-$kver
/lib/modules/$kver
# What new-kernel-pkg --install does on EL7 (grubby adds a menu entry to grub.cfg), in rpm's own Lua so the
# fixture root needs no shell.
%post -p <lua>
local f = io.open("/boot/grub2/grub.cfg", "a")
f:write("menuentry 'CentOS Linux ($kver) 7 (Core)' --class centos --class gnu-linux --class gnu --class os --unrestricted \$menuentry_id_option 'gnulinux-$kver-advanced-0a1b2c3d' {\n")
f:write("\tload_video\n\tset gfxpayload=keep\n\tinsmod gzio\n\tinsmod part_msdos\n\tinsmod xfs\n")
f:write("\tlinux16 /vmlinuz-$kver root=/dev/mapper/centos-root ro crashkernel=auto rhgb quiet\n")
f:write("\tinitrd16 /initramfs-$kver.img\n}\n")
f:close()
SPEC
  else
    cat > "$spec" <<SPEC
Name: kernel-ml
Version: $version
Release: $release
Summary: meshlink test stand-in for ELRepo's kernel-ml
License: GPLv2
BuildArch: $arch
Requires: kernel-ml-core-uname-r = $kver
Requires: kernel-ml-modules-uname-r = $kver
Provides: installonlypkg(kernel)
%global debug_package %{nil}
%global __os_install_post %{nil}
%global _binary_payload w0.ufdio
%description
Not a kernel: the files of one, for package-manager tests.
%package core
Summary: kernel-ml core stand-in
Provides: kernel-ml-core-uname-r = $kver
Provides: installonlypkg(kernel)
Provides: installonlypkg(kernel-ml)
%description core
vmlinuz, initramfs, BLS entry and config of the stand-in.
%package modules
Summary: kernel-ml modules stand-in
Provides: kernel-ml-modules-uname-r = $kver
Provides: installonlypkg(kernel-module)
Requires: kernel-ml-core-uname-r = $kver
%description modules
modules.dep of the stand-in.
%install
install -D -m 0755 $src/vmlinuz %{buildroot}/lib/modules/$kver/vmlinuz
install -D -m 0755 $src/vmlinuz %{buildroot}/boot/vmlinuz-$kver
install -D -m 0600 $src/initramfs.img %{buildroot}/boot/initramfs-$kver.img
install -D -m 0644 $src/config %{buildroot}/lib/modules/$kver/config
install -D -m 0644 $src/config %{buildroot}/boot/config-$kver
install -D -m 0644 $src/entry.conf %{buildroot}/boot/loader/entries/$machine_id-$kver.conf
install -D -m 0644 $src/modules.dep %{buildroot}/lib/modules/$kver/modules.dep
%files
%files core
/lib/modules/$kver/vmlinuz
/lib/modules/$kver/config
/boot/vmlinuz-$kver
/boot/initramfs-$kver.img
/boot/config-$kver
/boot/loader/entries/$machine_id-$kver.conf
%files modules
/lib/modules/$kver/modules.dep
SPEC
  fi
  rpmbuild --quiet --define "_topdir $out/rpmbuild" --target "$arch" -bb "$spec" >/dev/null 2>"$src/rpmbuild.log" \
    || { cat "$src/rpmbuild.log" >&2; exit 1; }
}

sign() { # key-email files...
  local email=$1; shift
  rpmsign --define "_gpg_name $email" --define '__gpg /usr/bin/gpg' --addsign "$@" >/dev/null
}

rpms="$out/rpmbuild/RPMS/x86_64"
take() { # repo glob...
  local repo=$1; shift
  for f in "$@"; do mv "$f" "$out/repos/$repo/"; done
}

for el in 8 9 10; do
  build "$el" 7.0.5 yes
  build "$el" 7.1.9 yes
done
build 7 6.9.7 no
sign trusted@example.invalid "$rpms"/*.rpm
take good "$rpms"/*.rpm

build 9 7.2.0 yes
take unsigned "$rpms"/*.rpm
build 9 7.2.0 yes
sign other@example.invalid "$rpms"/*.rpm
take other "$rpms"/*.rpm
build 9 7.2.0 no
sign trusted@example.invalid "$rpms"/*.rpm
take nobtf "$rpms"/*.rpm

for repo in good unsigned other nobtf; do
  createrepo_c --quiet "$out/repos/$repo"
done
echo "$machine_id" > "$out/machine-id"
touch "$out/done"
