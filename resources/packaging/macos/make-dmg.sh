#!/usr/bin/env bash
# Make dist/Login-Feed-<version>.dmg from dist/Login Feed.app, on macOS (hdiutil ships with it).
#
#   On a Mac, in a clean virtual environment at the repository root:
#     pip install '.[bundle]'
#     pyinstaller --noconfirm --clean build.spec        (dist/Login Feed.app, from build.spec's BUNDLE)
#     resources/packaging/macos/make-dmg.sh
#
# The image holds the app and a link to /Applications: open it, drag the app onto the link. Neither signed nor
# notarized (that needs an Apple Developer ID): the first start needs right-click → Open. Not built in this
# project's CI (Linux only): see README.
set -euo pipefail
cd "$(dirname "$0")/../../.."

APP="dist/Login Feed.app"
VERSION=$("${PYTHON:-python3}" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
DMG="dist/Login-Feed-$VERSION.dmg"
[ -d "$APP" ] || { echo "make-dmg: $APP is missing: run pyinstaller build.spec first" >&2; exit 1; }
[ "$(uname -s)" = Darwin ] || { echo "make-dmg: hdiutil needs macOS" >&2; exit 1; }

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
hdiutil create -volname "Login Feed $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"
hdiutil verify "$DMG"
ls -l "$DMG"
