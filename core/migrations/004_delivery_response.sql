-- The HTTP status a sink's receiver answered on a delivery's last attempt (webhooks), for the admin's delivery
-- log; NULL when there was no answer (refused connection, timeout) or the subscriber is not an HTTP sink.
ALTER TABLE core_deliveries ADD COLUMN response_status INTEGER;
