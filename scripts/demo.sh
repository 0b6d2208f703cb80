#!/bin/sh
# demo.sh - `make demo`: a day of a unit's work in Dala on one machine.
# Starts dala-server on the embedded SQLite default, adds district bodies
# and units below the seeded top of the tree, publishes the questionnaire,
# enrols two tablets of one unit and one of another, captures the day's
# records of every type while the server is unreachable (persons, a visit,
# an offence, a protective order, legal aid, a public talk, a suicide
# check, a questionnaire asked question by question, a work plan), shows
# the rules refusing a mistyped IIN in Kazakh and Russian, syncs, returns a
# visit for correction and shows the decision on the tablet, edits one
# record on two tablets at once to show a kept conflict, prints what each
# tablet and the server hold, and stops the server by its PID. Each
# tablet's store is sealed under its officer's PIN, which `dala` reads
# from a demo PIN file (mode 0600) beside the store. With
# DALA_DEMO_WEB=1 (`make demo-web`) the server then starts again and stays
# up for a person to sign in to the supervisors' pages with the printed
# credentials, until Ctrl-C.
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
# The supervisors' demo password (demo only: printed for `make demo-web`).
DEMO_PASSWORD=${DEMO_PASSWORD:-dala-demo-2026}

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
tablet() { name=$1; shift; "$DALA" --store "$WORK/$name.db" --pin-file "$WORK/$name.pin" "$@"; }

# The officers' PINs (demo only), one file per tablet that only its owner
# may read: `dala` refuses a PIN file others can read.
for t in esil-1:4827 esil-2:6093 saryarka-1:7351; do
    (umask 077 && printf '%s\n' "${t#*:}" >"$WORK/${t%%:*}.pin")
done

say "Organisation tree (the top is seeded), officers, the questionnaire, enrolment codes"
admin unit-add --kind body --name "Esil district police" --parent pd-astana >/dev/null
admin unit-add --kind unit --name "Esil district women-protection unit" --parent "Esil district police" >/dev/null
admin unit-add --kind body --name "Saryarka district police" --parent pd-astana >/dev/null
admin unit-add --kind unit --name "Saryarka district women-protection unit" --parent "Saryarka district police" >/dev/null
admin user-add --login a.nurlanova --name "Aigul Nurlanova" --role inspector --unit "Esil district women-protection unit" >/dev/null
admin user-add --login d.sadykova --name "Dana Sadykova" --role inspector --unit "Esil district women-protection unit" >/dev/null
admin user-add --login m.ivanova --name "Marina Ivanova" --role inspector --unit "Saryarka district women-protection unit" >/dev/null
admin user-add --login zh.omarova --name "Zhanar Omarova" --role unit_head --unit "Esil district police" >/dev/null
admin user-add --login b.serikov --name "Bolat Serikov" --role deputy --unit pd-astana >/dev/null
admin user-add --login it.admin --name "Astana PD administrator" --role admin --unit pd-astana >/dev/null
for login in zh.omarova b.serikov it.admin; do echo "$DEMO_PASSWORD" | admin password --login $login >/dev/null; done
form_id=$(admin form-publish --file schema/forms/vaw-survey-v1.json)
echo "Astana PD > Esil district police > Esil unit: a.nurlanova (tablet esil-1), d.sadykova (tablet esil-2)"
echo "Astana PD > Saryarka district police > Saryarka unit: m.ivanova (tablet saryarka-1)"
echo "Supervisors: zh.omarova (head of Esil district police), b.serikov (deputy, Astana PD), it.admin (administrator)"
echo "Questionnaire vaw-household v1 published at the Ministry: $form_id"

start_server 0
URL=http://127.0.0.1:$PORT
echo "dala-server listening on $URL (pid $server_pid, database $DB)"

say "Enrolment: each tablet redeems a single-use code; the first sync brings the questionnaire"
tablet esil-1 enroll --server "$URL" --code "$(admin code --login a.nurlanova)"
tablet esil-2 enroll --server "$URL" --code "$(admin code --login d.sadykova)"
tablet saryarka-1 enroll --server "$URL" --code "$(admin code --login m.ivanova)"
for t in esil-1 esil-2 saryarka-1; do printf '%-11s ' "$t:"; tablet $t sync; done
tablet esil-1 forms

say "The link goes down: the server stops, the unit's day goes on offline"
stop_server
today=$(date +%Y-%m-%d)

echo "-- 09:10 esil-1, a call to Abai avenue: the victim, the offender, the visit, the offence, a protective order"
victim=$(tablet esil-1 capture --table person --set role=victim --set last_name="Сейітова" --set first_name="Әсел" \
    --set sex=female --set birth_date=1990-05-14 --set-text iin=900514440018 --set-text phone="+7 701 555 12 34" \
    --set address="Астана қ., Абай даңғылы, 12-үй, 45-пәтер" --set victim_categories=dependent,large_family)
offender=$(tablet esil-1 capture --table person --set role=offender --set last_name="Сейітов" --set first_name="Ерлан" \
    --set sex=male --set birth_date=1987-02-03 --set employment=unemployed --set alcohol_abuse=1)
visit1=$(tablet esil-1 capture --table field_visit --set visit_date="$today" --set visit_time=09:10 \
    --set purpose=call_response --set address="Астана қ., Абай даңғылы, 12-үй, 45-пәтер" --set risk_level=medium \
    --set victim_id="$victim" --set offender_id="$offender" --set children_count=2 --set offender_present=1 \
    --set findings="Жәбірленуші үйде болды, балалар аман. Жұбайы ішімдік ішіп, дауыс көтерген.")
offence=$(tablet esil-1 capture --table offence --set kind=administrative --set sphere=family_domestic \
    --set article=koap.73 --set committed_on="$today" --set victim_id="$victim" --set offender_id="$offender" \
    --set relationship=spouse --set causes=alcohol,household_conflict --set offender_alcohol=1 --set outcome=pending)
tablet esil-1 capture --table protective_measure --set kind=protective_order --set person_id="$offender" \
    --set offence_id="$offence" --set issued_on="$today" \
    --set valid_until="$(date -d "$today + 30 days" +%Y-%m-%d 2>/dev/null || echo "$today")" >/dev/null

echo "-- the rules refuse a mistyped IIN before it is queued, in the officer's language:"
tablet esil-1 capture --table person --set role=other --set last_name="Сейітова" --set first_name="Айгерім" \
    --set sex=female --set-text iin=900514440019 2>&1 | sed 's/^/   /' || true
tablet esil-1 --lang ru capture --table person --set role=other --set last_name="Сейітова" --set first_name="Айгерім" \
    --set sex=female --set birth_date=1991-05-14 --set-text iin=900514440018 2>&1 | sed 's/^/   /' || true

echo "-- 11:00 esil-2: legal aid by phone (anonymous), a talk at school 42, the check of a suicide"
tablet esil-2 capture --table legal_aid --set given_on="$today" --set channel=phone --set topic=protective_order \
    --set aid_kind=legal --set referral=crisis_centre --set is_anonymous=1 \
    --set outcome="Қорғау нұсқамасын алу тәртібі түсіндірілді." >/dev/null
tablet esil-2 capture --table interaction --set held_on="$today" --set kind=public_talk --set partner="№42 мектеп-лицей" \
    --set topic="Отбасылық-тұрмыстық зорлық-зомбылықтың алдын алу" --set participants=60 >/dev/null
tablet esil-2 capture --table suicide_check --set kind=attempt --set event_date="$today" --set checked_on="$today" \
    --set signs_of_violence=0 --set outcome=under_check >/dev/null

echo "-- 15:00 esil-1 asks the questionnaire, question by question (answers typed below; skip logic applied):"
tablet esil-1 capture --form vaw-household --set collected_on="$today" --set-text region="Астана" \
    --set settlement_type=urban >"$WORK/survey.txt" <<'ANSWERS'
2
1
1
3
1
2
1
1,2
1
3
1
2
2
3
3
1,5
2
1
2
4
Көбірек профилактикалық әңгімелер керек
ANSWERS
grep -c '^q[0-9]*\.' "$WORK/survey.txt" | sed 's/^/   questions asked: /'
grep -A3 '^q14\.' "$WORK/survey.txt" | sed 's/^/   /'
tail -1 "$WORK/survey.txt" | sed 's/^/   saved as survey_response /'

echo "-- saryarka-1: a preventive visit and the unit's plan for the next quarter"
tablet saryarka-1 capture --table field_visit --set visit_date="$today" --set purpose=preventive_visit \
    --set address="г. Астана, пр. Богенбай батыра, 31" --set risk_level=low \
    --set findings="Профилактическая беседа проведена, разъяснены права." >/dev/null
tablet saryarka-1 capture --table work_plan --set year=2027 --set quarter=1 --set state=draft \
    --set title="План работы на I квартал 2027 года" \
    --set items="1. Профилактические обходы семей группы риска. 2. Лекции в школах района." >/dev/null
for t in esil-1 esil-2 saryarka-1; do printf '%-11s ' "$t:"; tablet $t status | head -1; done

say "The link is back: every tablet syncs (push and pull in one round trip)"
start_server "$PORT"
for t in esil-1 esil-2 saryarka-1 esil-1; do printf '%-11s ' "$t:"; tablet $t sync; done

say "The unit head returns the morning visit for a correction; the tablet gets the decision at its next sync"
review=$(admin review --record "$visit1" --decision return --comment "Балалардың жасын көрсетіңіз" --reviewer "Zh. Omarova")
printf '%-11s ' "esil-1:"; tablet esil-1 sync
tablet esil-1 show "$review" | grep -E '"(decision|comment|record_id)": "'

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

say "The quarter's report note drafts itself: the Esil unit's figures this quarter against last year's (rows above zero)"
admin report --unit "Esil district women-protection unit" --lang ru |
    awk '/^[0-9]\./ { print; next } NR > 1 && ($1 != 0 || $2 != 0) { print }'

say "The offence was recorded by mistake: esil-1 voids it with a reason (never deleted), and the note stops counting it"
admin_offences() { admin report --unit "Esil district women-protection unit" --csv | awk -F, '$2 == "admin_offences" && $3 == "" { print $4 }'; }
before=$(admin_offences)
tablet esil-1 void "$offence" --reason "Қате тіркелген: басқа бөліністің ісі" >/dev/null
printf '%-11s ' "esil-1:"; tablet esil-1 sync
after=$(admin_offences)
echo "administrative offences this quarter: $before before the voiding, $after after"
if [ "$before" != 1 ] || [ "$after" != 0 ]; then echo "demo: the note still counts a voided offence" >&2; exit 1; fi

stop_server
# The request log must hold no record contents: look for the captured words.
for phrase in "Жәбірленуші" "Профилактическая" "Абай" "Сейітова" "900514440018"; do
    if grep -q "$phrase" "$LOG"; then echo "demo: the request log holds record contents" >&2; exit 1; fi
done
# The tablets' stores are sealed at rest: not one captured value readable in their files.
for phrase in "Сейітова" "900514440018"; do
    if grep -qa "$phrase" "$WORK"/esil-1.db* "$WORK"/esil-2.db* "$WORK"/saryarka-1.db*; then
        echo "demo: a tablet's store holds a captured value in the clear" >&2; exit 1
    fi
done
say "Server stopped. Files are in $WORK; the request log ($LOG) holds no record contents, and the tablets' files no captured value in the clear (both checked)."

if [ "${DALA_DEMO_WEB:-}" = 1 ]; then
    start_server "${DALA_WEB_PORT:-0}"
    say "The supervisors' pages: http://127.0.0.1:$PORT/ (Ctrl-C stops the server)"
    echo "  zh.omarova   head of Esil district police: review, return, approve, settle"
    echo "  b.serikov    deputy head of Astana PD: the whole department"
    echo "  it.admin     administrator: devices, enrolment codes, users"
    echo "  password for all three: $DEMO_PASSWORD"
    wait "$server_pid" || true
else
    echo "To look at the supervisors' pages with this data: make demo-web"
fi
