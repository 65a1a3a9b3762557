#!/bin/sh
# Sets up a local Docker engine and the images the Docker executor's tests use. Idempotent: installs only
# what is missing, starts dockerd only when no engine answers, builds an image only when it is absent
# (SKIFF_REBUILD_IMAGES=1 rebuilds them). No registry is reachable in CI, so every image is imported from
# a tarball made of host files: the host's busybox for the base, host binaries with the libraries they load.
set -eu

need_apt=""
command -v dockerd >/dev/null 2>&1 || need_apt="$need_apt docker.io"
# Debian's busybox (what CI installs for the host executor) or busybox-static: either is copied into images.
[ -x /bin/busybox ] || need_apt="$need_apt busybox"
[ -x /usr/bin/python3 ] || need_apt="$need_apt python3"
command -v curl >/dev/null 2>&1 || need_apt="$need_apt curl"
if [ -n "$need_apt" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $need_apt >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "ci-docker: no Docker engine answers and this user cannot start dockerd" >&2
    exit 1
  fi
  nohup dockerd >/var/log/dockerd.log 2>&1 &
  i=0
  until docker info >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 60 ]; then
      echo "ci-docker: dockerd did not answer within 60 s; see /var/log/dockerd.log" >&2
      tail -20 /var/log/dockerd.log >&2 || true
      exit 1
    fi
    sleep 1
  done
fi

fixtures="$(cd "$(dirname "$0")/../../fixtures/images/docker" && pwd)"
hostbin="$(cd "$(dirname "$0")/../../fixtures/images/host/bin" && pwd)"

# Copies the shared libraries (and the loader) that the given files load into root $1.
copy_libs() {
  root=$1
  shift
  for f in "$@"; do
    ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
  done | sort -u | while read -r lib; do
    [ -e "$root$lib" ] || cp -L --parents "$lib" "$root"
  done
}

# A busybox root file system in a new temp folder, printed.
busybox_root() {
  dir=$(mktemp -d)
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/etc" "$dir/root" "$dir/usr/bin" "$dir/usr/local/bin"
  chmod 1777 "$dir/tmp"
  cp /bin/busybox "$dir/bin/busybox"
  copy_libs "$dir" /bin/busybox
  for applet in $("$dir/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$dir/bin/$applet"
  done
  # Scripts start with `#!/usr/bin/env`, as on most distributions.
  ln -s ../../bin/busybox "$dir/usr/bin/env"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  echo "$dir"
}

# The folders an Alpine-based image has beyond busybox's (Argo's examples write to /mnt/out, for instance).
alpine_dirs() {
  mkdir -p "$1/mnt" "$1/media" "$1/opt" "$1/srv" "$1/home" "$1/var/tmp"
}

# import ROOT NAME [docker import -c changes...]
import_root() {
  root=$1
  name=$2
  shift 2
  tar -C "$root" -c . | docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' "$@" - "$name" >/dev/null
  rm -rf "$root"
}

missing() {
  [ "${SKIFF_REBUILD_IMAGES:-}" = 1 ] || ! docker image inspect "$1" >/dev/null 2>&1
}

if missing skiff-test/busybox:latest; then
  import_root "$(busybox_root)" skiff-test/busybox:latest -c 'CMD ["sh"]'
fi

# An image with ENTRYPOINT, CMD, WORKDIR and ENV, to check that command/args replace them as Kubernetes does.
if missing skiff-test/entrypoint:latest; then
  import_root "$(busybox_root)" skiff-test/entrypoint:latest -c 'ENV IMAGE_VAR=from-image' -c 'WORKDIR /tmp' \
    -c 'ENTRYPOINT ["echo", "entrypoint"]' -c 'CMD ["image-cmd"]'
fi

# argoproj/argosay stand-in: /argosay and cowsay are shell scripts.
if missing skiff-test/argosay:latest; then
  root=$(busybox_root)
  install -m 755 "$fixtures/argosay/argosay" "$root/argosay"
  install -m 755 "$fixtures/argosay/cowsay" "$root/usr/local/bin/cowsay"
  import_root "$root" skiff-test/argosay:latest -c 'ENTRYPOINT ["/argosay"]'
fi

# python:* stand-in: Debian's python3 and its standard library.
if missing skiff-test/python:latest; then
  root=$(busybox_root)
  alpine_dirs "$root"
  py=$(readlink -f /usr/bin/python3)
  pyver=$(basename "$py")
  cp "$py" "$root/usr/bin/$pyver"
  ln -s "$pyver" "$root/usr/bin/python3"
  ln -s "$pyver" "$root/usr/bin/python"
  tar -C / --exclude='*/test/*' --exclude='*/tests/*' --exclude='*/idlelib/*' --exclude='*/tkinter/*' \
    --exclude='__pycache__' -c "usr/lib/$pyver" | tar -C "$root" -x
  copy_libs "$root" "$py" /usr/lib/"$pyver"/lib-dynload/*.so
  import_root "$root" skiff-test/python:latest -c 'ENV PYTHONDONTWRITEBYTECODE=1' -c 'CMD ["python3"]'
fi

# alpine/nginx/influxdb/curl stand-in: the host's node and curl, and the host executor's doubles of apk,
# nginx and influxd (Node scripts answering as those servers do), and of Alpine's nc (`-lk`).
if missing skiff-test/tools:latest; then
  root=$(busybox_root)
  alpine_dirs "$root"
  node=$(readlink -f "$(command -v node)")
  curl=$(readlink -f "$(command -v curl)")
  cp "$node" "$root/usr/bin/node"
  cp "$curl" "$root/usr/bin/curl"
  copy_libs "$root" "$node" "$curl"
  mkdir -p "$root/etc/ssl/certs"
  [ -e /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  for tool in apk nginx influxd nc; do install -m 755 "$hostbin/$tool" "$root/usr/local/bin/$tool"; done
  import_root "$root" skiff-test/tools:latest -c 'CMD ["sh"]'
fi

echo "ci-docker: engine $(docker version --format '{{.Server.Version}}') ready, images:"
docker image ls --format '  {{.Repository}}:{{.Tag}} {{.Size}}' 'skiff-test/*'
