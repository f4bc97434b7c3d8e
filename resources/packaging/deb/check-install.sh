#!/usr/bin/env bash
# Install the .deb like IT would, check the installed program, then remove it and prove nothing remains.
#
#   resources/packaging/deb/check-install.sh [dist/login-feed_<version>_<arch>.deb]     (root, or sudo)
#
# 1. apt-get install ./the.deb (pulls in its Depends); 2. /usr/bin/login-feed --self-test (offscreen, keyring's
# null backend chosen on purpose, as make bundle does: no desktop session here), the menu entry's Exec and Icon,
# and the system-wide config /etc/login-feed/config.toml found without --config; 3. apt-get remove, then purge;
# 4. every path of `dpkg -L` (taken before the removal) that did not exist before the install is gone.
# For a clean machine (CI): it refuses to run when login-feed is installed or /etc/login-feed exists.
set -euo pipefail
cd "$(dirname "$0")/../../.."

PACKAGE=login-feed
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
DEB=${1:-$(ls dist/${PACKAGE}_*.deb 2>/dev/null | head -1)}
[ -f "$DEB" ] || { echo "check-install: no package in dist/: run make package first" >&2; exit 1; }
if dpkg-query -W -f='${Status}' "$PACKAGE" 2>/dev/null | grep -q 'ok installed'; then
	echo "check-install: $PACKAGE is installed already: this check needs a machine without it" >&2; exit 1
fi
[ ! -e /etc/login-feed ] || { echo "check-install: /etc/login-feed exists: this check needs a machine without it" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; $SUDO rm -rf /etc/login-feed' EXIT
fail() { echo "check-install: FAIL: $*" >&2; exit 1; }

# Which of the package's paths exist before it is installed (shared directories such as /usr/bin do).
dpkg-deb --fsys-tarfile "$DEB" | tar -t | sed -e 's|^\./|/|' -e 's|/$||' | grep -v '^\.\?$' | sort > "$WORK/contents"
while read -r path; do
	if [ -e "$path" ] || [ -L "$path" ]; then echo "$path"; fi
done < "$WORK/contents" > "$WORK/before"

echo "== install $DEB"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "./${DEB#./}"
dpkg-query -W -f='${Package} ${Version} ${Status}\n' "$PACKAGE"
dpkg -L "$PACKAGE" | grep -v '^/\.$' | sort > "$WORK/installed"
echo "$(wc -l < "$WORK/installed") paths installed; $(du -sh /opt/$PACKAGE | cut -f1) under /opt/$PACKAGE"

echo "== run it"
[ "$(command -v login-feed)" = /usr/bin/login-feed ] || fail "login-feed on the PATH is $(command -v login-feed)"
[ "$(readlink -f /usr/bin/login-feed)" = /opt/$PACKAGE/$PACKAGE ] || fail "/usr/bin/login-feed does not lead to /opt"
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_DATA_HOME="$WORK/home/.local/share"
mkdir -p "$HOME"
cd "$WORK"  # nothing the program writes may land in the repository
/usr/bin/login-feed --version
QT_QPA_PLATFORM=offscreen PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring /usr/bin/login-feed --self-test \
	| tee "$WORK/self-test"
grep -q "under /opt/$PACKAGE/" "$WORK/self-test" || fail "the self-test did not run from /opt/$PACKAGE"

desktop=/usr/share/applications/$PACKAGE.desktop
exec_line=$(sed -n 's/^Exec=//p' "$desktop")
icon=$(sed -n 's/^Icon=//p' "$desktop")
[ "$(command -v "${exec_line%% *}")" = /usr/bin/login-feed ] || fail "the menu entry runs '$exec_line'"
ls /usr/share/icons/hicolor/*/apps/"$icon".* >/dev/null || fail "no hicolor icon named $icon"
if command -v desktop-file-validate >/dev/null; then desktop-file-validate "$desktop"; fi
echo "menu entry: Exec=$exec_line, Icon=$icon ($(ls /usr/share/icons/hicolor/*/apps/"$icon".* | wc -l) sizes)"

# A configuration IT drops in for everyone is read without --config (here a broken one, to see which file).
$SUDO mkdir -p /etc/login-feed
printf '[pusher\n' | $SUDO tee /etc/login-feed/config.toml >/dev/null
set +e
/usr/bin/login-feed whoami 2> "$WORK/whoami.err"
code=$?
set -e
grep -q '^login-feed: /etc/login-feed/config.toml: invalid TOML' "$WORK/whoami.err" && [ "$code" = 2 ] \
	|| fail "the system-wide config was not read (exit $code: $(cat "$WORK/whoami.err"))"
echo "system-wide config: read from /etc/login-feed/config.toml"
$SUDO rm -rf /etc/login-feed
cd - >/dev/null

echo "== remove and purge"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq "$PACKAGE"
# Without conffiles or maintainer scripts, remove already forgets the package; purge what might remain.
if dpkg-query -W "$PACKAGE" >/dev/null 2>&1; then
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$PACKAGE"
else
	echo "nothing left to purge: dpkg forgot $PACKAGE at its removal"
fi
if dpkg-query -W -f='${Status}' "$PACKAGE" 2>/dev/null | grep -q 'installed'; then fail "$PACKAGE is still known to dpkg"; fi
left=$(comm -23 "$WORK/installed" "$WORK/before" | while read -r path; do
	if [ -e "$path" ] || [ -L "$path" ]; then echo "$path"; fi
done)
[ -z "$left" ] || fail "left behind after removal: $(echo "$left" | head -20)"
[ ! -e /opt/$PACKAGE ] && [ ! -e /etc/login-feed ] || fail "/opt/$PACKAGE or /etc/login-feed remains"
echo "removed: none of the $(comm -23 "$WORK/installed" "$WORK/before" | wc -l) paths it added remains"
echo "check-install passed"
