#!/usr/bin/env bash
# Install the built bundle for the current user: the app in ~/.local/opt/oltp-olap, a launcher on PATH,
# the icon and the .desktop entry so it appears in the desktop's application menu.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bundle="$here/dist/oltp-olap"
[ -x "$bundle/oltp-olap" ] || { echo "Build first: uv run python packaging/build.py" >&2; exit 1; }
prefix="${XDG_DATA_HOME:-$HOME/.local/share}"
mkdir -p "$HOME/.local/opt" "$HOME/.local/bin" "$prefix/applications" "$prefix/icons/hicolor/256x256/apps"
rm -rf "$HOME/.local/opt/oltp-olap"
cp -a "$bundle" "$HOME/.local/opt/oltp-olap"
ln -sf "$HOME/.local/opt/oltp-olap/oltp-olap" "$HOME/.local/bin/oltp-olap"
cp "$here/resources/icons/app.png" "$prefix/icons/hicolor/256x256/apps/oltp-olap.png"
sed "s|^Exec=.*|Exec=$HOME/.local/opt/oltp-olap/oltp-olap|" "$here/resources/oltp-olap.desktop" \
  > "$prefix/applications/oltp-olap.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$prefix/applications" || true
echo "Installed: run 'oltp-olap' or pick OLTP → OLAP Studio from your application menu."
