#!/usr/bin/env bash
# Debian packages qrecords needs: LibreOffice Writer and its Python bridge (DOCX -> PDF)
# and the Noto CJK fonts. Installs only what is missing, so repeated runs cost nothing.
set -euo pipefail
packages=(libreoffice-writer-nogui fonts-noto-cjk python3-uno)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing ${missing[*]} (apt-get) ..."
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
