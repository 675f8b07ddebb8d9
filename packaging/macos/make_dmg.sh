#!/usr/bin/env bash
# Make the macOS disk image from the app bundle PyInstaller built ("dist/ftrack publisher.app",
# see the BUNDLE step of packaging/ftrack-publisher.spec).
#
# Cannot run on Linux or Windows: it needs macOS's hdiutil, and the bundle built on a Mac by
# `python packaging/build.py` (PyInstaller does not cross-compile). build.py calls this script on
# macOS; by hand: bash packaging/macos/make_dmg.sh dist 0.1.0
# Signing and notarisation (codesign, xcrun notarytool) need the studio's Developer ID and are
# left to the release machine.
set -euo pipefail
dist="${1:-dist}"
version="${2:?usage: make_dmg.sh DIST_DIR VERSION}"
app="$dist/ftrack publisher.app"
dmg="$dist/ftrack-publisher-$version-macos.dmg"
if [ "$(uname -s)" != "Darwin" ]; then
  echo "make_dmg.sh: hdiutil exists only on macOS; build the .dmg on a Mac." >&2
  exit 1
fi
if [ ! -d "$app" ]; then
  echo "make_dmg.sh: $app not found; run python packaging/build.py on this Mac first." >&2
  exit 1
fi
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
rm -f "$dmg"
hdiutil create -volname "ftrack publisher $version" -srcfolder "$staging" -ov -format UDZO "$dmg"
echo "Made $dmg"
