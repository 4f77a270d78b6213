#!/usr/bin/env bash
# Builds the container images with podman and tests them running:
#   - asgid's image, from the Dockerfile (its build stage compiles asgid and runs the unit
#     tests), FROM a local Debian 13 image (scripts/debian13-base.sh: no registry needed);
#   - the Python app recipe, examples/container/Dockerfile, FROM that image (no second compile);
# prints each image's size, then runs tests/image/ against them: each image is mounted
# (`podman image mount`) and its own command, user, environment and working directory run
# chrooted in it (tests/image/conftest.py), in new network and mount namespaces. Like a
# container, not through one: `podman run` needs a runtime that can set rlimits, which not
# every CI sandbox allows.
#
# Needs root, podman, debootstrap and iproute2 (scripts/setup.sh installs them), and Debian's
# package mirror for the images' apt-get steps. Layers are cached by podman: a second run
# rebuilds from the first changed file on (the packages' layers stay).
#
# Environment: ASGID_CACHE_DIR (scripts/debian13-base.sh's cache); ASGID_IMAGE_TAG (default
# localhost/asgid:test; its build stage is tagged ...:test-build) and ASGID_PYTHON_IMAGE_TAG
# (localhost/asgid-starlette:test) name the images built. Arguments are pytest's (-k ..., -x).
set -euo pipefail

cd "$(dirname "$0")/.."
image=${ASGID_IMAGE_TAG:-localhost/asgid:test}
python_image=${ASGID_PYTHON_IMAGE_TAG:-localhost/asgid-starlette:test}

base=$(bash scripts/debian13-base.sh podman-image)
work=$(mktemp -d)
mounted=()
cleanup() {
  local name
  for name in "${mounted[@]}"; do podman image unmount "$name" >/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# docker format: the OCI format has no HEALTHCHECK, which the tests run. The image a tag named
# before is removed once the tag names a new one, with the layers only it used: every change of
# the sources would otherwise leave a build behind in podman's storage.
build() {
  local name=$1 start=$SECONDS previous
  shift
  previous=$(podman image inspect --format '{{.Id}}' "$name" 2>/dev/null || true)
  if ! podman build --isolation=chroot --pull=never --format docker -t "$name" "$@" \
      >"$work/build.log" 2>&1; then
    tail -n 60 "$work/build.log" >&2
    echo "test-image: building $name failed" >&2
    exit 1
  fi
  if [ -n "$previous" ] && [ "$previous" != "$(podman image inspect --format '{{.Id}}' "$name")" ]; then
    podman rmi "$previous" >/dev/null 2>&1 || true  # still in use: kept
  fi
  echo "test-image: built $name in $((SECONDS - start)) s"
}
# The build stage gets a tag of its own (its layers are cached, not built twice), so that it is
# removed like the others when it is replaced.
build "$image-build" --build-arg DEBIAN_IMAGE="$base" --target build .
build "$image" --build-arg DEBIAN_IMAGE="$base" .
build "$python_image" --build-arg ASGID_IMAGE="$image" examples/container

# The size podman reports (`podman images`: bytes, in decimal megabytes), base included.
for name in "$image" "$python_image"; do
  size=$(podman image inspect --format '{{.Size}}' "$name")
  echo "test-image: image size: $name $((size / 1000000)) MB ($size bytes)"
done

export_image() {
  local var=$1 name=$2 root
  podman image inspect "$name" >"$work/$var.json"
  mounted+=("$name")
  root=$(podman image mount "$name")
  export "ASGID_IMAGE_${var}_ROOT=$root"
  export "ASGID_IMAGE_${var}_INSPECT=$work/$var.json"
}
export_image DEMO "$image"
export_image PYTHON "$python_image"

# Debian's python3 with its pytest and httpx, in a network namespace where the images' own
# ports are free and private, and a mount namespace whose mounts vanish with it.
ASGID_IMAGE_OUTER_NET_NS=$(readlink /proc/self/ns/net)
ASGID_IMAGE_OUTER_MNT_NS=$(readlink /proc/self/ns/mnt)
export ASGID_IMAGE_OUTER_NET_NS ASGID_IMAGE_OUTER_MNT_NS
unshare --net --mount --propagation private -- \
  /usr/bin/python3 -m pytest tests/image -q -p no:cacheprovider "$@"
