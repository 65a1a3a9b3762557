#!/bin/sh
# Sets up a local Docker engine and the images the Docker executor's tests use. Idempotent: installs
# only what is missing, starts dockerd only when no engine answers, builds images only when absent.
# No registry is reachable in CI, so images are imported from tarballs built from host binaries.
set -eu

need_apt=""
command -v dockerd >/dev/null 2>&1 || need_apt="$need_apt docker.io"
[ -e /usr/share/doc/busybox-static ] || need_apt="$need_apt busybox-static"
[ -x /usr/bin/python3 ] || need_apt="$need_apt python3"
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

build_busybox() {
  dir=$(mktemp -d)
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/etc" "$dir/root"
  chmod 1777 "$dir/tmp"
  cp /bin/busybox "$dir/bin/busybox"
  for applet in $("$dir/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$dir/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$dir/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
  tar -C "$dir" -c . | docker import \
    -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' \
    -c 'CMD ["sh"]' - skiff-test/busybox:latest >/dev/null
  # An image with an ENTRYPOINT and CMD, to check that command/args replace them as Kubernetes does.
  tar -C "$dir" -c . | docker import \
    -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' \
    -c 'ENV IMAGE_VAR=from-image' \
    -c 'WORKDIR /tmp' \
    -c 'ENTRYPOINT ["echo", "entrypoint"]' \
    -c 'CMD ["image-cmd"]' - skiff-test/entrypoint:latest >/dev/null
  # argoproj/argosay stand-in: busybox plus /argosay and cowsay (shell scripts from the fixtures folder).
  mkdir -p "$dir/usr/local/bin"
  cp "$fixtures/argosay/argosay" "$dir/argosay"
  cp "$fixtures/argosay/cowsay" "$dir/usr/local/bin/cowsay"
  chmod 755 "$dir/argosay" "$dir/usr/local/bin/cowsay"
  tar -C "$dir" -c . | docker import \
    -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' \
    -c 'ENTRYPOINT ["/argosay"]' - skiff-test/argosay:latest >/dev/null
  rm -rf "$dir"
}

fixtures="$(cd "$(dirname "$0")/../../fixtures/images/docker" && pwd)"
if ! docker image inspect skiff-test/busybox:latest skiff-test/entrypoint:latest skiff-test/argosay:latest \
  >/dev/null 2>&1 || [ "${SKIFF_REBUILD_IMAGES:-}" = 1 ]; then
  build_busybox
fi
# python:* stand-in: busybox plus Debian's python3 with the shared libraries it and its modules load.
build_python() {
  dir=$(mktemp -d)
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/etc" "$dir/usr/bin" "$dir/usr/lib"
  chmod 1777 "$dir/tmp"
  cp /bin/busybox "$dir/bin/busybox"
  for applet in $("$dir/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$dir/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$dir/etc/passwd"
  py=$(readlink -f /usr/bin/python3)
  pyver=$(basename "$py")
  cp "$py" "$dir/usr/bin/$pyver"
  ln -s "$pyver" "$dir/usr/bin/python3"
  ln -s "$pyver" "$dir/usr/bin/python"
  tar -C / --exclude='*/test/*' --exclude='*/tests/*' --exclude='*/idlelib/*' --exclude='*/tkinter/*' \
    --exclude='__pycache__' -c "usr/lib/$pyver" | tar -C "$dir" -x
  for f in "$py" /usr/lib/"$pyver"/lib-dynload/*.so; do
    ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
  done | sort -u | while read -r lib; do
    [ -e "$dir$lib" ] || cp -L --parents "$lib" "$dir"
  done
  tar -C "$dir" -c . | docker import \
    -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' \
    -c 'ENV PYTHONDONTWRITEBYTECODE=1' \
    -c 'CMD ["python3"]' - skiff-test/python:latest >/dev/null
  rm -rf "$dir"
}

if ! docker image inspect skiff-test/python:latest >/dev/null 2>&1 || [ "${SKIFF_REBUILD_IMAGES:-}" = 1 ]; then
  build_python
fi
echo "ci-docker: engine $(docker version --format '{{.Server.Version}}') ready, images:"
docker image ls --format '  {{.Repository}}:{{.Tag}}' skiff-test/*
