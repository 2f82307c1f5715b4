-- Files a visitor sent with a chat message (kept by ticketing as the ticket message's attachments): their names, as a
-- JSON array, for the conversation's view.
ALTER TABLE chat_messages ADD COLUMN files TEXT;
