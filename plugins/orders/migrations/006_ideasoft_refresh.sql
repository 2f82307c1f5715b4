-- IdeaSoft's Admin API access tokens expire; the receiver renews them with the OAuth2 refresh grant at
-- <shop>/oauth/v2/token (platform_ideasoft.c): the app's client id, and the refresh token (a secret, replaced when the
-- shop answers with a new one). The client secret is the source's webhook_secret (it also signs the deliveries).
ALTER TABLE orders_sources ADD COLUMN oauth_client_id TEXT;
ALTER TABLE orders_sources ADD COLUMN oauth_refresh_token TEXT;
ALTER TABLE orders_sources ADD COLUMN oauth_refreshed_at TEXT;
