#!/bin/sh
# The base images of the local stack, made from Debian's packages (no image registry is
# reachable here): mmdebstrap writes a root filesystem, `podman import` makes it an image.
# Each is built once and kept (`make stack-down` leaves them; `podman rmi` forces a rebuild).
#   python:   Debian bookworm's Python 3.11, the Dockerfile's PYTHON_IMAGE
#   postgres: Debian bookworm's PostgreSQL 15 with postgres-entrypoint.sh
#   nginx:    Debian sid's nginx (bookworm's 1.22 predates `resolve` in an upstream, which
#             deploy/nginx.conf uses); the mirror here is a frozen snapshot whose sid Release
#             file has expired, hence Check-Valid-Until false.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PYTHON_BASE=${PYTHON_BASE:-localhost/vividly-base-python:bookworm}
POSTGRES_BASE=${POSTGRES_BASE:-localhost/vividly-base-postgres:15}
NGINX_BASE=${NGINX_BASE:-localhost/vividly-base-nginx:sid}
work=$(mktemp -d /tmp/vividly-base.XXXXXX)
trap 'rm -rf "$work"' EXIT

# exists NAME: true (and says so) when the image is already here.
exists() {
    podman image exists "$1" && echo "== $1: cached (podman rmi $1 to rebuild)"
}

# rootfs SUITE PACKAGES [mmdebstrap options...]: Debian's minimal system with PACKAGES, in
# $work/rootfs.tar, without apt's lists, documentation or manual pages.
rootfs() {
    suite=$1 packages=$2
    shift 2
    echo "== Debian $suite with $packages"
    mmdebstrap --quiet --variant=minbase --include="$packages" \
        --customize-hook='chroot "$1" apt-get clean' \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/usr/share/doc "$1"/usr/share/man' \
        "$@" "$suite" "$work/rootfs.tar"
}

# import NAME [podman import --change ...]
import() {
    name=$1
    shift
    podman import --quiet "$@" "$work/rootfs.tar" "$name" >/dev/null
    rm -f "$work/rootfs.tar"
    echo "== $name: built"
}

exists "$PYTHON_BASE" || {
    rootfs bookworm python3,python3-venv,python-is-python3,ca-certificates
    import "$PYTHON_BASE" \
        --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
        --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        --change 'CMD ["python"]'
}

exists "$POSTGRES_BASE" || {
    rootfs bookworm postgresql-15,postgresql-client-15 \
        --customize-hook='rm -rf "$1"/var/lib/postgresql/15 "$1"/etc/postgresql/15' \
        --customize-hook="upload $here/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint" \
        --customize-hook='chmod 755 "$1"/usr/local/bin/postgres-entrypoint'
    import "$POSTGRES_BASE" \
        --change 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/bin:/bin' \
        --change 'ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]' \
        --change 'CMD ["postgres"]' \
        --change 'STOPSIGNAL SIGINT'
}

exists "$NGINX_BASE" || {
    rootfs sid nginx --aptopt='Acquire::Check-Valid-Until "false"'
    import "$NGINX_BASE" \
        --change 'CMD ["nginx", "-g", "daemon off;"]' \
        --change 'STOPSIGNAL SIGQUIT'
}
