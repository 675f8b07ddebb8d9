#!/bin/sh
# Add ftrack publisher to this user's application menu, running it from the folder this script
# is in (the unpacked tarball). Run it again after moving the folder. Remove with --uninstall.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
share="${XDG_DATA_HOME:-$HOME/.local/share}"
apps="$share/applications"
icons="$share/icons/hicolor/256x256/apps"
if [ "${1:-}" = "--uninstall" ]; then
  rm -f "$apps/ftrack-publisher.desktop" "$icons/ftrack-publisher.png"
  echo "Removed ftrack publisher from the application menu."
  exit 0
fi
if [ ! -x "$here/ftrack-publisher" ]; then
  echo "install-desktop-entry.sh: $here/ftrack-publisher is missing: run this script from the unpacked tarball." >&2
  exit 1
fi
mkdir -p "$apps" "$icons"
cp "$here/ftrack-publisher.png" "$icons/ftrack-publisher.png"
# Paths with spaces are quoted as the Desktop Entry specification asks.
sed -e "s|^Exec=.*|Exec=\"$here/ftrack-publisher\"|" \
    -e "s|^Icon=.*|Icon=$icons/ftrack-publisher.png|" \
    "$here/ftrack-publisher.desktop" > "$apps/ftrack-publisher.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$apps" 2>/dev/null || true
echo "Installed $apps/ftrack-publisher.desktop"
