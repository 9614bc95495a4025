#!/usr/bin/env bash
# terrapix on another Debian release, tested here: creates (or reuses) a root file system of that
# release with debootstrap, builds the artefacts against its GDAL, QGIS and Python, and runs
# inside it the Rust tests that touch GDAL, the Python package's tests and the QGIS plugin's
# headless tests, with this checkout bind-mounted and this machine's Rust toolchain.
#
# Usage: scripts/test_platform.sh trixie|sid [--prepare-only|--build-only]
#   trixie: Debian 13 (GDAL 3.10, QGIS 3.40 LTR, Python 3.13); sid: Debian unstable (GDAL 3.12+,
#   QGIS 3.44; it changes daily).
#   --prepare-only stops once the root and its packages and .venv are there (mostly download:
#   .ci/run does it in the background while the host's tests run);
#   --build-only stops after the build (the library goes to out/platforms/NAME/lib/, where
#   scripts/gdal_libraries.sh picks it up for the wheel, the plugin zip and the GDAL plugin).
# The root lives in out/platforms/NAME/root (about 4 GB; TERRAPIX_PLATFORM_ROOT to put it
# elsewhere); the chroot's own .venv, target, dist and python/terrapix/lib are mounted over the
# checkout's, so the host's stay as they are. Needs root (debootstrap, chroot, mount).
# The trainer (libtorch) is not built there: the tests that need it run on the host only.
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=${1:?usage: scripts/test_platform.sh trixie|sid [--prepare-only|--build-only]}
STOP=${2:-}
case "$STOP" in "" | --prepare-only | --build-only) ;; *) echo "test_platform: unknown option '$STOP'" >&2; exit 2 ;; esac
case "$NAME" in trixie | sid) ;; *) echo "test_platform: unknown platform '$NAME' (trixie or sid)" >&2; exit 2 ;; esac
REPO=$PWD
PLATFORM=$REPO/out/platforms/$NAME
ROOT=${TERRAPIX_PLATFORM_ROOT:-$PLATFORM/root}
mkdir -p "$PLATFORM"/{lib,venv,target,dist,pylib}
started=$(date +%s)
say() { echo "== [$NAME $(($(date +%s) - started)) s] $*"; }

if [ ! -x "$ROOT/usr/bin/apt-get" ] || [ ! -e "$ROOT/.terrapix-root-complete" ]; then
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  say "debootstrap $NAME into $ROOT"
  # Never delete through a mount a killed run left behind (the checkout, ~/.cargo...).
  if grep -q " $ROOT/" /proc/mounts; then
    echo "test_platform: mounts under $ROOT remain from an earlier run; unmount them first:" >&2
    grep " $ROOT/" /proc/mounts | cut -d' ' -f2 >&2
    exit 1
  fi
  rm -rf "$ROOT"
  debootstrap --variant=minbase "$NAME" "$ROOT" http://deb.debian.org/debian >"$PLATFORM/debootstrap.log" 2>&1 ||
    { tail -20 "$PLATFORM/debootstrap.log" >&2; exit 1; }
  # The mirror's sid may carry a Release file past its Valid-Until date: accept it.
  echo 'Acquire::Check-Valid-Until "false";' >"$ROOT/etc/apt/apt.conf.d/99terrapix"
  touch "$ROOT/.terrapix-root-complete"
fi

# Mounts, undone on exit (also on failure or Ctrl-C).
MOUNTS=()
bind() { mkdir -p "$2"; mount --bind "$1" "$2"; MOUNTS+=("$2"); }
cleanup() { for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do umount -l "${MOUNTS[i]}" 2>/dev/null || true; done; }
trap cleanup EXIT
mountpoint -q "$ROOT/proc" || { mount -t proc proc "$ROOT/proc"; MOUNTS+=("$ROOT/proc"); }
mountpoint -q "$ROOT/dev" || bind /dev "$ROOT/dev"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# This machine's own certificate authorities (a proxy's, say) for pip inside the root (a
# minbase root has no ca-certificates yet: apt fetches it over plain http).
if [ ! -x "$ROOT/usr/sbin/update-ca-certificates" ]; then
  chroot "$ROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c 'apt-get update -qq && apt-get install -y -qq ca-certificates' \
    >"$PLATFORM/ca.log" 2>&1 || { tail -5 "$PLATFORM/ca.log" >&2; exit 1; }
fi
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$ROOT/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
  chroot "$ROOT" update-ca-certificates >/dev/null 2>&1 || true
fi
bind "$REPO" "$ROOT/terrapix"
bind "$REPO/../shared" "$ROOT/shared"
for d in venv:.venv target:target dist:dist pylib:python/terrapix/lib; do
  bind "$PLATFORM/${d%%:*}" "$ROOT/terrapix/${d#*:}"
done
bind "$HOME/.cargo" "$ROOT/root/.cargo"
bind "$HOME/.rustup" "$ROOT/root/.rustup"

inside() {
  chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/terrapix/.venv/bin:/root/.cargo/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb TERRAPIX_NO_TRAINER=1 PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    PIP_DEFAULT_TIMEOUT=180 bash -c "cd /terrapix && $1"
}

say "packages (GDAL, QGIS, Python) and .venv"
inside "bash scripts/setup.sh --tests --qgis" >"$PLATFORM/setup.log" 2>&1 || { tail -20 "$PLATFORM/setup.log" >&2; exit 1; }
versions=$(inside "echo GDAL \$(gdal-config --version), \$(python3 --version), QGIS \$(dpkg-query -W -f='\${Version}' qgis)")
say "$versions"
[ "$STOP" = --prepare-only ] && exit 0

say "cargo build --release (the default members: no trainer)"
inside "cargo build --release --quiet" 2>&1 | tail -20
minor=$(inside "gdal-config --version | cut -d. -f1,2")
rm -f "$PLATFORM"/lib/libterrapix-gdal*.so
strip --strip-debug -o "$PLATFORM/lib/libterrapix-gdal$minor.so" "$PLATFORM/target/release/libterrapix.so"
say "built out/platforms/$NAME/lib/libterrapix-gdal$minor.so"
[ "$STOP" = --build-only ] && exit 0

status=0
say "Rust tests that touch GDAL (cargo test: gdal, c_abi, predict, binding, errors)"
inside "cargo test --release -p terrapix-cli --test gdal --test c_abi --test predict --test binding --test errors" \
  >"$PLATFORM/cargo-test.log" 2>&1 || status=1
grep -E "^test result|FAILED|panicked" "$PLATFORM/cargo-test.log" || true

say "Python package (wheel, tests/python)"
inside "bash scripts/test_python.sh" >"$PLATFORM/python-test.log" 2>&1 || status=1
tail -3 "$PLATFORM/python-test.log"

say "QGIS plugin (zip, tests/qgis headless)"
inside "bash scripts/package_plugin.sh && bash scripts/test_qgis.sh" >"$PLATFORM/qgis-test.log" 2>&1 || status=1
grep -E "^(Ran|OK|FAILED)|^(FAIL|ERROR):" "$PLATFORM/qgis-test.log" || true

say "done: $versions, $([ $status = 0 ] && echo passed || echo FAILED; true) (logs in out/platforms/$NAME/)"
exit $status
