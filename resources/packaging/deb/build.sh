#!/usr/bin/env bash
# Build dist/login-feed_<version>_<arch>.deb from the PyInstaller bundle in dist/login-feed/ (make bundle).
#
#   resources/packaging/deb/build.sh        (make package runs it after make bundle)
#
# Only dpkg-deb: the bundle goes to /opt/login-feed/, /usr/bin/login-feed links to it, the menu entry and the
# hicolor icons go to /usr/share. No maintainer scripts: the icon cache and the menu database are refreshed by
# the dpkg triggers of hicolor-icon-theme and desktop-file-utils, and nothing is created at run time under /opt,
# so `apt-get remove` leaves nothing behind (resources/packaging/deb/check-install.sh proves it).
# Depends: what the bundle does not carry (README, "Linux"): the graphics and font stack, CA certificates,
# and the glibc the bundle was built against. DEB_MAINTAINER overrides the maintainer field.
set -euo pipefail
cd "$(dirname "$0")/../../.."

BUNDLE=dist/login-feed
NAME=login-feed
VERSION=$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
ARCH=$(dpkg --print-architecture)
MAINTAINER=${DEB_MAINTAINER:-"Login Feed maintainers <login-feed@example.org>"}
OUT=dist/${NAME}_${VERSION}_${ARCH}.deb
ROOT=build/deb/${NAME}_${VERSION}_${ARCH}

[ -x "$BUNDLE/$NAME" ] || { echo "build.sh: no bundle in $BUNDLE: run make bundle first" >&2; exit 1; }

# The newest GLIBC_x.y any file of the bundle needs (build.spec prints the same floor). objdump fails on the
# files that are not ELF (executable scripts, data): those have no symbols to give anyway.
glibc=$(find "$BUNDLE" -type f \( -name '*.so*' -o -perm -u+x \) -print0 \
	| { xargs -0 objdump -T 2>/dev/null || true; } | grep -o 'GLIBC_[0-9]*\.[0-9]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
[ -n "$glibc" ] || { echo "build.sh: could not find the glibc version the bundle needs (objdump)" >&2; exit 1; }

rm -rf "$ROOT"
mkdir -p "$ROOT/DEBIAN" "$ROOT/opt" "$ROOT/usr/bin" "$ROOT/usr/share/applications" "$ROOT/usr/share/doc/$NAME"
cp -a "$BUNDLE" "$ROOT/opt/$NAME"
ln -s "/opt/$NAME/$NAME" "$ROOT/usr/bin/$NAME"
install -m644 resources/login-feed.desktop "$ROOT/usr/share/applications/$NAME.desktop"
install -Dm644 resources/icons/login-feed-256.png "$ROOT/usr/share/icons/hicolor/256x256/apps/$NAME.png"
install -Dm644 resources/icons/login-feed-64.png "$ROOT/usr/share/icons/hicolor/64x64/apps/$NAME.png"
install -Dm644 resources/icons/login-feed.svg "$ROOT/usr/share/icons/hicolor/scalable/apps/$NAME.svg"
cat > "$ROOT/usr/share/doc/$NAME/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: $NAME
Comment: /opt/$NAME holds a PyInstaller bundle: Python, Qt (LGPLv3, PySide6), OpenSSL and the Python
 packages listed in the project's README, each under its own licence.

Files: *
License: MIT
COPYRIGHT
# Files a package installs are root's and not writable by others, whatever the build machine's umask was.
chmod -R u+rwX,go+rX,go-w "$ROOT"

cat > "$ROOT/DEBIAN/control" <<CONTROL
Package: $NAME
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
Depends: libc6 (>= $glibc), libgl1, libegl1, libxcb1, fontconfig-config, fonts-dejavu-core, ca-certificates
Recommends: gnome-keyring | keepassxc | libkf5wallet-bin, libwayland-client0, libwayland-cursor0, libwayland-egl1,
 fonts-noto-core, fonts-noto-cjk
Section: net
Priority: optional
Description: live feed of your users' sign-ups and log-ins (Auth0 + Pusher)
 Login Feed is a desktop client for support teams: it shows each sign-up and
 log-in on your Auth0 tenant as it happens, through a Pusher channel, with
 notifications, a searchable history and a team chat. The same program runs
 headless on the command line (login-feed tail, export, login).
 .
 The application is a self-contained bundle under /opt/login-feed; secrets are
 kept in the desktop's Secret Service keyring (GNOME Keyring, KWallet,
 KeePassXC). A configuration for every user goes in /etc/login-feed/config.toml.
CONTROL
(cd "$ROOT" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
	> "$ROOT/DEBIAN/md5sums"

rm -f dist/"${NAME}"_*.deb
# zstd -9: 4 s and 63 MB here (xz: 2 min, 50 MB); dpkg reads zstd since 1.21.18 (Debian 12, Ubuntu 21.10).
dpkg-deb --root-owner-group -Zzstd -z9 --build "$ROOT" "$OUT"
dpkg-deb --info "$OUT" | sed -n '/Package:/,/Description:/p'
ls -l "$OUT"
