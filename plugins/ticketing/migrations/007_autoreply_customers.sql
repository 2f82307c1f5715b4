-- The default out-of-hours auto-reply answers customers only (public form, e-mail): a ticket an agent opens on a
-- customer's behalf (phone, API) needs no "we are closed" message. Left alone if an admin has changed it.
UPDATE tkt_triggers SET conditions = '{"business_hours":"closed","actor":"customer"}'
 WHERE name = 'Mesai dışı otomatik yanıt' AND conditions = '{"business_hours":"closed"}';
