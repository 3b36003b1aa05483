-- One live client app per name: POST /client-apps with a name in use is a
-- 409. Names repeated by earlier versions are made distinct first (the
-- oldest keeps its name, the others get their id appended); api keys and
-- secrets are untouched, so every client keeps working.
UPDATE main.client_apps c
   SET name = left(c.name, 200) || ' (' || c.id::text || ')'
  FROM (
    SELECT id, row_number() OVER (PARTITION BY name ORDER BY created_on, id) AS n
      FROM main.client_apps
     WHERE NOT deleted
  ) d
 WHERE c.id = d.id AND d.n > 1;

CREATE UNIQUE INDEX uq_client_apps_live_name
  ON main.client_apps (name) WHERE NOT deleted;
