-- sqlite3: an in-memory database through Debian's sqlite3 CLI (sqlite3 :memory: < sqlite.sql).
-- A table with two indexes, 200k rows inserted in 4 transactions, then aggregate,
-- join, sort and update queries. Deterministic (no random()).
PRAGMA cache_size = -65536;
CREATE TABLE item(id INTEGER PRIMARY KEY, grp INTEGER, k INTEGER, name TEXT, payload TEXT);
CREATE INDEX item_k ON item(k);
CREATE INDEX item_grp_name ON item(grp, name);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000)
INSERT INTO item(grp, k, name, payload)
SELECT x % 97, (x * 2654435761) % 1000003, printf('name-%08x', (x * 40503) % 65536 * 65536 + x),
       substr('abcdefghijklmnopqrstuvwxyz0123456789', 1 + x % 20, 16 + x % 17) FROM c;
COMMIT;
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 50001 UNION ALL SELECT x + 1 FROM c WHERE x < 100000)
INSERT INTO item(grp, k, name, payload)
SELECT x % 97, (x * 2654435761) % 1000003, printf('name-%08x', (x * 40503) % 65536 * 65536 + x),
       substr('abcdefghijklmnopqrstuvwxyz0123456789', 1 + x % 20, 16 + x % 17) FROM c;
COMMIT;
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 100001 UNION ALL SELECT x + 1 FROM c WHERE x < 150000)
INSERT INTO item(grp, k, name, payload)
SELECT x % 97, (x * 2654435761) % 1000003, printf('name-%08x', (x * 40503) % 65536 * 65536 + x),
       substr('abcdefghijklmnopqrstuvwxyz0123456789', 1 + x % 20, 16 + x % 17) FROM c;
COMMIT;
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 150001 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)
INSERT INTO item(grp, k, name, payload)
SELECT x % 97, (x * 2654435761) % 1000003, printf('name-%08x', (x * 40503) % 65536 * 65536 + x),
       substr('abcdefghijklmnopqrstuvwxyz0123456789', 1 + x % 20, 16 + x % 17) FROM c;
COMMIT;
CREATE TABLE grp(id INTEGER PRIMARY KEY, label TEXT);
INSERT INTO grp SELECT DISTINCT grp, 'group ' || grp FROM item;
SELECT count(*), sum(k), max(length(payload)) FROM item;
SELECT grp, count(*), avg(k) FROM item GROUP BY grp ORDER BY 3 DESC LIMIT 5;
SELECT g.label, count(*) FROM item i JOIN grp g ON g.id = i.grp WHERE i.k BETWEEN 1000 AND 300000 GROUP BY g.label ORDER BY 2 DESC LIMIT 3;
SELECT name, payload FROM item ORDER BY payload, name LIMIT 3 OFFSET 1000;
SELECT count(DISTINCT payload), group_concat(DISTINCT substr(name, 6, 2)) FROM item WHERE grp < 10;
UPDATE item SET payload = payload || '-x' WHERE k % 10 = 0;
DELETE FROM item WHERE grp = 13;
SELECT count(*), sum(length(payload)) FROM item;
