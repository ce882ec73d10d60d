#!/usr/bin/env bash
# Install the Debian/Ubuntu packages Grants needs outside Python, when this machine allows it.
#
#   fonts-noto-cjk        Japanese font embedded in the PDFs (review packets, audit records)
#   poppler-utils         pdftotext/pdfinfo, used to check the PDFs we produce
#   libpango-1.0-0, libpangoft2-1.0-0, libharfbuzz-subset0
#                         the libraries WeasyPrint (HTML -> PDF) loads
#   shared-mime-info      the MIME database used to recognise uploaded files by content
#   chromium              the browser the browser tests (tests/browser) drive with Playwright;
#                         Debian's build, never one downloaded by `playwright install`
#
# Safe to run again: it only acts on what is missing. It never fails the build: without root
# (or passwordless sudo), without apt, or offline it says what to install and exits 0, because
# the web app itself runs without these packages (only PDF output and the browser tests
# need them).
set -uo pipefail

PACKAGES=(
  fonts-noto-cjk
  poppler-utils
  libpango-1.0-0
  libpangoft2-1.0-0
  libharfbuzz-subset0
  shared-mime-info
  chromium
)

say() { printf 'system packages: %s\n' "$*" >&2; }

if ! command -v dpkg-query >/dev/null 2>&1; then
  say "not a Debian-based system; install the equivalents of: ${PACKAGES[*]}"
  exit 0
fi

missing=()
for package in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  if [ "$status" != "installed" ]; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  say "all present (${PACKAGES[*]})"
  exit 0
fi

command_line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  say "missing: ${missing[*]}"
  say "install them as root with:  sudo sh -c '$command_line'"
  say "continuing: the web app runs without them; PDF output and tests/browser need them"
  exit 0
fi

# Bounded waits: a CI machine offline or busy with another apt run must not hang the build.
apt_options=(-o Acquire::Retries=2 -o Acquire::http::Timeout=30 -o DPkg::Lock::Timeout=120)
export DEBIAN_FRONTEND=noninteractive

say "installing: ${missing[*]}"
if "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_options[@]}" -qq update \
  && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_options[@]}" -qq install \
    -y --no-install-recommends "${missing[@]}" >/dev/null; then
  say "installed: ${missing[*]}"
else
  say "could not install ${missing[*]} (offline? no such package on this release?)"
  say "install them as root with:  $command_line"
  say "continuing: the web app runs without them; PDF output and tests/browser need them"
fi
exit 0
