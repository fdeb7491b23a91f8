#!/usr/bin/env bash
# Installs what the browser (end-to-end) tests need on a fresh Debian machine: Debian's
# chromium package, driven by playwright-core (whose own browser download does not work
# here). Idempotent: nothing happens when /usr/bin/chromium exists. Honours CHROMIUM_PATH
# (a Chromium or Chrome binary to use instead): then nothing is installed.
# Progress goes to stderr; stdout gets one line, CHROMIUM=path.
set -euo pipefail

say() { printf '[provision-browser] %s\n' "$*" >&2; }

# Prints the binary's version on stderr, and fails when it does not start at all (a
# missing shared library, say), so a broken install shows here and not as a launch timeout.
check() {
  local version
  if ! version=$("$1" --version 2>&1); then
    say "$1 does not start: $version"
    exit 1
  fi
  # Debian's /usr/bin/chromium is a shell wrapper whose /etc/chromium.d/dev-shm snippet
  # prints "[: ...: unexpected operator" when findmnt lists /dev/shm twice: keep the last line.
  say "using $1 ($(printf '%s\n' "$version" | tail -n 1))"
}

if [ -n "${CHROMIUM_PATH:-}" ]; then
  [ -x "$CHROMIUM_PATH" ] || { say "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file"; exit 1; }
  check "$CHROMIUM_PATH"
  echo "CHROMIUM=$CHROMIUM_PATH"
  exit 0
fi

chromium=/usr/bin/chromium
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" != 0 ]; then
    say "Chromium is missing: install Debian's package (sudo apt-get install --no-install-recommends chromium)"
    say "and run again, or set CHROMIUM_PATH to a Chromium or Chrome binary"
    exit 1
  fi
  start=$(date +%s)
  # Wait for another apt/dpkg (a parallel test run provisioning too) instead of failing.
  apt_opts=(-o DPkg::Lock::Timeout=600)
  say "apt-get update"
  apt-get "${apt_opts[@]}" update -qq >&2
  say "apt-get install chromium (cold: ~20 s here, ~115 MB download, 25 packages)"
  DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends chromium >&2
  [ -x "$chromium" ] || { say "apt-get installed chromium but there is no $chromium"; exit 1; }
  say "installed in $(( $(date +%s) - start ))s"
fi
check "$chromium"
echo "CHROMIUM=$chromium"
