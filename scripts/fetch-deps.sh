#!/usr/bin/env bash
# Fetch the Debian source packages listed as "source" in third_party/manifest into DEST (default build/deps),
# check every file's sha256, and unpack them with the Debian patches applied. Uses apt with a deb-src list kept
# inside DEST (derived from this machine's own apt sources), never the system's lists.
# Result: DEST/civetweb/ holds the patched CivetWeb tree. Idempotent: a verified tree is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-build/deps}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
manifest=third_party/manifest

fail() { printf 'fetch-deps: %s\n' "$*" >&2; exit 1; }

fetch_source() {  # name version
  local name=$1 version=$2 tree="$dest/$name" stamp="$dest/$name.stamp"
  [[ -f $stamp && $(cat "$stamp") == "$version" && -d $tree ]] && return 0
  local dl="$dest/download" apt="$dest/apt"
  mkdir -p "$dl" "$apt/sources.d" "$apt/lists/partial" "$apt/cache/archives/partial"
  : > "$apt/empty.list"
  # deb-src entries for the same archives this machine installs binaries from (one-line and deb822 formats).
  {
    grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | sed 's/^deb /deb-src /' || true
  } > "$apt/sources.d/debsrc.list"
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] && sed 's/^Types:.*$/Types: deb-src/' "$f" > "$apt/sources.d/$(basename "$f")"
  done
  local aptopts=(-o "Dir::Etc::SourceList=$apt/empty.list" -o "Dir::Etc::SourceParts=$apt/sources.d"
                 -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "APT::Sandbox::User=root"
                 -o "Debug::NoLocking=1")
  local need=0 file sum
  while read -r file sum; do
    [[ -f $dl/$file ]] && echo "$sum  $dl/$file" | sha256sum -c --quiet 2>/dev/null || need=1
  done < <(awk -v n="$name" -v v="$version" '$1=="source" && $2==n && $3==v {print $4, $5}' "$manifest")
  if ((need)); then
    printf 'fetching Debian source package %s=%s\n' "$name" "$version" >&2
    apt-get "${aptopts[@]}" -q update >/dev/null 2>"$apt/update.log" \
      || fail "apt-get update for the deb-src list failed (see $apt/update.log); cannot fetch source package $name=$version"
    (cd "$dl" && apt-get "${aptopts[@]}" -q source --download-only "$name=$version" >/dev/null 2>"$apt/source.log") \
      || fail "could not fetch Debian source package $name=$version (see $apt/source.log)"
  fi
  while read -r file sum; do
    [[ -f $dl/$file ]] || fail "source package $name=$version: $file is missing after the fetch"
    echo "$sum  $dl/$file" | sha256sum -c --quiet 2>/dev/null \
      || fail "source package $name=$version: sha256 of $file does not match third_party/manifest"
  done < <(awk -v n="$name" -v v="$version" '$1=="source" && $2==n && $3==v {print $4, $5}' "$manifest")
  rm -rf "$tree" "$tree.tmp"; mkdir -p "$tree.tmp"
  local orig deb
  orig=$(awk -v n="$name" -v v="$version" '$1=="source" && $2==n && $3==v && $4 ~ /orig/ {print $4}' "$manifest")
  deb=$(awk -v n="$name" -v v="$version" '$1=="source" && $2==n && $3==v && $4 ~ /debian\.tar/ {print $4}' "$manifest")
  tar -xf "$dl/$orig" -C "$tree.tmp" --strip-components=1
  if [[ -n $deb ]]; then
    tar -xf "$dl/$deb" -C "$tree.tmp"
    if [[ -f $tree.tmp/debian/patches/series ]]; then
      local p
      while read -r p; do
        [[ -z $p || $p == \#* ]] && continue
        patch -s -d "$tree.tmp" -p1 < "$tree.tmp/debian/patches/$p" || fail "Debian patch $p of $name does not apply"
      done < "$tree.tmp/debian/patches/series"
    fi
  fi
  mv "$tree.tmp" "$tree"
  echo "$version" > "$stamp"
}

while read -r name version; do
  fetch_source "$name" "$version"
done < <(awk '$1=="source" {print $2, $3}' "$manifest" | sort -u)
