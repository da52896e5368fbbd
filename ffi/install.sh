#!/usr/bin/env bash
# ffi/install.sh - a small "make install" for the C libraries of uadk-rs.
#
# Builds the ffi packages with cargo and installs every artifact that exists, as listed in
# the ARTIFACTS table below (adding an artifact is one line there).
#
#   ffi/install.sh                                   # release build, install under /usr/local
#   PREFIX=/opt/uadk ffi/install.sh
#   DESTDIR=/tmp/stage PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu ffi/install.sh
#
# Variables (environment):
#   PREFIX       install prefix                              (default /usr/local)
#   LIBDIR       libraries                                   (default $PREFIX/lib)
#   INCLUDEDIR   headers                                     (default $PREFIX/include)
#   PKGCONFIGDIR pkg-config files                            (default $LIBDIR/pkgconfig)
#   MODULESDIR   OpenSSL provider modules (default: `openssl version -m`, else $LIBDIR/ossl-modules)
#   DESTDIR      staging root prepended to every path above  (default empty)
#   PROFILE      cargo profile to build and install: release or debug (default release)
#   PACKAGES     cargo packages to build (default: every package named in the table)
#   NO_BUILD=1   install what target/<profile> already holds, build nothing
#   ALLOW_SONAME_MISMATCH=1  install a shared library whose soname is not one of its
#                installed names (by default it is skipped: ldconfig would create a link
#                named after that soname, e.g. libz.so.1, shadowing the system library)
#
# Nothing is installed over the system's libz. The zlib-ABI library (soname libz.so.1, so that
# it can stand in for zlib) goes into a private directory that ldconfig does not scan:
# LIBDIR/uadk/libuadk_z.so, with a libz.so.1 link beside it. Use it with
# LD_PRELOAD=LIBDIR/uadk/libuadk_z.so, or LD_LIBRARY_PATH=LIBDIR/uadk for one program.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

PREFIX=${PREFIX:-/usr/local}
LIBDIR=${LIBDIR:-$PREFIX/lib}
INCLUDEDIR=${INCLUDEDIR:-$PREFIX/include}
PKGCONFIGDIR=${PKGCONFIGDIR:-$LIBDIR/pkgconfig}
if [ -z "${MODULESDIR:-}" ]; then
  MODULESDIR=$(openssl version -m 2>/dev/null | sed -n 's/^MODULESDIR: "\(.*\)"$/\1/p' || true)
  MODULESDIR=${MODULESDIR:-$LIBDIR/ossl-modules}
fi
DESTDIR=${DESTDIR:-}
PROFILE=${PROFILE:-release}
case "$PROFILE" in
  release) OUT=target/release ;;
  debug | dev) PROFILE=dev; OUT=target/debug ;;
  *) echo "install.sh: PROFILE must be release or debug" >&2; exit 2 ;;
esac
if [ -n "${CARGO_TARGET_DIR:-}" ]; then OUT=$CARGO_TARGET_DIR/${OUT#target/}; fi

# The artifact table. Columns:
#   package   the cargo package that builds it
#   kind      so: shared library (install name, then symlinks) | a: static library |
#             h: header(s) (a file or a directory of *.h) | pc: pkg-config template(s) |
#             mod: a loadable module (OpenSSL provider)
#   source    for so/a/mod: the file name in target/<profile>; for h/pc: a path or glob
#             relative to the repository
#   dest      LIBDIR, INCLUDEDIR, INCLUDEDIR/<sub>, PKGCONFIGDIR or MODULESDIR
#   names     so: installed name and symlinks; others: installed name (- = keep the name;
#             pc templates drop their ".in")
# @VERSION@ in names is the package version (workspace version).
ARTIFACTS=$(cat <<'EOF'
uadk-ffi       so   libuadk.so               LIBDIR          libuadk.so.@VERSION@ libuadk.so.0 libuadk.so
uadk-ffi       a    libuadk.a                LIBDIR          -
uadk-ffi       h    ffi/uadk/include/uadk.h  INCLUDEDIR      -
uadk-ffi       pc   ffi/uadk/uadk.pc.in      PKGCONFIGDIR    -
uadk-zlib      so   libuadk_z.so             LIBDIR/uadk     libuadk_z.so libz.so.1
uadk-wd        so   libwd.so                 LIBDIR          libwd.so.@VERSION@ libwd.so.2 libwd.so
uadk-wd-comp   so   libwd_comp.so            LIBDIR          libwd_comp.so.@VERSION@ libwd_comp.so.2 libwd_comp.so
uadk-wd-crypto so   libwd_crypto.so          LIBDIR          libwd_crypto.so.@VERSION@ libwd_crypto.so.2 libwd_crypto.so
uadk-wd        h    ffi/wd/include/uadk      INCLUDEDIR/uadk -
uadk-wd        pc   ffi/wd/wd/libwd.pc.in    PKGCONFIGDIR    -
uadk-wd-comp   pc   ffi/wd/wd_comp/libwd_comp.pc.in  PKGCONFIGDIR -
uadk-wd-crypto pc   ffi/wd/wd_crypto/libwd_crypto.pc.in  PKGCONFIGDIR -
uadk-provider  mod  libuadk_provider.so      MODULESDIR      uadk_provider.so
EOF
)

# @VERSION@ is the version of the ABI an artifact implements: the workspace version for our
# own libraries, the UADK release whose API and layouts libwd* match for UADK's libraries
# (their file names and .pc files carry it, as UADK's own install does).
UADK_ABI_VERSION=2.11.0
abi_version() {
  case "$1" in
    uadk-wd*) echo "$UADK_ABI_VERSION" ;;
    *) echo "$VERSION" ;;
  esac
}

VERSION=$(cargo pkgid -p uadk-ffi | sed 's/.*[#@]//')
say() { printf 'install.sh: %s\n' "$*"; }

if [ -z "${PACKAGES:-}" ]; then
  PACKAGES=$(printf '%s\n' "$ARTIFACTS" | awk '{print $1}' | sort -u | tr '\n' ' ')
fi

# ---- build
STATIC_LIBS_FILE=$OUT/uadk-native-static-libs.txt
if [ "${NO_BUILD:-0}" != 1 ]; then
  others=""
  for p in $PACKAGES; do
    [ "$p" = uadk-ffi ] || others="$others -p $p"
  done
  if [[ " $PACKAGES " == *" uadk-ffi "* ]]; then
    # Built through `cargo rustc` so rustc prints the system libraries a static link of
    # libuadk.a needs (uadk.pc's Libs.private); kept in a file for builds with nothing to do.
    say "building uadk-ffi ($PROFILE)"
    log=$(cargo rustc --profile "$PROFILE" -p uadk-ffi --lib -- --print native-static-libs 2>&1) \
      || { printf '%s\n' "$log" >&2; exit 1; }
    libs=$(printf '%s\n' "$log" | sed -n 's/.*native-static-libs: //p' | tail -1)
    if [ -n "$libs" ]; then
      mkdir -p "$OUT"
      printf '%s\n' "$libs" > "$STATIC_LIBS_FILE"
    fi
  fi
  if [ -n "$others" ]; then
    say "building$others ($PROFILE)"
    # shellcheck disable=SC2086
    cargo build --profile "$PROFILE" $others
  fi
fi
LIBS_PRIVATE=""
if [ -f "$STATIC_LIBS_FILE" ]; then
  LIBS_PRIVATE=$(cat "$STATIC_LIBS_FILE")
fi

# ---- install
dir_of() {
  case "$1" in
    LIBDIR) echo "$LIBDIR" ;;
    LIBDIR/*) echo "$LIBDIR/${1#LIBDIR/}" ;;
    INCLUDEDIR) echo "$INCLUDEDIR" ;;
    INCLUDEDIR/*) echo "$INCLUDEDIR/${1#INCLUDEDIR/}" ;;
    PKGCONFIGDIR) echo "$PKGCONFIGDIR" ;;
    MODULESDIR) echo "$MODULESDIR" ;;
    *) echo "install.sh: unknown destination $1" >&2; exit 2 ;;
  esac
}

installed=0
skipped=0
put() { # mode src dest-file
  install -D -m "$1" "$2" "$3"
  say "  $3"
  installed=$((installed + 1))
}

subst_pc() { # template dest-file version
  mkdir -p "$(dirname "$2")"
  sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@LIBDIR@|$LIBDIR|g" -e "s|@INCLUDEDIR@|$INCLUDEDIR|g" \
      -e "s|@VERSION@|$3|g" -e "s|@LIBS_PRIVATE@|$LIBS_PRIVATE|g" \
      -e "s|@MODULESDIR@|$MODULESDIR|g" "$1" > "$2"
  chmod 644 "$2"
  say "  $2"
  installed=$((installed + 1))
}

while read -r pkg kind src dest names; do
  [ -n "$pkg" ] || continue
  if [[ " $PACKAGES " != *" $pkg "* ]]; then continue; fi
  d=$DESTDIR$(dir_of "$dest")
  names=${names//@VERSION@/$(abi_version "$pkg")}
  case "$kind" in
    so | a | mod)
      f=$OUT/$src
      if [ ! -f "$f" ]; then
        say "skip $src: $pkg does not build it (yet)"
        skipped=$((skipped + 1))
        continue
      fi
      # shellcheck disable=SC2086
      set -- $names
      name=$1
      [ "$name" = - ] && name=$src
      if [ "$kind" = so ] && command -v readelf >/dev/null; then
        soname=$(readelf -d "$f" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
        if [ -z "$soname" ]; then
          say "note: $src has no soname; programs linked with it record the file name"
        elif [[ " $names " != *" $soname "* ]] && [ "${ALLOW_SONAME_MISMATCH:-0}" != 1 ]; then
          # ldconfig names a link after the soname: installing this file in LIBDIR would
          # make $soname point at it there, replacing the system's $soname for every
          # program that searches LIBDIR first (/usr/local/lib does, on Debian).
          say "skip $src: its soname is $soname, not one of its installed names ($names);"
          say "  ldconfig would link LIBDIR/$soname to it and shadow the system's $soname."
          say "  Use it from the build tree with LD_PRELOAD, or set ALLOW_SONAME_MISMATCH=1."
          skipped=$((skipped + 1))
          continue
        fi
      fi
      mode=644
      [ "$kind" = a ] || mode=755
      put "$mode" "$f" "$d/$name"
      shift
      for link in "$@"; do
        ln -sfn "$name" "$d/$link"
        say "  $d/$link -> $name"
      done
      ;;
    h)
      found=0
      for p in $src; do
        if [ -d "$p" ]; then
          for h in "$p"/*.h; do
            [ -f "$h" ] || continue
            put 644 "$h" "$d/$(basename "$h")"
            found=1
          done
        elif [ -f "$p" ]; then
          put 644 "$p" "$d/$(basename "$p")"
          found=1
        fi
      done
      [ $found = 1 ] || { say "skip $src: no headers there (yet)"; skipped=$((skipped + 1)); }
      ;;
    pc)
      found=0
      for p in $src; do
        [ -f "$p" ] || continue
        subst_pc "$p" "$d/$(basename "${p%.in}")" "$(abi_version "$pkg")"
        found=1
      done
      [ $found = 1 ] || { say "skip $src: no pkg-config template (yet)"; skipped=$((skipped + 1)); }
      ;;
    *) echo "install.sh: unknown kind $kind" >&2; exit 2 ;;
  esac
done <<< "$ARTIFACTS"

say "installed $installed files (version $VERSION, $PROFILE build) under ${DESTDIR}${PREFIX}; skipped $skipped entries"
