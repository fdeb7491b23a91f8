#!/usr/bin/env bash
# Installs what the integration tests need on a fresh Debian machine: etcd (apt), a
# kube-apiserver and kubectl built from the Go module proxy, and kwok. Idempotent: every
# binary is cached by version outside the work tree (like setup-envtest), so a fresh
# clone reuses it: $DROIDFARM_CACHE_DIR, else $XDG_CACHE_HOME/droidfarm-dashboard.
# Honours KUBEBUILDER_ASSETS (a folder with etcd, kube-apiserver, kubectl): then nothing
# is built. Progress goes to stderr; stdout gets one NAME=path line per binary.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
k8s_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2 }' "$root/test/cluster/bin/go.mod")
[ -n "$k8s_version" ] || { echo "no k8s.io/kubernetes requirement in test/cluster/bin/go.mod" >&2; exit 1; }
kwok_version=v0.8.0
cache="${DROIDFARM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/droidfarm-dashboard}"
k8s_dir="$cache/kubernetes-$k8s_version"
kwok_dir="$cache/kwok-$kwok_version"

say() { printf '[provision] %s\n' "$*" >&2; }

# Two test runs starting at once on a fresh machine (two worktrees, say) must not build into
# the same folder: one waits for the other, then finds the binaries cached.
mkdir -p "$cache"
exec 9>"$cache/.provision.lock"
if ! flock -n 9; then
  say "another provisioning run holds $cache/.provision.lock; waiting for it"
  flock 9
fi

apt_updated=""
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    say "missing Debian packages: ${missing[*]}; install them (sudo apt-get install ${missing[*]}) and run again"
    exit 1
  fi
  if [ -z "$apt_updated" ]; then say "apt-get update"; apt-get update -qq >&2; apt_updated=1; fi
  say "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  for b in etcd kube-apiserver kubectl; do
    [ -x "$KUBEBUILDER_ASSETS/$b" ] || { say "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no executable $b"; exit 1; }
  done
  say "using etcd, kube-apiserver and kubectl from KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
else
  if ! command -v etcd >/dev/null 2>&1; then apt_install etcd-server; fi
  if [ -x "$k8s_dir/kube-apiserver" ] && [ -x "$k8s_dir/kubectl" ]; then
    say "kube-apiserver and kubectl $k8s_version cached in $k8s_dir"
  else
    command -v go >/dev/null || { say "Go is needed to build kube-apiserver; install it (apt-get install golang) and run again"; exit 1; }
    say "building kube-apiserver and kubectl $k8s_version with $(go version | cut -d' ' -f3) (cold: 10-25 minutes on 2 cores)"
    start=$(date +%s)
    mkdir -p "$k8s_dir.tmp"
    minor=${k8s_version#v1.}; minor=${minor%%.*}
    ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$k8s_version -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
    (cd "$root/test/cluster/bin" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$k8s_dir.tmp/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl)
    rm -rf "$k8s_dir" && mv "$k8s_dir.tmp" "$k8s_dir"
    say "built in $(( $(date +%s) - start ))s"
  fi
fi

if [ -x "$kwok_dir/kwok" ]; then
  say "kwok $kwok_version cached in $kwok_dir"
else
  say "installing kwok $kwok_version with go install"
  mkdir -p "$kwok_dir"
  CGO_ENABLED=0 GOBIN="$kwok_dir" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$kwok_version"
fi

if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then bin="$KUBEBUILDER_ASSETS"; etcd="$bin/etcd"; else bin="$k8s_dir"; etcd=$(command -v etcd); fi
echo "ETCD=$etcd"
echo "KUBE_APISERVER=$bin/kube-apiserver"
echo "KUBECTL=$bin/kubectl"
echo "KWOK=$kwok_dir/kwok"
