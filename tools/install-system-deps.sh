#!/usr/bin/env bash
# Debian packages qrecords needs: LibreOffice Writer and its Python bridge (DOCX -> PDF),
# the Noto CJK fonts, and Symbola for symbols and emoji: without it ✅ ❌ 👍 print as empty
# boxes in the PDFs. Symbola is a monochrome outline font, which LibreOffice embeds in a PDF
# like any other, so the PDF's text layer keeps the characters. PostgreSQL 15 for the
# shared-archive tests, which start a throw-away cluster of their own on loopback
# (tests/servers.py). Chromium for the web portal's browser tests (tests/web/
# test_portal_browser.py), which Playwright drives at /usr/bin/chromium: Playwright's own
# browser download is not used. Installs only what is missing, so repeated runs cost nothing.
set -euo pipefail
packages=(libreoffice-writer-nogui fonts-noto-cjk fonts-symbola python3-uno postgresql
          chromium)
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
