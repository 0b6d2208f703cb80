-- 003_org_tree.sql - the top of the organisation tree: the Ministry of
-- Internal Affairs, its Administrative Police Committee, and under the
-- Committee the police departments of the 17 regions, of Astana, Almaty and
-- Shymkent, and the Transport Police Department (Rules, items 3, 4 and 8).
-- Each unit gets its Kazakh and Russian names and a code that stays when a
-- name changes; name holds the Russian name, which administrators look up.
-- Bodies and units below the departments are created by administrators.
-- Units made before this migration keep a NULL code (the index allows many).
ALTER TABLE org_unit ADD COLUMN name_kk TEXT;
ALTER TABLE org_unit ADD COLUMN name_ru TEXT;
ALTER TABLE org_unit ADD COLUMN code TEXT;
CREATE UNIQUE INDEX org_unit_by_code ON org_unit(code);

INSERT INTO org_unit (parent_id, kind, code, name, name_kk, name_ru) VALUES
    (NULL, 'ministry', 'mvd',
     'Министерство внутренних дел Республики Казахстан',
     'Қазақстан Республикасының Ішкі істер министрлігі',
     'Министерство внутренних дел Республики Казахстан');

INSERT INTO org_unit (parent_id, kind, code, name, name_kk, name_ru) VALUES
    ((SELECT id FROM org_unit WHERE code = 'mvd'), 'committee', 'kap',
     'Комитет административной полиции Министерства внутренних дел Республики Казахстан',
     'Қазақстан Республикасы Ішкі істер министрлігінің Әкімшілік полиция комитеті',
     'Комитет административной полиции Министерства внутренних дел Республики Казахстан');

WITH department (code, name_kk, name_ru) AS (VALUES
    ('pd-abai',            'Абай облысының Полиция департаменті',               'Департамент полиции области Абай'),
    ('pd-akmola',          'Ақмола облысының Полиция департаменті',             'Департамент полиции Акмолинской области'),
    ('pd-aktobe',          'Ақтөбе облысының Полиция департаменті',             'Департамент полиции Актюбинской области'),
    ('pd-almaty',          'Алматы облысының Полиция департаменті',             'Департамент полиции Алматинской области'),
    ('pd-atyrau',          'Атырау облысының Полиция департаменті',             'Департамент полиции Атырауской области'),
    ('pd-west-kazakhstan', 'Батыс Қазақстан облысының Полиция департаменті',    'Департамент полиции Западно-Казахстанской области'),
    ('pd-jambyl',          'Жамбыл облысының Полиция департаменті',             'Департамент полиции Жамбылской области'),
    ('pd-jetisu',          'Жетісу облысының Полиция департаменті',             'Департамент полиции области Жетісу'),
    ('pd-karaganda',       'Қарағанды облысының Полиция департаменті',          'Департамент полиции Карагандинской области'),
    ('pd-kostanay',        'Қостанай облысының Полиция департаменті',           'Департамент полиции Костанайской области'),
    ('pd-kyzylorda',       'Қызылорда облысының Полиция департаменті',          'Департамент полиции Кызылординской области'),
    ('pd-mangystau',       'Маңғыстау облысының Полиция департаменті',          'Департамент полиции Мангистауской области'),
    ('pd-pavlodar',        'Павлодар облысының Полиция департаменті',           'Департамент полиции Павлодарской области'),
    ('pd-north-kazakhstan','Солтүстік Қазақстан облысының Полиция департаменті','Департамент полиции Северо-Казахстанской области'),
    ('pd-turkistan',       'Түркістан облысының Полиция департаменті',          'Департамент полиции Туркестанской области'),
    ('pd-ulytau',          'Ұлытау облысының Полиция департаменті',             'Департамент полиции области Ұлытау'),
    ('pd-east-kazakhstan', 'Шығыс Қазақстан облысының Полиция департаменті',    'Департамент полиции Восточно-Казахстанской области'),
    ('pd-astana',          'Астана қаласының Полиция департаменті',             'Департамент полиции города Астаны'),
    ('pd-almaty-city',     'Алматы қаласының Полиция департаменті',             'Департамент полиции города Алматы'),
    ('pd-shymkent',        'Шымкент қаласының Полиция департаменті',            'Департамент полиции города Шымкента'),
    ('kpd',                'Көліктегі полиция департаменті',                    'Департамент полиции на транспорте')
)
INSERT INTO org_unit (parent_id, kind, code, name, name_kk, name_ru)
SELECT (SELECT id FROM org_unit WHERE code = 'kap'), 'department', code, name_ru, name_kk, name_ru
FROM department;
