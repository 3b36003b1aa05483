-- One live client app per name: POST /client-apps with a name in use is a
-- 409. Names repeated by earlier versions are made distinct first (the
-- oldest keeps its name, the others get their id appended); api keys and
-- secrets are untouched, so every client keeps working. MySQL has no partial
-- index: the unique key covers (name, not_deleted), NULL once deleted.
UPDATE client_apps c
  JOIN (
    SELECT id, ROW_NUMBER() OVER (PARTITION BY name ORDER BY created_on, id) AS n
      FROM client_apps
     WHERE NOT deleted
  ) d ON c.id = d.id
   SET c.name = CONCAT(LEFT(c.name, 200), ' (', c.id, ')')
 WHERE d.n > 1;

ALTER TABLE client_apps
  ADD COLUMN not_deleted TINYINT(1) GENERATED ALWAYS AS (CASE WHEN deleted THEN NULL ELSE 1 END) STORED,
  ADD UNIQUE KEY uq_client_apps_live_name (name, not_deleted);
