#!/bin/sh
# demo.sh - `make demo`: a day of Dala on one machine. Starts dala-server on
# the embedded SQLite default, builds a small organisation tree, enrols two
# tablets of one unit and one of another, captures records on each while
# the server is unreachable, syncs, edits one record on two tablets at once
# to show a kept conflict, prints what each tablet and the server hold, and
# stops the server by its PID.
set -eu

BUILD=${BUILD:-build}
SERVER=$BUILD/dala-server
DALA=$BUILD/dala
WORK=$BUILD/demo
rm -rf "$WORK"
mkdir -p "$WORK"
DB=$WORK/central.db
LOG=$WORK/server.log
server_pid=""

stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid"
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}
trap stop_server EXIT INT TERM

# start_server PORT: starts dala-server on 127.0.0.1:PORT and waits for it.
start_server() {
    rm -f "$WORK/port"
    "$SERVER" serve --db "$DB" --listen "127.0.0.1:$1" --port-file "$WORK/port" --log "$LOG" 2>>"$LOG" &
    server_pid=$!
    tries=0
    while [ ! -s "$WORK/port" ]; do
        tries=$((tries + 1))
        [ $tries -gt 100 ] && { echo "demo: the server did not start; see $LOG" >&2; exit 1; }
        sleep 0.05
    done
    PORT=$(cat "$WORK/port")
}

say() { printf '\n== %s\n' "$*"; }
admin() { "$SERVER" admin --db "$DB" "$@"; }
tablet() { name=$1; shift; "$DALA" --store "$WORK/$name.db" "$@"; }

say "Organisation tree, officers and enrolment codes"
admin unit-add --kind ministry --name "Ministry of Internal Affairs" >/dev/null
admin unit-add --kind committee --name "Administrative Police Committee" --parent "Ministry of Internal Affairs" >/dev/null
admin unit-add --kind department --name "Astana Police Department" --parent "Administrative Police Committee" >/dev/null
admin unit-add --kind unit --name "Esil district women-protection unit" --parent "Astana Police Department" >/dev/null
admin unit-add --kind unit --name "Saryarka district women-protection unit" --parent "Astana Police Department" >/dev/null
admin user-add --login a.nurlanova --name "Aigul Nurlanova" --role inspector --unit "Esil district women-protection unit" >/dev/null
admin user-add --login d.sadykova --name "Dana Sadykova" --role inspector --unit "Esil district women-protection unit" >/dev/null
admin user-add --login m.ivanova --name "Marina Ivanova" --role inspector --unit "Saryarka district women-protection unit" >/dev/null
echo "Esil unit: a.nurlanova (tablet esil-1), d.sadykova (tablet esil-2); Saryarka unit: m.ivanova (tablet saryarka-1)"

start_server 0
URL=http://127.0.0.1:$PORT
echo "dala-server listening on $URL (pid $server_pid, database $DB)"

say "Enrolment: each tablet redeems a single-use code"
tablet esil-1 enroll --server "$URL" --code "$(admin code --login a.nurlanova)"
tablet esil-2 enroll --server "$URL" --code "$(admin code --login d.sadykova)"
tablet saryarka-1 enroll --server "$URL" --code "$(admin code --login m.ivanova)"

say "The link goes down: the server stops, the tablets keep working offline"
stop_server

today=$(date +%Y-%m-%d)
visit1=$(tablet esil-1 capture --table field_visit --set visit_date="$today" --set purpose=preventive_visit \
    --set address="Астана қ., Абай даңғылы, 12-үй, 45-пәтер" --set risk_level=medium \
    --set findings="Жәбірленуші үйде болды, балалар аман. Жұбайы ішімдік ішіп, дауыс көтерген." \
    --set children_count=2)
tablet esil-1 capture --table field_visit --set visit_date="$today" --set purpose=protective_order_check \
    --set address="Астана қ., Кенесары көшесі, 8" --set protective_order=active \
    --set findings="Қорғау нұсқамасы сақталуда, құқық бұзушы келмеген." >/dev/null
tablet esil-2 capture --table field_visit --set visit_date="$today" --set purpose=call_response \
    --set address="г. Астана, ул. Сыганак, 25, кв. 14" --set risk_level=high \
    --set findings="Поступил вызов по 102. Потерпевшая сообщила об угрозах со стороны супруга." >/dev/null
tablet saryarka-1 capture --table field_visit --set visit_date="$today" --set purpose=preventive_visit \
    --set address="г. Астана, пр. Богенбай батыра, 31" --set risk_level=low \
    --set findings="Профилактическая беседа проведена, разъяснены права." >/dev/null
for t in esil-1 esil-2 saryarka-1; do printf '%-11s ' "$t:"; tablet $t status | head -1; done

say "The link is back: every tablet syncs (push and pull in one round trip)"
start_server "$PORT"
for t in esil-1 esil-2 saryarka-1 esil-1; do printf '%-11s ' "$t:"; tablet $t sync; done

say "Two officers edit the same visit at once, offline"
tablet esil-1 capture --table field_visit --id "$visit1" --set risk_level=high >/dev/null
tablet esil-2 capture --table field_visit --id "$visit1" --set risk_level=low >/dev/null
for t in esil-1 esil-2 esil-1 esil-2; do printf '%-11s ' "$t:"; tablet $t sync; done

say "What each tablet holds"
for t in esil-1 esil-2 saryarka-1; do
    echo "-- $t"
    tablet $t list
done
echo "-- visit $visit1 on esil-1 and esil-2 (the same winner on both):"
tablet esil-1 show "$visit1" | grep '"risk_level": "' || true
tablet esil-2 show "$visit1" | grep '"risk_level": "' || true
echo "-- the conflict both Esil tablets keep:"
tablet esil-2 status

say "What the server holds (ids only; the Saryarka record reached no Esil tablet and the reverse)"
admin records

stop_server
# The request log must hold no record contents: look for the captured words.
for phrase in "Жәбірленуші" "Профилактическая" "Абай"; do
    if grep -q "$phrase" "$LOG"; then echo "demo: the request log holds record contents" >&2; exit 1; fi
done
say "Server stopped. Files are in $WORK; the request log ($LOG) holds no record contents (checked)."
