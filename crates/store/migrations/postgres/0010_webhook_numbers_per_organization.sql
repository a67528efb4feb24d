-- ISO Amp webhook ids are numbered per organization: one sequence shared by every organization
-- told a tenant how many webhooks the others had. Numbers already given stay as they are (they
-- were unique overall, so they are unique per organization); each organization's counter
-- starts above its highest.
ALTER TABLE webhooks DROP CONSTRAINT webhooks_number_key;
CREATE UNIQUE INDEX webhooks_number_per_organization ON webhooks (organization_id, number);

INSERT INTO counters (name, value)
SELECT 'iso_amp_webhook:' || organization_id, MAX(number) FROM webhooks
WHERE number IS NOT NULL GROUP BY organization_id;
DELETE FROM counters WHERE name = 'iso_amp_webhook';
