#!/usr/bin/env bash
# Downloads (here, on the build machine with Debian's apt) the .deb files of the libraries
# mvot needs, into .devcheck/debs, for run-device-check.sh to unpack on a GPU machine that
# lacks them and has no network. Nothing is installed here. Carry .devcheck with the run.
#   tools/cuda/prepare-device-debs.sh [DEST]      (default: .devcheck/debs)
set -u
dest=${1:-.devcheck/debs}
mkdir -p "$dest"
# Build-time (-dev, pkg-config) and run-time packages, the dependency closure of
# scripts/deps-apt.txt's libraries minus what every Linux with a C toolchain has
# (libc6, libgcc-s1, libstdc++6, the C headers).
pkgs=(
  libpng-dev libpng16-16 zlib1g-dev zlib1g
  libzstd-dev libzstd1
  libxxhash-dev libxxhash0
  libarchive-dev libarchive13 libacl1 libbz2-1.0 liblz4-1 liblzma5 libnettle8 libxml2 libicu72
  libpcre2-dev libpcre2-8-0 libpcre2-16-0 libpcre2-32-0 libpcre2-posix3
  libjansson-dev libjansson4
  libutf8proc-dev libutf8proc2
  libopenblas-dev libopenblas-pthread-dev libopenblas0 libopenblas0-pthread libgfortran5
  libquadmath0
  pkgconf pkgconf-bin libpkgconf3
)
cd "$dest" || exit 1
rm -f ./*.deb
apt-get download "${pkgs[@]}" || exit 1
ls -1 ./*.deb | wc -l
du -sh .
