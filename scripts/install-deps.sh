#!/usr/bin/env bash
# Installs every build and test dependency of Brick from Debian's archive.
# Idempotent: when every package is already installed it changes nothing and
# does not even refresh the package lists.
set -euo pipefail

packages=(
  cmake ninja-build clang python3
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools lld-22
  libeigen3-dev libcli11-dev libgtest-dev
  g++-aarch64-linux-gnu qemu-user
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
