#!/usr/bin/env bash
# A throw-away PostgreSQL server for the tests of the hub's PostgreSQL store, which need a
# real server (RINGSIDE_TEST_DATABASE_URL). Used by `make rust-test`.
#   scripts/postgres.sh start DIR   a fresh cluster in DIR (any left there is stopped and
#                                   removed first); prints one line on stdout: the connection
#                                   URL of the superuser postgres, database postgres
#   scripts/postgres.sh stop DIR    stops it and removes DIR; nothing to do if it is not there
# Installs Debian's postgresql package when its initdb and pg_ctl are missing. The server
# listens on a Unix socket in DIR/socket, owned by the server's user, with trust
# authentication; and on 127.0.0.1 with TLS only, for the tests of the hub's TLS sessions:
# the TCP port is the socket's (its name ends in it), the server's certificate (for
# localhost and 127.0.0.1) is signed by a throw-away authority, DIR/tls/ca.crt, and the
# one role allowed over TCP is ringside_tls, whose password is in DIR/tls/password. fsync
# stays on: the tests get a real server's durability. As root the server runs as the
# postgres system user (PostgreSQL refuses root), so DIR must be reachable by that user.
# Everything but the URL goes to stderr.
set -euo pipefail

marker=.ringside-postgres

die() {
  echo "scripts/postgres.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: scripts/postgres.sh start|stop DIR" >&2
  exit 2
}

[ $# -eq 2 ] || usage
command="$1"
[ -n "$2" ] || usage
case "$command" in start | stop) ;; *) usage ;; esac

root=false
[ "$(id -u)" -eq 0 ] && root=true

# The newest Debian PostgreSQL, else one on PATH.
find_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return
    fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
  fi
}

# Runs a command as the server's user, from DIR (initdb wants to read its working
# directory, which root's may not let it).
as_server_user() {
  if $root; then
    (cd "$dir" && runuser -u postgres -- "$@")
  else
    (cd "$dir" && "$@")
  fi
}

# DIR is removed whole, so only a directory this script made (its marker) or an empty one.
check_ours() {
  if [ -d "$dir" ] && [ ! -e "$dir/$marker" ] && [ -n "$(ls -A "$dir")" ]; then
    die "$dir is not empty and was not made by this script: refusing to remove it"
  fi
}

running() {
  as_server_user "$bin/pg_ctl" status -D "$dir/data" >/dev/null 2>&1
}

# pg_ctl fails on a server that died without removing its postmaster.pid (killed): what
# counts is whether one still runs afterwards.
stop_server() {
  [ -f "$dir/data/postmaster.pid" ] || return 0
  [ -n "$bin" ] || die "$dir/data holds a server, but PostgreSQL's pg_ctl is not installed to stop it"
  running || return 0
  echo "stopping the PostgreSQL server in $dir" >&2
  if ! as_server_user "$bin/pg_ctl" stop -D "$dir/data" -m fast -w >&2 && ! running; then
    echo "(it had died already: no process of it is left)" >&2
  fi
  if running; then
    as_server_user "$bin/pg_ctl" stop -D "$dir/data" -m immediate -w >&2 || true
  fi
  if running; then
    die "could not stop the PostgreSQL server in $dir (see $dir/log)"
  fi
}

# A path in a URL's host part, every byte but the unreserved ones percent-encoded.
url_encode() {
  local LC_ALL=C s="$1" out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      [A-Za-z0-9._~-]) out+="$c" ;;
      *) out+=$(printf '%%%02X' "'$c") ;;
    esac
  done
  printf '%s' "$out"
}

bin="$(find_bin)"

if [ "$command" = stop ]; then
  [ -e "$2" ] || exit 0
  [ -d "$2" ] || die "$2 is not a directory"
  dir="$(realpath -- "$2")"
  check_ours
  stop_server
  rm -rf "$dir"
  exit 0
fi

# start
if [ -z "$bin" ]; then
  echo "installing PostgreSQL (Debian's postgresql package) for the database tests" >&2
  sudo=""
  $root || sudo="sudo"
  command -v apt-get >/dev/null 2>&1 ||
    die "PostgreSQL's initdb and pg_ctl are missing and there is no apt-get: install PostgreSQL"
  {
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=300 postgresql
  } >&2 || die "installing Debian's postgresql package failed"
  bin="$(find_bin)"
  [ -n "$bin" ] || die "the postgresql package is installed, but no initdb and pg_ctl in /usr/lib/postgresql/*/bin"
fi
if $root; then
  id -u postgres >/dev/null 2>&1 ||
    die "running as root, the server needs the postgres system user, which does not exist (Debian's postgresql-common makes it)"
fi

# A TCP port on 127.0.0.1 nobody listens on.
free_port() {
  local candidate tries
  for tries in $(seq 1 50); do
    candidate=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
  die "found no free TCP port on 127.0.0.1"
}

# A throw-away authority and the server's certificate it signs, in DIR/tls.
make_certificates() {
  local tls="$1"
  command -v openssl >/dev/null 2>&1 || die "openssl is missing (Debian's openssl package)"
  mkdir -m 755 "$tls"
  {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -subj "/CN=Ringside test authority" -keyout "$tls/ca.key" -out "$tls/ca.crt" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -subj "/CN=localhost" -keyout "$tls/server.key" -out "$tls/server.csr"
    printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
      "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$tls/server.ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
      -CAcreateserial -days 2 -extfile "$tls/server.ext" -out "$tls/server.crt"
  } >/dev/null 2>&1 || die "openssl could not make the test certificates"
  rm -f "$tls/ca.key" "$tls/server.csr" "$tls/server.ext" "$tls/ca.srl"
  chmod 600 "$tls/server.key"
  chmod 644 "$tls/ca.crt" "$tls/server.crt"
  (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$tls/password")
}

dir="$(realpath -m -- "$2")"
port="$(free_port)"
socket="$dir/socket"
# The kernel's limit on a socket's path (sun_path: 108 bytes with the NUL).
socket_file="$socket/.s.PGSQL.$port"
[ "$(printf %s "$socket_file" | wc -c)" -le 107 ] ||
  die "the socket's path $socket_file is longer than the 107 bytes Unix allows: use a shorter DIR"
case "$dir" in *"'"* | *\\*) die "DIR must not contain a quote or a backslash: $dir" ;; esac
if [ -e "$dir" ] && [ ! -d "$dir" ]; then die "$dir is not a directory"; fi
mkdir -p "$dir" || die "cannot create $dir"
check_ours
stop_server
# A fresh cluster: what a previous run left is removed (the directory itself is kept: it
# may be a mktemp directory someone else removes).
find "$dir" -mindepth 1 -delete || die "cannot empty $dir (another user's files?)"
touch "$dir/$marker"

mkdir -m 700 "$socket"
make_certificates "$dir/tls"
if $root; then
  chown -R postgres:postgres "$dir"
  runuser -u postgres -- test -w "$dir" -a -x "$dir" ||
    die "the postgres user cannot reach $dir: a parent directory is closed to it (chmod o+x it, or use a DIR elsewhere)"
fi

started=false
failed() {
  local status=$?
  [ "$status" -eq 0 ] && return
  if [ -f "$dir/log" ]; then
    echo "--- the end of $dir/log:" >&2
    tail -n 20 "$dir/log" >&2
  fi
  if $started; then
    stop_server || true
  fi
  echo "scripts/postgres.sh: starting PostgreSQL in $dir failed" >&2
}
trap failed EXIT

echo "creating a PostgreSQL $("$bin/pg_ctl" --version | sed 's/^[^0-9]*\([0-9.]*\).*/\1/') cluster in $dir/data" >&2
as_server_user "$bin/initdb" -D "$dir/data" --username=postgres --auth=trust \
  --encoding=UTF8 --locale=C.UTF-8 --no-instructions >&2 ||
  die "initdb failed"

# Later lines win over initdb's.
cat >>"$dir/data/postgresql.conf" <<EOF

# scripts/postgres.sh: a throw-away server for the tests
listen_addresses = '127.0.0.1'
port = $port
ssl = on
ssl_cert_file = '$dir/tls/server.crt'
ssl_key_file = '$dir/tls/server.key'
unix_socket_directories = '$socket'
unix_socket_permissions = 0700
max_connections = 500
shared_buffers = 64MB
fsync = on
synchronous_commit = on
full_page_writes = on
logging_collector = off
EOF
printf '%s\n' '# scripts/postgres.sh: anyone on the Unix socket, in a directory only the server user' \
  '# reaches; over TCP, with TLS and a password, ringside_tls only' \
  'local all all trust' 'hostssl all ringside_tls 127.0.0.1/32 scram-sha-256' >"$dir/data/pg_hba.conf"

started=true
# The log is the server's own (pg_ctl opens it as the server user).
as_server_user "$bin/pg_ctl" start -D "$dir/data" -l "$dir/log" -w -t 60 >&2 ||
  die "the server did not start"
"$bin/pg_isready" -q -h "$socket" -p "$port" -U postgres -d postgres -t 30 ||
  die "the server started but does not accept connections"
as_server_user "$bin/psql" -q -h "$socket" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE ringside_tls LOGIN SUPERUSER PASSWORD '$(cat "$dir/tls/password")'" >&2 ||
  die "creating the role ringside_tls failed"

trap - EXIT
echo "PostgreSQL is ready in $dir; scripts/postgres.sh stop $2 stops it" >&2
echo "postgresql://postgres@$(url_encode "$socket"):$port/postgres"
