#!/usr/bin/env bash
# A pristine Debian 13 (trixie) root, debootstrap's minbase variant from Debian's default
# mirror, cached as a tarball: the starting point of scripts/test-debian13.sh's chroot and the
# base of the container image that scripts/test-image.sh builds (CI reaches Debian's package
# mirror, not an image registry).
#
#   scripts/debian13-base.sh tarball        prints the tarball's path, after making it when it
#                                           is missing or older than a week (Debian 13 point
#                                           releases: the suites install from today's archive)
#   scripts/debian13-base.sh podman-image   prints the name of a podman image made from it
#                                           (imported again when the tarball changed)
#
# Cache: $ASGID_CACHE_DIR, else ${XDG_CACHE_HOME:-~/.cache}/asgid. Needs root and debootstrap
# (scripts/setup.sh installs it), podman for podman-image.
set -euo pipefail

cache=${ASGID_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/asgid}
tarball=$cache/debian13-minbase.tar
image=localhost/asgid-debian13-base:latest
max_age_minutes=$((7 * 24 * 60))

make_tarball() {
  mkdir -p "$cache"
  exec 8>"$cache/debian13-minbase.lock" # one maker at a time
  flock 8
  if [ -f "$tarball" ] && [ -z "$(find "$tarball" -mmin +"$max_age_minutes")" ]; then
    return
  fi
  local root
  root=$(mktemp -d "$cache/debian13-root.XXXXXX")
  echo "debian13-base: debootstrap --variant=minbase trixie (about 30 s)" >&2
  if ! debootstrap --variant=minbase trixie "$root" >"$root.log" 2>&1; then
    tail -n 20 "$root.log" >&2
    echo "debian13-base: debootstrap failed (its log: $root.log)" >&2
    rm -rf "$root"
    exit 1
  fi
  rm -f "$root.log"
  chmod 755 "$root" # it becomes the root directory: mktemp's 0700 would shut out every user
  tar -C "$root" -cf "$tarball.new" .
  rm -rf "$root"
  mv "$tarball.new" "$tarball"
}

case "${1:-}" in
  tarball)
    make_tarball
    echo "$tarball"
    ;;
  podman-image)
    make_tarball
    # The image records the tarball it came from; a new tarball makes a new image.
    stamp=$(stat -c %Y "$tarball")
    current=$(podman image inspect --format '{{index .Labels "asgid.base.stamp"}}' "$image" \
      2>/dev/null || true)
    if [ "$current" != "$stamp" ]; then
      podman import --quiet --change "LABEL asgid.base.stamp=$stamp" --change 'CMD ["bash"]' \
        "$tarball" "$image" >/dev/null
    fi
    echo "$image"
    ;;
  *)
    echo "usage: scripts/debian13-base.sh tarball|podman-image" >&2
    exit 2
    ;;
esac
