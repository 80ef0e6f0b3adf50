-- Monitors as code: a monitor's conditions (Gatus syntax, a JSON array of strings), and what
-- kind of check made each result, with a DNS check's answer.

ALTER TABLE monitors ADD COLUMN conditions TEXT NOT NULL DEFAULT '[]';

-- 'http', 'tcp' or 'dns'; results written before checks had kinds were all HTTP.
ALTER TABLE results ADD COLUMN check_kind TEXT NOT NULL DEFAULT 'http';
-- The DNS answer's response code (NOERROR…) and its records, one per line; NULL otherwise.
ALTER TABLE results ADD COLUMN dns_rcode TEXT;
ALTER TABLE results ADD COLUMN dns_answer TEXT;
