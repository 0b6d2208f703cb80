#!/bin/sh
# browser-tests.sh - Dala's supervisors' pages driven in headless Chromium.
# Makes sure Debian's chromium, node and npm are there and the pinned
# playwright-core is installed (tests/browser, `npm ci`; no browser is ever
# downloaded), builds dala-server and dala, seeds a fresh central database
# in build/browser/ (an Astana district with two units, an Almaty one, a
# unit head, two deputies, an administrator, five tablets), captures and
# syncs records (one of them edited on two tablets at once to make a
# conflict), starts the server, runs tests/browser/*.test.mjs with the
# scenario in environment variables, and stops the server by its PID. The
# report notes' tests capture and sync two offences on esil-1 themselves,
# dated today, so the current quarter's note has crimes to count.
# Screenshots of the main pages go to build/browser/screenshots/.
set -eu

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) OUT=$BUILD ;; *) OUT=$ROOT/$BUILD ;; esac
SERVER=$OUT/dala-server
DALA=$OUT/dala
WORK=$OUT/browser
DB=$WORK/central.db
LOG=$WORK/server.log
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
server_pid=""
started=$(date +%s)

say() { printf '== %s\n' "$*"; }

# ---- Tools: Debian's chromium, node and npm; the pinned playwright-core.
. scripts/apt-install.sh
if [ ! -x "$CHROMIUM" ]; then say "installing chromium (Debian)"; apt_install browser-tests chromium; fi
if ! command -v node >/dev/null 2>&1; then say "installing nodejs and npm (Debian)"; apt_install browser-tests nodejs npm; fi
if ! command -v npm >/dev/null 2>&1; then say "installing npm (Debian)"; apt_install browser-tests npm; fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
    echo "browser-tests: playwright-core needs Node.js 20 or newer; this is $(node --version)" >&2
    exit 1
fi
if [ ! -d tests/browser/node_modules/playwright-core ] ||
   [ tests/browser/package-lock.json -nt tests/browser/node_modules ]; then
    say "npm ci in tests/browser"
    (cd tests/browser && npm ci --no-audit --no-fund)
    touch tests/browser/node_modules
fi

# ---- Build (the pages are compiled into dala-server). Under make (`make
# test`, `make asan`) the binaries were just built with that run's flags.
if [ -z "${MAKELEVEL:-}" ] && [ "$BUILD" = build ]; then
    make --no-print-directory build/dala-server build/dala >/dev/null
fi
for bin in "$SERVER" "$DALA"; do
    [ -x "$bin" ] || { echo "browser-tests: $bin is missing; run make first" >&2; exit 1; }
done

# ---- A fresh central database: the tree below the seeded top, users, passwords.
stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid"
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

rm -rf "$WORK"
mkdir -p "$WORK/screenshots"
# The tablets' stores are sealed under one test PIN, which `dala` reads
# from a file only its owner may read ($DALA_PIN_FILE, for the tests'
# `dala` runs too).
(umask 077 && printf '%s\n' 2468-browser >"$WORK/tablets.pin")
export DALA_PIN_FILE="$WORK/tablets.pin"
admin() { "$SERVER" admin --db "$DB" "$@"; }
tablet() { name=$1; shift; "$DALA" --store "$WORK/$name.db" "$@"; }
password() { printf '%s\n' "$2" | admin password --login "$1" >/dev/null; }

say "seeding $DB"
admin unit-add --kind body --name "Esil district police" --parent pd-astana >/dev/null
admin unit-add --kind unit --name "Esil women-protection unit" --parent "Esil district police" >/dev/null
admin unit-add --kind body --name "Saryarka district police" --parent pd-astana >/dev/null
admin unit-add --kind unit --name "Saryarka women-protection unit" --parent "Saryarka district police" >/dev/null
admin unit-add --kind body --name "Almaly district police" --parent pd-almaty-city >/dev/null
admin unit-add --kind unit --name "Almaly women-protection unit" --parent "Almaly district police" >/dev/null
admin user-add --login a.nurlanova --name "Aigul Nurlanova" --role inspector --unit "Esil women-protection unit" >/dev/null
admin user-add --login d.sadykova --name "Dana Sadykova" --role inspector --unit "Esil women-protection unit" >/dev/null
admin user-add --login g.serikova --name "Gulnar Serikova" --role inspector --unit "Esil women-protection unit" >/dev/null
admin user-add --login m.ivanova --name "Marina Ivanova" --role inspector --unit "Saryarka women-protection unit" >/dev/null
admin user-add --login s.almatova --name "Saule Almatova" --role inspector --unit "Almaly women-protection unit" >/dev/null
admin user-add --login z.omarova --name "Zhanar Omarova" --role unit_head --unit "Esil women-protection unit" >/dev/null
admin user-add --login b.akhmetov --name "Bolat Akhmetov" --role deputy --unit pd-astana >/dev/null
admin user-add --login r.kaliyeva --name "Raushan Kaliyeva" --role deputy --unit pd-almaty-city >/dev/null
admin user-add --login admin.kap --name "Yerlan Administrator" --role admin --unit kap >/dev/null
PASSWORD="Dala-browser-2026"
for login in a.nurlanova z.omarova b.akhmetov r.kaliyeva admin.kap; do password "$login" "$PASSWORD"; done

# ---- The server, on a free port.
"$SERVER" serve --db "$DB" --listen 127.0.0.1:0 --port-file "$WORK/port" --log "$LOG" 2>>"$LOG" &
server_pid=$!
tries=0
while [ ! -s "$WORK/port" ]; do
    tries=$((tries + 1))
    if [ $tries -gt 200 ] || ! kill -0 "$server_pid" 2>/dev/null; then
        echo "browser-tests: the server did not start; see $LOG" >&2
        exit 1
    fi
    sleep 0.05
done
URL=http://127.0.0.1:$(cat "$WORK/port")
say "dala-server on $URL (pid $server_pid)"

# ---- Tablets and records. esil-1 and esil-2 belong to the Esil unit (the
# unit head's), saryarka-1 to another Astana unit (revoked by the deputy),
# almaly-1 to Almaty (outside Astana's scope).
for pair in esil-1:a.nurlanova esil-2:d.sadykova saryarka-1:m.ivanova almaly-1:s.almatova; do
    tablet "${pair%%:*}" enroll --server "$URL" --code "$(admin code --login "${pair#*:}")" >/dev/null
done
today=$(date +%Y-%m-%d)
yesterday=$(date -d yesterday +%Y-%m-%d)

# A person whose surname has Kazakh letters: the text search must find it in any case.
person=$(tablet esil-1 capture --table person --set role=victim --set last_name="Ұлықбекова" \
    --set first_name="Әсел" --set sex=female --set birth_date=1990-05-14 \
    --set address="Астана қ., Абай даңғылы, 12-үй")
visit_return=$(tablet esil-1 capture --table field_visit --set visit_date="$yesterday" --set visit_time=09:10 \
    --set purpose=call_response --set address="Астана қ., Абай даңғылы, 12-үй" --set risk_level=medium \
    --set victim_id="$person" --set children_count=2 \
    --set findings="Жәбірленуші үйде болды, балалар аман.")
visit_approve=$(tablet esil-1 capture --table field_visit --set visit_date="$today" --set purpose=preventive_visit \
    --set address="Астана қ., Кенесары көшесі, 40" --set risk_level=low \
    --set findings="Профилактикалық әңгіме жүргізілді.")
visit_conflict=$(tablet esil-1 capture --table field_visit --set visit_date="$today" --set purpose=protective_order_check \
    --set address="Астана қ., Сығанақ көшесі, 7" --set risk_level=medium \
    --set findings="Қорғау нұсқамасының орындалуы тексерілді.")
talk=$(tablet esil-2 capture --table interaction --set held_on="$today" --set kind=public_talk \
    --set partner="№42 мектеп-лицей" --set topic="Отбасылық зорлық-зомбылықтың алдын алу" --set participants=60)
# Markup typed into a record must read as text on the pages, never run.
markup=$(tablet esil-2 capture --table field_visit --set visit_date="$yesterday" --set purpose=follow_up_visit \
    --set address='"><svg onload=alert(1)>' --set risk_level=high \
    --set findings="<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>")
saryarka_visit=$(tablet saryarka-1 capture --table field_visit --set visit_date="$today" --set purpose=preventive_visit \
    --set address="г. Астана, пр. Богенбай батыра, 31" --set risk_level=low \
    --set findings="Профилактическая беседа проведена.")
almaly_visit=$(tablet almaly-1 capture --table field_visit --set visit_date="$today" --set purpose=preventive_visit \
    --set address="г. Алматы, ул. Толе би, 100" --set risk_level=low \
    --set findings="Профилактическая беседа проведена.")
for t in esil-1 esil-2 saryarka-1 almaly-1; do tablet $t sync >/dev/null; done

# One record returned beforehand (by the command line), for the state filter.
admin review --record "$talk" --decision return --comment "Қатысушылар тізімін қосыңыз" \
    --reviewer "Zhanar Omarova" >/dev/null

# A conflict: both Esil tablets change the same visit's risk level offline,
# then both sync twice (the second round brings each the other's change).
tablet esil-1 capture --table field_visit --id "$visit_conflict" --set risk_level=high >/dev/null
tablet esil-2 capture --table field_visit --id "$visit_conflict" --set risk_level=low >/dev/null
for t in esil-1 esil-2 esil-1 esil-2; do tablet $t sync >/dev/null; done
say "seeded: 8 records on 4 tablets, one returned, one conflict ($(($(date +%s) - started)) s so far)"

# ---- The browser tests.
export DALA_URL="$URL" DALA_BIN="$DALA" DALA_WORK="$WORK" DALA_PASSWORD="$PASSWORD"
export DALA_SCREENSHOTS="$WORK/screenshots" DALA_CHROMIUM="$CHROMIUM"
export REC_PERSON="$person" REC_VISIT_RETURN="$visit_return" REC_VISIT_APPROVE="$visit_approve"
export REC_VISIT_CONFLICT="$visit_conflict" REC_TALK="$talk" REC_MARKUP="$markup" REC_SARYARKA="$saryarka_visit" REC_ALMALY="$almaly_visit"
status=0
(cd tests/browser && timeout 300 node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs) || status=$?

# The server must have lived through it and stop cleanly; its log holds no
# sanitizer report and no record contents (the search, a comment, a name).
if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "browser-tests: the server died during the tests; see $LOG" >&2
    status=1
else
    kill -TERM "$server_pid"
    server_rc=0
    wait "$server_pid" || server_rc=$?
    server_pid=""
    if [ "$server_rc" -ne 0 ]; then echo "browser-tests: the server exited with $server_rc; see $LOG" >&2; status=1; fi
fi
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$LOG"; then
    echo "browser-tests: a sanitizer report in $LOG" >&2
    status=1
fi
for phrase in "Ұлықбекова" "ЛЫҚБЕК" "Балалардың жасын" "Жәбірленуші"; do
    if grep -q "$phrase" "$LOG"; then echo "browser-tests: the server log holds record contents" >&2; status=1; fi
done
say "browser tests finished in $(($(date +%s) - started)) s; screenshots in $WORK/screenshots"
exit $status
