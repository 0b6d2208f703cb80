/* app.js - Dala's supervisors' pages: a small single-page app over the JSON
 * API of docs/web-api.md. No framework and no build step: plain ES2020.
 *
 * Safety rules kept throughout (record fields are user data):
 * - the DOM is built with createElement/textContent only, never innerHTML;
 * - no inline styles or scripts (the server's CSP forbids them): classes only;
 * - every change (POST, DELETE) carries the session's X-CSRF-Token.
 * The server checks scope and role on every request; the pages only hide
 * what a role may not use, so a person is not shown buttons that would fail. */
'use strict';

/* ---- UI strings, Kazakh (the default) and Russian. Record labels, states
 * and risks come from the API in the chosen language; these are the page's
 * own words. A value may be a function of its arguments. */
const STRINGS = {
  kk: {
    brand_sub: 'Әйелдерді зорлық-зомбылықтан қорғау бөліністерінің жазбалары',
    nav_dashboard: 'Шолу', nav_records: 'Жазбалар', nav_devices: 'Құрылғылар',
    nav_users: 'Пайдаланушылар', nav_audit: 'Аудит журналы',
    signin_title: 'Жүйеге кіру', login: 'Логин', password: 'Құпиясөз', sign_in: 'Кіру', sign_out: 'Шығу',
    signin_failed: 'Логин немесе құпиясөз қате.', session_expired: 'Сеанс аяқталды, қайта кіріңіз.',
    loading: 'Жүктелуде…', network_error: 'Сервермен байланыс жоқ.',
    error_status: (s) => `Сервер сұрауды орындамады (${s}).`,
    scope: 'Құзырет аясы', waiting: 'Қарауды күтуде', returned: 'Түзетуге қайтарылған',
    open_conflicts: 'Шешілмеген қайшылықтар', counts: 'Жазба түрлері бойынша',
    c_pending: 'Қаралмаған', c_corrected: 'Түзетілген', c_returned: 'Қайтарылған', c_approved: 'Бекітілген',
    stale_devices: 'Үш күннен астам синхрондалмаған құрылғылар', none: 'Жоқ.',
    deadlines: 'Тоқсандық баяндау жазбалардың мерзімдері',
    quarter: (y, q) => `${y} жылғы ${q}-тоқсан`,
    report_note: 'Баяндау жазба', due: 'Мерзімі', days: 'Қалған күн',
    col_field: 'Өріс', col_value: 'Мәні', col_changed: 'Өзгертілген',
    unit_note: 'Бөліністің баяндау жазбасы', dept_note: 'Департаменттің жиынтық баяндау жазбасы',
    days_left: (n) => `${n} күн қалды`, overdue: (n) => `мерзімі ${n} күнге өтті`, due_today: 'бүгін',
    filters: 'Сүзгі', any: 'Барлығы', f_table: 'Жазба түрі', f_unit: 'Бөлініс', f_officer: 'Қызметкер',
    f_from: 'Күні, бастап', f_to: 'Күні, дейін', f_state: 'Қарау күйі', f_risk: 'Қауіп деңгейі',
    f_q: 'Мәтін бойынша іздеу', apply: 'Қолдану', reset: 'Тазарту', csv: 'CSV-ке экспорттау', csv_hint: 'CSV-ке экспорттау үшін жазба түрін таңдаңыз.',
    more: 'Тағы көрсету', no_records: 'Жазбалар табылмады.', shown: (n) => `Көрсетілді: ${n}`,
    col_date: 'Күні', col_table: 'Жазба түрі', col_unit: 'Бөлініс', col_officer: 'Қызметкер',
    col_state: 'Күйі', col_risk: 'Қауіп', col_summary: 'Қысқаша', col_conflicts: 'Қайшылықтар',
    not_found: 'Жазба табылмады немесе ол сіздің құзырет аясыңызға кірмейді.',
    fields: 'Өрістер', sensitive: 'дербес дерек', history: 'Өзгерістер тарихы', col_when: 'Уақыты',
    col_device: 'Құрылғы', col_fields: 'Өзгерген өрістер', conflicts: 'Қайшылықтар',
    kept_value: 'Қазір сақталған мән', lost_value: 'Қабылданбаған мән', keep_this: 'Осы мәнді қалдыру',
    conflict_open: 'шешілмеген', conflict_settled: 'шешілді', links: 'Байланысты жазбалар',
    link_to: 'Бұл жазба сілтейді', link_from: 'Бұл жазбаға сілтейді', reviews: 'Қарау шешімдері',
    col_decision: 'Шешім', col_comment: 'Түсініктеме', col_reviewer: 'Қараған',
    dec_approve: 'Бекітілді', dec_return: 'Түзетуге қайтарылды', decide: 'Шешім',
    approve: 'Бекіту', return: 'Түзетуге қайтару', return_comment: 'Не түзету керек (міндетті)',
    comment_required: 'Қайтару үшін түсініктеме жазыңыз.', approved_ok: 'Жазба бекітілді.',
    returned_ok: 'Жазба түзетуге қайтарылды; шешім бөліністің планшеттеріне келесі синхрондауда жетеді.',
    settled_ok: 'Қайшылық шешілді.', back: 'Тізімге оралу', yes: 'Иә', no: 'Жоқ', device_n: (n) => `№${n}`,
    devices: 'Құрылғылар', col_enrolled: 'Тіркелген', col_last_sync: 'Соңғы синхрондау',
    col_status: 'Күйі', active: 'Белсенді', revoked: 'Қолжетімділігі тоқтатылған', never: 'болмаған',
    revoke: 'Қолжетімділікті тоқтату', confirm: 'Растау', cancel: 'Болдырмау',
    revoke_q: 'Бұл құрылғының қолжетімділігін тоқтату керек пе? Мұны қайтару мүмкін емес.',
    revoked_ok: 'Құрылғының қолжетімділігі тоқтатылды.',
    lost: 'Жоғалған', mark_lost: 'Жоғалды деп белгілеу', lost_by: (who) => `белгілеген: ${who}`,
    lost_q: 'Бұл планшетті жоғалды деп белгілеу керек пе? Келесі байланыста ол өзіндегі барлық деректерді өшіреді. Мұны қайтару мүмкін емес.',
    lost_ok: 'Планшет жоғалды деп белгіленді; келесі байланыста оның деректері өшіріледі.',
    wipe_confirmed: (at) => `Деректердің өшірілуі расталды: ${at}`, wipe_pending: 'Деректердің өшірілуі әлі расталмаған',
    enrol: 'Планшетті тіркеу коды', enrol_user: 'Қызметкер', enrol_make: 'Код жасау',
    enrol_valid: (at) => `${at} дейін жарамды`, enrol_hint: 'Планшеттің камерасымен QR-кодты оқыңыз немесе кодты теріңіз. Код бір рет қана жарамды.',
    users: 'Пайдаланушылар', col_login: 'Логин', col_full_name: 'Аты-жөні', col_role: 'Рөлі',
    add_user: 'Пайдаланушы қосу', add: 'Қосу', password_hint: 'кемінде 10 таңба', user_added: 'Пайдаланушы қосылды.',
    role_inspector: 'Инспектор', role_unit_head: 'Бөлініс бастығы',
    role_deputy: 'Департамент бастығының орынбасары', role_analyst: 'Комитет сарапшысы', role_admin: 'Әкімші',
    audit: 'Аудит журналы', col_user: 'Пайдаланушы', col_action: 'Әрекет', col_record: 'Жазба', col_detail: 'Толығырақ',
    act_sign_in: 'Кіру', act_sign_in_failed: 'Сәтсіз кіру', act_sign_out: 'Шығу',
    act_read_sensitive: 'Дербес деректерді оқу', act_export: 'Экспорт', act_review: 'Қарау шешімі',
    act_settle: 'Қайшылықты шешу', act_revoke: 'Құрылғыны тоқтату', act_enrol_code: 'Тіркеу коды',
    act_user_add: 'Пайдаланушы қосу', act_device_lost: 'Құрылғы жоғалды деп белгіленді',
    act_device_wiped: 'Жоғалған құрылғы деректерін өшірді',
    act_user_disable: 'Пайдаланушыны бұғаттау', act_user_enable: 'Пайдаланушыны бұғаттан шығару',
    act_user_edit: 'Пайдаланушыны өзгерту', act_user_password: 'Құпиясөзді ауыстыру',
    act_sign_in_disabled: 'Бұғатталған тіркелгімен кіру әрекеті', act_unit_edit: 'Бөліністің атауын өзгерту',
    account_disabled: 'Тіркелгіңіз бұғатталған. Әкімшіге хабарласыңыз.',
    user_disabled: 'Бұғатталған', disable_user: 'Бұғаттау', enable_user: 'Бұғаттан шығару', col_actions: 'Әрекеттер',
    disable_q: 'Бұл пайдаланушыны бұғаттау керек пе? Оның сеанстары бірден аяқталады және ол жүйеге кіре алмайды. Оның планшеттері қолжетімділігі тоқтатылғанша синхрондала береді.',
    disabled_ok: (n) => `Пайдаланушы бұғатталды. Белсенді планшеттері: ${n}; қажет болса, олардың қолжетімділігін «Құрылғылар» бетінде тоқтатыңыз.`,
    enabled_ok: 'Пайдаланушы бұғаттан шығарылды.', edit: 'Өзгерту',
    edit_user: (login) => `Пайдаланушыны өзгерту: ${login}`, user_saved: 'Өзгерістер сақталды.',
    new_password: 'Жаңа құпиясөз', set_password: 'Құпиясөзді орнату',
    password_set_ok: 'Жаңа құпиясөз орнатылды; пайдаланушының сеанстары аяқталды.',
    nav_reports: 'Баяндау жазбалар', reports: 'Тоқсандық баяндау жазбалар',
    f_year: 'Жыл', f_quarter: 'Тоқсан', show: 'Көрсету', quarter_n: (q) => `${q}-тоқсан`,
    col_level: 'Деңгейі', level_unit: 'Бөлініс', level_department: 'Департамент (жиынтық)',
    col_note_state: 'Баяндау жазбаның күйі', col_due: 'Ұсыну мерзімі',
    late: 'кешігіп ұсынылды', filed_at: (at) => `ұсынылды: ${at}`, no_notes: 'Бұл тоқсанда баяндау жазба жүргізетін бөліністер жоқ.',
    open: 'Ашу', draft: 'Жобасын жасау',
    note_title: (unit, y, q) => `${unit}: ${y} жылғы ${q}-тоқсан бойынша баяндау жазба`,
    figures_live: 'Көрсеткіштер жазбалардан қазір есептеледі.',
    figures_frozen: 'Көрсеткіштер баяндау жазба ұсынылған кездегідей бекітілген.',
    returned_with: 'Пысықтауға қайтарылды, түсініктеме:', returned_before: 'Бұрын пысықтауға қайтарылған, түсініктеме:',
    col_figure: 'Көрсеткіш', now_is: 'қазір:', corrected_hint: 'ұсынылғаннан кейін түзетілді',
    narrative: 'Сипаттамалық бөлім', save: 'Сақтау', saved_ok: (n) => `${n}-блоктың мәтіні сақталды.`,
    chart_alt: (n) => `${n}-блоктың айлар бойынша серпіні`,
    units_filed: 'Бөліністер және олардың баяндау жазбалары', col_filed: 'Ұсынылды',
    note_actions: 'Баяндау жазбамен әрекеттер', submit: 'Департаментке ұсыну',
    submitted_ok: 'Баяндау жазба департаментке ұсынылды.',
    return_note: 'Пысықтауға қайтару', note_returned_ok: 'Баяндау жазба пысықтауға қайтарылды.',
    consolidate: 'Бөліністердің баяндау жазбаларын жинақтау',
    consolidate_q: (missing, total) => `Жинақталғаннан кейін көрсеткіштер бекітіледі және өзгермейді. Баяндау жазбасын ұсынбаған бөліністер: ${total} ішінен ${missing}. Жалғастыру керек пе?`,
    consolidated_ok: 'Жиынтық баяндау жазба жасалды.',
    unfiled_show: 'Баяндау жазбасын тапсырмаған бөліністердің көрсеткіштері (жиынтыққа кірмейді)',
    unfiled_title: 'Баяндау жазбасын тапсырмаған бөліністер: жазбалары қазір беретін көрсеткіштер',
    unfiled_hint: 'Бұл сандар департаменттің көрсеткіштеріне қосылмаған.',
    unfiled_none: 'Бөліністің жазбалары бұл тоқсанда ештеңе санамайды.',
    filed_after: 'Жиынтық баяндау жазба жинақталғаннан кейін өз баяндау жазбасын ұсынған бөліністер:',
    filed_after_out: 'Олардың көрсеткіштері жиынтыққа кірмеген.',
    filed_after_signed: 'Қол қойылған баяндау жазба өзгермейді.',
    filed_after_mark: (n) => `жинақталғаннан кейін ұсынылды: ${n}`,
    reconsolidate: 'Қайта жинақтау',
    reconsolidated_ok: 'Жиынтық баяндау жазба қайта жинақталды: кейін ұсынылған баяндау жазбалар енгізілді.',
    sign: 'Қол қою', sign_password: 'Қол қою үшін құпиясөзіңіз',
    sign_hint: 'Қолтаңба кілті (ECDSA P-256) сіздің құпиясөзіңізбен қорғалған; сервер сізсіз қол қоя алмайды.',
    password_required: 'Құпиясөзді енгізіңіз.', sign_wrong: 'Құпиясөз қате; баяндау жазбаға қол қойылмады.',
    signed_ok: 'Баяндау жазбаға қол қойылды.', signed_by: (name, at) => `Қол қойған: ${name}, ${at}`,
    fingerprint: 'Кілт ізі', verify: 'Қолтаңбаны тексеру', sig_valid: 'Қолтаңба дұрыс: баяндау жазба қол қойылғаннан бері өзгермеген.',
    sig_invalid: (why) => `Қолтаңба сәйкес емес: ${why}`,
    downloads: 'Жүктеп алу', print_page: 'Басып шығаруға арналған нұсқа', signed_file: 'Қол қойылған файл',
    trace_title: (label, year) => `${label} — ${year}: жазбалар`, trace_count: (n) => `Жазбалар: ${n}`, close: 'Жабу',
    safety: 'Қауіпсіздік: алдымен назар аударыңыз', safety_none: 'Назар аударатын жағдай жоқ.',
    safety_shown: (n, total) => `${total} ішінен ${n} көрсетілді`, safety_more: (n) => `Тағы ${n}`,
    s_no_recent_visit: (n) => `Қауіп деңгейі жоғары, ${n} күннен астам барылмаған`,
    s_protective_orders: 'Қорғау нұсқамалары: мерзімі бітуде немесе бұзылған',
    s_overdue_follow_ups: 'Мерзімі өткен қайта барулар',
    s_repeat_reports: 'Соңғы 90 күндегі қайталанған хабарламалар',
    s_duplicate_numbers: 'Қайталанған тіркеу нөмірлері',
    r_high_risk_no_visit: (l) => `соңғы бару ${l.days} күн бұрын болды`,
    r_order_expiring: (l) => `мерзімі ${l.due} күні бітеді`,
    r_order_breached: (l) => `${l.due} күні бұзылды`,
    r_follow_up_overdue: (l) => `қайта бару ${l.due} күнге белгіленген (${l.days} күн өтті)`,
    r_repeat_victim: (l) => `бір жәбірленуші бойынша ${l.count} хабарлама`,
    r_repeat_address: (l) => `бір мекенжай бойынша ${l.count} хабарлама`,
    r_duplicate_number: (l) => `«${l.label || l.register}» нөмірі басқа жазбада да бар`,
    duplicates: 'Бұл нөмір басқа жазбаларда да бар',
    duplicates_hint: 'Қайталану тек көрсетіледі: жазба қабылданды, нөмірді тексеріңіз.',
  },
  ru: {
    brand_sub: 'Записи подразделений по защите женщин от насилия',
    nav_dashboard: 'Сводка', nav_records: 'Записи', nav_devices: 'Устройства',
    nav_users: 'Пользователи', nav_audit: 'Журнал аудита',
    signin_title: 'Вход в систему', login: 'Логин', password: 'Пароль', sign_in: 'Войти', sign_out: 'Выйти',
    signin_failed: 'Неверный логин или пароль.', session_expired: 'Сеанс истёк, войдите снова.',
    loading: 'Загрузка…', network_error: 'Нет связи с сервером.',
    error_status: (s) => `Сервер не выполнил запрос (${s}).`,
    scope: 'Область доступа', waiting: 'Ожидают рассмотрения', returned: 'Возвращены на доработку',
    open_conflicts: 'Неурегулированные конфликты', counts: 'По видам записей',
    c_pending: 'Не рассмотрены', c_corrected: 'Исправлены', c_returned: 'Возвращены', c_approved: 'Утверждены',
    stale_devices: 'Устройства без синхронизации более трёх дней', none: 'Нет.',
    deadlines: 'Сроки квартальных докладных записок',
    quarter: (y, q) => `${q}-й квартал ${y} года`,
    report_note: 'Докладная записка', due: 'Срок', days: 'Осталось',
    col_field: 'Поле', col_value: 'Значение', col_changed: 'Изменено',
    unit_note: 'Записка подразделения', dept_note: 'Сводная записка департамента',
    days_left: (n) => `осталось ${n} дн.`, overdue: (n) => `просрочено на ${n} дн.`, due_today: 'сегодня',
    filters: 'Фильтр', any: 'Все', f_table: 'Вид записи', f_unit: 'Подразделение', f_officer: 'Сотрудник',
    f_from: 'Дата с', f_to: 'Дата по', f_state: 'Состояние', f_risk: 'Уровень риска',
    f_q: 'Поиск по тексту', apply: 'Применить', reset: 'Сбросить', csv: 'Экспорт в CSV', csv_hint: 'Для экспорта в CSV выберите вид записи.',
    more: 'Показать ещё', no_records: 'Записи не найдены.', shown: (n) => `Показано: ${n}`,
    col_date: 'Дата', col_table: 'Вид записи', col_unit: 'Подразделение', col_officer: 'Сотрудник',
    col_state: 'Состояние', col_risk: 'Риск', col_summary: 'Кратко', col_conflicts: 'Конфликты',
    not_found: 'Запись не найдена или не входит в вашу область доступа.',
    fields: 'Поля', sensitive: 'персональные данные', history: 'История изменений', col_when: 'Время',
    col_device: 'Устройство', col_fields: 'Изменённые поля', conflicts: 'Конфликты',
    kept_value: 'Принятое сейчас значение', lost_value: 'Отклонённое значение', keep_this: 'Оставить это значение',
    conflict_open: 'не урегулирован', conflict_settled: 'урегулирован', links: 'Связанные записи',
    link_to: 'Эта запись ссылается', link_from: 'Ссылаются на эту запись', reviews: 'Решения по записи',
    col_decision: 'Решение', col_comment: 'Комментарий', col_reviewer: 'Рассмотрел',
    dec_approve: 'Утверждено', dec_return: 'Возвращено на доработку', decide: 'Решение',
    approve: 'Утвердить', return: 'Вернуть на доработку', return_comment: 'Что исправить (обязательно)',
    comment_required: 'Для возврата укажите комментарий.', approved_ok: 'Запись утверждена.',
    returned_ok: 'Запись возвращена на доработку; решение попадёт на планшеты подразделения при следующей синхронизации.',
    settled_ok: 'Конфликт урегулирован.', back: 'К списку', yes: 'Да', no: 'Нет', device_n: (n) => `№${n}`,
    devices: 'Устройства', col_enrolled: 'Зарегистрировано', col_last_sync: 'Последняя синхронизация',
    col_status: 'Состояние', active: 'Активно', revoked: 'Доступ отозван', never: 'не было',
    revoke: 'Отозвать доступ', confirm: 'Подтвердить', cancel: 'Отмена',
    revoke_q: 'Отозвать доступ этого устройства? Отменить это нельзя.',
    revoked_ok: 'Доступ устройства отозван.',
    lost: 'Утеряно', mark_lost: 'Отметить как утерянное', lost_by: (who) => `отметил(а): ${who}`,
    lost_q: 'Отметить этот планшет как утерянный? При следующей связи он сотрёт все свои данные. Отменить это нельзя.',
    lost_ok: 'Планшет отмечен как утерянный; при следующей связи его данные будут стёрты.',
    wipe_confirmed: (at) => `Стирание данных подтверждено: ${at}`, wipe_pending: 'Стирание данных ещё не подтверждено',
    enrol: 'Код регистрации планшета', enrol_user: 'Сотрудник', enrol_make: 'Создать код',
    enrol_valid: (at) => `Действителен до ${at}`, enrol_hint: 'Считайте QR-код камерой планшета или введите код. Код одноразовый.',
    users: 'Пользователи', col_login: 'Логин', col_full_name: 'ФИО', col_role: 'Роль',
    add_user: 'Добавить пользователя', add: 'Добавить', password_hint: 'не менее 10 символов', user_added: 'Пользователь добавлен.',
    role_inspector: 'Инспектор', role_unit_head: 'Начальник подразделения',
    role_deputy: 'Заместитель начальника департамента', role_analyst: 'Аналитик Комитета', role_admin: 'Администратор',
    audit: 'Журнал аудита', col_user: 'Пользователь', col_action: 'Действие', col_record: 'Запись', col_detail: 'Подробности',
    act_sign_in: 'Вход', act_sign_in_failed: 'Неудачный вход', act_sign_out: 'Выход',
    act_read_sensitive: 'Чтение персональных данных', act_export: 'Экспорт', act_review: 'Решение по записи',
    act_settle: 'Урегулирование конфликта', act_revoke: 'Отзыв устройства', act_enrol_code: 'Код регистрации',
    act_user_add: 'Добавление пользователя', act_device_lost: 'Отметка об утере устройства',
    act_device_wiped: 'Утерянное устройство стёрло данные',
    act_user_disable: 'Блокировка пользователя', act_user_enable: 'Разблокировка пользователя',
    act_user_edit: 'Изменение пользователя', act_user_password: 'Смена пароля',
    act_sign_in_disabled: 'Попытка входа заблокированного пользователя', act_unit_edit: 'Переименование подразделения',
    account_disabled: 'Ваша учётная запись заблокирована. Обратитесь к администратору.',
    user_disabled: 'Заблокирован', disable_user: 'Заблокировать', enable_user: 'Разблокировать', col_actions: 'Действия',
    disable_q: 'Заблокировать этого пользователя? Его сеансы сразу завершатся, и войти он не сможет. Его планшеты продолжат синхронизацию, пока их доступ не отозван.',
    disabled_ok: (n) => `Пользователь заблокирован. Активных планшетов: ${n}; при необходимости отзовите их доступ на странице «Устройства».`,
    enabled_ok: 'Пользователь разблокирован.', edit: 'Изменить',
    edit_user: (login) => `Изменить пользователя: ${login}`, user_saved: 'Изменения сохранены.',
    new_password: 'Новый пароль', set_password: 'Установить пароль',
    password_set_ok: 'Новый пароль установлен; сеансы пользователя завершены.',
    nav_reports: 'Докладные записки', reports: 'Квартальные докладные записки',
    f_year: 'Год', f_quarter: 'Квартал', show: 'Показать', quarter_n: (q) => `${q}-й квартал`,
    col_level: 'Уровень', level_unit: 'Подразделение', level_department: 'Департамент (сводная)',
    col_note_state: 'Состояние записки', col_due: 'Срок представления',
    late: 'представлена с опозданием', filed_at: (at) => `представлена: ${at}`, no_notes: 'В этом квартале нет подразделений, ведущих докладные записки.',
    open: 'Открыть', draft: 'Создать проект',
    note_title: (unit, y, q) => `${unit}: докладная записка за ${q}-й квартал ${y} года`,
    figures_live: 'Показатели считаются по записям сейчас.',
    figures_frozen: 'Показатели зафиксированы на момент представления.',
    returned_with: 'Возвращена на доработку с комментарием:', returned_before: 'Ранее возвращалась на доработку с комментарием:',
    col_figure: 'Показатель', now_is: 'сейчас:', corrected_hint: 'исправлено после представления',
    narrative: 'Описательная часть', save: 'Сохранить', saved_ok: (n) => `Текст блока ${n} сохранён.`,
    chart_alt: (n) => `Динамика блока ${n} по месяцам`,
    units_filed: 'Подразделения и их записки', col_filed: 'Представлена',
    note_actions: 'Действия с запиской', submit: 'Представить в департамент',
    submitted_ok: 'Докладная записка представлена в департамент.',
    return_note: 'Вернуть на доработку', note_returned_ok: 'Докладная записка возвращена на доработку.',
    consolidate: 'Свести записки подразделений',
    consolidate_q: (missing, total) => `После сведения показатели фиксируются и больше не меняются. Не представили записку: ${missing} из ${total} подразделений. Продолжить?`,
    consolidated_ok: 'Сводная докладная записка составлена.',
    unfiled_show: 'Показатели подразделений, не представивших записку (не входят в итоги)',
    unfiled_title: 'Не представившие записку подразделения: показатели по их записям сейчас',
    unfiled_hint: 'Эти числа не добавлены в показатели департамента.',
    unfiled_none: 'Записи подразделения за этот квартал ничего не учитывают.',
    filed_after: 'После сведения записку представили:',
    filed_after_out: 'Их показатели в сводную записку не вошли.',
    filed_after_signed: 'Подписанная записка не меняется.',
    filed_after_mark: (n) => `представлены после сведения: ${n}`,
    reconsolidate: 'Свести заново',
    reconsolidated_ok: 'Сводная записка сведена заново: записки, представленные позже, учтены.',
    sign: 'Подписать', sign_password: 'Ваш пароль для подписи',
    sign_hint: 'Ключ подписи (ECDSA P-256) защищён вашим паролем; сервер не может подписать без вас.',
    password_required: 'Введите пароль.', sign_wrong: 'Неверный пароль; записка не подписана.',
    signed_ok: 'Докладная записка подписана.', signed_by: (name, at) => `Подписал: ${name}, ${at}`,
    fingerprint: 'Отпечаток ключа', verify: 'Проверить подпись', sig_valid: 'Подпись верна: записка не менялась после подписания.',
    sig_invalid: (why) => `Подпись не сходится: ${why}`,
    downloads: 'Скачать', print_page: 'Версия для печати', signed_file: 'Подписанный файл',
    trace_title: (label, year) => `${label} — ${year}: записи`, trace_count: (n) => `Записей: ${n}`, close: 'Закрыть',
    safety: 'Безопасность: требует внимания в первую очередь', safety_none: 'Нет случаев, требующих внимания.',
    safety_shown: (n, total) => `Показано ${n} из ${total}`, safety_more: (n) => `Ещё ${n}`,
    s_no_recent_visit: (n) => `Высокий риск: нет посещения более ${n} дн.`,
    s_protective_orders: 'Защитные предписания: истекают или нарушены',
    s_overdue_follow_ups: 'Просроченные повторные посещения',
    s_repeat_reports: 'Повторные обращения за 90 дней',
    s_duplicate_numbers: 'Повторяющиеся регистрационные номера',
    r_high_risk_no_visit: (l) => `последнее посещение ${l.days} дн. назад`,
    r_order_expiring: (l) => `истекает ${l.due}`,
    r_order_breached: (l) => `нарушено ${l.due}`,
    r_follow_up_overdue: (l) => `повторное посещение назначено на ${l.due} (просрочено на ${l.days} дн.)`,
    r_repeat_victim: (l) => `${l.count} обращения по одной потерпевшей`,
    r_repeat_address: (l) => `${l.count} обращения по одному адресу`,
    r_duplicate_number: (l) => `номер «${l.label || l.register}» есть и в другой записи`,
    duplicates: 'Этот номер есть и в других записях',
    duplicates_hint: 'Повтор только показывается: запись принята, проверьте номер.',
  },
};

const ROLES = ['inspector', 'unit_head', 'deputy', 'analyst', 'admin'];

/* What each role may use (docs/web-api.md, Roles). Only for hiding. */
const CAN = {
  records: (r) => ['inspector', 'unit_head', 'deputy', 'analyst'].includes(r),
  decide: (r) => r === 'unit_head' || r === 'deputy',
  devices: (r) => ['unit_head', 'deputy', 'admin'].includes(r),
  codes: (r) => r === 'admin',
  users: (r) => r === 'admin',
  audit: (r) => r !== 'inspector',
  reports: (r) => ['unit_head', 'deputy', 'analyst'].includes(r),
  // Drafting a note: unit heads and deputies a unit's, only deputies a department's.
  draft: (r, level) => (level === 'department' ? r === 'deputy' : r === 'unit_head' || r === 'deputy'),
};

/* ---- State kept between views. */
const state = {
  lang: readLang(),
  session: null,   // the answer of GET/POST /v1/session
  meta: null,      // GET /v1/meta, cached per language
  seq: 0,          // render counter: a slow answer for an old route is dropped
};

function readLang() {
  const m = /(?:^|;\s*)dala_lang=(kk|ru)\b/.exec(document.cookie);
  return m ? m[1] : 'kk';
}

function t(key, ...args) {
  const s = STRINGS[state.lang][key] ?? STRINGS.kk[key] ?? key;
  return typeof s === 'function' ? s(...args) : s;
}

/* ---- DOM helpers. h() is the only way elements are made: text goes in as
 * text nodes, attributes by setAttribute, so record data is never markup. */
function h(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'test') e.dataset.test = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function table(test, headers, rows, cls) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: cls || 'data', test },
      h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col' }, x)))),
      rows instanceof Node ? rows : h('tbody', null, rows)));
}

function section(title, test, ...body) {
  return h('section', { class: 'panel', test }, h('h2', null, title), body);
}

function recordLink(id, text) {
  return h('a', { href: '#/record/' + encodeURIComponent(id), 'data-id': id }, text || id);
}

const pad = (n) => String(n).padStart(2, '0');

/* Unix seconds as a local 'YYYY-MM-DD HH:MM': the same in both languages. */
function fmtTime(secs) {
  if (secs == null || secs === 0) return '—';
  const d = new Date(secs * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/* What a person reads for a value: the API's `display`, else the value. */
function readable(x) {
  return x && x.display != null && x.display !== '' ? x.display : x && x.value;
}

function fmtValue(v) {
  if (v == null || v === '') return '—';
  if (v === true) return t('yes');
  if (v === false) return t('no');
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}

function roleLabel(r) { return ROLES.includes(r) ? t('role_' + r) : r; }

/* ---- The message area: API errors and confirmations, visible above the view. */
function showMessage(text, kind) {
  const m = document.getElementById('message');
  m.textContent = text;
  m.className = 'message ' + (kind === 'ok' ? 'msg-ok' : 'msg-error');
  m.dataset.kind = kind === 'ok' ? 'ok' : 'error';
  m.hidden = false;
}

function clearMessage() {
  const m = document.getElementById('message');
  m.hidden = true;
  m.textContent = '';
  delete m.dataset.kind;
}

/* ---- The API. Every call sends the session cookie and, for changes, the
 * CSRF token. A non-2xx answer throws an ApiError with the server's own
 * `error` text; a 401 outside sign-in means the session ended. */
class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && state.session) headers['X-CSRF-Token'] = state.session.csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, t('network_error'), 'network');
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    const text = data && typeof data.error === 'string' ? data.error : t('error_status', res.status);
    throw new ApiError(res.status, text, data && data.code);
  }
  return data || {};
}

/* Shows an error of a view's call; a lost session sends the person to sign in. */
function failed(err) {
  if (err instanceof ApiError && err.status === 401 && state.session) {
    state.session = null;
    state.meta = null;
    drawChrome();
    drawSignIn(t('session_expired'));
    return;
  }
  showMessage(err.message || String(err), 'error');
}

async function getMeta() {
  if (!state.meta) state.meta = await api('GET', '/v1/meta');
  return state.meta;
}

/* ---- Chrome: the language switch, navigation by role, the signed-in user. */
function setLang(lang) {
  if (lang !== 'kk' && lang !== 'ru') return;
  document.cookie = `dala_lang=${lang}; Path=/; SameSite=Strict; Max-Age=31536000`;
  state.lang = lang;
  state.meta = null;  // labels come from the API in the language
  clearMessage();
  drawChrome();
  if (state.session) route(); else drawSignIn();
}

function drawChrome() {
  document.documentElement.lang = state.lang;
  document.title = 'Dala — ' + t('brand_sub');
  document.getElementById('brand-sub').textContent = t('brand_sub');
  for (const b of document.querySelectorAll('#lang button')) {
    b.setAttribute('aria-pressed', String(b.dataset.lang === state.lang));
  }
  const nav = document.getElementById('nav');
  const user = document.getElementById('user');
  nav.replaceChildren();
  user.replaceChildren();
  if (!state.session) return;
  const role = state.session.user.role;
  const items = [
    ['dashboard', '#/', CAN.records(role)],
    ['records', '#/records', CAN.records(role)],
    ['reports', '#/reports', CAN.reports(role)],
    ['devices', '#/devices', CAN.devices(role)],
    ['users', '#/users', CAN.users(role)],
    ['audit', '#/audit', CAN.audit(role)],
  ];
  const view = parseHash().view;
  const current = view === 'report' ? 'reports' : view;
  for (const [name, href, allowed] of items) {
    if (!allowed) continue;
    nav.append(h('a', { href, test: 'nav-' + name, id: 'nav-' + name,
      'aria-current': current === name ? 'page' : null }, t('nav_' + name)));
  }
  const u = state.session.user;
  user.append(
    h('span', { class: 'user-name', test: 'user-name' }, u.full_name),
    h('span', { class: 'user-role', title: `${roleLabel(u.role)} · ${u.unit || ''}` }, `${roleLabel(u.role)} · ${u.unit || ''}`),
    h('button', { type: 'button', class: 'link-button', id: 'signout', test: 'signout', onclick: signOut },
      t('sign_out')));
}

/* ---- Sign-in and sign-out. */
function drawSignIn(note) {
  state.seq++;  // an answer still on its way for a view is dropped
  const main = mainFor('signin');
  main.dataset.seq = String(state.seq);
  const login = h('input', { id: 'signin-login', test: 'signin-login', name: 'login', autocomplete: 'username',
    required: true, autofocus: true });
  const password = h('input', { id: 'signin-password', test: 'signin-password', name: 'password',
    type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { class: 'signin', id: 'signin-form', test: 'signin-form' },
    h('h1', null, t('signin_title')),
    h('label', { for: 'signin-login' }, t('login')), login,
    h('label', { for: 'signin-password' }, t('password')), password,
    h('button', { type: 'submit', class: 'primary', test: 'signin-submit' }, t('sign_in')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    try {
      state.session = await api('POST', '/v1/session', { login: login.value, password: password.value });
    } catch (err) {
      password.value = '';
      showMessage(err.status === 401 ? t('signin_failed') : err.status === 403 ? t('account_disabled') : err.message,
        'error');
      return;
    }
    state.meta = null;
    drawChrome();
    route();
  });
  main.replaceChildren(form);
  if (note) showMessage(note, 'error');
  ready(main);
}

async function signOut() {
  try { await api('DELETE', '/v1/session'); } catch (err) { /* signed out either way */ }
  state.session = null;
  state.meta = null;
  drawChrome();
  location.hash = '#/';
  drawSignIn();
}

/* ---- Routing. #/, #/records?filters, #/record/<id>, #/reports?year&quarter,
 * #/report/<id>, #/devices, #/users, #/audit. Each view draws into <main>,
 * which carries data-view and data-state (loading|ready) for the browser
 * tests to wait on. */
function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const qi = raw.indexOf('?');
  const path = qi < 0 ? raw : raw.slice(0, qi);
  const params = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
  const parts = path.split('/').filter(Boolean);
  let view = parts[0] || 'dashboard';
  if (view === 'record' && parts[1]) return { view, id: decodeURIComponent(parts[1]), params };
  if (view === 'record') view = 'records';
  if (view === 'report' && parts[1]) return { view, id: decodeURIComponent(parts[1]), params };
  if (view === 'report') view = 'reports';
  return { view, params };
}

function mainFor(view) {
  const main = document.getElementById('main');
  main.dataset.view = view;
  main.dataset.state = 'loading';
  main.setAttribute('aria-busy', 'true');
  main.replaceChildren(h('p', { class: 'loading' }, t('loading')));
  return main;
}

function ready(main) {
  main.dataset.state = 'ready';
  main.removeAttribute('aria-busy');
}

const VIEWS = {
  dashboard: { allowed: CAN.records, draw: viewDashboard },
  records: { allowed: CAN.records, draw: viewRecords },
  record: { allowed: CAN.records, draw: viewRecord },
  devices: { allowed: CAN.devices, draw: viewDevices },
  users: { allowed: CAN.users, draw: viewUsers },
  audit: { allowed: CAN.audit, draw: viewAudit },
  reports: { allowed: CAN.reports, draw: viewReports },
  report: { allowed: CAN.reports, draw: viewReport },
};

async function route(keepMessage) {
  if (!state.session) { drawSignIn(); return; }
  if (!keepMessage) clearMessage();
  const where = parseHash();
  const role = state.session.user.role;
  let view = VIEWS[where.view] ? where.view : 'dashboard';
  if (!VIEWS[view].allowed(role)) {
    // A role's home: the first view it may use (an admin has no records).
    view = Object.keys(VIEWS).find((v) => v !== 'record' && v !== 'report' && VIEWS[v].allowed(role)) || 'audit';
  }
  drawChrome();
  const seq = ++state.seq;
  const main = mainFor(view);
  main.dataset.seq = String(seq);
  try {
    const content = await VIEWS[view].draw(where);
    if (seq !== state.seq) return;  // the person moved on meanwhile
    main.replaceChildren(content);
  } catch (err) {
    if (seq !== state.seq) return;
    main.replaceChildren();
    failed(err);
  }
  if (seq === state.seq) ready(main);
}

/* Re-draws the current view after a change, keeping the confirmation shown. */
function redraw() { return route(true); }

/* ---- The safety panel: five bounded lists of the scope's records that
 * need attention first (docs/web-api.md), each line a link to its record. */
const SAFETY_LISTS = ['no_recent_visit', 'protective_orders', 'overdue_follow_ups', 'repeat_reports',
  'duplicate_numbers'];
const SAFETY_SHOWN = 10; // lines shown at first; the rest of a list's 50 fold out

function safetyPanel(safety) {
  if (!safety) return null;
  const reason = (l) => (STRINGS.kk['r_' + l.reason] ? t('r_' + l.reason, l) : l.reason);
  const line = (l) => h('li', { test: 'safety-line', 'data-id': l.id, 'data-reason': l.reason },
    recordLink(l.id, `${l.date || '—'} · ${l.table_label || l.table}`),
    h('span', { class: 'safety-reason' }, ' — ', reason(l)),
    h('span', { class: 'meta' }, ` (${l.unit || ''})`));
  const lists = SAFETY_LISTS.map((name) => {
    const list = safety[name] || { lines: [], total: 0 };
    const lines = list.lines || [];
    const title = name === 'no_recent_visit' ? t('s_' + name, safety.visit_days) : t('s_' + name);
    return h('div', { class: 'safety-list' + (lines.length ? ' has-lines' : ''), test: 'safety-' + name,
      'data-total': list.total || 0 },
      h('h3', null, title, ' ', h('span', { class: 'badge' + (lines.length ? ' conflict' : ''), test: 'safety-total' },
        String(list.total || 0))),
      lines.length ? h('ul', { class: 'safety-lines' }, lines.slice(0, SAFETY_SHOWN).map(line)) : h('p', { class: 'empty' }, t('none')),
      lines.length > SAFETY_SHOWN ? h('details', { class: 'safety-more' },
        h('summary', null, t('safety_more', lines.length - SAFETY_SHOWN)),
        h('ul', { class: 'safety-lines' }, lines.slice(SAFETY_SHOWN).map(line))) : null,
      list.total > lines.length ? h('p', { class: 'meta' }, t('safety_shown', lines.length, list.total)) : null);
  });
  const any = SAFETY_LISTS.some((name) => safety[name] && safety[name].total > 0);
  return section(t('safety'), 'dash-safety',
    any ? h('div', { class: 'safety-grid' }, lists) : h('p', { test: 'safety-none' }, t('safety_none')));
}

/* ---- Dashboard: what needs attention first (the safety panel), what waits
 * for decision, conflicts, silent tablets, and the report notes' deadlines
 * for the current quarter. */
async function viewDashboard() {
  const d = await api('GET', '/v1/dashboard');
  const figure = (label, n, test, href) =>
    h('a', { class: 'figure', href, test }, h('span', { class: 'figure-n' }, String(n ?? 0)),
      h('span', { class: 'figure-label' }, label));
  const states = ['pending', 'corrected', 'returned', 'approved'];
  const countRows = (d.counts || []).map((c) => h('tr', { 'data-table': c.table },
    h('th', { scope: 'row' }, h('a', { href: '#/records?' + new URLSearchParams({ table: c.table }) }, c.label)),
    states.map((s) => h('td', { class: 'num' }, c[s] ? h('a', {
      href: '#/records?' + new URLSearchParams({ table: c.table, state: s }) }, String(c[s])) : '0'))));
  const stale = d.stale_devices || [];
  const dl = d.deadlines;
  const daysText = (n) => (n == null ? '' : n > 0 ? t('days_left', n) : n === 0 ? t('due_today') : t('overdue', -n));
  const deadlineRow = (label, due, n, test) => h('tr', { test, class: n != null && n < 0 ? 'overdue' : null },
    h('th', { scope: 'row' }, label), h('td', null, due || '—'), h('td', { class: 'days' }, daysText(n)));
  return h('div', { class: 'view dashboard', test: 'dashboard' },
    h('h1', null, t('nav_dashboard')),
    h('p', { class: 'scope', test: 'dash-scope' }, `${t('scope')}: ${(d.scope && d.scope.unit) || ''}`),
    h('div', { class: 'figures' },
      figure(t('waiting'), d.waiting, 'dash-waiting', '#/records?state=pending'),
      figure(t('returned'), d.returned, 'dash-returned', '#/records?state=returned'),
      figure(t('open_conflicts'), d.open_conflicts, 'dash-conflicts', '#/records')),
    safetyPanel(d.safety),
    section(t('counts'), 'dash-counts-panel',
      table('dash-counts', [t('col_table'), ...states.map((s) => t('c_' + s))], countRows, 'data counts')),
    section(t('deadlines'), 'dash-deadlines',
      dl ? [h('p', null, CAN.reports(state.session.user.role)
        ? h('a', { href: '#/reports?' + new URLSearchParams({ year: dl.year, quarter: dl.quarter }), test: 'deadline-link' },
          t('quarter', dl.year, dl.quarter))
        : t('quarter', dl.year, dl.quarter)),
        table('dash-deadlines-table', [t('report_note'), t('due'), t('days')], [
          deadlineRow(t('unit_note'), dl.unit_due, dl.unit_days_left, 'deadline-unit'),
          deadlineRow(t('dept_note'), dl.department_due, dl.department_days_left, 'deadline-department')],
        'data compact')] : h('p', null, t('none'))),
    section(t('stale_devices'), 'dash-stale',
      stale.length ? table('dash-stale-table', ['№', t('col_officer'), t('col_unit'), t('col_last_sync')],
        stale.map((s) => h('tr', { 'data-id': s.id }, h('td', null, String(s.id)), h('td', null, s.officer),
          h('td', null, s.unit), h('td', null, s.last_sync_at ? fmtTime(s.last_sync_at) : t('never')))))
        : h('p', null, t('none'))));
}

/* ---- Records list: the filter form mirrors the hash's query, so a
 * filtered list can be bookmarked; "more" pages on with `next`. */
const FILTERS = ['table', 'unit', 'officer', 'from', 'to', 'state', 'risk', 'q'];

function filterQuery(params) {
  const q = new URLSearchParams();
  for (const k of FILTERS) { const v = params.get(k); if (v) q.set(k, v); }
  return q;
}

function selectOf(name, label, options, current) {
  const id = 'filter-' + name;
  return h('div', { class: 'field' }, h('label', { for: id }, label),
    h('select', { id, name, test: id },
      h('option', { value: '' }, t('any')),
      options.map(([v, text]) => h('option', { value: v, selected: String(v) === current }, text))));
}

async function viewRecords(where) {
  const meta = await getMeta();
  const q = filterQuery(where.params);
  const cur = (k) => q.get(k) || '';
  const input = (name, label, type) => h('div', { class: 'field' + (name === 'q' ? ' wide' : '') },
    h('label', { for: 'filter-' + name }, label),
    h('input', { id: 'filter-' + name, test: 'filter-' + name, name, type: type || 'text', value: cur(name) }));
  const form = h('form', { class: 'filters', id: 'filters', test: 'filters', role: 'search' },
    selectOf('table', t('f_table'), (meta.tables || []).map((x) => [x.name, x.label]), cur('table')),
    selectOf('unit', t('f_unit'), (meta.units || []).map((u) =>
      [u.id, '\u00a0\u00a0'.repeat(Math.max(0, u.depth || 0)) + u.name]), cur('unit')),
    selectOf('officer', t('f_officer'), (meta.officers || []).map((o) =>
      [o.id, o.unit ? `${o.full_name} (${o.unit})` : o.full_name]), cur('officer')),
    input('from', t('f_from'), 'date'), input('to', t('f_to'), 'date'),
    selectOf('state', t('f_state'), (meta.states || []).map((x) => [x.name, x.label]), cur('state')),
    selectOf('risk', t('f_risk'), (meta.risks || []).map((x) => [x.name, x.label]), cur('risk')),
    input('q', t('f_q'), 'search'),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', test: 'filter-apply' }, t('apply')),
      h('a', { href: '#/records', class: 'button', test: 'filter-reset' }, t('reset'))));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const next = filterQuery(new URLSearchParams(new FormData(form)));
    const target = '#/records' + (String(next) ? '?' + next : '');
    if (location.hash === target) route(); else location.hash = target;
  });

  const riskLabel = Object.fromEntries((meta.risks || []).map((x) => [x.name, x.label]));
  const tbody = h('tbody', null);
  const counter = h('p', { class: 'counter', test: 'records-count' });
  const moreButton = h('button', { type: 'button', test: 'more', id: 'more', hidden: true }, t('more'));
  const empty = h('p', { class: 'empty', test: 'records-empty', hidden: true }, t('no_records'));
  let next = null;
  let shown = 0;
  const addPage = (page) => {
    for (const r of page.records || []) {
      tbody.append(h('tr', { test: 'record-row', 'data-id': r.id, 'data-state': r.state },
        h('td', { class: 'nowrap' }, recordLink(r.id, r.date || '—')),
        h('td', null, r.table_label || r.table), h('td', null, r.unit), h('td', null, r.officer),
        h('td', null, h('span', { class: 'badge state-' + r.state }, r.state_label || r.state)),
        h('td', null, r.risk ? h('span', { class: 'risk risk-' + r.risk }, riskLabel[r.risk] || r.risk) : '—'),
        h('td', { class: 'summary' }, recordLink(r.id, r.summary || '—')),
        h('td', { class: 'num' }, r.open_conflicts ? h('span', { class: 'badge conflict' }, String(r.open_conflicts)) : '')));
      shown++;
    }
    next = page.next || null;
    moreButton.hidden = !next;
    empty.hidden = shown > 0;
    counter.textContent = t('shown', shown);
  };
  const fetchPage = (after) => {
    const p = new URLSearchParams(q);
    // The page size: 50, or `limit` from the hash (1-200, as the API takes).
    const limit = Number(where.params.get('limit'));
    p.set('limit', String(limit >= 1 && limit <= 200 ? Math.floor(limit) : 50));
    if (after) p.set('after', after);
    return api('GET', '/v1/records?' + p);
  };
  addPage(await fetchPage(null));
  moreButton.addEventListener('click', async () => {
    moreButton.disabled = true;
    try { addPage(await fetchPage(next)); } catch (err) { failed(err); }
    moreButton.disabled = false;
  });

  return h('div', { class: 'view records', test: 'records' },
    h('div', { class: 'view-head' }, h('h1', null, t('nav_records')),
      // The export has a column per field, so it is of one record type.
      q.get('table')
        ? h('a', { class: 'button', href: '/v1/records.csv?' + q, test: 'csv-link', id: 'csv-link',
          download: `dala-${q.get('table')}.csv` }, t('csv'))
        : h('span', { class: 'hint csv-hint', test: 'csv-hint' }, t('csv_hint'))),
    h('details', { class: 'filters-box', open: true }, h('summary', null, t('filters')), form),
    counter,
    table('records-table', [t('col_date'), t('col_table'), t('col_unit'), t('col_officer'), t('col_state'),
      t('col_risk'), t('col_summary'), t('col_conflicts')], tbody),
    empty, moreButton);
}

/* ---- One record: its fields under their labels, history, conflicts side
 * by side, links, reviews, and the decision (approve, or return with a
 * comment) for those who review. */
async function viewRecord(where) {
  let r;
  try {
    r = await api('GET', '/v1/records/' + encodeURIComponent(where.id));
  } catch (err) {
    // A record outside the scope is answered as one that does not exist.
    if (err.status === 404) {
      return h('div', { class: 'view record' },
        h('p', { class: 'not-found', test: 'not-found', id: 'not-found' }, t('not_found')),
        h('p', null, h('a', { href: '#/records' }, t('back'))));
    }
    throw err;
  }
  const role = state.session.user.role;
  const labelOf = Object.fromEntries((r.fields || []).map((f) => [f.name, f.label]));

  // A reference field reads as a link to the record it names, by its summary.
  const named = Object.fromEntries((r.links || []).filter((l) => l.direction === 'to')
    .map((l) => [l.via + ' ' + l.id, l]));
  const valueOf = (f) => {
    const l = typeof f.value === 'string' && named[f.name + ' ' + f.value];
    return l ? recordLink(l.id, l.summary || l.id) : fmtValue(readable(f));
  };
  const fieldRows = (r.fields || []).map((f) => h('tr', { test: 'field', 'data-field': f.name },
    h('th', { scope: 'row' }, f.label || f.name,
      f.sensitive ? h('span', { class: 'tag-sensitive', title: t('sensitive') }, ' ● ') : null),
    h('td', { class: 'value' }, valueOf(f)),
    h('td', { class: 'meta' }, f.changed_at ? fmtTime(f.changed_at) : '')));

  const history = (r.history || []).map((x) => h('tr', { test: 'history-row' },
    h('td', { class: 'nowrap' }, fmtTime(x.at)), h('td', null, x.officer || ''),
    h('td', null, x.device != null ? t('device_n', x.device) : ''),
    h('td', null, (x.fields || []).map((n) => labelOf[n] || n).join(', '))));

  const side = (c, which, title) => {
    const v = c[which] || {};
    return h('div', { class: 'side side-' + which, test: 'conflict-' + which },
      h('h3', null, title),
      h('p', { class: 'value', test: 'conflict-value' }, fmtValue(readable(v))),
      h('p', { class: 'meta' }, [v.officer, v.device != null ? t('device_n', v.device) : null].filter(Boolean).join(' · ')),
      c.status === 'open' && CAN.decide(role)
        ? h('button', { type: 'button', test: 'keep-' + which, onclick: () => settle(c.id, which) }, t('keep_this'))
        : null);
  };
  const conflicts = (r.conflicts || []).map((c) => h('div', { class: 'conflict-card ' + c.status, test: 'conflict',
    'data-id': c.id, 'data-status': c.status },
    h('p', { class: 'conflict-head' }, h('strong', null, c.label || c.field), ' — ',
      h('span', { test: 'conflict-status', class: 'badge ' + (c.status === 'open' ? 'conflict' : 'state-approved') },
        c.status === 'open' ? t('conflict_open') : t('conflict_settled'))),
    h('div', { class: 'sides' }, side(c, 'winner', t('kept_value')), side(c, 'loser', t('lost_value')))));

  const linkItem = (l) => h('li', { test: 'link' }, recordLink(l.id, `${l.table_label || l.table}: ${l.summary || l.id}`),
    h('span', { class: 'meta' }, ` (${labelOf[l.via] || l.via})`));
  const linksTo = (r.links || []).filter((l) => l.direction === 'to');
  const linksFrom = (r.links || []).filter((l) => l.direction !== 'to');

  // The same register number in other records of the unit: shown, not refused.
  const duplicates = (r.duplicates || []).map((d) => h('li', { test: 'duplicate', 'data-register': d.register },
    h('strong', null, d.label || d.register), ': ',
    (d.records || []).map((o, i) => [i ? ', ' : '', recordLink(o.id, o.date || o.id)])));

  const reviews = (r.reviews || []).map((v) => h('tr', { test: 'review-row', 'data-id': v.id },
    h('td', { class: 'nowrap' }, v.decided_on), h('td', null, v.decision === 'approve' ? t('dec_approve') :
      v.decision === 'return' ? t('dec_return') : v.decision),
    h('td', null, v.comment || ''), h('td', null, v.reviewer || '')));

  return h('div', { class: 'view record', test: 'record', 'data-id': r.id },
    h('p', { class: 'crumbs noprint' }, h('a', { href: '#/records', test: 'back' }, '← ' + t('back'))),
    h('div', { class: 'view-head' },
      h('h1', null, r.table_label || r.table),
      h('span', { class: 'badge state-' + r.state, test: 'record-state', 'data-state': r.state },
        r.state_label || r.state)),
    h('dl', { class: 'record-meta' },
      h('dt', null, t('col_date')), h('dd', null, r.date || '—'),
      h('dt', null, t('col_unit')), h('dd', null, r.unit || '—'),
      h('dt', null, t('col_officer')), h('dd', null, r.officer || '—'),
      h('dt', null, 'ID'), h('dd', { class: 'mono' }, r.id)),
    CAN.decide(role) && (r.state === 'pending' || r.state === 'corrected') ? decisionPanel(r) : null,
    conflicts.length ? section(t('conflicts'), 'conflicts', conflicts) : null,
    duplicates.length ? section(t('duplicates'), 'duplicates',
      h('p', { class: 'hint' }, t('duplicates_hint')), h('ul', { class: 'links' }, duplicates)) : null,
    section(t('fields'), 'fields', table('record-fields', [t('col_field'), t('col_value'), t('col_changed')], fieldRows, 'data fields')),
    section(t('history'), 'history',
      table('history-table', [t('col_when'), t('col_officer'), t('col_device'), t('col_fields')], history)),
    linksTo.length || linksFrom.length ? section(t('links'), 'links',
      linksTo.length ? [h('h3', null, t('link_to')), h('ul', { class: 'links' }, linksTo.map(linkItem))] : null,
      linksFrom.length ? [h('h3', null, t('link_from')), h('ul', { class: 'links' }, linksFrom.map(linkItem))] : null)
      : null,
    section(t('reviews'), 'reviews', reviews.length
      ? table('reviews-table', [t('col_date'), t('col_decision'), t('col_comment'), t('col_reviewer')], reviews)
      : h('p', null, t('none'))));
}

function decisionPanel(r) {
  const comment = h('textarea', { id: 'return-comment', test: 'return-comment', name: 'comment', rows: 3,
    maxlength: 2000, required: true });
  const approve = h('button', { type: 'button', class: 'primary', id: 'approve', test: 'approve' }, t('approve'));
  const form = h('form', { class: 'return-form', id: 'return-form', test: 'return-form' },
    h('label', { for: 'return-comment' }, t('return_comment')), comment,
    h('button', { type: 'submit', test: 'return-submit', id: 'return-submit' }, t('return')));
  const decide = async (body, okText, buttons) => {
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await api('POST', `/v1/records/${encodeURIComponent(r.id)}/review`, body);
      showMessage(okText, 'ok');
      await redraw();
    } catch (err) {
      failed(err);
      buttons.forEach((b) => { b.disabled = false; });
    }
  };
  approve.addEventListener('click', () => decide({ decision: 'approve' }, t('approved_ok'), [approve]));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = comment.value.trim();
    if (!text) { showMessage(t('comment_required'), 'error'); comment.focus(); return; }
    decide({ decision: 'return', comment: text }, t('returned_ok'), [approve, form.querySelector('button')]);
  });
  const panel = section(t('decide'), 'decision', h('div', { class: 'decision' }, approve, form));
  panel.classList.add('noprint');   // a printed record shows what it holds, not the buttons
  return panel;
}

async function settle(conflictId, keep) {
  try {
    await api('POST', `/v1/conflicts/${encodeURIComponent(conflictId)}/settle`, { keep });
    showMessage(t('settled_ok'), 'ok');
    await redraw();
  } catch (err) { failed(err); }
}

/* ---- Report notes (docs/reports.md): the notes of a quarter with their
 * deadlines, and one note with its nine blocks, its figures traced back to
 * records, its narrative, charts and the moves of its workflow. The server
 * decides every move; the pages show the buttons a role and state allow. */
const CHART_BLOCKS = [1, 2, 3, 7];
const FILED = ['submitted', 'consolidated', 'signed'];

function reportPath(id, rest) {
  return `/v1/reports/${encodeURIComponent(id)}${rest || ''}`;
}

/* "N days left", "due today" or "overdue N days", from an API deadline. */
function daysText(deadline) {
  const n = deadline ? deadline.days_left : null;
  if (n == null) return '';
  if (deadline.overdue || n < 0) return t('overdue', Math.max(1, -n));
  return n === 0 ? t('due_today') : t('days_left', n);
}

function reportBadge(noteState, label, test) {
  return h('span', { class: 'badge rstate-' + noteState, test: test || 'report-state', 'data-state': noteState },
    label || noteState);
}

function lateMark(late) {
  return late ? h('span', { class: 'badge late', test: 'late-mark' }, t('late')) : null;
}

/* The due day, and for a note not filed yet the days left or overdue. */
function dueCell(n) {
  const filed = FILED.includes(n.state);
  const overdue = !filed && n.deadline && n.deadline.overdue;
  return h('span', { class: 'due' + (overdue ? ' overdue' : ''), test: 'report-due' },
    n.deadline ? n.deadline.due : '—', ' ',
    h('span', { class: 'days', test: 'report-days' }, filed
      ? (n.submitted_at ? t('filed_at', fmtTime(n.submitted_at)) : '')
      : daysText(n.deadline)));
}

const signedNumber = (n) => (n > 0 ? '+' + n : n < 0 ? '−' + -n : '0');
/* The change in percent (null when last year counted nothing: no base). */
const fmtPercent = (p) => (p == null ? '—' : `${p > 0 ? '+' : p < 0 ? '−' : ''}${Math.abs(p).toFixed(1)}%`);

async function viewReports(where) {
  const role = state.session.user.role;
  const q = new URLSearchParams();
  for (const k of ['year', 'quarter']) if (/^\d+$/.test(where.params.get(k) || '')) q.set(k, where.params.get(k));
  const data = await api('GET', '/v1/reports' + (String(q) ? '?' + q : ''));
  const thisYear = new Date().getFullYear();
  const years = [];
  for (let y = Math.max(2015, Math.min(thisYear, data.year) - 4); y <= Math.max(thisYear, data.year); y++) years.push(y);
  const form = h('form', { class: 'inline-form quarter-form', id: 'report-quarter', test: 'report-quarter' },
    h('label', { for: 'report-year' }, t('f_year')),
    h('select', { id: 'report-year', test: 'report-year', name: 'year' },
      years.map((y) => h('option', { value: y, selected: y === data.year }, String(y)))),
    h('label', { for: 'report-quarter-n' }, t('f_quarter')),
    h('select', { id: 'report-quarter-n', test: 'report-quarter-n', name: 'quarter' },
      [1, 2, 3, 4].map((n) => h('option', { value: n, selected: n === data.quarter }, t('quarter_n', n)))),
    h('button', { type: 'submit', class: 'primary', test: 'report-show' }, t('show')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const target = '#/reports?' + new URLSearchParams(new FormData(form));
    if (location.hash === target) route(); else location.hash = target;
  });

  const draft = async (n, button) => {
    button.disabled = true;
    try {
      const note = await api('POST', '/v1/reports', { unit_id: n.unit_id, year: data.year, quarter: data.quarter });
      location.hash = '#/report/' + encodeURIComponent(note.id);
    } catch (err) { failed(err); button.disabled = false; }
  };
  const unitName = Object.fromEntries((data.notes || []).map((n) => [n.unit_id, n.unit]));
  // A department's note some unit filed after: consolidated without it.
  const filedAfterMark = (n) => {
    const ids = n.level === 'department' ? (n.filed_after_consolidation || []) : [];
    if (!ids.length) return null;
    const names = ids.map((id) => unitName[id] || String(id)).join(', ');
    return h('span', { class: 'badge filed-after', test: 'filed-after-mark', 'data-units': ids.join(','), title: names },
      t('filed_after_mark', ids.length));
  };
  const rows = (data.notes || []).map((n) => {
    let action = null;
    if (n.id != null) {
      action = h('a', { class: 'button', href: '#/report/' + encodeURIComponent(n.id), test: 'report-open' }, t('open'));
    } else if (CAN.draft(role, n.level)) {
      action = h('button', { type: 'button', test: 'report-draft' }, t('draft'));
      action.addEventListener('click', () => draft(n, action));
    }
    return h('tr', { test: 'report-row', 'data-id': n.id ?? '', 'data-unit-id': n.unit_id, 'data-level': n.level,
      'data-state': n.state, class: n.level === 'department' ? 'level-department' : null },
      h('td', null, n.id != null ? h('a', { href: '#/report/' + encodeURIComponent(n.id) }, n.unit) : n.unit),
      h('td', null, t('level_' + n.level)),
      h('td', null, reportBadge(n.state, n.state_label), ' ', lateMark(n.late), ' ', filedAfterMark(n)),
      h('td', null, dueCell(n)),
      h('td', { class: 'actions-cell' }, action));
  });
  return h('div', { class: 'view reports', test: 'reports', 'data-year': data.year, 'data-quarter': data.quarter },
    h('div', { class: 'view-head' }, h('h1', null, t('reports')),
      h('span', { class: 'meta', test: 'reports-quarter' }, t('quarter', data.year, data.quarter))),
    h('div', { class: 'panel noprint' }, form),
    rows.length
      ? table('reports-table', [t('col_unit'), t('col_level'), t('col_note_state'), t('col_due'), ''], rows)
      : h('p', { class: 'empty' }, t('no_notes')));
}

async function viewReport(where) {
  let n;
  try {
    n = await api('GET', reportPath(where.id));
  } catch (err) {
    if (err.status === 404) {
      return h('div', { class: 'view report' },
        h('p', { class: 'not-found', test: 'not-found' }, err.message),
        h('p', null, h('a', { href: '#/reports' }, t('back'))));
    }
    throw err;
  }
  const role = state.session.user.role;
  const editable = n.may_write && (n.state === 'draft' || n.state === 'returned');
  const listHref = '#/reports?' + new URLSearchParams({ year: n.year, quarter: n.quarter });

  // One panel lists a figure's records, under the block whose number was chosen.
  const trace = h('section', { class: 'trace-panel noprint', test: 'trace-panel', 'aria-live': 'polite', hidden: true });
  let traceSeq = 0;
  const showTrace = async (block, f, period, label) => {
    const seq = ++traceSeq;
    const year = period === 'last' ? n.year - 1 : n.year;
    const close = h('button', { type: 'button', class: 'link-button', test: 'trace-close' }, t('close'));
    close.addEventListener('click', () => { trace.hidden = true; trace.replaceChildren(); });
    trace.dataset.group = f.group;
    trace.dataset.value = f.value;
    trace.dataset.period = period;
    trace.dataset.state = 'loading';
    trace.replaceChildren(h('h3', null, t('trace_title', label, year)), h('p', { class: 'loading' }, t('loading')));
    trace.hidden = false;
    (block.querySelector('.table-wrap') || block).after(trace);
    try {
      const p = new URLSearchParams({ group: f.group, value: f.value, period });
      const { records } = await api('GET', reportPath(n.id, '/records?' + p));
      if (seq !== traceSeq) return;
      const list = records || [];
      trace.replaceChildren(h('div', { class: 'trace-head' }, h('h3', null, t('trace_title', label, year)), close),
        h('p', { class: 'meta', test: 'trace-count' }, t('trace_count', list.length)),
        list.length ? table('trace-table', [t('col_date'), t('col_table'), t('col_unit')],
          list.map((r) => h('tr', { test: 'trace-row', 'data-id': r.id },
            h('td', { class: 'nowrap' }, recordLink(r.id, r.date || '—')),
            h('td', null, recordLink(r.id, r.table_label || r.table)), h('td', null, r.unit || ''))))
          : h('p', null, t('none')));
      trace.dataset.state = 'ready';
    } catch (err) {
      if (seq !== traceSeq) return;
      trace.hidden = true;
      failed(err);
    }
  };
  const traceLink = (block, f, period, count, label) => {
    if (!count) return String(count);
    const a = h('a', { href: '#', class: 'trace', test: 'trace', 'data-period': period, role: 'button' }, String(count));
    a.addEventListener('click', (ev) => { ev.preventDefault(); showTrace(block, f, period, label); });
    return a;
  };

  // Narratives being edited: saved one by one, and those not saved yet
  // before the note is submitted or consolidated (after which they are read-only).
  const editors = [];
  const saveNarrative = async (ed) => {
    const text = ed.area.value;
    await api('POST', reportPath(n.id, '/narrative'), { block: ed.block, text });
    ed.saved = text;
  };
  const saveUnsaved = async () => {
    for (const ed of editors) if (ed.area.value !== ed.saved) await saveNarrative(ed);
  };

  const blocks = (n.blocks || []).map((b) => {
    const sec = h('section', { class: 'panel report-block', test: 'report-block', 'data-block': b.block });
    const rows = (b.figures || []).map((f) => {
      const label = f.label || (f.value ? `${f.group}: ${f.value}` : f.group);
      // A frozen figure the records now give otherwise: the filed number, and
      // beside it today's, which is what its records list.
      const nowCell = f.corrected
        ? [String(f.now), ' ', h('span', { class: 'corrected', test: 'corrected', title: t('corrected_hint') },
          '(', t('now_is'), ' ', traceLink(sec, f, 'now', f.live_now, label), ' — ', t('corrected_hint'), ')')]
        : traceLink(sec, f, 'now', f.now, label);
      return h('tr', { test: 'figure', 'data-group': f.group, 'data-value': f.value,
        'data-corrected': f.corrected ? 'yes' : 'no', class: f.value ? 'sub' : null },
        h('th', { scope: 'row' }, label),
        h('td', { class: 'num last' }, traceLink(sec, f, 'last', f.last, label)),
        h('td', { class: 'num now' }, nowCell),
        h('td', { class: 'num change' }, signedNumber(f.change)),
        h('td', { class: 'num percent' }, fmtPercent(f.percent)));
    });
    let narrative;
    if (editable) {
      const id = 'narrative-' + b.block;
      const area = h('textarea', { id, test: 'narrative', 'data-block': b.block, rows: 5, maxlength: 20000 });
      area.value = b.narrative || '';
      const ed = { block: b.block, area, saved: area.value };
      editors.push(ed);
      const save = h('button', { type: 'button', test: 'narrative-save', 'data-block': b.block }, t('save'));
      save.addEventListener('click', async () => {
        save.disabled = true;
        try {
          await saveNarrative(ed);
          showMessage(t('saved_ok', b.block), 'ok');
        } catch (err) { failed(err); }
        save.disabled = false;
      });
      narrative = h('div', { class: 'narrative-edit' }, h('label', { for: id }, t('narrative')), area,
        h('div', { class: 'actions' }, save));
    } else {
      narrative = h('div', { class: 'narrative-view' }, h('h3', null, t('narrative')),
        h('p', { class: 'narrative', test: 'narrative-text', 'data-block': b.block }, b.narrative || '—'));
    }
    // A block without a chart has none: append() would write a null as text.
    sec.append(...[h('h2', null, `${b.block}. ${b.title}`),
      table('figures-' + b.block, [t('col_figure'), String(n.year - 1), String(n.year), '+/−', '%'], rows, 'data figures-table'),
      CHART_BLOCKS.includes(b.block)
        ? h('figure', { class: 'chart' }, h('img', { test: 'chart', 'data-block': b.block, alt: t('chart_alt', b.block),
          src: reportPath(n.id, '/chart.svg?' + new URLSearchParams({ block: b.block, lang: state.lang })) }))
        : null,
      narrative].filter(Boolean));
    return sec;
  });

  const units = n.level === 'department' ? (n.units || []) : null;
  const unitLink = (u) => (u.note_id ? h('a', { href: '#/report/' + encodeURIComponent(u.note_id) }, u.unit) : u.unit);
  // A unit that has not filed reads "not filed" whatever its draft's state.
  const unitBadge = (u, test) => {
    const b = reportBadge(u.state, u.state_label, test);
    if (!u.filed) b.classList.add('unfiled');
    return b;
  };
  const unitRows = (units || []).map((u) => h('tr', { test: 'unit-row', 'data-unit-id': u.unit_id, 'data-state': u.state,
    'data-filed': u.filed ? 'yes' : 'no', class: u.filed ? null : 'not-filed' },
    h('td', null, unitLink(u)),
    h('td', null, unitBadge(u, 'unit-state')),
    h('td', { class: 'nowrap' }, fmtTime(u.submitted_at)),
    h('td', null, lateMark(u.late))));
  // The department's own records, counted by no unit's note: its totals, so the sum is explainable.
  const own = units ? n.own_records : null;
  if (own) {
    const totals = (own.figures || []).filter((f) => !f.value).map((f) => `${f.label}: ${f.now}`);
    unitRows.push(h('tr', { test: 'own-row', class: 'own-row', 'data-unit-id': own.unit_id },
      h('td', null, own.label), h('td', { colspan: 3, test: 'own-figures' }, totals.length ? totals.join('; ') : '—')));
  }
  const unfiled = units && units.some((u) => !u.filed) ? unfiledPanel(n, unitBadge) : null;

  // Units that filed after the note was consolidated are outside it until it is consolidated again.
  const after = units ? (n.filed_after_consolidation || []) : [];
  const filedAfter = after.length
    ? h('div', { class: 'filed-after', test: 'filed-after', role: 'status', 'data-units': after.map((u) => u.unit_id).join(',') },
      h('strong', null, t('filed_after')), ' ',
      after.map((u, i) => [i ? ', ' : '', unitLink(u), ' (', fmtTime(u.submitted_at), ')']), '. ', t('filed_after_out'),
      n.state === 'signed' ? [' ', t('filed_after_signed')] : null)
    : null;

  const sig = n.signature;
  return h('div', { class: 'view report', test: 'report', 'data-id': n.id, 'data-state': n.state, 'data-level': n.level },
    h('p', { class: 'crumbs noprint' }, h('a', { href: listHref, test: 'back' }, '← ' + t('back'))),
    h('div', { class: 'view-head' },
      h('h1', { test: 'report-title' }, t('note_title', n.unit, n.year, n.quarter)),
      reportBadge(n.state, n.state_label), lateMark(n.late)),
    h('dl', { class: 'record-meta' },
      h('dt', null, t('col_level')), h('dd', null, t('level_' + n.level)),
      h('dt', null, t('col_due')), h('dd', { test: 'report-deadline' }, dueCell(n)),
      sig ? [h('dt', null, t('sign')), h('dd', { test: 'report-signature' }, t('signed_by', sig.signer, fmtTime(sig.signed_at))),
        h('dt', null, t('fingerprint')), h('dd', { class: 'mono', test: 'report-fingerprint' }, sig.fingerprint)] : null),
    // The comment stays after the note is filed again: shown as history then.
    n.return_comment ? h('div', { class: 'returned-note' + (n.state === 'returned' ? '' : ' earlier'),
      test: 'report-return-comment' },
      h('strong', null, t(n.state === 'returned' ? 'returned_with' : 'returned_before')), ' ', n.return_comment) : null,
    filedAfter,
    noteActions(n, role, saveUnsaved),
    units ? section(t('units_filed'), 'report-units-panel',
      table('report-units', [t('col_unit'), t('col_note_state'), t('col_filed'), ''], unitRows), unfiled) : null,
    h('p', { class: 'hint', test: 'report-frozen' }, n.frozen ? t('figures_frozen') : t('figures_live')),
    blocks);
}

/* The button that shows, apart, what the records of the units that have
 * not filed give now (GET /unfiled): never part of the note's figures. */
function unfiledPanel(n, unitBadge) {
  const show = h('button', { type: 'button', test: 'unfiled-show' }, t('unfiled_show'));
  const out = h('div', { class: 'unfiled-panel', test: 'unfiled-panel', 'aria-live': 'polite', hidden: true });
  show.addEventListener('click', async () => {
    show.disabled = true;
    out.dataset.state = 'loading';
    try {
      const { units } = await api('GET', reportPath(n.id, '/unfiled'));
      const close = h('button', { type: 'button', class: 'link-button', test: 'unfiled-close' }, t('close'));
      close.addEventListener('click', () => { out.hidden = true; out.replaceChildren(); });
      out.replaceChildren(h('div', { class: 'trace-head' }, h('h3', null, t('unfiled_title')), close),
        h('p', { class: 'hint' }, t('unfiled_hint')),
        ...(units || []).map((u) => {
          const rows = (u.figures || []).map((f) => h('tr', { test: 'unfiled-figure', 'data-group': f.group,
            'data-value': f.value, class: f.value ? 'sub' : null },
            h('th', { scope: 'row' }, f.label || f.group),
            h('td', { class: 'num last' }, String(f.last)), h('td', { class: 'num now' }, String(f.now))));
          return h('div', { class: 'unfiled-unit', test: 'unfiled-unit', 'data-unit-id': u.unit_id },
            h('h4', null, u.unit, ' ', unitBadge(u, 'unfiled-state')),
            rows.length ? table('unfiled-figures', [t('col_figure'), String(n.year - 1), String(n.year)], rows,
              'data figures-table compact') : h('p', { class: 'empty' }, t('unfiled_none')));
        }));
      out.dataset.state = 'ready';
      out.hidden = false;
    } catch (err) {
      delete out.dataset.state;
      failed(err);
    }
    show.disabled = false;
  });
  return h('div', { class: 'unfiled-box noprint' }, show, out);
}

/* The moves a role may make on the note in its state, the signature
 * check, and the downloads. */
function noteActions(n, role, saveUnsaved) {
  const box = h('div', { class: 'note-actions' });
  const move = async (action, body, okText, buttons) => {
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await api('POST', reportPath(n.id, '/' + action), body);
      showMessage(okText, 'ok');
      await redraw();
      return true;
    } catch (err) {
      buttons.forEach((b) => { b.disabled = false; });
      throw err;
    }
  };
  const isUnit = n.level === 'unit';

  if (isUnit && n.may_write && (n.state === 'draft' || n.state === 'returned')) {
    const submit = h('button', { type: 'button', class: 'primary', test: 'report-submit' }, t('submit'));
    submit.addEventListener('click', async () => {
      try {
        submit.disabled = true;
        await saveUnsaved();
        await move('submit', undefined, t('submitted_ok'), [submit]);
      } catch (err) { submit.disabled = false; failed(err); }
    });
    box.append(submit);
  }

  if (isUnit && role === 'deputy' && n.state === 'submitted') {
    const comment = h('textarea', { id: 'report-return-comment', test: 'report-return-comment', rows: 3,
      maxlength: 2000, required: true });
    const send = h('button', { type: 'submit', test: 'report-return' }, t('return_note'));
    const form = h('form', { class: 'return-form', test: 'report-return-form' },
      h('label', { for: 'report-return-comment' }, t('return_comment')), comment, send);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const text = comment.value.trim();
      if (!text) { showMessage(t('comment_required'), 'error'); comment.focus(); return; }
      try { await move('return', { comment: text }, t('note_returned_ok'), [send]); } catch (err) { failed(err); }
    });
    box.append(form);
  }

  if (!isUnit && role === 'deputy' && n.state === 'draft') {
    const start = h('button', { type: 'button', class: 'primary', test: 'report-consolidate' }, t('consolidate'));
    start.addEventListener('click', () => {
      const all = n.units || [];
      const missing = all.filter((u) => !u.filed).length;
      const yes = h('button', { type: 'button', class: 'primary', test: 'consolidate-confirm' }, t('confirm'));
      const no = h('button', { type: 'button', test: 'consolidate-cancel' }, t('cancel'));
      const confirmBox = h('div', { class: 'confirm', role: 'alertdialog' },
        h('p', null, t('consolidate_q', missing, all.length)), yes, ' ', no);
      no.addEventListener('click', () => confirmBox.replaceWith(start));
      yes.addEventListener('click', async () => {
        try {
          yes.disabled = true;
          await saveUnsaved();
          await move('consolidate', undefined, t('consolidated_ok'), [yes, no]);
        } catch (err) { yes.disabled = false; failed(err); }
      });
      start.replaceWith(confirmBox);
      yes.focus();
    });
    box.append(start);
  }

  // Some unit filed after the consolidation: the deputy takes its note in before signing.
  if (!isUnit && n.may_reconsolidate) {
    const again = h('button', { type: 'button', class: 'primary', test: 'report-reconsolidate' }, t('reconsolidate'));
    again.addEventListener('click', async () => {
      try { await move('reconsolidate', undefined, t('reconsolidated_ok'), [again]); } catch (err) { failed(err); }
    });
    box.append(again);
  }

  if (!isUnit && role === 'deputy' && n.state === 'consolidated') {
    const password = h('input', { id: 'sign-password', test: 'sign-password', type: 'password',
      autocomplete: 'current-password', required: true });
    const sign = h('button', { type: 'submit', class: 'primary', test: 'report-sign' }, t('sign'));
    const form = h('form', { class: 'sign-form', test: 'sign-form' },
      h('label', { for: 'sign-password' }, t('sign_password')),
      h('div', { class: 'inline-form' }, password, sign),
      h('p', { class: 'hint' }, t('sign_hint')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clearMessage();
      if (!password.value) { showMessage(t('password_required'), 'error'); password.focus(); return; }
      const body = { password: password.value };
      password.value = '';   // never kept on the page longer than the request
      try {
        await move('sign', body, t('signed_ok'), [sign]);
      } catch (err) {
        // 403 here is the password refused; anything else says what went wrong.
        if (err.status === 403) showMessage(t('sign_wrong'), 'error');
        else failed(err);
        password.focus();
      }
    });
    box.append(form);
  }

  if (n.state === 'signed') {
    const out = h('p', { class: 'verify-result', test: 'verify-result', 'aria-live': 'polite', hidden: true });
    const verify = h('button', { type: 'button', test: 'report-verify' }, t('verify'));
    verify.addEventListener('click', async () => {
      verify.disabled = true;
      out.hidden = true;
      try {
        const v = await api('GET', reportPath(n.id, '/verify'));
        out.textContent = v.valid ? t('sig_valid') : t('sig_invalid', v.reason || '');
        out.className = 'verify-result ' + (v.valid ? 'valid' : 'invalid');
        out.dataset.valid = v.valid ? 'yes' : 'no';
        out.hidden = false;
      } catch (err) { failed(err); }
      verify.disabled = false;
    });
    box.append(h('div', { class: 'verify' }, verify, out));
  }

  const lang = new URLSearchParams({ lang: state.lang });
  box.append(h('p', { class: 'downloads' }, h('span', { class: 'meta' }, t('downloads') + ': '),
    h('a', { class: 'button', href: reportPath(n.id, '/note.csv?' + lang), download: '', test: 'report-csv' }, 'CSV'), ' ',
    h('a', { class: 'button', href: reportPath(n.id, '/note.json?' + lang), download: '', test: 'report-json' }, 'JSON'), ' ',
    h('a', { class: 'button', href: reportPath(n.id, '/print?' + lang), target: '_blank', rel: 'noopener',
      test: 'report-print' }, t('print_page')),
    // The signed note as a file the Committee checks with `dala-server verify-report --file`.
    n.signature ? ' ' : null,
    n.signature ? h('a', { class: 'button', href: reportPath(n.id, '/signed.json'), download: '',
      test: 'report-signed-file' }, t('signed_file')) : null));
  const panel = section(t('note_actions'), 'report-actions', box);
  panel.classList.add('noprint');
  return panel;
}

/* A device action behind an in-page confirmation: the button `label`
 * (data-test `name`) asks `question`, then POSTs /v1/devices/{id}/`verb`
 * and says `done`. */
function deviceAction(d, name, label, verb, question, done) {
  const start = h('button', { type: 'button', test: name, 'data-id': d.id }, t(label));
  start.addEventListener('click', () => {
    const yes = h('button', { type: 'button', class: 'danger', test: name + '-confirm' }, t('confirm'));
    const no = h('button', { type: 'button', test: name + '-cancel' }, t('cancel'));
    const box = h('div', { class: 'confirm', role: 'alertdialog' }, h('p', null, t(question)), yes, ' ', no);
    no.addEventListener('click', () => box.replaceWith(start));
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      try {
        await api('POST', `/v1/devices/${encodeURIComponent(d.id)}/${verb}`);
        showMessage(t(done), 'ok');
        await redraw();
      } catch (err) { failed(err); yes.disabled = false; }
    });
    start.replaceWith(box);
    yes.focus();
  });
  return start;
}

/* ---- Devices: last sync per tablet, revoking and marking lost with an
 * in-page confirmation, a lost tablet's wipe; for administrators the
 * enrolment code form. */
async function viewDevices() {
  const role = state.session.user.role;
  const { devices } = await api('GET', '/v1/devices');
  const rows = (devices || []).map((d) => {
    const cell = h('td', { class: 'actions-cell' });
    const markLost = () => deviceAction(d, 'lost', 'mark_lost', 'lost', 'lost_q', 'lost_ok');
    if (d.lost_at) {
      cell.append(h('span', { class: 'badge conflict', test: 'device-lost' }, t('lost')), ' ', fmtTime(d.lost_at),
        d.lost_by ? ' · ' + t('lost_by', d.lost_by) : '', h('br'),
        h('span', { test: 'device-wipe' }, d.wipe_confirmed_at ? t('wipe_confirmed', fmtTime(d.wipe_confirmed_at))
          : t('wipe_pending')));
    } else if (d.revoked_at) {
      cell.append(h('span', { class: 'badge state-returned', test: 'device-revoked' }, t('revoked')),
        ' ', fmtTime(d.revoked_at), ' ', markLost());
    } else {
      cell.append(h('span', { class: 'badge state-approved' }, t('active')), ' ',
        deviceAction(d, 'revoke', 'revoke', 'revoke', 'revoke_q', 'revoked_ok'), ' ', markLost());
    }
    return h('tr', { test: 'device-row', 'data-id': d.id, 'data-user-id': d.user_id,
      'data-revoked': d.revoked_at ? 'yes' : 'no', 'data-lost': d.lost_at ? 'yes' : 'no',
      'data-wiped': d.wipe_confirmed_at ? 'yes' : 'no' },
      h('td', { class: 'num' }, String(d.id)), h('td', null, d.officer), h('td', null, d.unit),
      h('td', { class: 'nowrap' }, fmtTime(d.enrolled_at)),
      h('td', { class: 'nowrap' }, d.last_sync_at ? fmtTime(d.last_sync_at) : t('never')), cell);
  });
  return h('div', { class: 'view devices', test: 'devices' },
    h('h1', null, t('devices')),
    table('devices-table', ['№', t('col_officer'), t('col_unit'), t('col_enrolled'), t('col_last_sync'),
      t('col_status')], rows),
    CAN.codes(role) ? await enrolPanel() : null);
}

async function enrolPanel() {
  const { users } = await api('GET', '/v1/users');
  const officers = (users || []).filter((u) => u.role === 'inspector');
  const select = h('select', { id: 'enrol-user', test: 'enrol-user', name: 'user_id', required: true },
    officers.map((u) => h('option', { value: u.id }, `${u.full_name} (${u.login}, ${u.unit || ''})`)));
  const out = h('div', { class: 'enrol-out', test: 'enrol-out', 'aria-live': 'polite' });
  const form = h('form', { class: 'inline-form', id: 'enrol-form', test: 'enrol-form' },
    h('label', { for: 'enrol-user' }, t('enrol_user')), select,
    h('button', { type: 'submit', class: 'primary', test: 'enrol-submit' }, t('enrol_make')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    out.replaceChildren();
    try {
      const c = await api('POST', '/v1/enrol-codes', { user_id: Number(select.value) });
      out.append(h('p', { class: 'code', test: 'enrol-code', id: 'enrol-code' }, c.code),
        h('p', { class: 'meta' }, t('enrol_valid', fmtTime(c.expires_at))),
        qrNode(c.qr_svg), h('p', { class: 'hint' }, t('enrol_hint')));
    } catch (err) { failed(err); }
  });
  return section(t('enrol'), 'enrol', form, out);
}

/* The QR code is an SVG document from our own server. It is parsed as SVG
 * (not HTML, so nothing in it runs) and only its root element is imported. */
function qrNode(svgText) {
  const box = h('div', { class: 'qr', test: 'enrol-qr', id: 'enrol-qr' });
  if (typeof svgText !== 'string' || !svgText) return box;
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const root = doc.documentElement;
  if (root && root.localName === 'svg' && !doc.getElementsByTagName('parsererror').length) {
    for (const s of root.querySelectorAll('script, foreignObject')) s.remove();
    box.append(document.importNode(root, true));
  }
  return box;
}

/* ---- Users (administrators): the list with each account's state, the
 * add form, and per user: disable or enable (behind an in-page
 * confirmation), and an edit panel (name, role, unit; a new password). */
async function viewUsers() {
  const [{ users }, meta] = await Promise.all([api('GET', '/v1/users'), getMeta().catch(() => ({ units: [] }))]);
  const me = state.session.user.id;
  const unitOptions = (selected) => (meta.units || []).map((u) => h('option', { value: u.id, selected: u.id === selected },
    '\u00a0\u00a0'.repeat(Math.max(0, u.depth || 0)) + u.name));
  const editPanel = h('div', { test: 'user-edit-slot' });
  const rows = (users || []).map((u) => {
    const cell = h('td', { class: 'actions-cell' });
    const edit = h('button', { type: 'button', test: 'user-edit', 'data-id': u.id }, t('edit'));
    edit.addEventListener('click', () => {
      editPanel.replaceChildren(userEditPanel(u, unitOptions));
      editPanel.scrollIntoView({ block: 'nearest' });
    });
    cell.append(edit);
    if (u.id !== me) {
      cell.append(' ', u.disabled_at
        ? userAction(u, 'user-enable', 'enable_user', 'enable', null, () => t('enabled_ok'))
        : userAction(u, 'user-disable', 'disable_user', 'disable', 'disable_q', (a) => t('disabled_ok', a.active_tablets)));
    }
    return h('tr', { test: 'user-row', 'data-id': u.id, 'data-login': u.login, 'data-disabled': u.disabled_at ? 'yes' : 'no' },
      h('td', { class: 'num' }, String(u.id)), h('td', { class: 'mono' }, u.login), h('td', null, u.full_name),
      h('td', null, roleLabel(u.role)), h('td', null, u.unit || ''),
      h('td', null, u.disabled_at
        ? [h('span', { class: 'badge state-returned', test: 'user-disabled' }, t('user_disabled')), ' ', fmtTime(u.disabled_at)]
        : h('span', { class: 'badge state-approved' }, t('active'))),
      cell);
  });
  const field = (name, label, control) => h('div', { class: 'field' }, h('label', { for: 'user-' + name }, label), control);
  const inp = (name, props) => h('input', Object.assign({ id: 'user-' + name, test: 'user-' + name, name, required: true }, props));
  const form = h('form', { class: 'user-form', id: 'user-add-form', test: 'user-add-form' },
    field('login', t('col_login'), inp('login', { autocomplete: 'off', maxlength: 64 })),
    field('full_name', t('col_full_name'), inp('full_name', { maxlength: 200 })),
    field('role', t('col_role'), h('select', { id: 'user-role', test: 'user-role', name: 'role', required: true },
      ROLES.map((r) => h('option', { value: r }, roleLabel(r))))),
    field('unit_id', t('col_unit'), h('select', { id: 'user-unit_id', test: 'user-unit_id', name: 'unit_id', required: true },
      unitOptions(null))),
    field('password', `${t('password')} (${t('password_hint')})`,
      inp('password', { type: 'password', minlength: 10, autocomplete: 'new-password' })),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', test: 'user-add' }, t('add'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    try {
      await api('POST', '/v1/users', { login: f.get('login'), full_name: f.get('full_name'), role: f.get('role'),
        unit_id: Number(f.get('unit_id')), password: f.get('password') });
      showMessage(t('user_added'), 'ok');
      await redraw();
    } catch (err) { failed(err); }
  });
  return h('div', { class: 'view users', test: 'users' },
    h('h1', null, t('users')),
    table('users-table', ['№', t('col_login'), t('col_full_name'), t('col_role'), t('col_unit'), t('col_status'),
      t('col_actions')], rows),
    editPanel,
    section(t('add_user'), 'user-add-panel', form));
}

/* Disabling or enabling user `u`: the button (data-test `name`) POSTs
 * /v1/users/{id}/`verb`, after the in-page `question` when there is one,
 * and says what `done` makes of the answer. */
function userAction(u, name, label, verb, question, done) {
  const start = h('button', { type: 'button', class: verb === 'disable' ? 'danger' : null, test: name, 'data-id': u.id },
    t(label));
  const act = async (button) => {
    button.disabled = true;
    try {
      const answer = await api('POST', `/v1/users/${encodeURIComponent(u.id)}/${verb}`);
      showMessage(done(answer), 'ok');
      await redraw();
    } catch (err) { failed(err); button.disabled = false; }
  };
  start.addEventListener('click', () => {
    if (!question) { act(start); return; }
    const yes = h('button', { type: 'button', class: 'danger', test: name + '-confirm' }, t('confirm'));
    const no = h('button', { type: 'button', test: name + '-cancel' }, t('cancel'));
    const box = h('div', { class: 'confirm', role: 'alertdialog' }, h('p', null, t(question)), yes, ' ', no);
    no.addEventListener('click', () => box.replaceWith(start));
    yes.addEventListener('click', () => act(yes));
    start.replaceWith(box);
    yes.focus();
  });
  return start;
}

/* The edit panel of user `u`: name, role and unit (only what changed is
 * sent), and a new password apart. An administrator keeps their own role. */
function userEditPanel(u, unitOptions) {
  const field = (name, label, control) => h('div', { class: 'field' }, h('label', { for: 'edit-' + name }, label), control);
  const name = h('input', { id: 'edit-full_name', test: 'edit-full_name', name: 'full_name', required: true,
    maxlength: 200, value: u.full_name });
  const role = h('select', { id: 'edit-role', test: 'edit-role', name: 'role', disabled: u.id === state.session.user.id },
    ROLES.map((r) => h('option', { value: r, selected: r === u.role }, roleLabel(r))));
  const unit = h('select', { id: 'edit-unit_id', test: 'edit-unit_id', name: 'unit_id' }, unitOptions(u.unit_id));
  const form = h('form', { class: 'user-form', id: 'user-edit-form', test: 'user-edit-form' },
    field('full_name', t('col_full_name'), name), field('role', t('col_role'), role), field('unit_id', t('col_unit'), unit),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', test: 'user-save' }, t('save'))));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    if (name.value !== u.full_name) body.full_name = name.value;
    if (!role.disabled && role.value !== u.role) body.role = role.value;
    if (Number(unit.value) !== u.unit_id) body.unit_id = Number(unit.value);
    if (!Object.keys(body).length) return;
    try {
      await api('POST', `/v1/users/${encodeURIComponent(u.id)}`, body);
      showMessage(t('user_saved'), 'ok');
      await redraw();
    } catch (err) { failed(err); }
  });
  const password = h('input', { id: 'edit-password', test: 'edit-password', name: 'password', type: 'password',
    minlength: 10, required: true, autocomplete: 'new-password' });
  const pwForm = h('form', { class: 'inline-form', id: 'user-password-form', test: 'user-password-form' },
    h('label', { for: 'edit-password' }, `${t('new_password')} (${t('password_hint')})`), password,
    h('button', { type: 'submit', test: 'user-password-set' }, t('set_password')));
  pwForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api('POST', `/v1/users/${encodeURIComponent(u.id)}/password`, { password: password.value });
      password.value = '';
      showMessage(t('password_set_ok'), 'ok');
    } catch (err) { failed(err); }
  });
  return section(t('edit_user', u.login), 'user-edit-panel', form, pwForm);
}

/* ---- Audit trail: newest first, paged with `next`. Entries hold no values. */
async function viewAudit() {
  const tbody = h('tbody', null);
  const more = h('button', { type: 'button', test: 'more', id: 'more', hidden: true }, t('more'));
  let next = null;
  const add = (page) => {
    for (const e of page.entries || []) {
      const action = t('act_' + e.action);
      tbody.append(h('tr', { test: 'audit-row', 'data-action': e.action },
        h('td', { class: 'nowrap' }, fmtTime(e.at)), h('td', null, e.user || ''),
        h('td', null, action.startsWith('act_') ? e.action : action),
        h('td', { class: 'mono' }, e.record_id ? recordLink(e.record_id, e.record_id.slice(0, 8) + '…') : ''),
        h('td', null, e.unit || ''), h('td', null, e.detail || '')));
    }
    next = page.next || null;
    more.hidden = !next;
  };
  const load = (after) => api('GET', '/v1/audit' + (after ? '?after=' + encodeURIComponent(after) : ''));
  add(await load(null));
  more.addEventListener('click', async () => {
    more.disabled = true;
    try { add(await load(next)); } catch (err) { failed(err); }
    more.disabled = false;
  });
  return h('div', { class: 'view audit', test: 'audit' },
    h('h1', null, t('audit')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data', test: 'audit-table' },
      h('thead', null, h('tr', null, [t('col_when'), t('col_user'), t('col_action'), t('col_record'), t('col_unit'),
        t('col_detail')].map((x) => h('th', { scope: 'col' }, x)))), tbody)),
    more);
}

/* ---- Start: read the session (401: sign in), then follow the hash. */
async function boot() {
  for (const b of document.querySelectorAll('#lang button')) {
    b.addEventListener('click', () => setLang(b.dataset.lang));
  }
  drawChrome();
  try {
    state.session = await api('GET', '/v1/session');
  } catch (err) {
    state.session = null;
    if (err.status !== 401) showMessage(err.message, 'error');
  }
  drawChrome();
  window.addEventListener('hashchange', () => { if (state.session) route(); });
  route();
}

document.addEventListener('DOMContentLoaded', boot);
