#!/bin/sh
# deploy-test.sh - `make deploy-test`: the deployment kit (deploy/) tried
# on one machine, over https, as a department would run it.
#
# Installs Debian's nginx, openssl, curl, logrotate and iproute2 (ss) where
# missing; makes a throwaway CA and a certificate for 127.0.0.1 and
# localhost in a temporary folder; starts dala-server on 127.0.0.1 with
# `trusted_proxies = 127.0.0.1` and two nginx fronts made from
# deploy/nginx/dala.conf (only the ports, paths and, for the second, one
# header changed), each a non-daemon with its own prefix, pid file, error
# log and free ports on 127.0.0.1. Everything it starts is stopped by PID
# at the end (trap). Then it checks, over https:
#   - TLS 1.2 and 1.3 answer; TLS 1.1 and a CBC suite are refused; HSTS;
#     plain http is sent to https; the front's access log has no query string;
#   - body and header limits, no WebSocket upgrade, /metrics not served;
#   - a tablet enrols and syncs through the front with `dala --ca-file`,
#     and without the CA it refuses the front's certificate;
#   - a sign-in's session cookie through the front is Secure;
#   - 25 failed sign-ins from one client block that client (and a forged
#     X-Forwarded-For sent to the front does not get it out) but not
#     another client;
#   - straight to a dala-server that does not trust 127.0.0.1, forged
#     X-Forwarded-For and X-Forwarded-Proto are not believed;
#   - the logrotate file rotates the server's log and the server reopens
#     its log on SIGHUP; the systemd unit passes `systemd-analyze verify`.
#
# One machine has one client address. The trick: the second front ("B")
# is the same configuration with `X-Forwarded-For 10.9.9.9` in place of
# `$remote_addr`, as if nginx had seen a client at 10.9.9.9. dala-server
# trusts 127.0.0.1 (both fronts), so through A the client is 127.0.0.1 and
# through B it is 10.9.9.9: two clients, each counted on its own.
#
# Ends with "deploy-test: N passed, N failed"; exits non-zero on a failure.
# The temporary folder is removed after a clean run and kept otherwise.
set -eu

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) OUT=$BUILD ;; *) OUT=$ROOT/$BUILD ;; esac
SERVER=$OUT/dala-server
DALA=$OUT/dala
NGINX=${NGINX:-/usr/sbin/nginx}
started=$(date +%s)
passed=0
failed=0
server_pid=""
nginx_a_pid=""
nginx_b_pid=""
T=""

say() { printf '== %s\n' "$*"; }
pass() { passed=$((passed + 1)); printf 'ok    %s\n' "$*"; }
fail() { failed=$((failed + 1)); printf 'FAIL  %s\n' "$*"; }
# check DESCRIPTION COMMAND...: runs the command, counts it passed or failed.
check() {
    what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
# die WHY: a step the rest depends on failed; the counts so far are printed.
die() {
    fail "$*"
    echo "deploy-test: $passed passed, $failed failed"
    exit 1
}

# ---- Tools: Debian's nginx, openssl, curl, logrotate and ss, when missing.
. scripts/apt-install.sh
missing=""
[ -x "$NGINX" ] || missing="$missing nginx"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v logrotate >/dev/null 2>&1 || [ -x /usr/sbin/logrotate ] || missing="$missing logrotate"
command -v ss >/dev/null 2>&1 || missing="$missing iproute2"
if [ -n "$missing" ]; then
    say "installing Debian packages:$missing"
    # shellcheck disable=SC2086
    apt_install deploy-test $missing >/dev/null
fi
LOGROTATE=$(command -v logrotate 2>/dev/null || echo /usr/sbin/logrotate)

# ---- Build. Under make (`make deploy-test`) the binaries were just built.
if [ -z "${MAKELEVEL:-}" ] && [ "$BUILD" = build ]; then
    make --no-print-directory build/dala-server build/dala >/dev/null
fi
for bin in "$SERVER" "$DALA"; do
    [ -x "$bin" ] || { echo "deploy-test: $bin is missing; run make first" >&2; exit 1; }
done

# ---- Stopping by PID, whatever happens.
stop_pid() {
    # stop_pid PID SIGNAL: signals the process and waits for it.
    if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
        kill "-$2" "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
    fi
}
stop_server() { stop_pid "$server_pid" TERM; server_pid=""; }
cleanup() {
    stop_pid "$nginx_a_pid" QUIT
    stop_pid "$nginx_b_pid" QUIT
    stop_server
    if [ -n "$T" ] && [ "$failed" -eq 0 ] && [ "${KEEP:-0}" = 0 ]; then rm -rf "$T"; fi
    if [ -n "$T" ] && [ -d "$T" ]; then echo "deploy-test: files kept in $T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

T=$(mktemp -d "${TMPDIR:-/tmp}/dala-deploy-test.XXXXXX")
# nginx's workers run as www-data when started by root: they must reach
# their temporary folders below this one (the private key's folder stays 0700).
[ "$(id -u)" -ne 0 ] || chmod 0711 "$T"
mkdir -p "$T/server" "$T/tls" "$T/tablet"
chmod 0700 "$T/server" "$T/tls" "$T/tablet"

# A free TCP port on 127.0.0.1 (none listening there now).
free_port() {
    while :; do
        port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
        if ! ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
            echo "$port"
            return
        fi
    done
}

# ---- A throwaway CA and the front's certificate (P-256, two days).
say "a throwaway CA and a certificate for 127.0.0.1 and localhost"
CA=$T/tls/ca.pem
(
    cd "$T/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -keyout ca.key -out ca.pem -subj "/CN=Dala deploy-test CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout front.key -out front.csr -subj "/CN=localhost"
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >front.ext
    openssl x509 -req -in front.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile front.ext -out front.pem
) >"$T/tls/openssl.log" 2>&1 || die "openssl made the CA and certificate (see $T/tls/openssl.log)"

# ---- dala-server: a seeded database, a config file, started on a free port.
DB=$T/server/central.db
LOG=$T/server/log/dala-server.log
admin() { "$SERVER" admin --db "$DB" "$@"; }
PASSWORD="Dala-deploy-2026"
{
    admin unit-add --kind body --name "Esil district police" --parent pd-astana
    admin unit-add --kind unit --name "Esil women-protection unit" --parent "Esil district police"
    admin user-add --login a.nurlanova --name "Aigul Nurlanova" --role inspector --unit "Esil women-protection unit"
    admin user-add --login z.omarova --name "Zhanar Omarova" --role unit_head --unit "Esil women-protection unit"
    printf '%s\n' "$PASSWORD" | admin password --login z.omarova
} >"$T/server/seed.log" 2>&1 || die "seeding the database (see $T/server/seed.log)"
mkdir -p "$T/server/log"
chmod 0700 "$T/server/log"

# write_config FILE TRUSTED: the sample's settings for this run.
write_config() {
    {
        echo "# deploy-test: made from deploy/dala-server.conf.sample's keys"
        echo "db = $DB"
        echo "listen = 127.0.0.1:0"
        echo "log = $LOG"
        echo "threads = 16"
        echo "trusted_proxies = $2"
        echo "metrics_allow = 127.0.0.1"
        echo "ready_min_free_mb = 1"
    } >"$1"
}
# start_server CONFIG: starts dala-server and sets server_pid and SERVER_PORT.
start_server() {
    rm -f "$T/server/port"
    "$SERVER" serve --config "$1" --port-file "$T/server/port" 2>>"$T/server/stderr.log" &
    server_pid=$!
    tries=0
    while [ ! -s "$T/server/port" ]; do
        tries=$((tries + 1))
        if [ $tries -gt 200 ] || ! kill -0 "$server_pid" 2>/dev/null; then
            tail -5 "$T/server/stderr.log" >&2 || true
            die "dala-server started with $1"
        fi
        sleep 0.05
    done
    SERVER_PORT=$(cat "$T/server/port")
}

# The sample config as shipped, its paths moved into this run's folder,
# must start a server: an unknown key or a bad value would stop it.
mkdir -p "$T/sample/log"
chmod 0700 "$T/sample" "$T/sample/log"
sed "s#/var/lib/dala/#$T/sample/#" deploy/dala-server.conf.sample >"$T/sample/dala-server.conf"
"$SERVER" serve --config "$T/sample/dala-server.conf" --listen 127.0.0.1:0 --port-file "$T/sample/port" \
    2>"$T/sample/stderr.log" &
sample_pid=$!
tries=0
while [ ! -s "$T/sample/port" ] && [ $tries -lt 200 ] && kill -0 "$sample_pid" 2>/dev/null; do
    tries=$((tries + 1))
    sleep 0.05
done
sample_started=0
[ -s "$T/sample/port" ] && sample_started=1
stop_pid "$sample_pid" TERM
[ "$sample_started" = 1 ] || cat "$T/sample/stderr.log"
check "dala-server starts with deploy/dala-server.conf.sample (every key accepted)" test "$sample_started" = 1
keys_read=$(sed -n '/^static int apply_setting/,/^}/p' server/server_cli.c | grep -o 'strcmp(key, "[a-z_]*")' |
    sed 's/.*"\(.*\)")/\1/' | sort -u)
missing_keys=""
for key in $keys_read; do
    grep -qE "^#?$key = " deploy/dala-server.conf.sample || missing_keys="$missing_keys $key"
done
check "the sample names every key apply_setting reads (${missing_keys:-none missing})" test -z "$missing_keys"

write_config "$T/server/front.conf" 127.0.0.1
start_server "$T/server/front.conf"
say "dala-server on 127.0.0.1:$SERVER_PORT (pid $server_pid), trusting 127.0.0.1"

# ---- Two nginx fronts from deploy/nginx/dala.conf.
# make_front NAME HTTPS_PORT HTTP_PORT XFF: the site file with this run's
# ports, certificate and logs; XFF replaces `$remote_addr` in X-Forwarded-For.
make_front() {
    dir=$T/nginx-$1
    mkdir -p "$dir/logs"
    sed -e "s#listen 443 ssl default_server;#listen 127.0.0.1:$2 ssl default_server;#" \
        -e "s#listen 80;#listen 127.0.0.1:$3;#" \
        -e '/listen \[::\]/d' \
        -e "s#server 127.0.0.1:8080;#server 127.0.0.1:$SERVER_PORT;#" \
        -e "s#/etc/ssl/certs/dala.pem#$T/tls/front.pem#" \
        -e "s#/etc/ssl/private/dala.key#$T/tls/front.key#" \
        -e "s#/var/log/nginx/#$dir/logs/#" \
        -e "s#proxy_set_header X-Forwarded-For \\\$remote_addr;#proxy_set_header X-Forwarded-For $4;#" \
        deploy/nginx/dala.conf >"$dir/dala.conf"
    # Every change must have taken: else this would test another file.
    for want in "listen 127.0.0.1:$2 ssl" "listen 127.0.0.1:$3;" "server 127.0.0.1:$SERVER_PORT;" \
        "$T/tls/front.pem" "$T/tls/front.key" "X-Forwarded-For $4;"; do
        grep -qF "$want" "$dir/dala.conf" || die "deploy/nginx/dala.conf no longer has the line the test changes to '$want'"
    done
    if grep -qE '/etc/ssl|/var/log|listen (80|443)|\[::\]' "$dir/dala.conf"; then
        die "deploy/nginx/dala.conf has a path or port the test did not change"
    fi
    {
        [ "$(id -u)" -ne 0 ] || echo "user www-data;"
        echo "daemon off;"
        echo "worker_processes 1;"
        echo "pid $dir/nginx.pid;"
        echo "error_log $dir/logs/error.log notice;"
        echo "events { worker_connections 256; }"
        echo "http {"
        echo "    include /etc/nginx/mime.types;"
        echo "    default_type application/octet-stream;"
        for temp in client_body proxy fastcgi uwsgi scgi; do echo "    ${temp}_temp_path $dir/temp-$temp;"; done
        echo "    include $dir/dala.conf;"
        echo "}"
    } >"$dir/nginx.conf"
    "$NGINX" -t -q -p "$dir/" -c "$dir/nginx.conf" -e "$dir/logs/error.log" 2>"$dir/logs/test.log" ||
        { cat "$dir/logs/test.log" >&2; die "nginx -t accepts the front $1 made from deploy/nginx/dala.conf"; }
}
# start_front NAME HTTPS_PORT: prints the master's PID once it answers.
start_front() {
    dir=$T/nginx-$1
    "$NGINX" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/logs/error.log" 2>>"$dir/logs/stderr.log" &
    pid=$!
    tries=0
    until curl -s -o /dev/null --cacert "$CA" "https://127.0.0.1:$2/v1/health"; do
        tries=$((tries + 1))
        if [ $tries -gt 200 ] || ! kill -0 "$pid" 2>/dev/null; then
            cat "$dir/logs/error.log" >&2 || true
            kill -QUIT "$pid" 2>/dev/null || true
            return 1
        fi
        sleep 0.05
    done
    echo "$pid"
}

A_HTTPS=$(free_port)
A_HTTP=$(free_port)
B_HTTPS=$(free_port)
B_HTTP=$(free_port)
# shellcheck disable=SC2016 # nginx's variable, kept as it is in the file
make_front a "$A_HTTPS" "$A_HTTP" '$remote_addr'
make_front b "$B_HTTPS" "$B_HTTP" 10.9.9.9
# Not in $(...): the front must stay this shell's child, to be waited for.
start_front a "$A_HTTPS" >"$T/nginx-a/master" || die "nginx front A started"
nginx_a_pid=$(cat "$T/nginx-a/master")
start_front b "$B_HTTPS" >"$T/nginx-b/master" || die "nginx front B started"
nginx_b_pid=$(cat "$T/nginx-b/master")
A=https://localhost:$A_HTTPS
B=https://localhost:$B_HTTPS
say "front A on $A (pid $nginx_a_pid), front B on $B (pid $nginx_b_pid, says the client is 10.9.9.9)"
check "nginx -t accepts deploy/nginx/dala.conf (with this run's ports and paths)" true

# ---- TLS and the front's own behaviour.
# status URL [curl args...]: the HTTP status, 000 when no answer came.
status() {
    url=$1
    shift
    curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' --cacert "$CA" "$@" "$url" 2>/dev/null || true
}
check "TLS 1.3 answers" test "$(status "$A/v1/health" --tlsv1.3)" = 200
check "TLS 1.2 answers" test "$(status "$A/v1/health" --tlsv1.2 --tls-max 1.2)" = 200
check "TLS 1.1 is refused" test "$(status "$A/v1/health" --tlsv1.1 --tls-max 1.1 --ciphers 'DEFAULT@SECLEVEL=0')" = 000
check "a CBC suite on TLS 1.2 is refused" test "$(status "$A/v1/health" --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-SHA)" = 000
check "the front's certificate is checked by name: 127.0.0.1 too" test "$(status "https://127.0.0.1:$A_HTTPS/v1/health")" = 200
status "$A/no-such-page" >/dev/null
check "HSTS on every answer, a 404 too" grep -qi '^strict-transport-security: max-age=31536000' "$T/headers"
check "the front does not say its version" sh -c "! grep -qi '^server: nginx/' '$T/headers'"
check "plain http is sent to https" test "$(status "http://localhost:$A_HTTP/v1/health")" = 301
check "... without saying nginx's version either" sh -c "! grep -qi '^server: nginx/' '$T/headers'"
check "/metrics is not served through the front" test "$(status "$A/metrics")" = 404
status "$A/v1/records?q=Ulykbekova-secret" >/dev/null
check "the front's access log has no query string (searches carry names)" \
    sh -c "grep -q ' /v1/records ' '$T/nginx-a/logs/dala.access.log' && ! grep -q 'Ulykbekova' '$T/nginx-a/logs/dala.access.log'"
head -c 100000 /dev/zero >"$T/100k"
check "a 100 KB body to the /v1/ API is refused by the front (413)" \
    test "$(status "$A/v1/session" -H 'Content-Type: application/json' --data-binary "@$T/100k")" = 413
head -c 2000000 /dev/zero >"$T/2m"
code=$(status "$A/v1/sync" -H 'Content-Type: application/octet-stream' --data-binary "@$T/2m")
check "a 2 MB sync body passes the front to dala-server (which answers $code, not 413)" \
    sh -c "[ '$code' != 413 ] && [ '$code' != 000 ] && grep -q 'POST /v1/sync $code' '$LOG'"
big=$(head -c 20000 /dev/zero | tr '\0' a)
check "a 20 KB header is refused (400)" test "$(status "$A/v1/health" -H "X-Big: $big")" = 400
code=$(status "$A/" -H 'Upgrade: websocket' -H 'Connection: Upgrade' -H 'Sec-WebSocket-Version: 13' \
    -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==')
check "no WebSocket upgrade (answered $code)" test "$code" != 101

# ---- A tablet through the front: `dala --ca-file`.
say "a tablet enrols and syncs through front A"
(umask 077 && printf '%s\n' 2468-deploy >"$T/tablet/pin")
tablet() { store=$1; shift; "$DALA" --store "$T/tablet/$store.db" --pin-file "$T/tablet/pin" "$@"; }
code=$(admin code --login a.nurlanova)
check "without the CA, the tablet refuses the front's certificate" \
    sh -c "! '$DALA' --store '$T/tablet/untrusting.db' --pin-file '$T/tablet/pin' enroll --server '$A' --code '$code' \
        >'$T/tablet/untrusting.out' 2>&1"
check "enrolment through the front with --ca-file" \
    sh -c "'$DALA' --store '$T/tablet/esil-1.db' --pin-file '$T/tablet/pin' enroll --server '$A' --code '$code' \
        --ca-file '$CA' >'$T/tablet/enroll.out' 2>&1"
record=$(tablet esil-1 capture --table field_visit --set visit_date="$(date +%Y-%m-%d)" --set purpose=preventive_visit \
    --set address="Астана қ., Кенесары көшесі, 40" --set risk_level=low \
    --set findings="Профилактикалық әңгіме жүргізілді." 2>"$T/tablet/capture.err" || true)
check "sync through the front with --ca-file" \
    sh -c "'$DALA' --store '$T/tablet/esil-1.db' --pin-file '$T/tablet/pin' sync --ca-file '$CA' >'$T/tablet/sync.out' 2>&1"
check "the record captured on the tablet is on the server" \
    sh -c "[ -n '$record' ] && '$SERVER' admin --db '$DB' records | grep -q '$record'"
check "the sync reached dala-server through the front" grep -q 'POST /v1/sync 200' "$T/nginx-a/logs/dala.access.log"

# ---- Sign-ins: the cookie, and the throttle per real client.
say "sign-ins through the fronts"
# sign_in URL LOGIN PASSWORD [curl args...]: the status of POST /v1/session.
sign_in() {
    url=$1 login=$2 pw=$3
    shift 3
    status "$url/v1/session" -H 'Content-Type: application/json' \
        --data "{\"login\":\"$login\",\"password\":\"$pw\"}" "$@"
}
secure_cookie() { grep -i '^set-cookie: dala_session=' "$T/headers" | grep -q '; Secure'; }
check "a sign-in through the front answers 200" test "$(sign_in "$A" z.omarova "$PASSWORD")" = 200
check "its session cookie is Secure" secure_cookie
codes=""
i=1
while [ $i -le 25 ]; do
    codes="$codes $(sign_in "$A" "nobody-$i" wrong-password)"
    i=$((i + 1))
done
expected=" 401 401 401 401 401 401 401 401 401 401 401 401 401 401 401 401 401 401 401 401 429 429 429 429 429"
check "25 failed sign-ins from client A: 20 refused, then blocked (429)" test "$codes" = "$expected"
[ "$codes" = "$expected" ] || echo "      got:$codes"
check "client A stays blocked with the right password" test "$(sign_in "$A" z.omarova "$PASSWORD")" = 429
check "client A's own X-Forwarded-For is replaced by the front, not believed" \
    test "$(sign_in "$A" z.omarova "$PASSWORD" -H 'X-Forwarded-For: 10.7.7.7')" = 429
check "another client (10.9.9.9, through front B) signs in: 200" test "$(sign_in "$B" z.omarova "$PASSWORD")" = 200
check "its session cookie is Secure too" secure_cookie

# ---- The log: rotated by deploy/logrotate/dala-server, reopened on SIGHUP.
say "log rotation"
awk -v path="$LOG" -v pid="$server_pid" '
    /^\/var\/lib\/dala\/log\/dala-server.log/ { sub(/^[^ ]+/, path) }
    /create 0600 dala dala/ { sub(/ dala dala/, "") }
    /postrotate/ { print; print "        kill -HUP " pid; skip = 1; next }
    /endscript/ { skip = 0 }
    !skip { print }' deploy/logrotate/dala-server >"$T/logrotate.conf" ||
    fail "deploy/logrotate/dala-server made into this run's logrotate file"
chmod 0644 "$T/logrotate.conf"
lines_before=$(wc -l <"$LOG")
if "$LOGROTATE" -f -s "$T/logrotate.state" "$T/logrotate.conf" >"$T/logrotate.out" 2>&1; then
    sleep 0.3 # the server reopens from its main loop, woken by the signal
    status "$A/v1/health" >/dev/null
    sleep 0.2
    rotated=0
    for f in "$T"/server/log/dala-server.log-*.gz; do [ -f "$f" ] && rotated=$((rotated + 1)); done
    check "logrotate rotated and compressed the server's log" test "$rotated" = 1
    check "after SIGHUP the server writes to a new log" grep -q 'GET /v1/health 200' "$LOG"
    check "the new log is 0600" test "$(stat -c %a "$LOG")" = 600
    check "the rotated log kept the earlier lines ($lines_before)" \
        sh -c "gzip -dc '$T'/server/log/dala-server.log-*.gz | grep -q 'POST /v1/session 429'"
else
    cat "$T/logrotate.out"
    fail "logrotate accepts deploy/logrotate/dala-server"
fi
check "dala-server is still running after SIGHUP" kill -0 "$server_pid"

# ---- systemd's own check of the unit (the binary's path changed to this build's).
if command -v systemd-analyze >/dev/null 2>&1; then
    mkdir -p "$T/systemd"
    sed "s#/usr/local/bin/dala-server#$SERVER#g" deploy/systemd/dala-server.service >"$T/systemd/dala-server.service"
    check "systemd-analyze verify accepts the unit" \
        sh -c "systemd-analyze verify '$T/systemd/dala-server.service' >'$T/systemd/verify.out' 2>&1 && ! grep -q . '$T/systemd/verify.out'"
    [ ! -s "$T/systemd/verify.out" ] || cat "$T/systemd/verify.out"
else
    echo "deploy-test: systemd-analyze is not on this machine: the unit was NOT verified (not counted)"
fi

# ---- Straight to a dala-server that does not trust 127.0.0.1: forged
# X-Forwarded-For and X-Forwarded-Proto are ignored.
say "forged headers straight to dala-server"
stop_server
write_config "$T/server/untrusting.conf" 192.0.2.1
start_server "$T/server/untrusting.conf"
D=http://127.0.0.1:$SERVER_PORT
check "a sign-in straight to the server answers 200" \
    test "$(sign_in "$D" z.omarova "$PASSWORD" -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-For: 10.9.9.9')" = 200
check "a forged X-Forwarded-Proto: https does not make the cookie Secure" sh -c "! grep -i '^set-cookie: dala_session=' '$T/headers' | grep -q Secure"
codes=""
i=1
while [ $i -le 20 ]; do
    codes="$codes $(sign_in "$D" "nobody-$i" wrong-password -H "X-Forwarded-For: 10.0.0.$i")"
    i=$((i + 1))
done
check "20 failed sign-ins, each with another forged X-Forwarded-For, count against the real peer" \
    test "$(sign_in "$D" z.omarova "$PASSWORD" -H 'X-Forwarded-For: 10.9.9.9')" = 429
stop_server

elapsed=$(($(date +%s) - started))
say "deploy-test finished in $elapsed s"
echo "deploy-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
