#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (DESIGN §9).
#   pg_server.sh start DIR   initdb into DIR/data (DIR is emptied first), start the server
#                            listening only on a Unix socket in DIR, print the libpq
#                            connection string: host=DIR dbname=postgres user=postgres
#   pg_server.sh stop DIR    stop it (if it runs) and remove DIR
# Runs the server as the `postgres` user when called as root (PostgreSQL refuses root).
# No TCP port is opened, so several builds can each run their own server at once.
# A missing server is an error with a clear message, never a skip.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
action=$1
dir=$2
case "$dir" in
  /*) ;;
  *) dir="$PWD/$dir" ;;
esac

# The newest installed server (Debian keeps them in /usr/lib/postgresql/<version>/bin), or
# one on PATH.
find_bindir() {
  local best="" d
  while IFS= read -r d; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && best=$d
  done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
  if [ -z "$best" ] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    best=$(dirname "$(command -v initdb)")
  fi
  echo "$best"
}

bindir=$(find_bindir)
if [ -z "$bindir" ]; then
  echo "pg_server: no PostgreSQL server found (initdb and pg_ctl, looked in" \
    "/usr/lib/postgresql/*/bin and on PATH). Install it: scripts/install-deps.sh" \
    "(Debian package postgresql)." >&2
  exit 1
fi

# As root, everything that touches the cluster runs as `postgres`.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    echo "pg_server: running as root, but there is no 'postgres' user to run the server" >&2
    exit 1
  fi
  if command -v runuser >/dev/null; then
    as_pg=(runuser -u postgres --)
  else
    # shellcheck disable=SC2016 # expanded by the postgres user's shell, not here
    as_pg=(su postgres -s /bin/sh -c '"$0" "$@"')
  fi
fi

pgctl() {
  "${as_pg[@]}" "$bindir/pg_ctl" "$@"
}

# Where the cluster really lives: DIR itself, or the directory DIR links to when the
# postgres user could not reach DIR (see start).
real_dir() {
  if [ -L "$dir" ]; then readlink "$dir"; else echo "$dir"; fi
}

stop_server() {
  local real
  real=$(real_dir)
  if [ -f "$real/data/postmaster.pid" ]; then
    # fast: ends the sessions and shuts down cleanly; immediate if that does not work.
    pgctl -D "$real/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      pgctl -D "$real/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
}

remove_dir() {
  if [ -L "$dir" ]; then
    rm -rf "$(readlink "$dir")"
    rm -f "$dir"
  else
    rm -rf "$dir"
  fi
}

case "$action" in
  start)
    # The socket path must fit in sun_path (107 bytes) with "/.s.PGSQL.5432" appended.
    if [ ${#dir} -gt 90 ]; then
      echo "pg_server: $dir is too long for a Unix socket path (at most 90 bytes)" >&2
      exit 1
    fi
    stop_server # a server left over from an interrupted run
    remove_dir
    mkdir -p "$dir"
    real=$dir
    if [ ${#as_pg[@]} -gt 0 ]; then
      chown postgres: "$dir"
      if ! "${as_pg[@]}" test -w "$dir"; then
        # A parent of DIR is closed to the postgres user (a checkout under /root): the
        # cluster lives in /tmp and DIR links to it, so the socket is still DIR/.s.PGSQL.*
        # for the tests, which run as root.
        rmdir "$dir"
        real=$(mktemp -d /tmp/authkit-pg.XXXXXX)
        chown postgres: "$real"
        ln -s "$real" "$dir"
      fi
    fi
    if ! "${as_pg[@]}" "$bindir/initdb" -D "$real/data" -U postgres -A trust -E UTF8 \
      --locale=C.UTF-8 -N >"$real/initdb.log" 2>&1; then
      echo "pg_server: initdb failed:" >&2
      cat "$real/initdb.log" >&2
      exit 1
    fi
    # Only a Unix socket; fsync and friends off: the data is thrown away anyway.
    {
      echo "listen_addresses = ''"
      echo "unix_socket_directories = '$real'"
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
      echo "max_connections = 200"
    } >>"$real/data/postgresql.conf"
    if ! pgctl -D "$real/data" -l "$real/server.log" -w -t 60 start >/dev/null 2>&1; then
      echo "pg_server: the server did not start:" >&2
      cat "$real/server.log" >&2 || true
      exit 1
    fi
    echo "host=$dir dbname=postgres user=postgres"
    ;;
  stop)
    stop_server
    remove_dir
    ;;
  *)
    usage
    ;;
esac
